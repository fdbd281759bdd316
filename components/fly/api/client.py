"""FlyClient: the Machines REST API, retried and redacted as components/fly/api says."""

from __future__ import annotations

import functools
import os
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import quote

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
)
from tenacity.retry import retry_base
from tenacity.wait import wait_exponential_jitter

from components.fly.api import answers, errors
from components.fly.api.answers import (
    App,
    Certificate,
    CheckedCertificate,
    IpAssignment,
    ip_type_of,
    parse,
)
from components.fly.api.token import authorization, read_token

if TYPE_CHECKING:
    import httpx

# httpx is imported where a request is made, not here: the program registers the
# providers that hold this client in every evaluation (an offline plan included), and
# only a provider's operations talk HTTP. httpx and its TLS stack are a fifth of what
# an offline plan imports beyond the SDKs (bench/plan.py).

DEFAULT_HOSTNAME: Final = "https://api.machines.dev"
RETRYABLE_STATUS: Final = frozenset({429, 500, 502, 503, 504})
# fly-go flaps/flaps_error.go: the `status` code the API sets on a taken app name, and
# the legacy message it still sends with it (used only when no code is set).
NAME_TAKEN_CODE: Final = "name_taken"
NAME_TAKEN_MESSAGE: Final = "Name has already been taken"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CAs, or SSL_CERT_FILE/SSL_CERT_DIR), made
    once per process: loading the CA file is most of a client's cost (0.1-0.2 s each),
    and a client is made per request here."""
    import httpx

    return httpx.create_ssl_context()


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    # fly-go flaps/flaps_apps.go WaitForApp: after a create, GET the app until it stops
    # answering 404/401, backing off 100 ms..500 ms for up to a minute (flaps/retry.go).
    app_wait_attempts: int = 120
    app_wait_initial: float = 0.1
    app_wait_max: float = 0.5


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, errors.FlyApiError) and exc.retryable


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; fall back to exponential backoff


def _error_body(response: httpx.Response) -> tuple[str, str | None]:
    """Fly's message and `status` code from an error answer.

    fly-go flaps/flaps.go handleAPIError: `message` when set, else `error`; a body that
    is not JSON is reported as it is.
    """
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase, None
    if not isinstance(body, dict):
        return response.text.strip(), None
    code = body.get("status") if isinstance(body.get("status"), str) else None
    for key in ("message", "error"):
        if isinstance(body.get(key), str) and body[key]:
            return cast(str, body[key]), code
    return response.text.strip() or response.reason_phrase, code


def _is_name_taken(code: str | None, message: str) -> bool:
    # fly-go flaps/flaps_error.go IsNameTakenError: a code, when set, is taken at its word;
    # the legacy message counts only when there is none.
    if code:
        return code == NAME_TAKEN_CODE
    return NAME_TAKEN_MESSAGE in message


def _not_sent() -> tuple[type[Exception], ...]:
    """Transport failures raised before the request left the machine: nothing was
    applied."""
    import httpx

    return (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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

    def _retrying(self, retry: retry_base) -> Retrying:
        """The policy's bounded attempts and waits (Retry-After first), retrying what
        `retry` says."""
        return Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry,
            sleep=self._sleep,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, errors.FlyApiError) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry.max_delay)
        return self._backoff(state)

    def _once(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        auth: str,
        allocates: bool,
    ) -> Any:
        import httpx

        headers = {"Authorization": auth, "Accept": "application/json"}
        try:
            with httpx.Client(
                base_url=self.base_url, timeout=self.timeout, verify=tls_context()
            ) as http:
                response = http.request(method, path, json=body, headers=headers)
        except _not_sent() as exc:
            raise errors.FlyApiError(method, path, None, f"{type(exc).__name__}: {exc}") from None
        except httpx.TransportError as exc:
            kind = errors.FlyOutcomeUnknown if allocates else errors.FlyApiError
            raise kind(
                method, path, None, f"the answer was lost ({type(exc).__name__}: {exc})"
            ) from None
        if response.is_success:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                kind_of = response.headers.get("content-type", "no content type")
                raise errors.FlyResponseError(
                    method,
                    path,
                    None,
                    f"answered {response.status_code} with a body that is not JSON ({kind_of})",
                ) from None
        message, code = _error_body(response)
        status = response.status_code
        error_type: type[errors.FlyApiError] = errors.FlyApiError
        if status == 404:
            error_type = errors.FlyNotFound
        elif status == 403:
            error_type = errors.FlyForbidden
        elif status == 409 or (status == 422 and _is_name_taken(code, message)):
            error_type = errors.FlyConflict
        elif status >= 500 and allocates:
            error_type = errors.FlyOutcomeUnknown  # a 5xx does not say whether it was done
        elif status not in RETRYABLE_STATUS:
            error_type = errors.FlyRefused
        raise error_type(
            method, path, status, message, retry_after=_retry_after(response), code=code
        )

    def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        allocates: bool = False,
        secrets: Iterable[str] = (),
        context: str = "",
    ) -> Any:
        """One call, retried as the module docstring says. The token is checked first.

        An error it raises holds no piece of the token or of `secrets` (the secret
        values `body` carries), and starts with `context` when one is given.
        """
        token = read_token()
        auth = authorization(token)
        retrying = self._retrying(retry_if_exception(_retryable))
        try:
            return retrying(self._once, method, path, body, auth, allocates)
        except errors.FlyApiError as exc:
            # `from None`: the unredacted error must not ride along as the context a
            # traceback prints (the dynamic provider host sends traceback.format_exc()
            # to the engine: pulumi sdk/python/lib/pulumi/dynamic/__main__.py).
            raise exc.redacted([token, *secrets], context) from None

    # -- apps ----------------------------------------------------------------------

    def create_app(self, name: str, org: str) -> App:
        """Create the app as fly-go's CreateApp does, then wait until it can be read.

        fly-go flaps/flaps_apps.go: `POST /apps?wait=true` with `name` and `org_slug`,
        followed (in flyctl internal/command/apps/create.go) by WaitForApp. A taken name
        raises errors.FlyConflict.
        """
        self.request("POST", "/v1/apps?wait=true", {"name": name, "org_slug": org})
        return self.wait_for_app(name)

    def wait_for_app(self, name: str) -> App:
        """GET the app, retrying the 404/401 that can follow its creation (fly-go WaitForApp)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.app_wait_attempts),
            wait=wait_exponential_jitter(
                multiplier=self.retry.app_wait_initial,
                max=self.retry.app_wait_max,
                jitter=self.retry.app_wait_initial,
            ),
            retry=retry_if_exception(
                lambda e: isinstance(e, errors.FlyApiError) and e.status in (401, 404)
            ),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self.get_app, name)

    def get_app(self, name: str) -> App:
        path = f"/v1/apps/{quote(name, safe='')}"
        return parse(answers.APP, self.request("GET", path), "GET", path)

    def delete_app(self, name: str) -> None:
        self.request("DELETE", f"/v1/apps/{quote(name, safe='')}")

    # -- secrets -------------------------------------------------------------------

    def list_secret_names(self, app: str) -> set[str]:
        path = f"/v1/apps/{quote(app, safe='')}/secrets"
        listed = parse(answers.SECRET_LIST, self.request("GET", path), "GET", path)
        return {s["name"] for s in listed["secrets"] or []}

    def update_secrets(
        self, app: str, values: Mapping[str, str | None], known: Iterable[str] = ()
    ) -> int:
        """Set (str) and unset (None) secrets in one call; returns Fly's secrets version.

        No error holds a piece of a value set, nor of `known` (the values being replaced
        or unset, which an answer could quote as well).
        """
        path = f"/v1/apps/{quote(app, safe='')}/secrets"
        sent = [v for v in values.values() if v is not None]
        body = self.request(
            "POST",
            path,
            {"values": dict(values)},
            secrets=[*sent, *known],
            context=f"writing secrets {', '.join(sorted(values))} of app {app}",
        )
        return parse(answers.SECRETS_WRITTEN, body, "POST", path)["version"]

    # -- IP addresses ------------------------------------------------------------

    def assign_ip(self, app: str, ip_type: str) -> IpAssignment:
        """One POST for an address of `ip_type` (v6, v4, shared_v4); FlyOutcomeUnknown if lost."""
        path = f"/v1/apps/{quote(app, safe='')}/ip_assignments"
        # fly-go flaps/flaps_ip_assignments.go AssignIPRequest; types as flyctl's first
        # deploy asks for them (internal/command/deploy/deploy_first.go).
        body = self.request("POST", path, {"type": ip_type}, allocates=True)
        return parse(answers.IP, body, "POST", path)

    def allocate_ip(self, app: str, ip_type: str) -> IpAssignment:
        """Allocate an address, never twice for one lost answer.

        When an answer is lost the app's addresses are listed: one new address of
        the type is what the lost request made, and is adopted; none means it was
        not applied, and the POST is sent again.
        """
        known = {a["ip"] for a in self.list_ips(app)}

        def attempt() -> IpAssignment:
            try:
                return self.assign_ip(app, ip_type)
            except errors.FlyOutcomeUnknown as lost:
                made = [
                    a
                    for a in self.list_ips(app)
                    if a["ip"] not in known and ip_type_of(a) == ip_type
                ]
                if len(made) == 1:
                    return made[0]
                if made:
                    raise errors.FlyApiError(
                        lost.method,
                        lost.path,
                        None,
                        f"the answer was lost and {len(made)} new {ip_type} addresses appeared "
                        f"({', '.join(a['ip'] for a in made)}); release the extra by hand",
                    ) from None
                raise

        retrying = self._retrying(retry_if_exception_type(errors.FlyOutcomeUnknown))
        return retrying(attempt)

    def list_ips(self, app: str) -> list[IpAssignment]:
        path = f"/v1/apps/{quote(app, safe='')}/ip_assignments"
        return parse(answers.IP_LIST, self.request("GET", path), "GET", path)["ips"] or []

    def release_ip(self, app: str, ip: str) -> None:
        self.request(
            "DELETE", f"/v1/apps/{quote(app, safe='')}/ip_assignments/{quote(ip, safe='')}"
        )

    # -- certificates ------------------------------------------------------------

    def request_certificate(self, app: str, hostname: str) -> Certificate:
        """Add `hostname` to the app with a Let's Encrypt certificate (ACME)."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/acme"
        body = self.request("POST", path, {"hostname": hostname})
        return parse(answers.CERTIFICATE, body, "POST", path)

    def get_certificate(self, app: str, hostname: str) -> Certificate:
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        return parse(answers.CERTIFICATE, self.request("GET", path), "GET", path)

    def get_certificate_detail(self, app: str, hostname: str) -> CheckedCertificate:
        """GET of the certificate with its `certificates[]` and `validation`: Fly answers
        the same detail as the check (fly-go flaps/flaps_certificates.go GetCertificate
        and CheckCertificate @ 22d6e51 both decode CertificateDetailResponse)."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        return parse(answers.CHECKED_CERTIFICATE, self.request("GET", path), "GET", path)

    def check_certificate(self, app: str, hostname: str) -> CheckedCertificate:
        """Ask Fly to validate `hostname` again now (superfly/docs machines/api/
        certificates-resource.html.markerb @ 5c22c8c, "Check certificate status")."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}/check"
        return parse(answers.CHECKED_CERTIFICATE, self.request("POST", path), "POST", path)

    def delete_certificate(self, app: str, hostname: str) -> None:
        """Remove the hostname and every certificate it has, ACME and custom alike."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        self.request("DELETE", path)

    def import_certificate(
        self, app: str, hostname: str, fullchain: str, private_key: str
    ) -> CheckedCertificate:
        """Import a custom certificate for `hostname` (superfly/docs machines/api/
        certificates-resource.html.markerb @ 5c22c8c, "Import custom certificate": PEM
        `fullchain` and `private_key`; 201 with the detail, the custom certificate
        `pending_ownership` until the `_fly-ownership` TXT record is seen). It starts no
        ACME issuance (fly-go flaps/flaps_certificates.go CreateCustomCertificate); an
        expired certificate, a key that does not match it or a hostname outside its SAN
        and CN is refused (a 422, FlyRefused). Importing again replaces the custom
        certificate: that is how one is renewed (superfly/docs networking/
        understanding-cloudflare.html.md, "custom certificates must be ... re-imported").

        The key travels only in this request's body; whatever Fly's answer quotes of
        what was sent, no piece of the key survives into an error (`redact`).
        """
        path = f"/v1/apps/{quote(app, safe='')}/certificates/custom"
        body = {"hostname": hostname, "fullchain": fullchain, "private_key": private_key}
        # The path names the app only; the context names the host too.
        answer = self.request(
            "POST",
            path,
            body,
            secrets=[private_key],
            context=f"importing the certificate of {hostname} into app {app}",
        )
        return parse(answers.CHECKED_CERTIFICATE, answer, "POST", path)

    def delete_custom_certificate(self, app: str, hostname: str) -> None:
        """Remove the custom certificate only; an ACME one keeps serving (docs "Delete
        custom certificate"; fly-go DeleteCustomCertificate)."""
        host = quote(hostname, safe="")
        self.request("DELETE", f"/v1/apps/{quote(app, safe='')}/certificates/{host}/custom")

    def delete_acme_certificate(self, app: str, hostname: str) -> None:
        """Stop ACME issuance and remove its certificates; a custom one keeps serving
        (docs "Delete ACME certificates"; fly-go DeleteACMECertificate)."""
        host = quote(hostname, safe="")
        self.request("DELETE", f"/v1/apps/{quote(app, safe='')}/certificates/{host}/acme")
