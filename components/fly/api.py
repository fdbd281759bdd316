"""Typed clients for the Fly Machines REST API and Fly's GraphQL API.

The token is read from FLY_API_TOKEN on every call and never stored, so a client
(and a dynamic provider that makes one) can be pickled into Pulumi state without
carrying a credential. Token policy: surrounding ASCII whitespace (the newline a
file or `$(...)` leaves, spaces from a paste) is trimmed; a line break, another
control character or a non-ASCII character left inside is refused with one error
that names the position, never the token, before any request is made.

Requests time out. 429 and failures that happened before the request left
(connection refused) are retried a bounded number of times, honouring
Retry-After. 5xx and answers lost after the request was sent are retried too,
except on a call that allocates something (an IP, an add-on): there the outcome
is unknown, so the caller is told (FlyOutcomeUnknown) and looks before it asks
again. Every answer is checked against the shape Fly documents; anything else
is a FlyResponseError naming the call.

No error carries a secret: an answer may quote the request it refuses, so every
error a call raises is passed through `redact` with the token and the secret
values that call sent (`request(..., secrets=...)`): secrets set and unset, a
certificate's private key. See `redact` for what counts as a piece of a value.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NotRequired, TypeVar, cast
from urllib.parse import quote, quote_plus

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
)
from tenacity.wait import wait_exponential_jitter
from typing_extensions import TypedDict

DEFAULT_HOSTNAME: Final = "https://api.machines.dev"
RETRYABLE_STATUS: Final = frozenset({429, 500, 502, 503, 504})
# fly-go flaps/flaps_error.go: the `status` code the API sets on a taken app name, and
# the legacy message it still sends with it (used only when no code is set).
NAME_TAKEN_CODE: Final = "name_taken"
NAME_TAKEN_MESSAGE: Final = "Name has already been taken"

T = TypeVar("T")


class FlyApiError(Exception):
    """A failed call, carrying Fly's own message (and its `status` code, when it sets one)."""

    retryable = True

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        message: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.code = code
        where = f"{method} {path}"
        super().__init__(
            f"Fly API {where} failed: {status} {message}"
            if status
            else f"Fly API {where}: {message}"
        )

    def redacted(self, secrets: Iterable[str], context: str = "") -> FlyApiError:
        """The same error (same class, status and code) with every piece of `secrets`
        taken out of Fly's message, and `context` (what was being done) before it."""
        message = redact(self.message, secrets)
        return type(self)(
            self.method,
            self.path,
            self.status,
            f"{context}: {message}" if context else message,
            retry_after=self.retry_after,
            code=self.code,
        )


class FlyNotFound(FlyApiError):
    retryable = False


class FlyForbidden(FlyApiError):
    """403: for an app, one that exists in an organization this token cannot read."""

    retryable = False


class FlyConflict(FlyApiError):
    """The thing already exists: a 409, or a 422 whose code (or legacy message) says so."""

    retryable = False


class FlyRefused(FlyApiError):
    """Any other 4xx (401, 400, a 422 that is not a taken name): asking again changes nothing."""

    retryable = False


class FlyResponseError(FlyApiError):
    """A success status whose body is not what Fly sends."""

    retryable = False


class FlyOutcomeUnknown(FlyApiError):
    """An allocating request was sent and its answer lost: it may have been applied."""

    retryable = False


class FlyTokenError(FlyApiError):
    """FLY_API_TOKEN is missing or unusable. Says where the problem is, never the token."""

    retryable = False

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.method = self.path = "-"
        self.status = None
        self.message = message
        self.retry_after = None
        self.code = None


# -- response shapes (fly-go types; superfly/docs machines/api/*) ------------------------
# Go marshals an empty slice as null, so lists are `list | None` and read with `or []`.


class AppOrganization(TypedDict):
    slug: str
    name: NotRequired[str]


class App(TypedDict):
    # fly-go flaps/flaps_apps.go App; docs machines/api/apps-resource "Get app details"
    name: str
    organization: AppOrganization
    id: NotRequired[str]
    status: NotRequired[str]


class SecretName(TypedDict):
    name: str  # fly-go secrets_types.go AppSecret; values are never listed without asking


class SecretList(TypedDict):
    secrets: list[SecretName] | None


class SecretsWritten(TypedDict):
    version: int  # fly-go secrets_types.go UpdateAppSecretsResp (uint64)


class IpAssignment(TypedDict):
    # fly-go flaps/flaps_ip_assignments.go IPAssignment
    ip: str
    region: NotRequired[str]
    shared: NotRequired[bool]
    service_name: NotRequired[str]
    created_at: NotRequired[str]


class IpList(TypedDict):
    ips: list[IpAssignment] | None


class AcmeChallenge(TypedDict):
    name: str
    target: str


class Ownership(TypedDict):
    # fly-go types.go OwnershipRequirement; flyctl internal/command/certificates/root.go
    # prints `TXT <name> <app_value>` as the record to make.
    name: str
    app_value: str
    org_value: NotRequired[str]


class DnsRequirements(TypedDict):
    # fly-go types.go DNSRequirements; docs machines/api/certificates-resource
    a: list[str] | None
    aaaa: list[str] | None
    cname: str
    acme_challenge: AcmeChallenge
    ownership: Ownership


class Certificate(TypedDict):
    # fly-go types.go CertificateDetailResponse
    hostname: str
    status: str
    configured: bool
    dns_requirements: DnsRequirements
    acme_requested: NotRequired[bool]
    validation_errors: NotRequired[list[Any] | None]


class IssuedCertificate(TypedDict):
    # fly-go types.go IssuedCertInfo @ 22d6e51
    type: str
    expires_at: str
    certificate_authority: NotRequired[str | None]


class CertificateDetail(TypedDict):
    # fly-go types.go CertificateDetail @ 22d6e51: one per source (`fly`, `custom`);
    # flyctl internal/command/certificates/root.go @ ad0172f calls a host's
    # certificate verified when one of these is `active`.
    source: str
    status: str
    expires_at: NotRequired[str | None]
    issuer: NotRequired[str | None]
    issued: NotRequired[list[IssuedCertificate] | None]


class CertificateValidation(TypedDict, total=False):
    # fly-go types.go CertificateValidation; docs machines/api/certificates-resource
    dns_configured: bool
    alpn_configured: bool
    http_configured: bool
    ownership_txt_configured: bool


class CheckedCertificate(Certificate):
    """What POST .../certificates/{hostname}/check answers: the detail, freshly validated."""

    certificates: list[CertificateDetail] | None
    validation: CertificateValidation


_APP = TypeAdapter(App)
_SECRET_LIST = TypeAdapter(SecretList)
_SECRETS_WRITTEN = TypeAdapter(SecretsWritten)
_IP = TypeAdapter(IpAssignment)
_IP_LIST = TypeAdapter(IpList)
_CERTIFICATE = TypeAdapter(Certificate)
_CHECKED_CERTIFICATE = TypeAdapter(CheckedCertificate)


def parse(adapter: TypeAdapter[T], body: Any, method: str, path: str) -> T:
    """`body` as `adapter`'s type, or a FlyResponseError naming the call and what is wrong.

    The error lists field paths and rules only, never a value: an answer can carry a
    credential (an add-on's URL).
    """
    try:
        return adapter.validate_python(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the body'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        raise FlyResponseError(method, path, None, f"unexpected answer ({problems})") from None


def ip_type_of(assignment: Mapping[str, Any]) -> str:
    """Fly's type of a listed address (the list does not say it outright).

    Private (Flycast) addresses are in fdaa::/16 (fly-go IPAssignment.IsFlycast).
    """
    address = str(assignment.get("ip", ""))
    if assignment.get("shared"):
        return "shared_v4"
    if address.startswith("fdaa:"):
        return "private_v6"
    return "v6" if ":" in address else "v4"


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
    return isinstance(exc, FlyApiError) and exc.retryable


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


def read_token() -> str:
    """FLY_API_TOKEN, trimmed of surrounding ASCII whitespace, or a FlyTokenError."""
    token = os.environ.get("FLY_API_TOKEN", "").strip(" \t\r\n")
    if not token:
        raise FlyTokenError("FLY_API_TOKEN is not set (create one with `fly tokens create org`)")
    for position, char in enumerate(token, start=1):
        where = f"character {position} of {len(token)}"
        if char in "\r\n":
            problem = f"a line break inside it ({where}); set it to the token on one line"
        elif not char.isascii():
            problem = (
                f"a non-ASCII character ({where}), as a copy from a document leaves "
                "(a curly quote, a non-breaking space); set it to the token as flyctl prints it"
            )
        elif not char.isprintable():
            problem = f"a control character ({where}); set it to the token as flyctl prints it"
        else:
            continue
        raise FlyTokenError(f"FLY_API_TOKEN is unusable: it has {problem}")
    return token


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


# Transport failures raised before the request left the machine: nothing was applied.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, FlyApiError) and exc.retry_after is not None:
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
        headers = {"Authorization": auth, "Accept": "application/json"}
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout) as http:
                response = http.request(method, path, json=body, headers=headers)
        except _NOT_SENT as exc:
            raise FlyApiError(method, path, None, f"{type(exc).__name__}: {exc}") from None
        except httpx.TransportError as exc:
            kind = FlyOutcomeUnknown if allocates else FlyApiError
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
                raise FlyResponseError(
                    method,
                    path,
                    None,
                    f"answered {response.status_code} with a body that is not JSON ({kind_of})",
                ) from None
        message, code = _error_body(response)
        status = response.status_code
        error_type: type[FlyApiError] = FlyApiError
        if status == 404:
            error_type = FlyNotFound
        elif status == 403:
            error_type = FlyForbidden
        elif status == 409 or (status == 422 and _is_name_taken(code, message)):
            error_type = FlyConflict
        elif status >= 500 and allocates:
            error_type = FlyOutcomeUnknown  # a 5xx does not say whether it was done
        elif status not in RETRYABLE_STATUS:
            error_type = FlyRefused
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
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, method, path, body, auth, allocates)
        except FlyApiError as exc:
            # `from None`: the unredacted error must not ride along as the context a
            # traceback prints (the dynamic provider host sends traceback.format_exc()
            # to the engine: pulumi sdk/python/lib/pulumi/dynamic/__main__.py).
            raise exc.redacted([token, *secrets], context) from None

    # -- apps ----------------------------------------------------------------------

    def create_app(self, name: str, org: str) -> App:
        """Create the app as fly-go's CreateApp does, then wait until it can be read.

        fly-go flaps/flaps_apps.go: `POST /apps?wait=true` with `name` and `org_slug`,
        followed (in flyctl internal/command/apps/create.go) by WaitForApp. A taken name
        raises FlyConflict.
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
                lambda e: isinstance(e, FlyApiError) and e.status in (401, 404)
            ),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(self.get_app, name)

    def get_app(self, name: str) -> App:
        path = f"/v1/apps/{quote(name, safe='')}"
        return parse(_APP, self.request("GET", path), "GET", path)

    def delete_app(self, name: str) -> None:
        self.request("DELETE", f"/v1/apps/{quote(name, safe='')}")

    # -- secrets -------------------------------------------------------------------

    def list_secret_names(self, app: str) -> set[str]:
        path = f"/v1/apps/{quote(app, safe='')}/secrets"
        listed = parse(_SECRET_LIST, self.request("GET", path), "GET", path)
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
        return parse(_SECRETS_WRITTEN, body, "POST", path)["version"]

    # -- IP addresses ------------------------------------------------------------

    def assign_ip(self, app: str, ip_type: str) -> IpAssignment:
        """One POST for an address of `ip_type` (v6, v4, shared_v4); FlyOutcomeUnknown if lost."""
        path = f"/v1/apps/{quote(app, safe='')}/ip_assignments"
        # fly-go flaps/flaps_ip_assignments.go AssignIPRequest; types as flyctl's first
        # deploy asks for them (internal/command/deploy/deploy_first.go).
        body = self.request("POST", path, {"type": ip_type}, allocates=True)
        return parse(_IP, body, "POST", path)

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
            except FlyOutcomeUnknown as lost:
                made = [
                    a
                    for a in self.list_ips(app)
                    if a["ip"] not in known and ip_type_of(a) == ip_type
                ]
                if len(made) == 1:
                    return made[0]
                if made:
                    raise FlyApiError(
                        lost.method,
                        lost.path,
                        None,
                        f"the answer was lost and {len(made)} new {ip_type} addresses appeared "
                        f"({', '.join(a['ip'] for a in made)}); release the extra by hand",
                    ) from None
                raise

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(FlyOutcomeUnknown),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(attempt)

    def list_ips(self, app: str) -> list[IpAssignment]:
        path = f"/v1/apps/{quote(app, safe='')}/ip_assignments"
        return parse(_IP_LIST, self.request("GET", path), "GET", path)["ips"] or []

    def release_ip(self, app: str, ip: str) -> None:
        self.request(
            "DELETE", f"/v1/apps/{quote(app, safe='')}/ip_assignments/{quote(ip, safe='')}"
        )

    # -- certificates ------------------------------------------------------------

    def request_certificate(self, app: str, hostname: str) -> Certificate:
        """Add `hostname` to the app with a Let's Encrypt certificate (ACME)."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/acme"
        body = self.request("POST", path, {"hostname": hostname})
        return parse(_CERTIFICATE, body, "POST", path)

    def get_certificate(self, app: str, hostname: str) -> Certificate:
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        return parse(_CERTIFICATE, self.request("GET", path), "GET", path)

    def get_certificate_detail(self, app: str, hostname: str) -> CheckedCertificate:
        """GET of the certificate with its `certificates[]` and `validation`: Fly answers
        the same detail as the check (fly-go flaps/flaps_certificates.go GetCertificate
        and CheckCertificate @ 22d6e51 both decode CertificateDetailResponse)."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}"
        return parse(_CHECKED_CERTIFICATE, self.request("GET", path), "GET", path)

    def check_certificate(self, app: str, hostname: str) -> CheckedCertificate:
        """Ask Fly to validate `hostname` again now (superfly/docs machines/api/
        certificates-resource.html.markerb @ 5c22c8c, "Check certificate status")."""
        path = f"/v1/apps/{quote(app, safe='')}/certificates/{quote(hostname, safe='')}/check"
        return parse(_CHECKED_CERTIFICATE, self.request("POST", path), "POST", path)

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
        return parse(_CHECKED_CERTIFICATE, answer, "POST", path)

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


# -- keeping secrets out of errors ------------------------------------------------------

REDACTED: Final = "[redacted]"
# A run this long of a value's text, in any of its forms, is a piece of it: for a
# random secret it is most of what guessing it takes (12 base64 characters are 72 bits).
MIN_FRAGMENT: Final = 12
# A line of a multi-line value (a PEM body line) is a piece of it from this length on.
# Shorter texts, and values shorter than this, are not searched for: they cannot be
# told from ordinary words (a 1-character "secret" would blank out every letter of
# the message), and no credential this program sends is that short.
MIN_LINE: Final = 8


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 text of `raw` as it reads inside any longer base64 text: encoded at
    each of the three byte alignments, less the characters its neighbours share."""
    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # Each character is 6 bits: skip those that hold bits of the bytes before,
        # stop before the first that holds bits of the bytes after.
        start = -(-shift * 8 // 6)
        end = (shift + len(raw)) * 8 // 6
        core = encoded[start:end] if end > start else ""
        cores.update({core, core.replace("+", "-").replace("/", "_")})
    return {c for c in cores if c}


def secret_forms(value: str) -> set[str]:
    """The texts in which `value` can be quoted back: itself, JSON- and repr-escaped
    (once and twice, as a request body quoted inside a JSON answer is); each of those
    URL-encoded (path and form style, either hex case), base64 and base64url (whole,
    unpadded, and as it reads inside a longer base64 text); and each of its lines."""
    escaped = {value, json.dumps(value, ensure_ascii=False)[1:-1]}
    for _ in range(2):
        escaped |= {json.dumps(f)[1:-1] for f in escaped} | {repr(f)[1:-1] for f in escaped}
    forms = set(escaped)
    for text in escaped:
        for encoded in (quote(text, safe=""), quote(text), quote_plus(text)):
            forms |= {encoded, _lower_hex(encoded)}
        raw = text.encode()
        for coded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            forms |= {coded, coded.rstrip("=")}
        forms |= _base64_cores(raw)
    forms |= {line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_LINE}
    return {f for f in forms if f}


def _lower_hex(encoded: str) -> str:
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every piece of each secret (of MIN_LINE characters or more) replaced
    by REDACTED: any of its forms (`secret_forms`) whole, and any run of MIN_FRAGMENT
    characters of one. Whitespace
    is folded to single spaces, so a quoted multi-line value leaves no layout behind."""
    covered = bytearray(len(text))
    pieces: set[str] = set()
    for value in {s for s in secrets if len(s) >= MIN_LINE}:
        for form in secret_forms(value):
            if len(form) < MIN_LINE:
                continue
            if len(form) > MIN_FRAGMENT:
                pieces |= {form[i : i + MIN_FRAGMENT] for i in range(len(form) - MIN_FRAGMENT + 1)}
                continue
            start = text.find(form)
            while start != -1:
                covered[start : start + len(form)] = b"\1" * len(form)
                start = text.find(form, start + 1)
    for i in range(len(text) - MIN_FRAGMENT + 1):
        if text[i : i + MIN_FRAGMENT] in pieces:
            covered[i : i + MIN_FRAGMENT] = b"\1" * MIN_FRAGMENT
    out: list[str] = []
    for i, char in enumerate(text):
        if not covered[i]:
            out.append(char)
        elif i == 0 or not covered[i - 1]:
            out.append(REDACTED)
    return " ".join("".join(out).split())


# -- GraphQL ---------------------------------------------------------------------------

DEFAULT_GRAPHQL_BASE: Final = "https://api.fly.io"


class _GraphQLError(TypedDict):
    message: str
    extensions: NotRequired[dict[str, Any] | None]


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
