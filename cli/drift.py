"""`webhost-infra drift`: the live platform against the stack, where `pulumi refresh` is blind.

The deploy and the Postgres cluster are flyctl scripts, whose effects no provider
reads back (a machine's size or image changed by hand changes nothing in state);
the machine count per region MachineCounts reads on refresh, and this counts the
same way (components/fly/machines.py), without a refresh. This reads what is
there with the program's own clients (the Machines API client and the Upstash
provider's GraphQL read from components/fly, and flyctl's JSON for what flyctl
made: machines, volumes, the cluster's secrets) and compares it with the parsed
stack config, one finding per difference, naming the config key.

Secret values are never read: only secret names (Fly's list answers carry no
values) and the Redis add-on's settings (its URL, a credential, is dropped unread).
A question this cannot answer raises DriftReadError: never "in step" on silence.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cli import runrate
from components import catalog
from components.config import StackConfig
from components.fly import machines as fly_machines
from components.fly.api import FlyApiError, FlyClient, FlyNotFound, FlyTokenError, ip_type_of
from components.fly.providers.certificate import CertificateProvider
from components.fly.providers.upstash_redis import UpstashRedisProvider

# Fly's answer for a certificate that is issued and served (superfly/docs
# machines/api/certificates-resource.html.markerb @ 5c22c8c: "status": "active"; a
# new one is pending_validation or pending_ownership).
CERT_ACTIVE = "active"


class DriftReadError(Exception):
    """The live platform could not be read; nothing is concluded from silence."""


class DriftInputError(DriftReadError):
    """What the check needs from its caller is missing (the token)."""


@dataclass(frozen=True)
class Finding:
    key: str  # the config key path the live state breaks
    message: str

    def line(self) -> str:
        return f"{self.key}: {self.message}"


def _fly(*args: str) -> list[dict[str, Any]] | None:
    """A flyctl listing, or None when flyctl says the app it names does not exist."""
    try:
        return fly_machines.listing(*args)
    except fly_machines.NoSuchApp:
        return None
    except fly_machines.FlyctlError as exc:
        raise DriftReadError(str(exc)) from None


def _size(guest: dict[str, Any]) -> str:
    cpus = int(guest.get("cpus") or 0)
    return (
        f"{guest.get('cpu_kind')} {cpus} CPU{'s' if cpus != 1 else ''} {guest.get('memory_mb')} MB"
    )


def _wanted_size(kind: str, cpus: int, memory_mb: int) -> str:
    return _size({"cpu_kind": kind, "cpus": cpus, "memory_mb": memory_mb})


def _counts(
    key: str, wanted: dict[str, int], live: Counter[str], what: str, *, by_region: bool = False
) -> list[Finding]:
    """One finding per region whose count differs; `by_region`: the key is a map of
    regions (`webhost:regions.fra`), named down to the region the stack sets."""
    return [
        Finding(
            f"{key}.{region}" if by_region and region in wanted else key,
            f"{wanted.get(region, 0)} {what} wanted in {region}, {live.get(region, 0)} running",
        )
        for region in sorted(set(wanted) | set(live))
        if wanted.get(region, 0) != live.get(region, 0)
    ]


def _app(config: StackConfig, client: FlyClient) -> list[Finding]:
    app = config.app_name
    try:
        client.get_app(app)
    except FlyNotFound:
        return [Finding("webhost:appName", f"app {app} does not exist on Fly")]
    found: list[Finding] = []
    machines = _fly("machine", "list", "--app", app)
    if machines is None:
        return [Finding("webhost:appName", f"app {app} does not exist for flyctl")]
    # The app's machines as `fly scale count` and MachineCounts count them: not a
    # one-off, a release command's or a console (components/fly/machines.py).
    ours = [m for m in machines if fly_machines.is_app_machine(m)]
    live = Counter(fly_machines.region_counts(ours))
    found += _counts("webhost:regions", dict(config.regions), live, "app machines", by_region=True)
    vm = config.vm
    wanted = _wanted_size(vm.cpu_kind, vm.cpus, vm.memory_mb)
    for m in ours:
        config_ = m.get("config") or {}
        size = _size(config_.get("guest") or {})
        if size != wanted:
            found.append(
                Finding("webhost:vm", f"machine {m['id']} in {m['region']} is {size}, not {wanted}")
            )
        if (image := config_.get("image")) != config.image:
            found.append(
                Finding(
                    "webhost:image",
                    f"machine {m['id']} in {m['region']} runs {image}, not {config.image}",
                )
            )
    owned = sorted(
        {*catalog.GENERATED_SECRETS, *config.operator_secrets(), *config.data_secret_names}
    )
    present = client.list_secret_names(app)
    found += [
        Finding(
            "webhost:secrets" if name in config.operator_secrets() else "webhost:appName",
            f"secret {name} is missing on app {app}",
        )
        for name in owned
        if name not in present
    ]
    found += _ips(config, client)
    found += _certificates(config)
    return found


def _ips(config: StackConfig, client: FlyClient) -> list[Finding]:
    kind = config.domain.ipv4_kind if config.domain is not None else "shared"
    wanted = Counter(["v6"] + ([catalog.IP_TYPES[kind]] if kind != "none" else []))
    live = Counter(
        t
        for t in (ip_type_of(a) for a in client.list_ips(config.app_name))
        if t in ("v6", "v4", "shared_v4")
    )
    key = "webhost:domain.ipv4" if config.domain is not None else "webhost:appName"
    return [
        Finding(key, f"{wanted.get(t, 0)} {t} address(es) wanted, {live.get(t, 0)} assigned")
        for t in sorted(set(wanted) | set(live))
        if wanted.get(t, 0) != live.get(t, 0)
    ]


def _certificates(config: StackConfig) -> list[Finding]:
    if config.domain is None:
        return []
    provider = CertificateProvider()
    found = []
    for host in config.domain.fqdns:
        read = provider.read(f"{config.app_name}/{host}", {})
        if not read.id:
            found.append(Finding("webhost:domain.hosts", f"{host} has no certificate on Fly"))
        elif (status := (read.outs or {}).get("status")) != CERT_ACTIVE:
            found.append(Finding("webhost:domain.hosts", f"{host}'s certificate is {status}"))
    return found


def _postgres(config: StackConfig) -> list[Finding]:
    # The cluster the app uses (postgres.active): a retired one is left alone.
    pg, cluster = config.postgres, config.postgres_active
    if pg is None or cluster is None:
        return []
    members = _fly("machine", "list", "--app", cluster)
    if members is None:
        return [Finding("webhost:postgres.name", f"Postgres cluster {cluster} does not exist")]
    found: list[Finding] = []
    live = Counter(str(m.get("region")) for m in members)
    primary = config.primary_region
    found += _counts(
        "webhost:postgres.clusterSize",
        {primary: pg.cluster_size},
        Counter({primary: live.get(primary, 0)}),
        "members",
    )
    wanted_replicas = dict.fromkeys(pg.replica_regions, 1)
    found += _counts(
        "webhost:postgres.replicaRegions",
        wanted_replicas,
        Counter({r: n for r, n in live.items() if r != primary}),
        "replicas",
    )
    wanted = _wanted_size(pg.vm.cpu_kind, pg.vm.cpus, pg.vm.memory_mb)
    for m in members:
        size = _size((m.get("config") or {}).get("guest") or {})
        if size != wanted:
            found.append(
                Finding(
                    "webhost:postgres.vm",
                    f"member {m['id']} in {m['region']} is {size}, not {wanted}",
                )
            )
    for volume in _fly("volumes", "list", "--app", cluster) or []:
        if int(volume.get("size_gb") or 0) != pg.volume_gb:
            found.append(
                Finding(
                    "webhost:postgres.volumeGb",
                    f"volume {volume['id']} in {volume.get('region')} is "
                    f"{volume.get('size_gb')} GB, not {pg.volume_gb}",
                )
            )
    # Backups are on when Postgres Flex has its archive secret (catalog.BACKUP_SECRET,
    # set by `fly postgres backup enable`); secrets list prints names and digests only.
    names = {s.get("name") for s in _fly("secrets", "list", "--app", cluster) or []}
    on = catalog.BACKUP_SECRET in names
    if on != pg.backups.enabled:
        state = "on" if on else "off"
        found.append(
            Finding("webhost:postgres.backups.enabled", f"backups are {state} on {cluster}")
        )
    return found


def _redis(config: StackConfig) -> list[Finding]:
    redis, name = config.redis, config.redis_name
    if redis is None or name is None:
        return []
    read = UpstashRedisProvider().read(name, {"org": config.org})
    if not read.id:
        return [Finding("webhost:redis", f"Redis database {name} does not exist")]
    live = read.outs or {}
    wanted = {
        "primaryRegion": (
            live.get("primary_region"),
            redis.primary_region or config.primary_region,
        ),
        "replicaRegions": (
            sorted(live.get("replica_regions") or []),
            sorted(redis.replica_regions),
        ),
        "plan": (live.get("plan"), redis.plan),
        "eviction": (bool(live.get("eviction")), redis.eviction),
    }
    return [
        Finding(f"webhost:redis.{key}", f"{json.dumps(have)} live, {json.dumps(want)} in the stack")
        for key, (have, want) in wanted.items()
        if have != want
    ]


def _run_rate(config: StackConfig) -> list[Finding]:
    """The machines that run, priced, against the cost estimate (cli/runrate.py): a
    finding only when their monthly run rate breaks the margin floor; counts and
    sizes that differ are already findings of their own above."""
    rate = runrate.run_rate(config, runrate.read_fleets(config, _fly))
    found = runrate.margin_finding(config, rate)
    return [Finding(*found)] if found else []


def check(config: StackConfig) -> list[Finding]:
    """Every difference between the live platform and `config`."""
    try:
        client = FlyClient()
        return [*_app(config, client), *_postgres(config), *_redis(config), *_run_rate(config)]
    except FlyTokenError as exc:
        raise DriftInputError(str(exc)) from None
    except FlyApiError as exc:
        raise DriftReadError(f"Fly API: {exc}") from None


def as_text(config: StackConfig, found: Sequence[Finding]) -> str:
    if not found:
        return f"in step: {config.app_name} matches the stack"
    return "\n".join(f"drift: {f.line()}" for f in found)


def as_json(config: StackConfig, found: Sequence[Finding]) -> str:
    return json.dumps(
        {"app": config.app_name, "drift": [{"key": f.key, "message": f.message} for f in found]},
        indent=2,
    )
