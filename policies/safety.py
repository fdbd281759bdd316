"""Safety policies: what production needs, and where machines may run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pulumi_policy import (
    ReportViolation,
    StackValidationArgs,
)

from components import catalog
from components.config import HealthCheck, StackConfig
from policies import registered, spec

# Postgres Flex fails over with repmgr, which needs three or more members in the
# primary region for a quorum (superfly/docs postgres/advanced-guides/
# high-availability-and-global-replication, "Performing a failover": "make sure
# you have 3 or more servers in your primary region").
POSTGRES_FAILOVER_MEMBERS = 3
PRODUCTION_DEFAULTS = {
    "minPrimaryMachines": 2,
    "minPostgresMembers": POSTGRES_FAILOVER_MEMBERS,
    "minReadReplicas": 1,
}

APP = "pulumi-python:dynamic/fly:App"


def health_check_problems(check: HealthCheck) -> list[str]:
    """Why the app's health check is not one: a path that checks nothing. Durations
    flyctl would not apply as written never get this far: the config refuses them
    (components/config/app.py ServiceCheckDuration, catalog.SERVICE_CHECK_SECONDS)."""
    return _path_problems(check.path, "http.healthCheck.path")


def _path_problems(path: object, where: str) -> list[str]:
    if isinstance(path, str) and path.rstrip("/") == "":
        return [f"{where} {path!r} is the site root, not a health endpoint"]
    return []


@spec.on_config
def production_safety(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """Production runs redundant, health-checked, HTTPS-only, with replicated,
    backed-up and protected data."""
    limits = {
        key: int(value) for key, value in {**PRODUCTION_DEFAULTS, **args.get_config()}.items()
    }
    messages = [*_app(args.resources, config, limits), *_postgres(args.resources, config, limits)]
    for message, about in messages:
        report(message, about or urn)
    _protection(args, config, urn, report)


def _stops_idle(value: object) -> bool:
    # fly.toml auto_stop_machines: "off"/false keep machines running; "stop",
    # "suspend" or true stop idle ones (superfly/docs reference/configuration
    # "auto_stop_machines"; flyctl appconfig accepts the bool form).
    return value not in ("off", False, None)


def _app(
    resources: Sequence[spec.Resource], config: StackConfig, limits: Mapping[str, int]
) -> list[tuple[str, str | None]]:
    """The app as registered: MachineCounts' counts and the fly.toml the deploy applies."""
    app, minimum = f"app {config.app_name}", limits["minPrimaryMachines"]
    found: list[tuple[str, str | None]] = []
    deploys = registered.deploys(resources)
    if not deploys:
        found.append((f"{app}: no fly deploy is registered to check its fly.toml", None))
    document: dict[str, object] = {}
    for deploy in deploys:
        if deploy.problem:
            found.append((f"{deploy.resource.name}: {deploy.problem}", deploy.resource.urn))
        if deploy.fly_toml is not None:
            document = deploy.fly_toml
    primary = document.get("primary_region", config.primary_region)
    counted = registered.machines(resources)
    if not counted:
        found.append((f"{app}: no MachineCounts is registered to count its machines", None))
    for machines in counted:
        if machines.counts is None:
            continue  # not known yet (a preview)
        have = machines.counts.get(str(primary), 0)
        if have < minimum:
            found.append(
                (
                    f"{app}: {have} machine(s) in the primary region {primary}; "
                    f"production needs at least {minimum}",
                    machines.resource.urn,
                )
            )
    if not document:
        return found
    service = registered.http_service(document)
    # Autostop stops idle machines down to min_machines_running, which holds only
    # in the primary region (superfly/docs launch/autostop-autostart, "Minimum
    # number of Machines running").
    stop = service.get("auto_stop_machines")
    running = registered.number(service.get("min_machines_running")) or 0
    if _stops_idle(stop) and running < minimum:
        found.append(
            (
                f"{app}: http.autoStopMachines {stop} keeps {running:g} machine(s) running in "
                f"{primary} when idle (http.minMachinesRunning); production needs at least "
                f"{minimum}",
                None,
            )
        )
    checks = service.get("checks")
    for check in checks if isinstance(checks, list) else []:
        path = check.get("path") if isinstance(check, dict) else None
        found += [
            (f"{app}: no real health check: {p}", None)
            for p in _path_problems(path, "http.healthCheck.path")
        ]
    if service.get("force_https") is not True:
        found.append((f"{app}: HTTPS is not forced (http.forceHttps)", None))
    return found


def _postgres(
    resources: Sequence[spec.Resource], config: StackConfig, limits: Mapping[str, int]
) -> list[tuple[str, str | None]]:
    """Postgres as registered: the cluster command's size, the replica and backup commands."""
    name = f"postgres {config.postgres_name or config.app_name + '-db'}"
    components = [r for r in resources if r.resource_type == spec.POSTGRES]
    if not components:
        return [(f"app {config.app_name}: no Postgres cluster (webhost:postgres)", None)]
    found: list[tuple[str, str | None]] = []
    clusters = registered.postgres_commands(resources, "-db")
    if not clusters:
        found.append((f"{name}: no cluster command is registered to check its size", None))
    for cluster in clusters:
        size = registered.environment(cluster).get("WEBHOST_CLUSTER_SIZE")
        if size is registered.UNKNOWN:
            continue
        members = registered.number(size)
        if members is None or members < limits["minPostgresMembers"]:
            shown = f"{members:g}" if members is not None else repr(size)
            found.append(
                (
                    f"{name}: {shown} member(s) in the primary region; production needs at "
                    f"least {limits['minPostgresMembers']} for failover",
                    cluster.urn,
                )
            )
    replicas = len(registered.postgres_replicas(resources))
    if replicas < limits["minReadReplicas"]:
        found.append(
            (
                f"{name}: {replicas} read replica(s); production needs at least "
                f"{limits['minReadReplicas']}",
                None,
            )
        )
    if not registered.postgres_commands(resources, "-db-backups"):
        found.append((f"{name}: backups are off", None))
    return found


def _protection(
    args: StackValidationArgs, config: StackConfig, urn: str, report: ReportViolation
) -> None:
    """Protection as registered, after any transform an operator adds: the config's
    `protect` is only what the program asked for."""
    apps = [r for r in args.resources if r.resource_type == APP]
    if not apps:
        report(f"app {config.app_name}: no Fly app is registered to check its protection", urn)
    for app in apps:
        if not app.opts.protect:
            report(f"{app.name}: the Fly app is not protected", app.urn)
    data = [
        *spec.children_of(args.resources, spec.POSTGRES),
        *spec.children_of(args.resources, spec.REDIS),
    ]
    # A cluster retired on purpose (postgres.retired) is let go unprotected, and
    # retained (components/postgres.py), so that a later change can drop it.
    retired = set(config.postgres.retired) if config.postgres else set()
    for resource in data:
        if not resource.opts.protect and _cluster_of(resource) not in retired:
            report(f"{resource.name}: a data resource that is not protected", resource.urn)


def _cluster_of(resource: spec.Resource) -> str | None:
    """The Postgres cluster a data resource belongs to: a script's WEBHOST_PG_APP, or
    the shape's name."""
    environment = resource.props.get("environment")
    if isinstance(environment, Mapping) and isinstance(environment.get("WEBHOST_PG_APP"), str):
        return str(environment["WEBHOST_PG_APP"])
    name = resource.props.get("name")
    return name if isinstance(name, str) and resource.props.get("primary_region") else None


@spec.on_config
def regions(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """Machines, replicas and Redis run only in allowed regions."""
    # Absent: the schema's default, every region. Empty is an empty list (the
    # schema refuses it), never "every region".
    allowed = set(args.get_config().get("allowedRegions", catalog.REGIONS))
    used = {f"app {config.app_name}": [r for r, n in config.regions.items() if n > 0]}
    if config.postgres is not None:
        used[f"postgres {config.postgres_name}"] = [
            config.primary_region,
            *config.postgres.replica_regions,
        ]
    if config.redis is not None:
        used[f"redis {config.redis_name}"] = [
            config.redis.primary_region or config.primary_region,
            *config.redis.replica_regions,
        ]
    for what, where in used.items():
        if outside := sorted(set(where) - allowed):
            report(
                f"{what}: region(s) {', '.join(outside)} outside the allowed "
                f"{', '.join(sorted(allowed))}",
                urn,
            )


POLICIES = [
    spec.stack_policy(
        "production-safety",
        production_safety,
        minPrimaryMachines=spec.bounded(PRODUCTION_DEFAULTS["minPrimaryMachines"], 1),
        # Fewer members cannot fail over (see POSTGRES_FAILOVER_MEMBERS).
        minPostgresMembers=spec.bounded(
            PRODUCTION_DEFAULTS["minPostgresMembers"], POSTGRES_FAILOVER_MEMBERS
        ),
        minReadReplicas=spec.bounded(PRODUCTION_DEFAULTS["minReadReplicas"], 0),
    ),
    spec.stack_policy(
        "regions",
        regions,
        allowedRegions={
            "type": "array",
            "items": {"type": "string", "enum": sorted(catalog.REGIONS)},
            "minItems": 1,
            "uniqueItems": True,
            "default": sorted(catalog.REGIONS),
        },
    ),
]
