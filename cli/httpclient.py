"""One reader for the HTTP APIs the CLI reads besides Fly's: Cloudflare's v4 API, Grafana's
HTTP API and its synthetic monitoring API, an OCI registry.

`preflight` and `recover` read the same far sides, and both need every failure as one
line: a refused connection, a timeout, a 5xx or a body that is not JSON is `NoAnswer`
(never a traceback, never taken for "absent"); only an explicit not-found is absent.
A message names the service, the method and the path, never a header or a query, so a
token cannot reach it. httpx does the transport (a dependency already, components/fly/
api.py); Fly's REST and GraphQL APIs are read with components/fly/api/'s clients.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

import httpx

from components.fly.api.client import tls_context

# Cloudflare's API root (developers.cloudflare.com/api). CLOUDFLARE_BASE_URL points it
# elsewhere: cloudflare-go (v4 on, the client pulumi-cloudflare 6 uses) client.go
# DefaultClientOptions, and cloudflare/cloudflare-typescript src/index.ts
# ClientOptions.baseURL ("Defaults to process.env['CLOUDFLARE_BASE_URL']").
CLOUDFLARE_BASE_ENV: Final = "CLOUDFLARE_BASE_URL"
CLOUDFLARE_DEFAULT_BASE: Final = "https://api.cloudflare.com/client/v4"
# pulumiverse_grafana 2.44.0 provider.py: `sm_url` from GRAFANA_SM_URL; the Terraform
# provider's default is Grafana Cloud's first synthetic monitoring region.
GRAFANA_SM_URL_ENV: Final = "GRAFANA_SM_URL"
GRAFANA_SM_DEFAULT_URL: Final = "https://synthetic-monitoring-api.grafana.net"


class NoAnswer(Exception):
    """A call that got no usable answer; the message is one line, without a token."""


def said(exc: httpx.HTTPError) -> str:
    """What a failed call amounts to, in a few words (the exception's text may hold a URL
    with a query: only its type is named)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"answered {exc.response.status_code}"
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "no answer"
    return f"{kind} ({type(exc).__name__})"


def authorization(auth: str) -> str:
    """The Authorization header of the Grafana provider's `auth` (pulumiverse_grafana
    provider.py: a service account token, or `user:password` for basic auth)."""
    if ":" in auth:
        return "Basic " + base64.b64encode(auth.encode()).decode()
    return f"Bearer {auth}"


class Reader:
    """GETs (and HEADs) under one base URL with one credential and a timeout."""

    def __init__(
        self,
        service: str,
        base: str,
        *,
        auth: str | None = None,
        timeout: float,
        shown: str | None = None,
    ) -> None:
        self.service = service
        self.base = base.rstrip("/")
        # What messages name as the base: the configured URL where the calls go to a
        # stand-in (a mirror, the tests' fake); by default none, the path alone.
        self.shown = (shown or "").rstrip("/")
        self.auth = auth
        self.http = httpx.Client(timeout=timeout, verify=tls_context())

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        anonymous: bool = False,
    ) -> httpx.Response:
        """The response, whatever its status; NoAnswer when none came. `path` is under
        the base, or a whole URL (a registry's token realm)."""
        sent = dict(headers or {})
        if self.auth is not None and not anonymous:
            sent.setdefault("Authorization", self.auth)
        url = path if path.startswith(("http://", "https://")) else f"{self.base}{path}"
        try:
            return self.http.request(method, url, params=params, headers=sent)
        except httpx.HTTPError as exc:
            where = path if "://" in path else f"{self.shown}{path}"
            raise NoAnswer(f"{self.service}: {method} {where} {said(exc)}; run again") from None

    def read(self, path: str, **params: Any) -> tuple[int, Any]:
        """(status, JSON body) of a GET; NoAnswer for a 5xx or a body that is not JSON
        (both APIs answer JSON, a 404 too: anything else came from something between)."""
        response = self.request(path, params=params)
        status = response.status_code
        if status >= 500:
            raise NoAnswer(f"{self.service} answered {status} on GET {path}; run again")
        try:
            return status, response.json()
        except ValueError:
            raise NoAnswer(
                f"{self.service} answered GET {path} ({status}) with a body that is not JSON"
            ) from None

    def found(self, path: str, **params: Any) -> Any:
        """The JSON of a GET that must answer 200; None on a 404 (an explicit
        not-found); NoAnswer for anything else."""
        status, body = self.read(path, **params)
        if status == 404:
            return None
        if status != 200:
            raise NoAnswer(f"{self.service}: GET {path} answered {status}")
        return body


class Cloudflare(Reader):
    """Cloudflare's v4 API: every answer is an envelope {success, errors, result}
    (developers.cloudflare.com/fundamentals/api/how-to/make-api-calls)."""

    def __init__(self, token: str, env: Mapping[str, str], *, timeout: float) -> None:
        base = env.get(CLOUDFLARE_BASE_ENV) or CLOUDFLARE_DEFAULT_BASE
        super().__init__("Cloudflare", base, auth=f"Bearer {token}", timeout=timeout)

    def envelope(self, path: str, **params: Any) -> tuple[int, Mapping[str, Any]]:
        status, body = self.read(path, **params)
        if not isinstance(body, dict):
            raise NoAnswer(f"Cloudflare answered GET {path} with an unexpected body")
        return status, body

    def result(self, path: str, **params: Any) -> tuple[int, Any]:
        """(status, the envelope's `result`)."""
        status, body = self.envelope(path, **params)
        return status, body.get("result")

    def found(self, path: str, **params: Any) -> Any:
        """The `result` of a successful GET; None on a 404; NoAnswer else, with the
        error codes Cloudflare gave."""
        status, body = self.envelope(path, **params)
        if status == 404:
            return None
        if status != 200 or not body.get("success", False):
            codes = [e.get("code") for e in body.get("errors") or [] if isinstance(e, dict)]
            raise NoAnswer(f"Cloudflare: GET {path} answered {status} {codes}")
        return body.get("result")

    @staticmethod
    def refusal(status: int) -> str:
        """What a 4xx says about the token, to finish a problem line."""
        return {
            400: "was refused as malformed (400)",
            401: "was refused (401)",
            403: "lacks the permission (403)",
            404: "found nothing (404)",
        }.get(status, f"answered {status}")
