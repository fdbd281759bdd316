"""`webhost-infra preflight`: what the first `up` of a stack needs, checked before any change.

Read-only: every call is a GET or HEAD (and GraphQL queries, never a mutation), so it
can run with the read-only tokens of a preview. Each problem is one line that says what
is wrong and how to fix it; a call that gets no answer (a refused connection, a timeout,
a 5xx) is a problem too, never a traceback and never taken for "absent". Absent is only
ever an explicit not-found (a 404, Fly's NOT_FOUND, an empty Cloudflare list).

"Ours" (an app name or a DNS record that already exists): Fly apps carry no label and
every stack writes the same record comment, so neither is proof that *this* stack made
it. The proof is the stack's state: `--state` takes `pulumi stack export` (a file, or
`-` for stdin); an existing app whose name is a value in a resource of that state, or
a record whose id is a DnsRecord's id there, is the stack's own. Without it, anything
that exists is reported with the step that adopts it or the refusal that names it.

The app contract (README.md, "The app contract") is checked where the registry shows
it: the image exists, has a linux/amd64 manifest (the architecture Fly Machines run),
and its config's entrypoint or command is set and its exposed ports, where it lists
any, include the HTTP and metrics ports the stack configures.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

import httpx

from components import catalog
from components.config import Domain, StackConfig
from components.fly import api as fly

TIMEOUT: Final = 15.0

# cloudflare-go (v4 on) client.go DefaultClientOptions: CLOUDFLARE_BASE_URL
# overrides https://api.cloudflare.com/client/v4/ (the client pulumi-cloudflare 6 uses).
CLOUDFLARE_BASE_ENV: Final = "CLOUDFLARE_BASE_URL"
CLOUDFLARE_DEFAULT_BASE: Final = "https://api.cloudflare.com/client/v4"
# pulumiverse_grafana 2.44.0 provider.py: `sm_url` from GRAFANA_SM_URL; the Terraform
# provider's default is Grafana Cloud's first SM region.
GRAFANA_SM_URL_ENV: Final = "GRAFANA_SM_URL"
GRAFANA_SM_DEFAULT_URL: Final = "https://synthetic-monitoring-api.grafana.net"
# grafana pkg/components/satokengen: service account tokens are `glsa_<secret>_<crc>`.
GRAFANA_SA_PREFIX: Final = "glsa_"
# Where synthetic monitoring calls go before GRAFANA_SM_URL (the tests' fake; setting
# GRAFANA_SM_URL itself would change the Grafana provider's inputs under the e2e).
GRAFANA_SM_BASE_ENV: Final = "WEBHOST_GRAFANA_SM_BASE_URL"
# Where Grafana calls go instead of webhost:monitoring.url (config takes https only; the
# tests' fake is plain HTTP on 127.0.0.1). Lines still name the configured URL.
GRAFANA_BASE_ENV: Final = "WEBHOST_GRAFANA_BASE_URL"
# Where registry calls go instead of https://<registry host> (a mirror, or the tests'
# fake): the image reference itself is never rewritten.
REGISTRY_BASE_ENV: Final = "WEBHOST_REGISTRY_BASE_URL"
# flyctl internal/command/auth/docker.go: registry.fly.io takes HTTP Basic `x:<token>`,
# the token without its scheme (fly-go tokens/tokens.go Docker(): normalized, no scheme).
FLY_REGISTRY: Final = "registry.fly.io"
# OCI distribution spec: what a client accepts for a manifest (image-spec media-types.md,
# and Docker's schema2 types that registries still serve).
MANIFEST_TYPES: Final = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES: Final = frozenset(MANIFEST_TYPES[::2])
# Fly Machines run linux/amd64 (superfly/docs machines/guides-examples: images are
# pulled for x86-64; flyctl builds with --platform linux/amd64).
PLATFORM: Final = {"os": "linux", "architecture": "amd64"}
# Tigris is the extension `fly postgres backup enable` provisions (flyctl flypg/tigris.go
# Provider: "tigris").
TIGRIS: Final = "tigris"
# components/fly/scripts/postgres_backups.sh: the secret `backup enable` sets.
BACKUP_SECRET: Final = "S3_ARCHIVE_CONFIG"  # noqa: S105 - a secret's name
DNS_RECORD_TYPE: Final = "cloudflare:index/dnsRecord:DnsRecord"
# The program's names (__main__.py `Platform("webhost", ...)`, components/edge.py).
PLATFORM_NAME: Final = "webhost"
EDGE_TYPE: Final = "webhost:index:Platform$webhost:edge:Edge"


class Unanswered(Exception):
    """A call that got no usable answer; the message is the problem line."""


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def problem(self, line: str) -> None:
        self.problems.append(line)

    def ok(self, line: str) -> None:
        self.passed.append(line)


@dataclass(frozen=True)
class Owned:
    """What the stack's state holds: every string value, and the DNS records' ids."""

    values: frozenset[str] = frozenset()
    records: frozenset[str] = frozenset()
    given: bool = False


def owned_from_export(text: str) -> Owned:
    """`pulumi stack export`'s JSON (deployment.resources[]), or ValueError."""
    try:
        doc = json.loads(text)
        resources = doc["deployment"].get("resources") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError("not the JSON `pulumi stack export` prints") from None
    values: set[str] = set()
    records: set[str] = set()
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        if resource.get("type") == DNS_RECORD_TYPE and isinstance(resource.get("id"), str):
            records.add(resource["id"])
        for part in ("inputs", "outputs"):
            values.update(_leaves(resource.get(part)))
        if isinstance(resource.get("id"), str):
            values.add(resource["id"])
    return Owned(frozenset(values), frozenset(records), True)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)


def _said(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"answered {exc.response.status_code}"
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "no answer"
    return f"{kind} ({type(exc).__name__})"


# -- Fly ----------------------------------------------------------------------------

# fly-go/flyctl gql/genqclient.graphql GetOrganization (`organization(slug:)`) and the
# Organization type's agreedToProviderTos (fly-go schema.graphql).
ORG_QUERY: Final = """query($slug: String!) {
  organization(slug: $slug) { id slug name agreedToProviderTos(providerName: "tigris") }
}"""
# flyctl gql/genqclient.graphql AgreedToProviderTos: what `backup enable` asks, which
# counts only for a User viewer (extensions/core/core.go AgreedToProviderTos).
VIEWER_TOS_QUERY: Final = """query($addOnProviderName: String!) {
  viewer { __typename ... on User { agreedToProviderTos(providerName: $addOnProviderName) } }
}"""
# flyctl internal/command/redis: an Upstash add-on is read with addOn(name, provider).
ADDON_QUERY: Final = """query($name: String!, $provider: String!) {
  addOn(name: $name, provider: $provider) { id name organization { slug } }
}"""


def _fly_failure(exc: fly.FlyApiError, what: str) -> str:
    if exc.status == 401:
        return (
            f"Fly: FLY_API_TOKEN was refused (401) {what}: create one with "
            "`fly tokens create org --org <org>` and export it"
        )
    if exc.status is None or exc.status >= 500:
        return f"Fly: no answer {what} ({exc.message}); run preflight again"
    return f"Fly: {what} failed: {exc}"


def check_fly(cfg: StackConfig, owned: Owned, report: Report) -> None:
    try:
        token = fly.read_token()
    except fly.FlyTokenError as exc:
        report.problem(f"Fly: {exc.message}")
        return
    gql = fly.FlyGraphQL(timeout=TIMEOUT, retry=fly.RetryPolicy(attempts=1))
    machines = fly.FlyClient(timeout=TIMEOUT, retry=fly.RetryPolicy(attempts=1))
    try:
        data = gql(ORG_QUERY, slug=cfg.org)
    except fly.FlyNotFound:
        report.problem(
            f"Fly: organization {cfg.org!r} does not exist or FLY_API_TOKEN cannot read it "
            "(webhost:org): create the token for that org (`fly tokens create org --org "
            f"{cfg.org}`) or fix webhost:org"
        )
        return
    except fly.FlyApiError as exc:
        report.problem(_fly_failure(exc, f"reading organization {cfg.org!r}"))
        return
    org = data.get("organization") or {}
    report.ok(f"Fly: organization {cfg.org} readable with FLY_API_TOKEN")
    if not fly.authorization(token).startswith("FlyV1 "):
        # components/fly/api/token.py authorization: macaroons (`fly tokens create`) use the
        # FlyV1 scheme; anything else is a user's token, with all of that user's orgs.
        report.notes.append(
            "Fly: FLY_API_TOKEN is a user token, not the org token the README asks for "
            f"(`fly tokens create org --org {cfg.org}`): it works, with every org you can reach"
        )

    for name in [cfg.app_name, *([cfg.postgres_name] if cfg.postgres_name else [])]:
        _check_app(machines, cfg, name, owned, report)
    if cfg.redis_name:
        _check_addon(gql, cfg, cfg.redis_name, owned, report)
    if cfg.postgres is not None and cfg.postgres.backups.enabled and cfg.postgres_name:
        _check_tigris(gql, machines, cluster=cfg.postgres_name, token=token, org=org, report=report)
    check_image(cfg, token, report)


def _check_app(
    machines: fly.FlyClient, cfg: StackConfig, name: str, owned: Owned, report: Report
) -> None:
    # fly-go flaps/flaps_apps.go AppNameAvailable: 404 is free, 403 another org's.
    try:
        app = machines.request("GET", f"/v1/apps/{name}")
    except fly.FlyNotFound:
        report.ok(f"Fly: app name {name} is free")
        return
    except fly.FlyForbidden:
        report.problem(
            f"Fly: app name {name} is taken by an organization this token cannot read: "
            "choose another name (webhost:appName, or webhost:postgres.name for the cluster)"
        )
        return
    except fly.FlyApiError as exc:
        report.problem(_fly_failure(exc, f"looking up app {name}"))
        return
    slug = ((app or {}).get("organization") or {}).get("slug")
    if slug != cfg.org:
        report.problem(
            f"Fly: app {name} exists in organization {slug!r}, not {cfg.org!r}: "
            "choose another name or `fly apps move` it"
        )
    elif name in owned.values:
        report.ok(f"Fly: app {name} exists and is this stack's (in its state)")
    else:
        report.problem(
            f"Fly: app {name} already exists in {cfg.org} and is not in this stack's state"
            + (
                ""
                if owned.given
                else " (pass `--state -` with `pulumi stack export` piped in if it is)"
            )
            + ": choose another name, or delete it if it is unused (`fly apps destroy`)"
        )


def _check_addon(
    gql: fly.FlyGraphQL, cfg: StackConfig, name: str, owned: Owned, report: Report
) -> None:
    try:
        data = gql(ADDON_QUERY, name=name, provider="upstash_redis")
    except fly.FlyNotFound:
        report.ok(f"Fly: Redis name {name} is free")
        return
    except fly.FlyApiError as exc:
        report.problem(_fly_failure(exc, f"looking up Redis {name}"))
        return
    slug = (((data.get("addOn") or {}).get("organization")) or {}).get("slug")
    if slug == cfg.org and name in owned.values:
        report.ok(f"Fly: Redis {name} exists and is this stack's (in its state)")
    else:
        report.problem(
            f"Fly: Redis {name} already exists (organization {slug!r}) and is not this "
            "stack's: set webhost:redis.name to a free name"
        )


def _check_tigris(
    gql: fly.FlyGraphQL,
    machines: fly.FlyClient,
    *,
    cluster: str,
    token: str,
    org: Mapping[str, Any],
    report: Report,
) -> None:
    step = (
        f"once, logged in as yourself (`fly auth login`), run `fly postgres backup enable "
        f"--app {cluster}` in a terminal and accept Tigris's terms"
    )
    try:
        names = machines.request("GET", f"/v1/apps/{cluster}/secrets")
        present = {s.get("name") for s in (names or {}).get("secrets") or []}
    except fly.FlyNotFound:
        present = None  # no cluster yet: the first `up` makes it
    except fly.FlyApiError as exc:
        report.problem(_fly_failure(exc, f"reading {cluster}'s secret names"))
        return
    if present is not None and BACKUP_SECRET in present:
        report.ok(f"Fly: backups of {cluster} are enabled (Tigris bucket made)")
        return
    # flyctl extensions/core/core.go AgreedToProviderTos: only a User viewer's agreement
    # counts; an org token (a macaroon viewer) is always asked, and `backup enable` has
    # no --yes, so under it the backups step stops (postgres_backups.sh says so).
    user_agreed = False
    if not fly.authorization(token).startswith("FlyV1 "):
        try:
            viewer = gql(VIEWER_TOS_QUERY, addOnProviderName=TIGRIS).get("viewer") or {}
            user_agreed = viewer.get("agreedToProviderTos") is True
        except fly.FlyApiError as exc:
            report.problem(_fly_failure(exc, "reading the Tigris agreement"))
            return
    if user_agreed:
        report.ok("Fly: Tigris's terms are agreed (this user token's viewer)")
    elif present is None:
        report.notes.append(
            f"Fly: backups need Tigris's terms, which an org token cannot accept: the first "
            f"`up` makes {cluster} and stops at its backups; then {step}, and `up` again"
            + (" (the org has agreed before)" if org.get("agreedToProviderTos") else "")
        )
    else:
        report.problem(f"Fly: {cluster} has no backups yet ({BACKUP_SECRET} unset): {step}")


# -- the image (OCI distribution API) ----------------------------------------------


def split_image(image: str) -> tuple[str, str, str]:
    """(registry host, repository, tag or digest) as Docker's reference grammar reads it."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "registry-1.docker.io", image
        if "/" not in path:
            path = f"library/{path}"
    if "@" in path:
        repo, _, ref = path.partition("@")
    else:
        repo, _, ref = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
        ref = ref or "latest"
    return host, repo, ref


class _Registry:
    def __init__(self, host: str, repo: str, token: str) -> None:
        self.host = host
        self.repo = repo
        self.base = (os.environ.get(REGISTRY_BASE_ENV) or f"https://{host}").rstrip("/")
        self.auth: str | None = None
        if host == FLY_REGISTRY:
            bare = token.split(" ", 1)[1] if token.startswith(("FlyV1 ", "Bearer ")) else token
            self.auth = "Basic " + base64.b64encode(f"x:{bare}".encode()).decode()
        self.http = httpx.Client(timeout=TIMEOUT)

    def get(self, method: str, path: str, accept: str) -> httpx.Response:
        headers = {"Accept": accept}
        if self.auth:
            headers["Authorization"] = self.auth
        response = self.http.request(method, f"{self.base}/v2/{self.repo}/{path}", headers=headers)
        challenge = response.headers.get("WWW-Authenticate", "")
        if (
            response.status_code == 401
            and self.host != FLY_REGISTRY
            and challenge.startswith("Bearer ")
        ):
            # Docker's token authentication (distribution docs spec/auth/token.md): an
            # anonymous pull token from the realm the challenge names.
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            realm = params.pop("realm", "")
            answer = self.http.get(realm, params=params)
            if answer.is_success:
                body = answer.json()
                self.auth = f"Bearer {body.get('token') or body.get('access_token')}"
                headers["Authorization"] = self.auth
                response = self.http.request(
                    method, f"{self.base}/v2/{self.repo}/{path}", headers=headers
                )
        return response


def check_image(cfg: StackConfig, token: str, report: Report) -> None:
    host, repo, ref = split_image(cfg.image)
    registry = _Registry(host, repo, token)
    where = f"image {cfg.image} (webhost:image)"
    try:
        head = registry.get("HEAD", f"manifests/{ref}", ", ".join(MANIFEST_TYPES))
        if head.status_code == 404:
            report.problem(
                f"Image: {where} is not in {host}: push it (the app's CI) or fix the tag"
            )
            return
        if head.status_code in (401, 403):
            fix = (
                "FLY_API_TOKEN must be a token of the org that owns the repository"
                if host == FLY_REGISTRY
                else "preflight reads public images only"
            )
            report.problem(f"Image: {host} refused to show {where} ({head.status_code}): {fix}")
            return
        if not head.is_success:
            report.problem(
                f"Image: {host} answered {head.status_code} for {where}; run preflight again"
            )
            return
        report.ok(f"Image: {cfg.image} exists")
        _check_image_config(cfg, registry, ref, report)
    except httpx.HTTPError as exc:
        report.problem(f"Image: {host}: {_said(exc)} checking {where}; run preflight again")
    except (ValueError, KeyError, TypeError, AttributeError):
        report.problem(f"Image: {host} answered {where} with a manifest preflight cannot read")
    finally:
        registry.http.close()


def _check_image_config(cfg: StackConfig, registry: _Registry, ref: str, report: Report) -> None:
    answer = registry.get("GET", f"manifests/{ref}", ", ".join(MANIFEST_TYPES))
    answer.raise_for_status()
    manifest = answer.json()
    kind = manifest.get("mediaType") or answer.headers.get("Content-Type", "").split(";")[0]
    if kind in INDEX_TYPES or "manifests" in manifest:
        chosen = [
            m
            for m in manifest.get("manifests") or []
            if all((m.get("platform") or {}).get(k) == v for k, v in PLATFORM.items())
        ]
        if not chosen:
            report.problem(
                f"Image: {cfg.image} has no linux/amd64 image, which Fly Machines run: "
                "build it with --platform linux/amd64"
            )
            return
        answer = registry.get("GET", f"manifests/{chosen[0]['digest']}", ", ".join(MANIFEST_TYPES))
        answer.raise_for_status()
        manifest = answer.json()
    digest = (manifest.get("config") or {}).get("digest")
    if not digest:
        return  # no config to read: existence is what the registry shows
    blob = registry.get("GET", f"blobs/{digest}", "application/json")
    blob.raise_for_status()
    image_config = blob.json().get("config") or {}
    if not (image_config.get("Entrypoint") or image_config.get("Cmd")):
        report.problem(
            f"Image: {cfg.image} sets no ENTRYPOINT or CMD, and fly.toml starts none: "
            "the release must start the server (README, The app contract)"
        )
    exposed = image_config.get("ExposedPorts") or {}
    if exposed:
        wanted = {cfg.http.internal_port: "webhost:http.internalPort"}
        wanted[cfg.metrics.port] = "webhost:metrics.port"
        for port, key in wanted.items():
            if f"{port}/tcp" not in exposed:
                report.problem(
                    f"Image: {cfg.image} exposes {', '.join(sorted(exposed))} but not {port} "
                    f"({key}): fix the key or the image (README, The app contract)"
                )
    report.ok(f"Image: {cfg.image} config read (entrypoint, exposed ports)")


# -- Cloudflare ----------------------------------------------------------------------


@dataclass(frozen=True)
class WantedRecord:
    type: str
    name: str
    resource: str  # the Pulumi resource name components/edge.py gives it
    data: Mapping[str, Any] | None = None  # CAA's


def wanted_records(cfg: StackConfig) -> list[WantedRecord]:
    """The records components/edge.py makes, named as it names them."""
    domain = cfg.domain
    if domain is None:
        return []
    name = PLATFORM_NAME
    out: list[WantedRecord] = []
    for fqdn in domain.fqdns:
        out.append(WantedRecord("AAAA", fqdn, f"{name}-aaaa-{fqdn}"))
        if domain.ipv4_kind != "none":
            out.append(WantedRecord("A", fqdn, f"{name}-a-{fqdn}"))
        if domain.proxied:
            owner = f"_fly-ownership.{fqdn}"
            out.append(WantedRecord("TXT", owner, f"{name}-txt-{owner}"))
        elif domain.certificate != "origin":
            acme = f"_acme-challenge.{fqdn}"
            out.append(WantedRecord("CNAME", acme, f"{name}-cname-{acme}"))
    if domain.owns_zone:
        caa = {"flags": 0, "tag": "issue", "value": catalog.CAA_ISSUER}
        out.append(WantedRecord("CAA", domain.zone, f"{name}-caa", caa))
    return out


class _Cloudflare:
    def __init__(self, token: str) -> None:
        base = os.environ.get(CLOUDFLARE_BASE_ENV) or CLOUDFLARE_DEFAULT_BASE
        self.http = httpx.Client(
            base_url=base.rstrip("/"),
            timeout=TIMEOUT,
            headers={"Authorization": f"Bearer {token}"},
        )

    def get(self, path: str, **params: Any) -> tuple[int, Any]:
        """(status, `result`) of a v4 envelope; Unanswered for no answer or a 5xx."""
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise Unanswered(f"Cloudflare: {_said(exc)} on GET {path}; run again") from None
        if response.status_code >= 500:
            raise Unanswered(f"Cloudflare answered {response.status_code} on GET {path}; run again")
        try:
            body = response.json()
        except ValueError:
            raise Unanswered(
                f"Cloudflare answered GET {path} with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise Unanswered(f"Cloudflare answered GET {path} with an unexpected body")
        return response.status_code, body.get("result")

    @staticmethod
    def errors(status: int) -> str:
        return {
            400: "was refused as malformed (400)",
            401: "was refused (401)",
            403: "lacks the permission (403)",
            404: "found nothing (404)",
        }.get(status, f"answered {status}")


# Cloudflare API permission groups for what `up` does on the zone (README, "The edge").
ZONE_PERMISSIONS: Final = ("Zone Read", "DNS Write", "Zone Settings Write", "Cache Rules Write")


def check_cloudflare(
    cfg: StackConfig, owned: Owned, stack: str, project: str, report: Report
) -> None:
    domain = cfg.domain
    if domain is None:
        return
    token = os.environ.get("CLOUDFLARE_API_TOKEN", "").strip()
    if not token:
        report.problem(
            "Cloudflare: CLOUDFLARE_API_TOKEN is not set: create an API token (not the Global "
            f"API Key) with {', '.join(ZONE_PERMISSIONS)} on {domain.zone}"
        )
        return
    cf = _Cloudflare(token)
    try:
        _check_cloudflare(_Site(cf, cfg, owned, stack, project), report)
    except Unanswered as exc:
        report.problem(str(exc))
    finally:
        cf.http.close()


@dataclass(frozen=True)
class _Site:
    """What the Cloudflare checks share: the client, the stack and what it owns."""

    cf: _Cloudflare
    cfg: StackConfig
    owned: Owned
    stack: str
    project: str


def _check_cloudflare(site: _Site, report: Report) -> None:
    domain = site.cfg.domain
    assert domain is not None
    if not _verified(site.cf, domain.zone, report):
        return
    zone_id = _zone_id(site.cf, domain, report)
    if zone_id is None or not _readable(site.cf, domain, zone_id, report):
        return
    edge_urn = f"urn:pulumi:{site.stack}::{site.project}::{EDGE_TYPE}::{PLATFORM_NAME}"
    by_name: dict[str, list[WantedRecord]] = {}
    for record in wanted_records(site.cfg):
        by_name.setdefault(record.name, []).append(record)
    for name, wanted in by_name.items():
        status, found = site.cf.get(f"/zones/{zone_id}/dns_records", name=name, per_page=100)
        if status != 200 or not isinstance(found, list):
            report.problem(f"Cloudflare: listing records at {name} {site.cf.errors(status)}")
            continue
        theirs = [r for r in found if r.get("id") not in site.owned.records]
        # Cloudflare refuses a CNAME beside any other record at a name, and anything
        # beside a CNAME (DNS docs, "CNAME records": codes 81053/81054).
        for other in theirs:
            blocked = [
                w.type for w in wanted if (other.get("type") == "CNAME") != (w.type == "CNAME")
            ]
            if blocked:
                report.problem(
                    f"Cloudflare: {other.get('type')} record {name} ({other.get('id')}, to "
                    f"{other.get('content')!r}) stands where this stack makes "
                    f"{'/'.join(blocked)}: refused; delete it by hand when you cut over"
                )
        for record in wanted:
            _check_record(record, theirs, zone_id, edge_urn, report)


def _verified(cf: _Cloudflare, zone: str, report: Report) -> bool:
    # Cloudflare API: GET /user/tokens/verify answers a token's status (active, disabled,
    # expired); an API key or a bad token is a 400/401 there.
    status, result = cf.get("/user/tokens/verify")
    if status != 200 or not isinstance(result, dict):
        report.problem(
            f"Cloudflare: CLOUDFLARE_API_TOKEN is not a valid API token (verify "
            f"{cf.errors(status)}): create an API token with {', '.join(ZONE_PERMISSIONS)} "
            f"on {zone}"
        )
        return False
    if result.get("status") != "active":
        report.problem(
            f"Cloudflare: CLOUDFLARE_API_TOKEN is {result.get('status')!r}, not active: "
            "roll it or make a new one"
        )
        return False
    report.ok("Cloudflare: CLOUDFLARE_API_TOKEN is an active API token")
    return True


def _zone_id(cf: _Cloudflare, domain: Domain, report: Report) -> str | None:
    if domain.zone_id:
        status, zone = cf.get(f"/zones/{domain.zone_id}")
        zones = [zone] if status == 200 and isinstance(zone, dict) else []
    else:
        status, found = cf.get("/zones", name=domain.zone)
        zones = found if status == 200 and isinstance(found, list) else []
    if status not in (200, 404) and not zones:
        report.problem(
            f"Cloudflare: reading zone {domain.zone} {cf.errors(status)}: the token needs "
            "Zone Read on it"
        )
        return None
    if not zones:
        report.problem(
            f"Cloudflare: zone {domain.zone} (webhost:domain.zone) is not visible to the "
            "token: add the zone to the account, or give the token Zone Read on it"
        )
        return None
    zone = zones[0]
    zone_id = str(zone.get("id"))
    if zone.get("status") not in (None, "active"):
        report.problem(
            f"Cloudflare: zone {domain.zone} is {zone.get('status')!r}: point the registrar "
            "at Cloudflare's nameservers before the first up"
        )
    report.ok(f"Cloudflare: zone {domain.zone} ({zone_id})")
    return zone_id


def _readable(cf: _Cloudflare, domain: Domain, zone_id: str, report: Report) -> bool:
    """Read access to each part `up` touches. A write permission cannot be proved
    without writing: a token with read alone passes here and fails at `up`."""
    probes: list[tuple[str, str, dict[str, Any]]] = [
        ("DNS", f"/zones/{zone_id}/dns_records", {"per_page": 1})
    ]
    if domain.owns_zone:
        probes.append(("Zone Settings", f"/zones/{zone_id}/settings/ssl", {}))
        if domain.proxied:
            probes.append(("Cache Rules", f"/zones/{zone_id}/rulesets", {}))
    for permission, path, params in probes:
        status, _ = cf.get(path, **params)
        if status != 200:
            report.problem(
                f"Cloudflare: the token {cf.errors(status)} on GET {path}: give it "
                f"{permission} Write on {domain.zone}"
            )
            return False
    return True


def _check_record(
    record: WantedRecord,
    theirs: list[dict[str, Any]],
    zone_id: str,
    edge_urn: str,
    report: Report,
) -> None:
    same = [r for r in theirs if r.get("type") == record.type]
    if record.type == "CAA":
        # CAA is a set: other issuers' records stay beside ours; only the same one
        # collides (an identical record is refused, 81058).
        same = [r for r in same if (r.get("data") or {}) == dict(record.data or {})]
    if len(same) == 1:
        # pulumi-cloudflare dns_record.py: `pulumi import ...DnsRecord <name>
        # '<zone_id>/<dns_record_id>'`; the URN is quoted (its `$` is the shell's).
        # Adopted, its content becomes this stack's on the next up (one record,
        # replaced, never a second one beside the old origin).
        report.problem(
            f"Cloudflare: {record.type} {record.name} exists ({same[0].get('id')}, to "
            f"{same[0].get('content')!r}) and is not this stack's: adopt it with "
            f"`pulumi import {DNS_RECORD_TYPE} {record.resource} "
            f"{zone_id}/{same[0].get('id')} --parent 'webhost={edge_urn}'`"
        )
    elif len(same) > 1:
        ids = ", ".join(sorted(str(r.get("id")) for r in same))
        report.problem(
            f"Cloudflare: {len(same)} {record.type} records at {record.name} ({ids}): refused, "
            "one would be adopted and the others left in round-robin; delete all but one, "
            "then run preflight again for its import command"
        )


# -- Grafana -------------------------------------------------------------------------


def check_grafana(cfg: StackConfig, report: Report) -> None:
    monitoring = cfg.monitoring
    if monitoring is None:
        return
    shown = str(monitoring.url).rstrip("/")
    url = (os.environ.get(GRAFANA_BASE_ENV) or shown).rstrip("/")
    with httpx.Client(timeout=TIMEOUT) as http:
        _check_grafana(http, url, shown, monitoring.synthetic, report)


def _grafana_get(http: httpx.Client, url: str, token: str | None) -> httpx.Response:
    headers = {}
    if token is not None:
        # pulumiverse grafana provider `auth`: a service account token, or user:password.
        if ":" in token:
            headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        else:
            headers["Authorization"] = f"Bearer {token}"
    return http.get(url, headers=headers)


def _check_grafana(
    http: httpx.Client, url: str, shown: str, synthetic: bool, report: Report
) -> None:
    """`url` is where the calls go; `shown` (webhost:monitoring.url) is what lines name."""
    # grafana pkg/api/api.go: /api/health answers without authentication.
    try:
        health = _grafana_get(http, f"{url}/api/health", None)
    except httpx.HTTPError as exc:
        report.problem(f"Grafana: {shown} {_said(exc)} (webhost:monitoring.url); run again")
        return
    if not health.is_success:
        report.problem(f"Grafana: {shown}/api/health answered {health.status_code}")
        return
    report.ok(f"Grafana: {shown} reachable")
    _grafana_auth(http, url, shown, report)
    if synthetic:
        _grafana_sm(http, report)


def _grafana_auth(http: httpx.Client, url: str, shown: str, report: Report) -> None:
    token = os.environ.get("GRAFANA_AUTH", "").strip()
    if not token:
        report.problem(
            "Grafana: GRAFANA_AUTH is not set: create a service account token (Admin for up, "
            "Viewer for preview) in Administration > Service accounts"
        )
        return
    if not token.startswith(GRAFANA_SA_PREFIX):
        report.notes.append(
            "Grafana: GRAFANA_AUTH is not a service account token (glsa_...), which the "
            "README asks for: an API key or a user's password works until it is removed"
        )
    try:
        # grafana pkg/api/api.go: GET /api/org is the signed-in principal's org, open to
        # every role: it proves the token, not its role.
        org = _grafana_get(http, f"{url}/api/org", token)
    except httpx.HTTPError as exc:
        report.problem(f"Grafana: {shown} {_said(exc)} on /api/org; run again")
        return
    if org.status_code in (401, 403):
        report.problem(
            f"Grafana: GRAFANA_AUTH was refused by {shown} ({org.status_code}): make a new "
            "service account token"
        )
    elif not org.is_success:
        report.problem(f"Grafana: {shown}/api/org answered {org.status_code}; run again")
    else:
        report.ok("Grafana: GRAFANA_AUTH accepted")


def _grafana_sm(http: httpx.Client, report: Report) -> None:
    sm_token = os.environ.get("GRAFANA_SM_ACCESS_TOKEN", "").strip()
    sm_url = (
        os.environ.get(GRAFANA_SM_BASE_ENV)
        or os.environ.get(GRAFANA_SM_URL_ENV)
        or GRAFANA_SM_DEFAULT_URL
    ).rstrip("/")
    if not sm_token:
        report.problem(
            "Grafana: GRAFANA_SM_ACCESS_TOKEN is not set (webhost:monitoring.synthetic): "
            "Testing & synthetics > Synthetics > Config > Access tokens"
        )
        return
    try:
        # grafana/synthetic-monitoring-api: GET /api/v1/probe/list with a Bearer token.
        probes = _grafana_get(http, f"{sm_url}/api/v1/probe/list", sm_token)
    except httpx.HTTPError as exc:
        report.problem(f"Grafana: synthetic monitoring {sm_url} {_said(exc)}; run again")
        return
    if probes.status_code in (401, 403):
        report.problem(
            f"Grafana: GRAFANA_SM_ACCESS_TOKEN was refused by {sm_url} ({probes.status_code}):"
            " make a new access token (and set GRAFANA_SM_URL for another region)"
        )
    elif not probes.is_success:
        report.problem(f"Grafana: {sm_url} answered {probes.status_code}; run again")
    else:
        report.ok("Grafana: GRAFANA_SM_ACCESS_TOKEN accepted")


# -- all -----------------------------------------------------------------------------

Check = Callable[[Report], None]


def run(cfg: StackConfig, *, stack: str, project: str, owned: Owned) -> Report:
    report = Report()
    checks: Iterable[Check] = (
        lambda r: check_fly(cfg, owned, r),
        lambda r: check_cloudflare(cfg, owned, stack, project, r),
        lambda r: check_grafana(cfg, r),
    )
    for check in checks:
        try:
            check(report)
        except httpx.HTTPError as exc:  # a transport failure no check above caught
            report.problem(f"{_said(exc)}: run preflight again")
    return report


def print_report(report: Report, stack: str, out: TextIO, err: TextIO) -> None:
    for line in report.passed:
        print(f"ok: {line}", file=out)
    for line in report.notes:
        print(f"note: {line}", file=out)
    for line in report.problems:
        print(f"problem: {line}", file=err)
    verdict = (
        f"preflight {stack}: {len(report.problems)} problem(s)"
        if report.problems
        else f"preflight {stack}: ready"
    )
    print(verdict, file=err if report.problems else out)
