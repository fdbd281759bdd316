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

Laid out as moto lays out a service: models.py the state (and the faults above),
responses.py the wire (routes and the registry), graphql.py the GraphQL add-on API,
certificates.py Fly's certificate checks, exceptions.py Fly's error answers (their
shapes and sources are there).

What it answers, and where that comes from:
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

import threading

from tests.fakes.fly_api.certificates import (
    Seen,
    custom_certificate,
    dns_validation,
    key_fingerprint,
)
from tests.fakes.fly_api.exceptions import NAME_TAKEN
from tests.fakes.fly_api.models import ECHOES, ORG_TOKENS, TOKEN, Dns, Fault, FlyState, Request
from tests.fakes.fly_api.responses import _Handler, _Server

__all__ = [
    "ECHOES",
    "NAME_TAKEN",
    "ORG_TOKENS",
    "TOKEN",
    "Dns",
    "FakeFlyApi",
    "Fault",
    "FlyState",
    "Request",
    "Seen",
    "_Handler",
    "custom_certificate",
    "dns_validation",
    "key_fingerprint",
]


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
