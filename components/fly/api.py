"""Typed clients for the Fly Machines REST API and Fly's GraphQL API.

The token is read from FLY_API_TOKEN on every request and never stored, so a
client (and a dynamic provider that makes one) can be pickled into Pulumi state
without carrying a credential. Requests time out, and 429 / 5xx / transport
failures are retried a bounded number of times, honouring Retry-After.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypedDict, cast
from urllib.parse import quote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

DEFAULT_HOSTNAME: Final = "https://api.machines.dev"
RETRYABLE_STATUS: Final = frozenset({429, 500, 502, 503, 504})


class FlyApiError(Exception):
    """A failed call, carrying Fly's own message."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        message: str,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.retry_after = retry_after
        where = f"{method} {path}"
        super().__init__(
            f"Fly API {where} failed: {status} {message}"
            if status
            else f"Fly API {where}: {message}"
        )


class FlyNotFound(FlyApiError):
    pass


class FlyConflict(FlyApiError):
    pass


class AppOrganization(TypedDict):
    slug: str


class App(TypedDict, total=False):
    id: str
    name: str
    status: str
    organization: AppOrganization


class IpAssignment(TypedDict, total=False):
    ip: str
    region: str
    shared: bool
    service_name: str


class AcmeChallenge(TypedDict):
    name: str
    target: str


class DnsRequirements(TypedDict, total=False):
    a: list[str]
    aaaa: list[str]
    cname: str
    acme_challenge: AcmeChallenge
    ownership: dict[str, str]


class Certificate(TypedDict, total=False):
    hostname: str
    status: str
    configured: bool
    acme_requested: bool
    dns_requirements: DnsRequirements
    validation_errors: list[Any]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, FlyApiError):
        return exc.status is None or exc.status in RETRYABLE_STATUS
    return False


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; fall back to exponential backoff


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "message", "status"):
            if isinstance(body.get(key), str):
                return cast(str, body[key])
    return response.text.strip()


def authorization(token: str) -> str:
    """The Authorization header for a token as `fly tokens create` or `fly auth token` prints it.

    Org and deploy tokens are macaroons (`FlyV1 fm2_...`, or bare `fm2_...`) and
    use the FlyV1 scheme; a user token is a bearer token.
    """
    if token.startswith(("FlyV1 ", "Bearer ")):
        return token
    if token.startswith(("fm1r_", "fm1a_", "fm2_")):
        return f"FlyV1 {token}"
    return f"Bearer {token}"


class FlyClient:
    """The Machines API. One instance per operation; cheap to make."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or os.environ.get("FLY_API_HOSTNAME") or DEFAULT_HOSTNAME).rstrip(
            "/"
        )
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._backoff = wait_exponential_jitter(multiplier=retry.initial_delay, max=retry.max_delay)

    # -- transport -----------------------------------------------------------------

    @staticmethod
    def _token() -> str:
        token = os.environ.get("FLY_API_TOKEN", "").strip()
        if not token:
            raise FlyApiError(
                "-", "-", None, "FLY_API_TOKEN is not set (create one with `fly tokens create org`)"
            )
        return token

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, FlyApiError) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_delay)
        return self._backoff(state)

    def _once(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        headers = {"Authorization": authorization(self._token()), "Accept": "application/json"}
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as http:
                response = http.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise FlyApiError(method, path, None, f"{type(exc).__name__}: {exc}") from None
        if response.is_success:
            return response.json() if response.content else None
        error_type: type[FlyApiError] = {404: FlyNotFound, 409: FlyConflict}.get(
            response.status_code, FlyApiError
        )
        raise error_type(
            method, path, response.status_code, _message(response), _retry_after(response)
        )

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self._once, method, path, body)

    # -- apps ----------------------------------------------------------------------

    def create_app(self, name: str, org: str) -> None:
        self.request("POST", "/v1/apps", {"app_name": name, "org_slug": org})

    def get_app(self, name: str) -> App:
        return cast(App, self.request("GET", f"/v1/apps/{quote(name, safe='')}"))

    def delete_app(self, name: str) -> None:
        self.request("DELETE", f"/v1/apps/{quote(name, safe='')}")

    # -- secrets -------------------------------------------------------------------

    def list_secret_names(self, app: str) -> set[str]:
        body = self.request("GET", f"/v1/apps/{quote(app, safe='')}/secrets")
        return {s["name"] for s in (body or {}).get("secrets", [])}

    def update_secrets(self, app: str, values: Mapping[str, str | None]) -> int:
        """Set (str) and unset (None) secrets in one call; returns Fly's secrets version."""
        body = self.request(
            "POST", f"/v1/apps/{quote(app, safe='')}/secrets", {"values": dict(values)}
        )
        return int((body or {}).get("version", 0))

    # -- IP addresses ------------------------------------------------------------

    def assign_ip(self, app: str, ip_type: str) -> IpAssignment:
        """Allocate an address of `ip_type` (v6, v4, shared_v4) to the app; returns it."""
        body = self.request(
            "POST", f"/v1/apps/{quote(app, safe='')}/ip_assignments", {"type": ip_type}
        )
        return cast(IpAssignment, body)

    def list_ips(self, app: str) -> list[IpAssignment]:
        body = self.request("GET", f"/v1/apps/{quote(app, safe='')}/ip_assignments")
        return cast(list[IpAssignment], (body or {}).get("ips", []))

    def release_ip(self, app: str, ip: str) -> None:
        self.request(
            "DELETE", f"/v1/apps/{quote(app, safe='')}/ip_assignments/{quote(ip, safe='')}"
        )

    # -- certificates ------------------------------------------------------------

    def request_certificate(self, app: str, hostname: str) -> Certificate:
        """Add `hostname` to the app with a Let's Encrypt certificate (ACME)."""
        body = self.request(
            "POST", f"/v1/apps/{quote(app, safe='')}/certificates/acme", {"hostname": hostname}
        )
        return cast(Certificate, body)

    def get_certificate(self, app: str, hostname: str) -> Certificate:
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        return cast(Certificate, self.request("GET", path))

    def delete_certificate(self, app: str, hostname: str) -> None:
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        self.request("DELETE", path)


# -- GraphQL ---------------------------------------------------------------------------

DEFAULT_GRAPHQL_BASE: Final = "https://api.fly.io"


class FlyGraphQL:
    """Fly's GraphQL API (add-ons such as Upstash Redis live only there).

    Same token, timeouts and retries as the Machines API client. A GraphQL error
    is raised with Fly's message; "not found" as FlyNotFound.
    """

    def __init__(self, base_url: str | None = None, **client: Any) -> None:
        base = base_url or os.environ.get("FLY_API_BASE_URL") or DEFAULT_GRAPHQL_BASE
        self._http = FlyClient(base, **client)

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self._http.request("POST", "/graphql", {"query": query, "variables": variables})
        errors = (body or {}).get("errors") or []
        if errors:
            message = "; ".join(str(e.get("message", e)) for e in errors)
            codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors}
            missing = "NOT_FOUND" in codes or "not found" in message.lower()
            raise (FlyNotFound if missing else FlyApiError)("POST", "/graphql", None, message)
        return cast(dict[str, Any], body["data"])
