"""A stateful fake of the Fly Machines REST endpoints and the GraphQL add-on API, over real HTTP.

Served on 127.0.0.1 from a thread. Keeps apps, secrets, IPs, certificates and
add-ons like Fly does, checks the bearer token, logs every request, and can be
told to misbehave on the next matching requests:

- `fail_next`: answer with a status (and headers, body) without doing anything;
- `lose_answer_next`: do the request, then drop the connection before answering
  (what a reset or a timeout after the request was sent looks like to a client);
- `answer_raw_next`: answer 200 with a body that is not what Fly sends;
- `echo_next`: refuse the request with an error that quotes it back (`ECHOES`: raw,
  escaped again, URL-encoded, base64, value by value, line by line, a fragment of
  each value, the Authorization header). No Fly document says Fly does this; an
  API may, so the client's guard against it is tested against every shape.

What it answers, and where that comes from:
- Errors are `{"error": ...}` (superfly/fly-go `flaps/flaps.go` handleAPIError reads
  `error` and `message`; `flaps/flaps_apps_test.go` shows `{"error":"app not found"}`
  for a 404 and `{"error":"unauthorized"}` for a 403).
- A taken app name is a 422 with `{"error": "Validation failed: Name has already been
  taken", "status": "name_taken"}` (superfly/docs `machines/api/working-with-machines-api`
  "422 Validation failed (for example, an app name that is already taken)"; fly-go
  `flaps/flaps_error_test.go` for the body).
- An app in an organization the token cannot see answers GET with 403 (fly-go
  `flaps/flaps_apps.go` AppNameAvailable).
- POST /v1/apps takes `name` (fly-go `CreateAppRequest`) or `app_name` (the docs'
  `machines/api/apps-resource` example) and answers 201 `{"id", "created_at"}`.
- Secrets writes answer `{"secrets": [...], "version": N}` (fly-go `secrets_types.go`
  UpdateAppSecretsResp).
- IP assignments list as `{"ips": [{"ip", "region", "service_name", "shared",
  "created_at"}]}` (fly-go `flaps/flaps_ip_assignments.go`).
- Certificates answer the CertificateDetailResponse shape (fly-go `types.go`; docs
  `machines/api/certificates-resource`), `dns_requirements` computed from the app's
  current addresses. Custom certificates are imported, checked with `cryptography`
  as the docs say Fly checks them, and removed per source (`/custom`, `/acme`).
  What a check (`POST .../check`) sees is one of two explicit modes: given a `Dns`
  (the e2e passes the fake Cloudflare's records), it validates against the records
  that exist there (`dns_validation`); without one (unit tests with no DNS at all),
  `issue_at_check` alone says when the records count as seen.
- GraphQL answers `{"data": ..., "errors": [{"message", "extensions": {"code"}}]}`.
  `organization(slug:)` answers `id`, `slug`, `name` and the Organization type's
  `agreedToProviderTos` (fly-go schema.graphql); `viewer` is a `Macaroon` for an org
  token (`FlyV1 ...`) and a `User` otherwise, and only a User answers its own
  `agreedToProviderTos` (flyctl gql/genqclient.graphql AgreedToProviderTos).
- The registry (registry.fly.io) answers the OCI distribution API under `/v2/`
  (opencontainers/distribution-spec spec.md: HEAD/GET `/v2/<name>/manifests/<ref>`,
  GET `/v2/<name>/blobs/<digest>`, 404 `MANIFEST_UNKNOWN`/`BLOB_UNKNOWN`, 401
  `UNAUTHORIZED` with a `WWW-Authenticate` challenge) behind HTTP Basic `x:<token>`
  (flyctl internal/command/auth/docker.go), the token without its scheme. `add_image`
  pushes an image: an index with the platforms given, each a manifest and a config blob.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import quote_plus, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID

TOKEN = "fake-fly-token"
# Org tokens (macaroons, `fly tokens create org`) the fake also accepts, as sent.
ORG_TOKENS = ("FlyV1 fm2_fake-org-token",)

# fly-go flaps/flaps_error_test.go: the body of a taken app name (a 422).
NAME_TAKEN = {"error": "Validation failed: Name has already been taken", "status": "name_taken"}


class Dns(Protocol):
    """The world's DNS as Fly's validation sees it: the records at one name.

    Each record is a mapping with `type` (A, AAAA, CNAME, TXT, ...), `content` and
    `proxied` (whether Cloudflare's proxy answers for it). The e2e's implementation is
    the fake Cloudflare's (e2e/fake_cloudflare/fakecf/world.py).
    """

    def records(self, name: str) -> Sequence[Mapping[str, Any]]: ...


@dataclass
class Fault:
    method: str
    path: str  # regex, full match against the path without its query
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=lambda: {"error": "injected failure"})
    raw: bytes | None = None  # answered as is, with `content_type`
    content_type: str = "application/json"
    lose_answer: bool = False  # apply the request, then close without answering
    containing: str | None = None  # only requests whose body has this text (a GraphQL field)
    echo: str | None = None  # refuse with `status`, quoting the request in this shape


def _leaves(value: Any) -> list[str]:
    """The strings in a JSON body, at any depth."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaves(v)]
    return []


# How an error answer can quote the request it refuses (see `echo_next`).
ECHOES = {
    "raw": lambda raw, _auth: raw.decode(),
    "escaped": lambda raw, _auth: json.dumps(raw.decode()),
    "urlencoded": lambda raw, _auth: quote_plus(raw.decode()),
    "base64": lambda raw, _auth: base64.b64encode(raw).decode(),
    "base64-offset": lambda raw, _auth: base64.b64encode(b"body=" + raw).decode(),
    "values": lambda raw, _auth: "; ".join(_leaves(json.loads(raw))),
    "lines": lambda raw, _auth: " | ".join(
        line for leaf in _leaves(json.loads(raw)) for line in leaf.splitlines()[1:2]
    ),
    "authorization": lambda _raw, auth: f"bad credentials {auth}",
    "fragments": lambda raw, _auth: "; ".join(
        f"invalid near {leaf[len(leaf) // 3 : len(leaf) // 3 + 16]!r}"
        for leaf in _leaves(json.loads(raw))
    ),
}


@dataclass
class Request:
    method: str
    path: str  # with its query, as sent
    body: Any
    authorization: str | None


class FlyState:
    def __init__(self) -> None:
        self.apps: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.secrets_version: dict[str, int] = {}
        self.ips: dict[str, list[dict[str, Any]]] = {}
        self.certificates: dict[str, dict[str, dict[str, Any]]] = {}
        # Where a check looks for the records Fly asks for: None (unit tests) means no
        # DNS is modelled and `issue_at_check` alone decides; a Dns is read per check.
        self.dns: Dns | None = None
        # Per hostname, the check (POST .../check) from which the records count as seen
        # (without a Dns) or Let's Encrypt may issue (with one): 1 is the first check,
        # None never.
        self.issue_at_check: dict[str, int | None] = {}
        self.checks_seen: dict[str, int] = {}
        # Organizations whose apps the token cannot read: GET answers 403 for them.
        self.invisible_orgs: set[str] = {"other-org"}
        # GraphQL add-ons (Upstash Redis), organizations and plans
        self.add_ons: dict[str, dict[str, Any]] = {}
        self.organizations = {"webhost-systems": "org_WebHost1", "other-org": "org_Other2"}
        # Without a `type`, addOnPlans lists every kind's plans (the argument is optional
        # in flyctl's gql/schema.graphql): another kind's plan can share a display name.
        self.plans = [
            {"id": "plan_tigris_payg", "displayName": "Pay-as-you-go", "type": "tigris"},
            {"id": "plan_payg", "displayName": "Pay-as-you-go", "type": "upstash_redis"},
            {"id": "plan_250", "displayName": "Fixed 250MB", "type": "upstash_redis"},
        ]
        # Organizations that agreed to an extension provider's terms, and whether the
        # user behind a user token did (flyctl extensions/core/core.go AgreedToProviderTos).
        self.tos_agreed_orgs: set[str] = set()
        self.user_agreed_tos = False
        # The registry: (repository, tag or digest) -> (media type, body); blobs by digest.
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.blobs: dict[str, bytes] = {}
        self._next_ip = 1
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        times: int = 1,
        body: Any = None,
        **headers: str,
    ) -> None:
        for _ in range(times):
            fault = Fault(method, path, status, dict(headers))
            if body is not None:
                fault.body = body
            self.faults.append(fault)

    def lose_answer_next(
        self, method: str, path: str, times: int = 1, containing: str | None = None
    ) -> None:
        for _ in range(times):
            self.faults.append(Fault(method, path, lose_answer=True, containing=containing))

    def answer_raw_next(
        self, method: str, path: str, raw: bytes, content_type: str = "text/html"
    ) -> None:
        self.faults.append(Fault(method, path, 200, raw=raw, content_type=content_type))

    def echo_next(self, method: str, path: str, echo: str, status: int = 422) -> None:
        """Refuse the next matching request, quoting it back in the shape `echo`."""
        if echo not in ECHOES:
            raise ValueError(f"echo must be one of {sorted(ECHOES)}")
        self.faults.append(Fault(method, path, status, echo=echo))

    def add_app(self, name: str, org: str) -> dict[str, Any]:
        app = {
            "id": f"id-{name}",
            "name": name,
            "status": "pending",
            "organization": {"name": org, "slug": org},
        }
        self.apps[name] = app
        return app

    def add_image(
        self,
        repository: str,
        tag: str,
        config: Mapping[str, Any] | None = None,
        platforms: Sequence[tuple[str, str]] = (("linux", "amd64"),),
        index: bool = True,
    ) -> str:
        """Push an image as a builder does; returns the digest `tag` points to."""

        def put(media: str, doc: Mapping[str, Any]) -> tuple[str, bytes]:
            raw = json.dumps(doc).encode()
            digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
            self.manifests[(repository, digest)] = (media, raw)
            return digest, raw

        entries = []
        for os_, arch in platforms:
            blob = json.dumps(
                {"architecture": arch, "os": os_, "config": dict(config or {})}
            ).encode()
            blob_digest = f"sha256:{hashlib.sha256(blob).hexdigest()}"
            self.blobs[blob_digest] = blob
            media = "application/vnd.oci.image.manifest.v1+json"
            digest, raw = put(
                media,
                {
                    "schemaVersion": 2,
                    "mediaType": media,
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": blob_digest,
                        "size": len(blob),
                    },
                    "layers": [],
                },
            )
            entries.append(
                {
                    "mediaType": media,
                    "digest": digest,
                    "size": len(raw),
                    "platform": {"os": os_, "architecture": arch},
                }
            )
        if index:
            media = "application/vnd.oci.image.index.v1+json"
            digest, _ = put(media, {"schemaVersion": 2, "mediaType": media, "manifests": entries})
        else:
            digest = entries[0]["digest"]
        self.manifests[(repository, tag)] = self.manifests[(repository, digest)]
        return digest

    def calls(self, method: str, path: str) -> list[Request]:
        return [
            r
            for r in self.requests
            if r.method == method and re.fullmatch(path, urlsplit(r.path).path)
        ]


def _secret_list(values: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "digest": hashlib.sha256(value.encode()).hexdigest()[:16]}
        for name, value in sorted(values.items())
    ]


def _new_hostname(name: str, *, acme_requested: bool, status: str) -> dict[str, Any]:
    """A hostname the app has just taken on, nothing validated yet."""
    return {
        "hostname": name,
        "configured": False,
        "acme_requested": acme_requested,
        "status": status,
        "dns_provider": "cloudflare",
        "rate_limited_until": None,
        "certificates": [],
        "validation": {
            "dns_configured": False,
            "alpn_configured": False,
            "http_configured": False,
            "ownership_txt_configured": False,
        },
        "validation_errors": [],
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def key_fingerprint(public_key: Any) -> str:
    """SHA-256 of a public key's SubjectPublicKeyInfo DER."""
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _covers(pattern: str, hostname: str) -> bool:
    # RFC 6125 6.4.3: a wildcard stands for one whole left-most label.
    if pattern.startswith("*."):
        head, _, rest = hostname.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == hostname


def custom_certificate(
    hostname: str, fullchain: str, private_key: str
) -> tuple[str, dict[str, Any] | None]:
    """The custom certificate Fly records for an import, or why it is refused."""
    try:
        chain = x509.load_pem_x509_certificates(fullchain.encode())
    except ValueError:
        return "fullchain is not a PEM certificate", None
    try:
        key = load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        return "private_key is not a PEM private key", None
    leaf = chain[0]
    if key_fingerprint(key.public_key()) != key_fingerprint(leaf.public_key()):
        return "private key does not match the certificate", None
    if leaf.not_valid_after_utc <= datetime.now(UTC):
        return "certificate has expired", None
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = sans.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    names += [str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not any(_covers(n.lower(), hostname.lower()) for n in names):
        return f"hostname {hostname} is not in the certificate's SAN or CN", None
    issuer = next(
        (
            str(a.value)
            for oid in (
                NameOID.COMMON_NAME,
                NameOID.ORGANIZATIONAL_UNIT_NAME,
                NameOID.ORGANIZATION_NAME,
            )
            for a in leaf.issuer.get_attributes_for_oid(oid)
        ),
        None,
    )
    return "", {
        "source": "custom",
        "status": "pending_ownership",
        "created_at": _now(),
        "expires_at": leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issuer": issuer,
        "issued": [],
        # The fake's own bookkeeping, never answered (see _certificate): what the
        # e2e checks compare against the key and the fake Cloudflare's certificate.
        "_fingerprint": hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest(),
        "_key": key_fingerprint(key.public_key()),
    }


@dataclass(frozen=True)
class Seen:
    """What one check found of the records Fly asks for (`dns_requirements`)."""

    ownership: bool  # `_fly-ownership` TXT with the app's (or org's) value
    dns: bool  # `_acme-challenge` CNAME to Fly's target, unproxied: DNS-01
    http: bool  # the host's address records all lead to the app: HTTP-01
    alpn: bool  # the same, none proxied: TLS-ALPN-01 (reported, never issues here)
    errors: list[dict[str, Any]]
    resolved: dict[str, Any]  # the check's `dns_records`


def _name(content: Any) -> str:
    # Names compare without case and without the root's dot (RFC 4343).
    return str(content or "").strip().rstrip(".").lower()


def _txt(content: Any) -> str:
    # Cloudflare may answer a TXT record's content in quotes; the value inside counts.
    return str(content or "").strip().strip('"')


def _address(content: Any) -> str:
    # One address, one spelling (an AAAA may be written expanded or compressed).
    try:
        return str(ipaddress.ip_address(str(content).strip()))
    except ValueError:
        return str(content)


def dns_validation(dns: Dns, hostname: str, wanted: Mapping[str, Any]) -> Seen:
    """Judge the records at `dns` against what Fly asks for, as Fly's check does.

    Sources: superfly/docs networking/understanding-cloudflare.html.md @ 5c22c8c (behind
    the proxy Fly issues over HTTP-01 "when the ownership TXT record is in place", to
    A/AAAA records for the app's addresses or a CNAME to its `.fly.dev` name; TLS-ALPN-01
    cannot pass the proxy; a DNS-only host validates over the `_acme-challenge` CNAME,
    flyctl internal/command/certificates/root.go @ ad0172f); machines/api/
    certificates-resource.html.markerb (the check's `validation` flags, and
    `dns_records` with `acme_challenge_cname` and `ownership_txt`). A proxied record
    answers with Cloudflare's addresses, not its content (Cloudflare docs
    dns/proxy-status), so a proxied `_acme-challenge` CNAME is not seen as one. HTTP-01
    cannot validate a wildcard (RFC 8555 section 8.4 and 7.1.3: DNS-01 only).
    """
    owner = wanted.get("ownership") or {}
    acme = wanted.get("acme_challenge") or {}
    ownership_values = {_txt(owner.get("app_value")), _txt(owner.get("org_value"))} - {""}
    txts = [
        _txt(r.get("content"))
        for r in dns.records(str(owner.get("name") or ""))
        if r.get("type") == "TXT"
    ]
    ownership = any(t in ownership_values for t in txts)
    cnames = [r for r in dns.records(str(acme.get("name") or "")) if r.get("type") == "CNAME"]
    target = _name(acme.get("target"))
    dns_ok = any(_name(r.get("content")) == target and not r.get("proxied") for r in cnames)
    leads = {
        "A": {_address(a) for a in wanted.get("a") or []},
        "AAAA": {_address(a) for a in wanted.get("aaaa") or []},
        "CNAME": {_name(wanted.get("cname"))},
    }
    at_host = [r for r in dns.records(hostname) if r.get("type") in leads]

    def spelled(record: Mapping[str, Any]) -> str:
        content = record.get("content")
        return _name(content) if record.get("type") == "CNAME" else _address(content)

    to_app = bool(at_host) and all(spelled(r) in leads[str(r.get("type"))] for r in at_host)
    http = to_app and not hostname.startswith("*.")
    alpn = to_app and not any(r.get("proxied") for r in at_host)
    errors: list[dict[str, Any]] = []
    if not ownership:
        errors.append(
            {
                "code": None,
                "message": f"{owner.get('name')} TXT record not found",
                "remediation": f"Add a TXT record {owner.get('name')} with value "
                f"{owner.get('app_value')}",
                "timestamp": _now(),
            }
        )
    if not dns_ok:
        errors.append(
            {
                "code": None,
                "message": f"{acme.get('name')} CNAME record not found",
                "remediation": f"Add a CNAME record {acme.get('name')} pointing to "
                f"{acme.get('target')}",
                "timestamp": _now(),
            }
        )
    if not to_app:
        errors.append(
            {
                "code": None,
                "message": f"{hostname} does not resolve to the app",
                "remediation": "Add A and AAAA records for the app's addresses",
                "timestamp": _now(),
            }
        )
    unproxied = [r for r in at_host if not r.get("proxied")]
    resolved = {
        "a": [r["content"] for r in unproxied if r.get("type") == "A"],
        "aaaa": [r["content"] for r in unproxied if r.get("type") == "AAAA"],
        "cname": [r["content"] for r in unproxied if r.get("type") == "CNAME"],
        "acme_challenge_cname": next((r["content"] for r in cnames if not r.get("proxied")), None),
        "ownership_txt": next(iter(txts), None),
    }
    return Seen(ownership, dns_ok, http, alpn, errors, resolved)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        payload = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        path = urlsplit(self.path).path
        state = self.server.state
        with state.lock:
            state.requests.append(
                Request(method, self.path, body, self.headers.get("Authorization"))
            )
            fault = next(
                (
                    f
                    for f in state.faults
                    if f.method == method
                    and re.fullmatch(f.path, path)
                    and (f.containing is None or f.containing.encode() in raw)
                ),
                None,
            )
            if fault is not None:
                state.faults.remove(fault)
                if fault.echo is not None:
                    quoted = ECHOES[fault.echo](raw, self.headers.get("Authorization", ""))
                    self._send(fault.status, {"error": f"Validation failed: {quoted}"})
                    return
                if not fault.lose_answer:
                    self._send(
                        fault.status, fault.body, fault.headers, fault.raw, fault.content_type
                    )
                    return
            if path.startswith("/v2/"):
                if fault is not None and fault.lose_answer:
                    self.close_connection = True  # a read: nothing to do, no answer
                    return
                self._registry(method, path)
                return
            if self.headers.get("Authorization") not in (f"Bearer {TOKEN}", *ORG_TOKENS):
                self._send(401, {"error": "unauthorized"})
                return
            status, answer = self._route(method, path, body or {})
        if fault is not None and fault.lose_answer:
            self.close_connection = True  # done, and the answer never leaves
            return
        self._send(status, answer)

    def _registry(self, method: str, path: str) -> None:
        """The OCI distribution API (see the module docstring); the state lock is held."""
        state = self.server.state
        expected = {f"x:{TOKEN}", *(f"x:{t.removeprefix('FlyV1 ')}" for t in ORG_TOKENS)}
        given = self.headers.get("Authorization", "")
        try:
            user = base64.b64decode(given.removeprefix("Basic ")).decode()
        except ValueError:
            user = ""
        if not given.startswith("Basic ") or user not in expected:
            self._send(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                {"WWW-Authenticate": 'Basic realm="registry.fly.io"'},
            )
            return
        if m := re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path):
            found = state.manifests.get((m[1], unquote(m[2])))
            if found is None:
                self._send(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]})
                return
            media, raw = found
            digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
            headers = {"Docker-Content-Digest": digest}
            # A HEAD answers the headers alone (distribution-spec "Checking if content exists").
            self._send(200, None, headers, b"" if method == "HEAD" else raw, media)
            return
        if m := re.fullmatch(r"/v2/(.+)/blobs/([^/]+)", path):
            blob = state.blobs.get(unquote(m[2]))
            if blob is None:
                self._send(404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "unknown"}]})
                return
            self._send(200, None, None, blob, "application/octet-stream")
            return
        self._send(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]})

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.server.state
        if path == "/v1/apps" and method == "POST":
            name, org = body.get("name") or body.get("app_name"), body.get("org_slug")
            if not name or not org:
                return 400, {"error": "app name and org_slug are required"}
            if name in state.apps:
                return 422, dict(NAME_TAKEN)
            app = state.add_app(name, org)
            return 201, {"id": app["id"], "created_at": int(time.time() * 1000)}
        if m := re.fullmatch(r"/v1/apps/([^/]+)", path):
            app = state.apps.get(unquote(m[1]))
            if app is None:
                return 404, {"error": "app not found"}
            if app["organization"]["slug"] in state.invisible_orgs:
                return 403, {"error": "unauthorized"}
            if method == "GET":
                return 200, app
            if method == "DELETE":
                del state.apps[app["name"]]
                state.secrets.pop(app["name"], None)
                return 202, None
        if m := re.fullmatch(r"/v1/apps/([^/]+)/secrets", path):
            if m[1] not in state.apps:
                return 404, {"error": "app not found"}
            values = state.secrets.setdefault(m[1], {})
            if method == "GET":
                return 200, {"secrets": _secret_list(values)}
            if method == "POST":
                for name, value in body["values"].items():
                    if value is None:
                        values.pop(name, None)
                    else:
                        values[name] = value
                version = state.secrets_version.get(m[1], 0) + 1
                state.secrets_version[m[1]] = version
                return 200, {"secrets": _secret_list(values), "version": version}
        if path == "/graphql" and method == "POST":
            return 200, self._graphql(body["query"], body.get("variables") or {})
        if m := re.fullmatch(r"/v1/apps/([^/]+)/ip_assignments(?:/([^/]+))?", path):
            return self._ips(method, m[1], m[2], body)
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates/([^/]+)/check", path):
            return self._check(method, m[1], unquote(m[2]))
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates/custom", path):
            return self._import(method, m[1], body)
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates/([^/]+)/(custom|acme)", path):
            return self._delete_source(method, m[1], unquote(m[2]), m[3])
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates(?:/acme|/([^/]+))", path):
            return self._certificates(method, m[1], m[2], body)
        return 404, {"error": f"no route {method} {path}"}

    def _graphql(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        """The add-on operations flyctl's `fly redis` commands send, as Fly answers them."""
        state = self.server.state

        def error(message: str, code: str = "") -> dict[str, Any]:
            return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}

        plan_of = {p["id"]: p for p in state.plans}

        def plan(plan_id: str) -> dict[str, Any]:
            return {k: plan_of[plan_id][k] for k in ("id", "displayName")}

        if "createAddOn" in query:
            if plan_of.get(v["planId"], {}).get("type") != "upstash_redis":
                return error(f"createAddOn Validation failed: plan {v['planId']} is not a plan")
            if v["name"] in state.add_ons:
                return error("createAddOn Validation failed: Name has already been taken")
            org = next(s for s, i in state.organizations.items() if i == v["organizationId"])
            state.add_ons[v["name"]] = {
                "id": f"addon_{v['name']}",
                "name": v["name"],
                "publicUrl": f"redis://default:{secrets.token_hex(8)}@fly-{v['name']}.upstash.io:6379",
                "primaryRegion": v["primaryRegion"],
                "readRegions": list(v["readRegions"]),
                "options": dict(v["options"]),
                "metadata": {"upstash_id": secrets.token_hex(4)},
                "addOnPlan": plan(v["planId"]),
                "organization": {"slug": org},
            }
            return {"data": {"createAddOn": {"addOn": {"id": f"addon_{v['name']}"}}}}
        if "updateAddOn" in query:
            add_on = next(a for a in state.add_ons.values() if a["id"] == v["addOnId"])
            if plan_of.get(v["planId"], {}).get("type") != "upstash_redis":
                return error(f"updateAddOn Validation failed: plan {v['planId']} is not a plan")
            # An option left out keeps its state (flyctl internal/command/redis/update.go:
            # "Omit the key so the server keeps its state").
            add_on["options"] = {**add_on["options"], **dict(v["options"])}
            if "metadata" in v:
                add_on["metadata"] = dict(v["metadata"])
            add_on |= {"readRegions": list(v["readRegions"]), "addOnPlan": plan(v["planId"])}
            return {"data": {"updateAddOn": {"addOn": {"id": add_on["id"]}}}}
        if ("addOn(" in query or "deleteAddOn" in query) and v.get("provider") != "upstash_redis":
            return error("provider must name the add-on kind")
        if "deleteAddOn" in query:
            if v["name"] not in state.add_ons:
                return error("Could not find AddOn", "NOT_FOUND")
            del state.add_ons[v["name"]]
            return {"data": {"deleteAddOn": {"deletedAddOnName": v["name"]}}}
        if "addOnPlans" in query:
            kind = None
            if m := re.search(r"addOnPlans\(\s*type:\s*\$(\w+)", query):
                kind = v.get(m[1])
            elif m := re.search(r"addOnPlans\(\s*type:\s*(\w+)", query):
                kind = m[1]
            nodes = [plan(p["id"]) for p in state.plans if kind in (None, p["type"])]
            return {"data": {"addOnPlans": {"nodes": nodes}}}
        if "organization(" in query:
            if v["slug"] not in state.organizations:
                return error("Could not find Organization", "NOT_FOUND")
            org = {
                "id": state.organizations[v["slug"]],
                "slug": v["slug"],
                "name": v["slug"],
                "agreedToProviderTos": v["slug"] in state.tos_agreed_orgs,
            }
            return {"data": {"organization": org}}
        if "viewer" in query:
            if self.headers.get("Authorization", "").startswith("FlyV1 "):
                return {"data": {"viewer": {"__typename": "Macaroon"}}}
            agreed = state.user_agreed_tos
            return {"data": {"viewer": {"__typename": "User", "agreedToProviderTos": agreed}}}
        if "addOn(" in query:
            if v["name"] not in state.add_ons:
                return error("Could not find AddOn", "NOT_FOUND")
            return {"data": {"addOn": state.add_ons[v["name"]]}}
        return error(f"the fake does not know this query: {query[:40]}")

    def _ips(self, method: str, app: str, ip: str | None, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.server.state
        if app not in state.apps:
            return 404, {"error": "app not found"}
        listed = state.ips.setdefault(app, [])
        if method == "GET" and ip is None:
            return 200, {"ips": listed}
        if method == "POST" and ip is None:
            kind = body["type"]
            if kind == "shared_v4":
                if any(a["shared"] for a in listed):
                    return 409, {"error": "app already has a shared ipv4"}
                address, shared = "66.241.124.17", True
            elif kind in ("v6", "v4", "private_v6"):
                n = state._next_ip
                state._next_ip += 1
                prefix = {"v6": "2a09:8280:1::", "private_v6": "fdaa:0:1:a7b::"}
                address = f"{prefix[kind]}{n:x}" if kind in prefix else f"137.66.0.{n}"
                shared = False
            else:
                return 400, {"error": f"invalid ip type {kind}"}
            assignment = {
                "ip": address,
                "region": "global",
                "service_name": "",
                "shared": shared,
                "created_at": _now(),
            }
            listed.append(assignment)
            return 200, assignment
        if method == "DELETE" and ip is not None:
            before = len(listed)
            listed[:] = [a for a in listed if a["ip"] != unquote(ip)]
            return (204, None) if len(listed) < before else (404, {"error": "ip not found"})
        return 405, {"error": "method not allowed"}

    def _certificate(self, app: str, cert: dict[str, Any]) -> dict[str, Any]:
        """The certificate as Fly answers it: what it asks for follows the app's addresses."""
        state = self.server.state
        listed = state.ips.get(app, [])
        name = cert["hostname"]
        return {
            **cert,
            "certificates": [
                {k: v for k, v in c.items() if not k.startswith("_")}
                for c in cert.get("certificates") or []
            ],
            "dns_requirements": {
                "a": [a["ip"] for a in listed if "." in a["ip"]],
                "aaaa": [
                    a["ip"] for a in listed if ":" in a["ip"] and not a["ip"].startswith("fdaa:")
                ],
                "cname": f"{app}.fly.dev",
                # ACME validates a wildcard on its base name (RFC 8555 7.1.3, 8.4), the
                # record flyctl prints for a wildcard (flyctl internal/command/
                # certificates/root.go, "Wildcard certificates require DNS validation").
                "acme_challenge": {
                    "name": f"_acme-challenge.{name.removeprefix('*.')}",
                    "target": f"{name}.k3v9x.flydns.net",
                },
                # Fly's documented `_fly-ownership.<hostname>` (docs machines/api/
                # certificates-resource); for a wildcard no source says otherwise
                # (flyctl prints the name it is given): unconfirmed for `*.` hosts.
                "ownership": {
                    "name": f"_fly-ownership.{name}",
                    "app_value": f"app-{hashlib.sha256(app.encode()).hexdigest()[:10]}",
                    "org_value": "org-5e1f0c3a9d",
                },
            },
        }

    def _certificates(
        self, method: str, app: str, hostname: str | None, body: dict[str, Any]
    ) -> tuple[int, Any]:
        state = self.server.state
        if app not in state.apps:
            return 404, {"error": "app not found"}
        certs = state.certificates.setdefault(app, {})
        if method == "POST" and hostname is None:
            name = body["hostname"]
            if name in certs and not certs[name]["acme_requested"]:
                certs[name]["acme_requested"] = True  # beside an imported certificate
                return 201, self._certificate(app, certs[name])
            if name in certs:
                return 409, {"error": f"hostname {name} already exists on this app"}
            certs[name] = _new_hostname(name, acme_requested=True, status="pending_validation")
            return 201, self._certificate(app, certs[name])
        name = unquote(hostname or "")
        if name not in certs:
            return 404, {"error": "certificate not found"}
        if method == "GET":
            return 200, self._certificate(app, certs[name])
        if method == "DELETE":
            del certs[name]
            return 204, None
        return 405, {"error": "method not allowed"}

    def _import(self, method: str, app: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST .../certificates/custom, refused as the docs say Fly refuses.

        superfly/docs machines/api/certificates-resource.html.markerb @ 5c22c8c, "Import
        custom certificate": the certificate must not be expired, the key must match
        it, the hostname must be in its SAN or CN (wildcards supported); the answer is
        201 with the detail, the custom certificate `pending_ownership` until the
        `_fly-ownership` record is seen. Refusals are 422 "Validation failed" (docs
        machines/api/working-with-machines-api, Response Codes) with `{"error": ...}`.
        Importing again replaces the custom certificate. The key is kept only as its
        public half's fingerprint, and no answer or error quotes what was sent.
        """
        state = self.server.state
        if method != "POST":
            return 405, {"error": "method not allowed"}
        if app not in state.apps:
            return 404, {"error": "app not found"}
        name = str(body.get("hostname") or "")
        missing = [k for k in ("hostname", "fullchain", "private_key") if not body.get(k)]
        if missing:
            return 400, {"error": f"{', '.join(missing)} required"}
        problem, custom = custom_certificate(name, body["fullchain"], body["private_key"])
        if custom is None:
            return 422, {"error": f"Validation failed: {problem}"}
        certs = state.certificates.setdefault(app, {})
        if name not in certs:
            certs[name] = _new_hostname(name, acme_requested=False, status="pending_ownership")
        cert = certs[name]
        others = [c for c in cert["certificates"] if c["source"] != "custom"]
        cert["certificates"] = [custom, *others]
        if not others:
            cert["status"] = "pending_ownership"
        return 201, self._certificate(app, cert)

    def _delete_source(self, method: str, app: str, name: str, source: str) -> tuple[int, Any]:
        """DELETE .../{hostname}/custom or /acme: one kind goes, the hostname stays (docs
        "Delete custom certificate", "Delete ACME certificates")."""
        state = self.server.state
        if method != "DELETE":
            return 405, {"error": "method not allowed"}
        if app not in state.apps:
            return 404, {"error": "app not found"}
        cert = state.certificates.get(app, {}).get(name)
        if cert is None:
            return 404, {"error": "certificate not found"}
        if source == "custom":
            if not any(c["source"] == "custom" for c in cert["certificates"]):
                return 404, {"error": "custom certificate not found"}
            cert["certificates"] = [c for c in cert["certificates"] if c["source"] != "custom"]
        else:
            cert["acme_requested"] = False
            cert["certificates"] = [c for c in cert["certificates"] if c["source"] == "custom"]
        active = any(c["status"] == "active" for c in cert["certificates"])
        cert["status"] = "active" if active else "pending_validation"
        return 200, self._certificate(app, cert)

    def _check(self, method: str, app: str, name: str) -> tuple[int, Any]:
        """POST .../check: look at the records again; activate and issue what they allow.

        Shapes from superfly/docs machines/api/certificates-resource (Check certificate
        status): the detail with `certificates[]` ({source, status, expires_at,
        issuer, issued[]}), the `validation` flags and `dns_records`; while pending, the
        flags of what is missing are false and `validation_errors` says what. An
        imported certificate turns active once the ownership TXT record is seen (docs,
        "Import custom certificate"); Let's Encrypt issues over DNS-01, or over HTTP-01
        with the ownership record in place (`dns_validation`). TLS-ALPN-01 (a DNS-only
        host's A/AAAA alone) is reported but issues nothing here: the program relies
        on the `_acme-challenge` CNAME, and a fake issuing over ALPN would hide a wrong
        one. A certificate once issued stays issued. Without a Dns (`FlyState.dns`),
        every record counts as seen from check `issue_at_check` on, none before.
        """
        state = self.server.state
        if method != "POST":
            return 405, {"error": "method not allowed"}
        if app not in state.apps:
            return 404, {"error": "app not found"}
        cert = state.certificates.get(app, {}).get(name)
        if cert is None:
            return 404, {"error": "certificate not found"}
        seen = state.checks_seen[name] = state.checks_seen.get(name, 0) + 1
        at = state.issue_at_check.get(name, 1)
        due = at is not None and seen >= at
        wanted = self._certificate(app, cert)["dns_requirements"]
        if state.dns is not None:
            found = dns_validation(state.dns, name, wanted)
            ownership, dns_ok, http, alpn = (
                found.ownership and due,
                found.dns and due,
                found.http and due,
                found.alpn and due,
            )
            errors, resolved = found.errors, found.resolved
        else:
            ownership = dns_ok = http = alpn = due
            errors = (
                []
                if due
                else [
                    {
                        "code": None,
                        "message": f"_fly-ownership.{name} TXT record not found",
                        "remediation": f"Add a TXT record _fly-ownership.{name}",
                        "timestamp": _now(),
                    }
                ]
            )
            resolved = {"a": [], "aaaa": [], "cname": []}
        certificates = [
            {**c, "status": "active"} if c["source"] == "custom" and ownership else c
            for c in cert["certificates"]
        ]
        issues = cert.get("acme_requested", True) and (dns_ok or (ownership and http))
        if issues and not any(c["source"] == "fly" for c in certificates):
            certificates.append(
                {
                    "source": "fly",
                    "status": "active",
                    "created_at": "2026-01-15T12:00:00Z",
                    "expires_at": "2026-04-15T12:00:00Z",
                    "issuer": None,
                    "issued": [
                        {
                            "type": "ecdsa",
                            "expires_at": "2026-04-15T12:00:00Z",
                            "certificate_authority": "lets_encrypt",
                        }
                    ],
                }
            )
        active = any(c["status"] == "active" for c in certificates)
        cert.update(
            certificates=certificates,
            validation={
                "dns_configured": dns_ok,
                "alpn_configured": alpn,
                "http_configured": http,
                "ownership_txt_configured": ownership,
            },
            validation_errors=errors,
        )
        if active:
            cert.update(status="active", configured=True)
        detail = self._certificate(app, cert)
        return 200, {**detail, "dns_records": resolved}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_HEAD(self) -> None:
        self._handle("HEAD")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FlyState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeFlyApi:
    def __init__(self, dns: Dns | None = None) -> None:
        self.state = FlyState()
        self.state.dns = dns
        self._server = _Server(self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeFlyApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
