"""Safety policies: what production needs, and where machines may run."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import catalog
from components.config import HealthCheck, StackConfig
from policies import spec

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
    (components/config.py ServiceCheckDuration, catalog.SERVICE_CHECK_SECONDS)."""
    problems = []
    if check.path.rstrip("/") == "":
        problems.append(
            f"http.healthCheck.path {check.path!r} is the site root, not a health endpoint"
        )
    return problems


def production_safety(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    limits = {
        key: int(value) for key, value in {**PRODUCTION_DEFAULTS, **args.get_config()}.items()
    }
    messages = [*_app(config, limits), *_postgres(config, limits)]
    for message in messages:
        report(message, urn)
    _protection(args, config, urn, report)


def _app(config: StackConfig, limits: Mapping[str, int]) -> list[str]:
    app, minimum = f"app {config.app_name}", limits["minPrimaryMachines"]
    found = []
    primary = config.regions[config.primary_region]
    if primary < minimum:
        found.append(
            f"{app}: {primary} machine(s) in the primary region {config.primary_region}; "
            f"production needs at least {minimum}"
        )
    http = config.http
    # Autostop stops idle machines down to min_machines_running, which holds only
    # in the primary region (superfly/docs launch/autostop-autostart, "Minimum
    # number of Machines running").
    if http.auto_stop_machines != "off" and http.min_machines_running < minimum:
        found.append(
            f"{app}: http.autoStopMachines {http.auto_stop_machines} keeps "
            f"{http.min_machines_running} machine(s) running in {config.primary_region} when "
            f"idle (http.minMachinesRunning); production needs at least {minimum}"
        )
    found += [f"{app}: no real health check: {p}" for p in health_check_problems(http.health_check)]
    if not http.force_https:
        found.append(f"{app}: HTTPS is not forced (http.forceHttps)")
    return found


def _postgres(config: StackConfig, limits: Mapping[str, int]) -> list[str]:
    pg, name = config.postgres, f"postgres {config.postgres_name}"
    if pg is None:
        return [f"app {config.app_name}: no Postgres cluster (webhost:postgres)"]
    found = []
    if pg.cluster_size < limits["minPostgresMembers"]:
        found.append(
            f"{name}: {pg.cluster_size} member(s) in the primary region; production needs "
            f"at least {limits['minPostgresMembers']} for failover"
        )
    if len(pg.replica_regions) < limits["minReadReplicas"]:
        found.append(
            f"{name}: {len(pg.replica_regions)} read replica(s); production needs at least "
            f"{limits['minReadReplicas']}"
        )
    if not pg.backups.enabled:
        found.append(f"{name}: backups are off")
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


def regions(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
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
    StackValidationPolicy(
        name="production-safety",
        description="Production runs redundant, health-checked, HTTPS-only, with replicated, "
        "backed-up and protected data.",
        validate=production_safety,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "minPrimaryMachines": {
                    "type": "integer",
                    "minimum": 1,
                    "default": PRODUCTION_DEFAULTS["minPrimaryMachines"],
                },
                # Fewer members cannot fail over (see POSTGRES_FAILOVER_MEMBERS).
                "minPostgresMembers": {
                    "type": "integer",
                    "minimum": POSTGRES_FAILOVER_MEMBERS,
                    "default": PRODUCTION_DEFAULTS["minPostgresMembers"],
                },
                "minReadReplicas": {
                    "type": "integer",
                    "minimum": 0,
                    "default": PRODUCTION_DEFAULTS["minReadReplicas"],
                },
            }
        ),
    ),
    StackValidationPolicy(
        name="regions",
        description="Machines, replicas and Redis run only in allowed regions.",
        validate=regions,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "allowedRegions": {
                    "type": "array",
                    "items": {"type": "string", "enum": sorted(catalog.REGIONS)},
                    "minItems": 1,
                    "uniqueItems": True,
                    "default": sorted(catalog.REGIONS),
                }
            }
        ),
    ),
]
