"""The stack config contract: raw `webhost:*` values in, one frozen model out.

Config is parsed once, at the edge, before any resource is registered. Every
problem is reported at once, one line each, naming the key path, the value and
the rule (`webhost:vm.memoryMb = 4096: performance VMs take ...`). Nothing
deeper in the program touches a raw config dict.

The modules follow the stack file's sections: `app` (http, deploy, metrics, release
command), `edge` (domain, certificates, cache, security headers), `data` (postgres,
redis, backups, restores), `monitoring`, `secrets` (env and secret names, secure
values); `validators` holds what they share (the model base, regions, names, sizes,
durations, the key-path error lines). StackConfig puts the sections together here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from typing import Annotated, Any

import pulumi
from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components import catalog
from components.config.app import (
    MAX_UNAVAILABLE,
    RELEASE_COMMAND,
    Deploy,
    HealthCheck,
    HttpService,
    Metrics,
    ReleaseCommand,
)
from components.config.data import (
    Postgres,
    Redis,
    Restore,
    RestoreDrill,
    check_postgres,
    check_redis,
)
from components.config.edge import ORIGIN_VALIDITY_DAYS, Domain, SecurityHeaders
from components.config.monitoring import (
    OFFLINE_ENV,
    ContactPoint,
    Monitoring,
    check_probes,
    contact_env_problems,
    fly_authorization,
    fly_token_problem,
    offline,
)
from components.config.secrets import (
    CLUSTER_ENV_NAMES,
    CLUSTER_RULE,
    SecurePath,
    app_secret_name,
    collisions,
    holds_secret,
    plain_env_name,
    secret_problems,
)
from components.config.validators import (
    CUSTOMERS_MAX,
    MACHINES_PER_REGION_MAX,
    NAMESPACE,
    SECRET_PLACEHOLDER,
    AppName,
    EnvName,
    ImageRef,
    Model,
    Region,
    Slug,
    VmSpec,
    duration_ns,
    problem_line,
)

# What the rest of the tree imports from here (the sections' own modules hold the rest).
__all__ = [
    "CLUSTER_ENV_NAMES",
    "CLUSTER_RULE",
    "MAX_UNAVAILABLE",
    "NAMESPACE",
    "OFFLINE_ENV",
    "ORIGIN_VALIDITY_DAYS",
    "SECRET_PLACEHOLDER",
    "ConfigError",
    "ContactPoint",
    "Domain",
    "HealthCheck",
    "Monitoring",
    "Postgres",
    "Restore",
    "RestoreDrill",
    "SecurePath",
    "SecurityHeaders",
    "StackConfig",
    "contact_env_problems",
    "duration_ns",
    "fly_authorization",
    "fly_token_problem",
    "from_pulumi",
    "offline",
    "parse",
]


class ConfigError(pulumi.RunError):
    """Invalid stack config. Pulumi prints a RunError without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(problems))


class StackConfig(Model):
    """Everything one stack (staging, prod) declares. Field order matters for checks."""

    org: Slug
    """Fly organization slug."""
    app_name: AppName
    """Fly app name (`webhost-staging`, `webhost-prod`)."""
    image: ImageRef
    """Image to deploy, built by the app's own CI; a change triggers a deploy."""
    tier: catalog.Tier
    """Customer tier this stack serves; sets sizing floors and prices."""
    customers: Annotated[int, Field(ge=0, le=CUSTOMERS_MAX)]
    """Expected number of customers on this stack."""
    regions: Annotated[
        # Strict: a region's count comes as JSON, where `true` is not a number.
        dict[Region, Annotated[int, Field(strict=True, ge=0, le=MACHINES_PER_REGION_MAX)]],
        Field(min_length=1),
    ]
    """Fly region code to machine count (`{iad: 3, fra: 2}`); 0 or absent removes a region."""
    primary_region: Region
    """Region of the primary; one of `regions` with at least one machine."""
    vm: VmSpec
    """Every app machine's size."""
    deploy_strategy: catalog.DeployStrategy = "rolling"
    """How `fly deploy` replaces running machines."""
    protect: bool = False
    """Protect the app and its generated secrets from deletion (prod)."""
    http: HttpService = HttpService()
    """Overrides of the runbook's http_service; defaults are the runbook's."""
    release_command: ReleaseCommand = RELEASE_COMMAND
    """Run once per deploy in a temporary machine before new code (migrations)."""
    deploy: Deploy = Deploy()
    """`[deploy]` timeouts and rolling batch size; absent values are flyctl's."""
    security_headers: SecurityHeaders = SecurityHeaders()
    """HSTS and nosniff at the edge."""
    metrics: Metrics = Metrics()
    """Where Fly scrapes app metrics."""
    env: dict[Annotated[EnvName, AfterValidator(plain_env_name)], str] = {}
    """Plain environment (feature flags, PHX_HOST); never a secret name."""
    domain: Domain | None = None
    """Custom domain on Cloudflare; without it the app is only at <appName>.fly.dev."""
    postgres: Postgres | None = None
    """Postgres cluster and read replicas; sets DATABASE_URL and DATABASE_READ_URL."""
    redis: Redis | None = None
    """Upstash Redis; sets REDIS_URL."""
    monitoring: Monitoring | None = None
    """Grafana data source, dashboard, alert rules and probes; nothing when absent."""
    stripe_secret_key: SecretStr | None = None
    """STRIPE_SECRET_KEY for the app; set with `--secret`."""
    stripe_webhook_secret: SecretStr | None = None
    """STRIPE_WEBHOOK_SECRET for the app; set with `--secret`."""
    secrets: dict[Annotated[EnvName, AfterValidator(app_secret_name)], SecretStr] = {}
    """The app's own secrets (name to value), each set with `--secret --path`; see above."""

    @field_validator("primary_region")
    @classmethod
    def _primary_has_machines(cls, primary: str, info: ValidationInfo) -> str:
        regions: dict[str, int] | None = info.data.get("regions")
        if regions is not None and regions.get(primary, 0) < 1:
            raise ValueError("must be one of `regions` with at least one machine")
        return primary

    @field_validator("http")
    @classmethod
    def _min_running_fits(cls, http: HttpService, info: ValidationInfo) -> HttpService:
        regions, primary = info.data.get("regions"), info.data.get("primary_region")
        if regions is not None and primary is not None:
            count = regions[primary]
            if http.min_machines_running > count:
                raise ValueError(
                    "@minMachinesRunning: exceeds the "
                    f"{count} machine(s) in the primary region {primary}"
                )
        return http

    @model_validator(mode="after")
    def _deploy_fits_strategy(self) -> StackConfig:
        strategy = self.deploy_strategy
        checks = self.http.health_check.enabled or self.http.deep_check.enabled
        if strategy == "bluegreen" and not checks:
            # flyctl strategy_bluegreen.go @ ad0172f: no machine with a check is
            # ErrValidationError, "You need to define at least 1 check".
            raise ValueError(
                "@deployStrategy: bluegreen needs at least one health check (flyctl refuses "
                "it otherwise); enable http.healthCheck or http.deepCheck"
            )
        if self.deploy.emergency is not None and strategy != "immediate":
            # The emergency path is the immediate strategy (policies/rollout.py); a
            # reason left behind after it would hide the next one.
            raise ValueError(
                "@deploy.emergency: only with deployStrategy immediate; unset it once the "
                "emergency deploy is done"
            )
        if self.deploy.max_unavailable is not None and strategy not in ("rolling", "canary"):
            # flyctl deploy.go @ ad0172f: "max-unavailable set for non-rolling strategy
            # ..., ignoring".
            raise ValueError(
                f"@deploy.maxUnavailable: flyctl ignores it for the {strategy} strategy "
                "(only rolling and canary replace machines in batches)"
            )
        return self

    @field_validator("postgres")
    @classmethod
    def _postgres_fits_the_stack(cls, pg: Postgres | None, info: ValidationInfo) -> Postgres | None:
        if pg is not None:
            app, regions = info.data.get("app_name"), info.data.get("regions")
            check_postgres(pg, app, regions, info.data.get("primary_region"))
        return pg

    @field_validator("redis")
    @classmethod
    def _redis_fits_the_stack(cls, redis: Redis | None, info: ValidationInfo) -> Redis | None:
        if redis is not None:
            check_redis(redis, info.data.get("app_name"), info.data.get("primary_region"))
        return redis

    @field_validator("monitoring")
    @classmethod
    def _probes_fit_grafana(cls, monitoring: Monitoring | None) -> Monitoring | None:
        if monitoring is not None:
            check_probes(monitoring)
        return monitoring

    @property
    def postgres_name(self) -> str | None:
        return None if self.postgres is None else self.postgres.name or f"{self.app_name}-db"

    @property
    def postgres_clusters(self) -> list[str]:
        """Every cluster of the stack, the first (postgres.name) first."""
        if self.postgres is None or self.postgres_name is None:
            return []
        return [self.postgres_name, *(r.name for r in self.postgres.restores)]

    @property
    def postgres_active(self) -> str | None:
        """The cluster the app uses."""
        return None if self.postgres is None else self.postgres.active or self.postgres_name

    @property
    def database_name(self) -> str | None:
        pg = self.postgres
        return None if pg is None else pg.database or self.app_name.replace("-", "_")

    @property
    def redis_name(self) -> str | None:
        return None if self.redis is None else self.redis.name or f"{self.app_name}-redis"

    @property
    def data_secret_names(self) -> list[str]:
        """The data-tier secrets this stack's app gets."""
        names = ["DATABASE_URL", "DATABASE_READ_URL"] if self.postgres else []
        return [*names, "REDIS_URL"] if self.redis else names

    @property
    def active_regions(self) -> list[str]:
        """Regions with at least one machine, primary first."""
        rest = sorted(r for r, n in self.regions.items() if n > 0 and r != self.primary_region)
        return [self.primary_region, *rest]

    @property
    def machine_count(self) -> int:
        return sum(self.regions.values())

    def operator_secrets(self) -> dict[str, SecretStr]:
        """App environment name -> value, for the operator secrets that are set."""
        values = {
            "stripeSecretKey": self.stripe_secret_key,
            "stripeWebhookSecret": self.stripe_webhook_secret,
        }
        named = {
            catalog.OPERATOR_SECRETS[key]: value
            for key, value in values.items()
            if value is not None
        }
        # Config refuses a webhost:secrets name that collides, so nothing is overwritten.
        return {**named, **self.secrets}

    def with_derived_env(self) -> dict[str, str]:
        """The plain environment the app gets: the stack's env plus what is derived."""
        return {
            "PHX_HOST": self.domain.fqdns[0] if self.domain else f"{self.app_name}.fly.dev",
            **self.env,
            "PORT": str(self.http.internal_port),
            "REGIONS": ",".join(self.active_regions),
            **({"POOL_SIZE": str(self.postgres.pool_size)} if self.postgres else {}),
            **self.cluster_env,
        }

    @property
    def cluster_env(self) -> dict[str, str]:
        """What Fly's Phoenix launcher puts in rel/env.sh.eex, so any release clusters.

        flyctl scanner/phoenix.go PhoenixCallback @ ad0172f: DNS_CLUSTER_QUERY is
        `${FLY_APP_NAME}.internal` (Fly's private DNS lists every machine's 6PN
        address), ERL_AFLAGS makes Erlang distribution use IPv6 (Fly's private
        network has no IPv4), ECTO_IPV6 makes Phoenix's generated runtime.exs open
        Ecto's sockets over IPv6. RELEASE_NODE needs the
        machine's own FLY_PRIVATE_IP, known only at boot: the release sets it.
        """
        return {
            "DNS_CLUSTER_QUERY": f"{self.app_name}.internal",
            "ERL_AFLAGS": "-proto_dist inet6_tcp",
            "ECTO_IPV6": "true",
        }

    @property
    def image_digest(self) -> str | None:
        """The image's sha256 digest when it is pinned by one, else None."""
        _, at, digest = self.image.partition("@")
        return digest if at else None

    @classmethod
    def secret_field_names(cls) -> set[str]:
        """Field names (not aliases) of the fields holding secrets (operator secrets, secrets)."""
        return {name for name, f in cls.model_fields.items() if holds_secret(f.annotation)}

    @classmethod
    def secret_fields(cls) -> set[str]:
        """Config keys (aliases) of the operator secrets."""
        return {cls.model_fields[n].alias or n for n in cls.secret_field_names()}


def _decode(raw: str) -> Any:
    # Pulumi hands structured values to programs as JSON text, scalars as text.
    if raw[:1] in "{[":
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            # Not JSON (or an integer past Python's digit limit, or nested past its
            # recursion limit): the model refuses the text with the key's rule.
            return raw
    return raw


def parse(
    raw: Mapping[str, str],
    secret_keys: Collection[str] = (),
    secure_paths: Collection[SecurePath] | None = None,
) -> StackConfig:
    """Parse `webhost:*` config as Pulumi passes it to programs (text values).

    Keys of other namespaces belong to providers and are ignored here. `secret_keys`
    are the top-level keys holding a secure value; `secure_paths` (the offline plan
    knows them from the stack file) the exact paths of each secure value.
    Raises ConfigError listing every problem; no line shows a secret key's value.
    """
    prefix = f"{NAMESPACE}:"
    values = {k.removeprefix(prefix): _decode(v) for k, v in raw.items() if k.startswith(prefix)}
    secret_tops = {k.removeprefix(prefix) for k in secret_keys if k.startswith(prefix)}
    secret_map = StackConfig.model_fields["secrets"].alias or "secrets"
    problems, refused = secret_problems(
        values,
        secret_keys,
        secure_paths,
        secret_map=secret_map,
        scalars=StackConfig.secret_fields() - {secret_map},
    )
    problems += collisions(values)
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        problems += [
            problem_line(StackConfig, e, values, secret_tops)
            for e in exc.errors()
            if not (e["loc"][:1] and str(e["loc"][0]) in refused)
        ]
    if problems:
        raise ConfigError(sorted(problems))
    return config


def from_pulumi() -> StackConfig:
    """Parse the running stack's config (the real engine or the offline plan)."""
    settings = {**(pulumi.runtime.get_config_env() or {}), **pulumi.runtime.config.CONFIG.get()}
    secret_keys = set(pulumi.runtime.get_config_secret_keys_env()) | {
        k for k in settings if pulumi.runtime.is_config_secret(k)
    }
    parsed = parse({k: str(v) for k, v in settings.items()}, secret_keys)
    # Before anything is registered: the whole run stops, in a preview as in `up`.
    if problem := fly_token_problem(parsed.monitoring, os.environ, offline=offline()):
        raise ConfigError([problem])
    if problems := contact_env_problems(parsed.monitoring, os.environ, offline=offline()):
        raise ConfigError(problems)
    return parsed
