"""Safety policies: what production needs, and where machines may run."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import catalog
from policies import spec

PRODUCTION_DEFAULTS = {"minPrimaryMachines": 2, "minPostgresMembers": 2, "minReadReplicas": 1}


def production_safety(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    limits = {**PRODUCTION_DEFAULTS, **args.get_config()}
    primary = config.regions[config.primary_region]
    if primary < int(limits["minPrimaryMachines"]):
        report(
            f"app {config.app_name}: {primary} machine(s) in the primary region "
            f"{config.primary_region}; production needs at least {limits['minPrimaryMachines']}",
            urn,
        )
    if not config.http.health_check.path:
        report(f"app {config.app_name}: no health check", urn)
    if not config.http.force_https:
        report(f"app {config.app_name}: HTTPS is not forced (http.forceHttps)", urn)
    if not config.protect:
        report(f"app {config.app_name}: not protected (webhost:protect)", urn)

    pg = config.postgres
    if pg is None:
        report(f"app {config.app_name}: no Postgres cluster (webhost:postgres)", urn)
    else:
        if pg.cluster_size < int(limits["minPostgresMembers"]):
            report(
                f"postgres {config.postgres_name}: {pg.cluster_size} member(s); production needs "
                f"at least {limits['minPostgresMembers']} for failover",
                urn,
            )
        if len(pg.replica_regions) < int(limits["minReadReplicas"]):
            report(
                f"postgres {config.postgres_name}: {len(pg.replica_regions)} read replica(s); "
                f"production needs at least {limits['minReadReplicas']}",
                urn,
            )
        if not pg.backups.enabled:
            report(f"postgres {config.postgres_name}: backups are off", urn)

    data = [
        *spec.children_of(args.resources, spec.POSTGRES),
        *spec.children_of(args.resources, spec.REDIS),
    ]
    for resource in data:
        if not resource.opts.protect:
            report(f"{resource.name}: a data resource that is not protected", resource.urn)


def regions(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    allowed = set(args.get_config().get("allowedRegions") or catalog.REGIONS)
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
                "minPrimaryMachines": {"type": "integer", "minimum": 1, "default": 2},
                "minPostgresMembers": {"type": "integer", "minimum": 1, "default": 2},
                "minReadReplicas": {"type": "integer", "minimum": 0, "default": 1},
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
                }
            }
        ),
    ),
]
