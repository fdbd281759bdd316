"""The fake Fly API's state: apps, secrets, IPs, certificates, add-ons, the registry's
images, the requests seen and the faults to inject next (see the package docstring)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote_plus, urlsplit

TOKEN = "fake-fly-token"
# Org tokens (macaroons, `fly tokens create org`) the fake also accepts, as sent.
ORG_TOKENS = ("FlyV1 fm2_fake-org-token",)


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
