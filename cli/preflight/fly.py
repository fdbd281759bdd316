"""Preflight's Fly checks: the org and the token, free app and Redis names, Tigris."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cli.preflight import base
from cli.preflight.base import Owned, Report
from cli.preflight.image import check_image
from components import catalog
from components.config import StackConfig
from components.fly import api as fly

# Tigris is the extension `fly postgres backup enable` provisions (flyctl flypg/tigris.go
# Provider: "tigris").
TIGRIS: Final = "tigris"

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
    gql = fly.FlyGraphQL(timeout=base.TIMEOUT, retry=fly.RetryPolicy(attempts=1))
    machines = fly.FlyClient(timeout=base.TIMEOUT, retry=fly.RetryPolicy(attempts=1))
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
    if present is not None and catalog.BACKUP_SECRET in present:
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
        report.problem(f"Fly: {cluster} has no backups yet ({catalog.BACKUP_SECRET} unset): {step}")
