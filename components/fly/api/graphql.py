"""FlyGraphQL: Fly's GraphQL API, where add-ons (Upstash Redis) live."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Final, NotRequired, TypeVar

from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict

from components.fly.api.answers import parse
from components.fly.api.client import FlyClient
from components.fly.api.errors import FlyApiError, FlyNotFound, FlyResponseError
from components.fly.api.redaction import redact
from components.fly.api.token import read_token

T = TypeVar("T")

# -- GraphQL ---------------------------------------------------------------------------

DEFAULT_GRAPHQL_BASE: Final = "https://api.fly.io"


class _GraphQLError(TypedDict):
    message: str
    extensions: NotRequired[dict[str, Any] | None]


# Built on first use, not at import: the plan imports this module and never validates a
# Fly answer (pydantic's defer_build, honoured by TypeAdapter from the type's config).
_DEFERRED = ConfigDict(defer_build=True)


@with_config(_DEFERRED)
class _GraphQLAnswer(TypedDict):
    data: NotRequired[dict[str, Any] | None]
    errors: NotRequired[list[_GraphQLError] | None]


_GRAPHQL_ANSWER = TypeAdapter(_GraphQLAnswer)


class FlyGraphQL:
    """Fly's GraphQL API (add-ons such as Upstash Redis live only there).

    Same token policy, timeouts and retries as the Machines API client. A GraphQL
    error is raised with Fly's message; "not found" as FlyNotFound.
    """

    def __init__(self, base_url: str | None = None, **client: Any) -> None:
        base = base_url or os.environ.get("FLY_API_BASE_URL") or DEFAULT_GRAPHQL_BASE
        self._http = FlyClient(base, **client)

    def __call__(
        self,
        query: str,
        /,
        *,
        allocates: bool = False,
        secrets: Iterable[str] = (),
        **variables: Any,
    ) -> Any:
        """The `data` of the answer. `allocates` and `secrets` as for FlyClient.request:
        a GraphQL error (answered with 200) is redacted the same way."""
        secrets = list(secrets)
        body = self._http.request(
            "POST",
            "/graphql",
            {"query": query, "variables": variables},
            allocates=allocates,
            secrets=secrets,
        )
        answer = parse(_GRAPHQL_ANSWER, body, "POST", "/graphql")
        errors = answer.get("errors") or []
        if errors:
            message = redact("; ".join(e["message"] for e in errors), [read_token(), *secrets])
            codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors}
            missing = "NOT_FOUND" in codes or "not found" in message.lower()
            raise (FlyNotFound if missing else FlyApiError)("POST", "/graphql", None, message)
        data = answer.get("data")
        if data is None:
            raise FlyResponseError("POST", "/graphql", None, "unexpected answer (no data)")
        return data

    @staticmethod
    def parse(adapter: TypeAdapter[T], data: Any) -> T:
        """A GraphQL answer's data as `adapter`'s type (FlyResponseError otherwise)."""
        return parse(adapter, data, "POST", "/graphql")
