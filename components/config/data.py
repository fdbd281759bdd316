"""The data tier: Postgres Flex clusters, their backups and restores, and Upstash Redis
(`webhost:postgres.*`, `webhost:redis.*`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    NonNegativeInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components import catalog
from components.config.validators import (
    AppName,
    ImageRef,
    Model,
    Region,
    VmSpec,
    duration_ns,
    matches,
    unique_regions,
)

# Our own sanity bound, not Fly's: a backup period past ten years is a typo.
PERIOD_MAX_HOURS = 87_600


def _period_bound(period: str) -> str:
    if _hours(period) > PERIOD_MAX_HOURS:
        raise ValueError(f"at most {PERIOD_MAX_HOURS}h ({PERIOD_MAX_HOURS // 24}d)")
    return period


Period = Annotated[
    str,
    matches(r"[1-9][0-9]{0,5}[hd]", "a period in hours or days such as 24h or 7d"),
    AfterValidator(_period_bound),
]
SqlName = Annotated[
    str, matches(r"[a-z][a-z0-9_-]{0,62}", "a lowercase Postgres name such as uuid-ossp")
]
DATABASE_NAME = r"[a-z_][a-z0-9_]{0,62}"
DatabaseName = Annotated[
    str, matches(DATABASE_NAME, "a lowercase Postgres identifier such as webhost")
]
PlanName = Annotated[str, matches(r"[A-Za-z0-9][A-Za-z0-9 .-]{0,62}", "an Upstash plan name")]


# A Fly app's name is a DNS label: the app answers at <name>.fly.dev and, on the
# private network, <name>.internal (superfly/docs networking/private-networking.html.md
# @ 5c22c8c, "Fly.io `.internal` DNS"), and RFC 1035 section 2.3.4 bounds a label at 63
# octets. AppName takes no more.
APP_NAME_MAX = 63


def derived_app_name_problem(name: str, section: str) -> str | None:
    if len(name) <= APP_NAME_MAX:
        return None
    return (
        f"unset, so the name is {name}, {len(name)} characters, over the {APP_NAME_MAX} "
        f"of a Fly app name (a DNS label); set {section}.name"
    )


def _hours(period: str) -> int:
    return int(period[:-1]) * (24 if period.endswith("d") else 1)


_HOUR_NS = 3_600_000_000_000


def _full_backup_frequency(value: str) -> str:
    """What postgres-flex refuses (internal/flypg/barman_config.go Validate): not a Go
    duration (time.ParseDuration, read by validators.duration_ns), or under one hour. Ten
    years is our own bound, as for the other periods."""
    rule = "a Go duration of at least 1h such as 24h or 12h30m (units h, m, s, ms, us, ns)"
    try:
        ns = duration_ns(value)
    except ValueError:
        raise ValueError(rule) from None
    if ns < _HOUR_NS:
        raise ValueError(f"{rule}: postgres-flex refuses a shorter full-backup frequency")
    if ns > PERIOD_MAX_HOURS * _HOUR_NS:
        raise ValueError(f"at most {PERIOD_MAX_HOURS}h")
    return value


# barman_config.go Validate: ^(\d+)([dwy])$ (RE2's \d is ASCII), the number parsed
# by strconv.Atoi (int64) and at least 1. We refuse `y` as well: postgres-flex
# passes it on as "RECOVERY WINDOW OF 1y" (convertRecoveryWindowDuration knows only
# d, w, m), which barman's retention_policy grammar ("RECOVERY WINDOW OF i DAYS |
# WEEKS | MONTHS", EnterpriseDB/barman docs) refuses, so old backups would never be
# pruned. The day counts give our own ten-year bound (and 20 digits keep int() cheap;
# Atoi's int64 ends at 19).
_WINDOW = re.compile(r"([0-9]{1,20})([dwy])")
_WINDOW_DAYS = {"d": 1, "w": 7}


def _recovery_window(value: str) -> str:
    found = _WINDOW.fullmatch(value)
    if found is None:
        raise ValueError("a whole number of days or weeks such as 7d or 2w")
    number, unit = int(found.group(1)), found.group(2)
    if number < 1:
        raise ValueError("at least 1: postgres-flex refuses a window of 0")
    if unit == "y":
        raise ValueError(
            "days or weeks, not years: barman's retention policy has no year unit (use 52w)"
        )
    if number * _WINDOW_DAYS[unit] > PERIOD_MAX_HOURS // 24:
        raise ValueError(f"at most {PERIOD_MAX_HOURS // 24}d")
    return value


RecoveryWindow = Annotated[str, AfterValidator(_recovery_window)]
FullBackupFrequency = Annotated[str, AfterValidator(_full_backup_frequency)]


class RestoreDrill(Model):
    """What the last restore drill measured, as the drill writes it
    (`pulumi config set --path webhost:postgres.backups.lastDrill.<key>`); the
    `backups` policy judges these figures over the declared schedule."""

    date: date
    """Day the drill restored a backup into a new cluster (YYYY-MM-DD)."""
    recovery_point_minutes: Annotated[int, Field(ge=0, le=PERIOD_MAX_HOURS * 60)]
    """Data lost: minutes between the restore target and the newest write the restore held."""
    restore_minutes: Annotated[int, Field(ge=0, le=PERIOD_MAX_HOURS * 60)]
    """Minutes from starting the restore to a cluster that answered queries."""


class Backups(Model):
    """WAL archiving and base backups to Tigris (flyctl's `postgres backup`)."""

    enabled: bool = True
    """Archive WAL and take base backups."""
    recovery_window: RecoveryWindow = "7d"
    """How far back a point-in-time restore can go: days or weeks (7d, 2w)."""
    full_backup_frequency: FullBackupFrequency = "24h"
    """Time between base backups: a Go duration of at least 1h (24h, 12h30m)."""
    recovery_point_objective: Period = "26h"
    """Oldest acceptable newest base backup (`webhost-infra backups check`, the drill)."""
    recovery_time_objective: Period = "2h"
    """Longest acceptable restore (`webhost-infra restore-drill`)."""
    last_drill: RestoreDrill | None = None
    """The last restore drill's figures (README.md, Backups on paper and in a drill)."""

    @property
    def objective(self) -> timedelta:
        return timedelta(hours=_hours(self.recovery_point_objective))

    @property
    def time_objective(self) -> timedelta:
        return timedelta(hours=_hours(self.recovery_time_objective))

    @field_validator("recovery_point_objective")
    @classmethod
    def _rpo_covers_a_cycle(cls, rpo: str, info: ValidationInfo) -> str:
        frequency = info.data.get("full_backup_frequency")
        if frequency is not None and _hours(rpo) * _HOUR_NS < duration_ns(frequency):
            raise ValueError(f"must be at least fullBackupFrequency ({frequency})")
        return rpo


_RFC3339 = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"


def _rfc3339(value: str) -> str:
    """What flyctl passes on and postgres-flex parses (time.Parse(time.RFC3339) in
    internal/flypg/barman_restore.go resolveBackupFromTime): a date, a time and an
    offset, such as 2026-11-24T12:00:00Z."""
    if not re.fullmatch(_RFC3339, value):
        raise ValueError("an RFC 3339 time with an offset, such as 2026-11-24T12:00:00Z")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "not a real date and time (RFC 3339, such as 2026-11-24T12:00:00Z)"
        ) from None
    return value


class Restore(Model):
    """A cluster made from another cluster's backups, beside it (never in its place)."""

    name: AppName
    """Fly app name of the new cluster."""
    source: AppName
    """The cluster whose backups it is restored from: postgres.name or an earlier restore."""
    target_time: Annotated[str, AfterValidator(_rfc3339)] | None = None
    """Recover up to this time (RFC 3339); the newest point when absent."""
    target_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")] | None = None
    """Recover from this base backup (barman id or name); not with targetTime."""

    @model_validator(mode="after")
    def _one_target(self) -> Restore:
        # flyctl backup.go resolveRestoreTarget takes the time when both are given and
        # drops the name silently: refuse the pair instead.
        if self.target_time is not None and self.target_name is not None:
            raise ValueError("@targetName: give targetTime or targetName, not both")
        return self


class Postgres(Model):
    """Postgres Flex: a cluster in the primary region, read replicas elsewhere.

    Field order matters: the vm check reads backups.
    """

    name: AppName | None = None
    """Fly app name of the cluster; `<appName>-db` when absent."""
    image: ImageRef = catalog.POSTGRES_IMAGE
    """Postgres Flex image (TimescaleDB and PostGIS by default)."""
    backups: Backups = Backups()
    """Backups to object storage."""
    vm: VmSpec
    """Size of every cluster member and replica."""
    # Fly: "The maximum volume size is 500GB" (superfly/docs volumes/overview.html.markerb
    # @ 5c22c8c); flyctl postgres create takes the size per member.
    volume_gb: Annotated[int, Field(ge=1, le=500)]
    """Volume per member, in GB."""
    cluster_size: Annotated[int, Field(ge=1, le=9)] = 1
    """Members in the primary region (2+ for failover)."""
    replica_regions: Annotated[list[Region], AfterValidator(unique_regions)] = []
    """Regions that get one read replica each."""
    database: DatabaseName | None = None
    """Database the app uses; its name with `_` when absent."""
    extensions: list[SqlName] = list(catalog.POSTGRES_EXTENSIONS)
    """Extensions created in the app's database."""
    max_connections: Annotated[int, Field(ge=25, le=10_000)] = catalog.POSTGRES_MAX_CONNECTIONS
    """Postgres `max_connections` on every member."""
    pool_size: Annotated[int, Field(ge=1, le=500)] = catalog.POSTGRES_POOL_SIZE
    """Ecto pool per app machine (POOL_SIZE)."""
    restores: list[Restore] = []
    """Clusters restored from backups, each beside the clusters before it."""
    active: AppName | None = None
    """The cluster the app uses (DATABASE_URL); postgres.name's when absent."""
    retired: list[AppName] = []
    """Clusters let go: unprotected, and kept on Fly when removed from the stack."""

    @field_validator("vm")
    @classmethod
    def _memory_for_backups(cls, vm: VmSpec, info: ValidationInfo) -> VmSpec:
        backups: Backups | None = info.data.get("backups")
        if backups is not None and backups.enabled and vm.memory_mb < catalog.BACKUP_MIN_MEMORY_MB:
            raise ValueError(
                f"@memoryMb: backups need members with at least {catalog.BACKUP_MIN_MEMORY_MB} MB "
                "(or backups.enabled: false)"
            )
        return vm


class Redis(Model):
    """Upstash Redis with replica regions."""

    name: AppName | None = None
    """Upstash database name; `<appName>-redis` when absent."""
    primary_region: Region | None = None
    """Primary region; the stack's primaryRegion when absent (fixed after creation)."""
    replica_regions: Annotated[list[Region], AfterValidator(unique_regions)] = []
    """Read replica regions."""
    eviction: bool = False
    """Evict keys when memory is full, instead of refusing writes."""
    plan: PlanName = catalog.REDIS_DEFAULT_PLAN
    """Upstash plan, as `fly redis plans` names it."""
    monthly_requests: NonNegativeInt | None = None
    """Requests a month, to estimate a pay-as-you-go bill; unestimated when absent."""

    @field_validator("plan")
    @classmethod
    def _plan_offered(cls, plan: str) -> str:
        if plan not in catalog.REDIS_PLANS:
            raise ValueError(f"not a plan Fly offers ({', '.join(catalog.REDIS_PLANS)})")
        return plan


# The cluster and the database against the rest of the stack: StackConfig runs these
# once the keys they read are valid (None: that key is invalid, its own line says why).
# A ValueError names the key inside the section at fault with `@key: `.


def check_postgres(
    pg: Postgres, app: str | None, regions: Mapping[str, int] | None, primary: str | None
) -> None:
    if regions is not None and primary is not None:
        _postgres_fits(pg, regions, primary)
    if app is not None:
        _derived_postgres_names(pg, app)
        _clusters(pg, app)


def _postgres_fits(pg: Postgres, regions: Mapping[str, int], primary: str) -> None:
    if primary in pg.replica_regions:
        raise ValueError(f"@replicaRegions: {primary} is the primary region, not a replica")
    machines = sum(regions.values())
    budget = pg.max_connections - catalog.POSTGRES_RESERVED_CONNECTIONS
    if pg.pool_size * machines > budget:
        raise ValueError(
            f"@poolSize: {pg.pool_size} x {machines} app machines = "
            f"{pg.pool_size * machines} connections, over the {budget} that "
            f"maxConnections {pg.max_connections} leaves after "
            f"{catalog.POSTGRES_RESERVED_CONNECTIONS} reserved"
        )


def _derived_postgres_names(pg: Postgres, app: str) -> None:
    if pg.name == app:
        # "App names are unique across the Fly.io platform" (superfly/docs blueprints/
        # staging-prod-isolation.html.md @ 5c22c8c): the create would find it taken
        # (flyctl test/preflight/fly_postgres_test.go, "Name has already been taken").
        raise ValueError(
            "@name: the app's own name; Fly app names are unique, so the cluster needs another"
        )
    if pg.name is None and (problem := derived_app_name_problem(f"{app}-db", "postgres")):
        raise ValueError(f"@name: {problem}")
    database = app.replace("-", "_")
    if pg.database is None and not re.fullmatch(DATABASE_NAME, database):
        # PostgreSQL's docs (sql-syntax-lexical, "Identifiers and Key Words"): an
        # unquoted identifier begins with a letter or an underscore.
        raise ValueError(
            f"@database: unset, so {database} (appName with _), which does not start "
            "with a letter or _ as a Postgres identifier must; set postgres.database"
        )


def _clusters(pg: Postgres, app: str) -> None:
    """The clusters side by side: the first (postgres.name) and each restore, each
    from one before it; one active, never a retired one."""
    known = [pg.name or f"{app}-db"]
    for i, restore in enumerate(pg.restores):
        if restore.name in known or restore.name == app:
            raise ValueError(f"@restores.{i}.name: {restore.name} is already a cluster or the app")
        if restore.source not in known:
            raise ValueError(
                f"@restores.{i}.source: {restore.source} is not postgres.name or an "
                f"earlier restore ({', '.join(known)})"
            )
        if not pg.backups.enabled:
            raise ValueError(
                f"@restores.{i}: a restore reads the source's backups; backups.enabled is false"
            )
        known.append(restore.name)
    for i, name in enumerate(pg.retired):
        if name not in known:
            raise ValueError(
                f"@retired.{i}: {name} is not one of the clusters ({', '.join(known)})"
            )
        if pg.retired.index(name) != i:
            raise ValueError(f"@retired.{i}: {name} listed twice")
    if pg.active is not None and pg.active not in known:
        raise ValueError(f"@active: {pg.active} is not one of the clusters ({', '.join(known)})")
    if (pg.active or known[0]) in pg.retired:
        raise ValueError(
            f"@active: {pg.active or known[0]} is retired; make another cluster active first"
        )


def check_redis(redis: Redis, app: str | None, primary: str | None) -> None:
    if (
        redis.name is None
        and app is not None
        and (problem := derived_app_name_problem(f"{app}-redis", "redis"))
    ):
        raise ValueError(f"@name: {problem}")
    if (redis.primary_region or primary) in redis.replica_regions:
        raise ValueError("@replicaRegions: the primary region is not a replica")
