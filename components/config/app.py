"""The app's own keys: its machines' HTTP service and checks, deploys, release
command and metrics (`webhost:http.*`, `webhost:deploy.*`, `webhost:metrics.*`,
`webhost:releaseCommand`)."""

from __future__ import annotations

import shlex
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    NonNegativeInt,
    ValidationInfo,
    field_validator,
)

from components import catalog
from components.config.validators import (
    LOAD_LIMIT_MAX,
    MACHINES_PER_REGION_MAX,
    Duration,
    Model,
    Port,
    UrlPath,
    matches,
    seconds,
    timeout_below_interval,
)


def _auto_stop(value: object) -> object:
    # fly.toml used to take a bool here; Fly maps false -> "off", true -> "stop".
    if isinstance(value, bool):
        return "stop" if value else "off"
    return value


def _shell_words(command: str) -> str:
    # flyctl refuses a fly.toml whose release_command google/shlex cannot split
    # ("Can't shell split release command", internal/appconfig/validation.go @ ad0172f):
    # an unclosed quote or a trailing backslash. Python's shlex fails on the same two.
    try:
        shlex.split(command)
    except ValueError:
        raise ValueError(
            "flyctl cannot split it into words (an unclosed quote or a trailing backslash)"
        ) from None
    return command


# fly.toml's release_command is one string that Fly splits into argv (flyctl
# appconfig Deploy.ReleaseCommand @ ad0172f); our bound keeps it one printable line.
ReleaseCommand = Annotated[
    str,
    matches(r"[!-~][ -~]{0,254}", "a command line such as /app/bin/migrate (printable)"),
    AfterValidator(_shell_words),
]


def _service_check_duration(duration: str) -> str:
    # catalog.SERVICE_CHECK_SECONDS: flyctl raises or lowers it, so Fly would run
    # another check than the one configured.
    low, high = catalog.SERVICE_CHECK_SECONDS
    if not low <= seconds(duration) <= high:
        raise ValueError(
            f"Fly runs a service check's durations within {low}s..{high}s and moves one "
            "outside to the nearer bound (flyctl appconfig validation.go)"
        )
    return duration


ServiceCheckDuration = Annotated[Duration, AfterValidator(_service_check_duration)]


# flyctl internal/command/deploy/machines.go @ ad0172f: DefaultWaitTimeout 5m,
# DefaultReleaseCommandTimeout 5m, DefaultMaxUnavailable 0.33.
DEPLOY_WAIT_TIMEOUT = "5m"
RELEASE_COMMAND_TIMEOUT = "5m"
MAX_UNAVAILABLE = 0.33
# Fly's Phoenix launcher sets the release command to the release's migrate script
# (flyctl scanner/phoenix.go @ ad0172f, `s.ReleaseCmd = "/app/bin/migrate"`). The image
# must provide it: README.md, "The app contract".
RELEASE_COMMAND = "/app/bin/migrate"


class Concurrency(Model):
    type: Literal["connections", "requests"] = "connections"
    """What the limits count: `connections` or `requests`."""
    soft_limit: Annotated[int, Field(ge=1, le=LOAD_LIMIT_MAX)] = 750
    """Load at which Fly's proxy prefers other machines."""
    hard_limit: Annotated[int, Field(ge=1, le=LOAD_LIMIT_MAX)] = 1000
    """Load at which the machine takes no more; at least softLimit."""

    @field_validator("hard_limit")
    @classmethod
    def _hard_above_soft(cls, hard: int, info: ValidationInfo) -> int:
        soft = info.data.get("soft_limit")
        if soft is not None and hard < soft:
            raise ValueError(f"must be at least softLimit ({soft})")
        return hard


class HealthCheck(Model):
    """The routing check (`http_service.checks`): shallow, the endpoint answers.

    Fly's proxy routes only to machines whose service checks pass, so a check that
    also probes the database would pull every machine out of rotation when the
    database is down (superfly/docs reference/configuration.html.markerb @ 5c22c8c,
    "http_service.checks" vs the top-level "[checks]", which Fly does not route on).
    """

    enabled: bool = True
    """Render the routing check (bluegreen needs it or deepCheck)."""
    # The app answers it without its dependencies: README.md, "The app contract".
    path: UrlPath = "/api/health"
    """Health check path."""
    method: Literal["GET", "HEAD"] = "GET"
    """Health check method."""
    interval: ServiceCheckDuration = "15s"
    """Time between checks (1s..60s)."""
    timeout: ServiceCheckDuration = "2s"
    """Time a check may take; shorter than interval (1s..60s)."""
    grace_period: ServiceCheckDuration = "5s"
    """Time after start before checks count (1s..60s)."""

    @field_validator("timeout")
    @classmethod
    def _timeout_below_interval(cls, timeout: str, info: ValidationInfo) -> str:
        return timeout_below_interval(timeout, info)


class DeepCheck(Model):
    """The deep check: a top-level `[checks]` entry (database, Redis), not routed on.

    flyctl appconfig ToplevelCheck (internal/appconfig/toplevelcheck.go @ ad0172f):
    type, port, path, method, interval, timeout, grace_period. Deploys wait for it
    like for the routing check; Fly's proxy ignores it.
    """

    enabled: bool = True
    """Render the deep check."""
    # 200 only with the database and Redis answering: README.md, "The app contract".
    path: UrlPath = "/api/health/deep"
    """Path that answers 200 only when the app's dependencies answer."""
    method: Literal["GET", "HEAD"] = "GET"
    """Deep check method."""
    interval: Duration = "30s"
    """Time between checks (at least 2s)."""
    timeout: Duration = "5s"
    """Time a check may take; shorter than interval (at most 60s)."""
    grace_period: Duration = "30s"
    """Time after start before checks count (migrations, pool warm-up)."""

    @field_validator("interval")
    @classmethod
    def _interval_flaps_takes(cls, interval: str) -> str:
        # catalog.TOP_CHECK_MIN_INTERVAL_SECONDS: flyctl refuses the fly.toml.
        if seconds(interval) < catalog.TOP_CHECK_MIN_INTERVAL_SECONDS:
            raise ValueError(
                f"at least {catalog.TOP_CHECK_MIN_INTERVAL_SECONDS}s: flyctl refuses a shorter "
                "[checks] interval (appconfig validation.go, the minimum in flaps)"
            )
        return interval

    @field_validator("timeout")
    @classmethod
    def _timeout_flaps_takes(cls, timeout: str) -> str:
        # catalog.TOP_CHECK_MAX_TIMEOUT_SECONDS: flyctl refuses the fly.toml.
        if seconds(timeout) > catalog.TOP_CHECK_MAX_TIMEOUT_SECONDS:
            raise ValueError(
                f"at most {catalog.TOP_CHECK_MAX_TIMEOUT_SECONDS}s: flyctl refuses a longer "
                "[checks] timeout (appconfig validation.go, the maximum in flaps)"
            )
        return timeout

    @field_validator("timeout")
    @classmethod
    def _timeout_below_interval(cls, timeout: str, info: ValidationInfo) -> str:
        return timeout_below_interval(timeout, info)


class Deploy(Model):
    """`[deploy]` knobs beyond the strategy; absent values are flyctl's defaults."""

    # Strict: lax mode would read `true` as 1.0 machines.
    max_unavailable: (
        Annotated[float, Field(strict=True, gt=0, le=MACHINES_PER_REGION_MAX)] | None
    ) = None
    """Rolling/canary: machines down at once, a fraction below 1 or a count (flyctl: 0.33)."""
    wait_timeout: Duration = DEPLOY_WAIT_TIMEOUT
    """How long a deploy waits for a machine to start and pass its checks."""
    release_command_timeout: Duration | None = None
    """How long the release command may run (flyctl: 5m)."""
    emergency: Annotated[str, matches(r"[ -~]{1,200}", "1..200 printable characters")] | None = None
    """The reason for an `immediate` deploy in an emergency; shown on every plan."""

    @field_validator("max_unavailable")
    @classmethod
    def _whole_count(cls, value: float | None) -> float | None:
        # flyctl machines_deploymachinesapp.go getPoolSize @ ad0172f: 1 and above is a
        # machine count (truncated), below 1 a fraction of the machines.
        if value is not None and value >= 1 and value != int(value):
            raise ValueError("a fraction below 1 or a whole number of machines")
        return value


class HttpService(Model):
    """Overrides of the runbook's [http_service]; the defaults are the runbook's."""

    # The image listens here (README.md, "The app contract"; preflight checks EXPOSE).
    internal_port: Port = 4000
    """Port the Phoenix endpoint listens on (also PORT in the env)."""
    force_https: bool = True
    """Redirect HTTP to HTTPS at the edge."""
    auto_stop_machines: Annotated[
        Literal["off", "stop", "suspend"], BeforeValidator(_auto_stop)
    ] = "off"
    """`off`, `stop` or `suspend` idle machines (a boolean maps to off/stop)."""
    auto_start_machines: bool = True
    """Start stopped machines on demand."""
    min_machines_running: NonNegativeInt = 1
    """Machines kept running in the primary region; at most its count."""
    concurrency: Concurrency = Concurrency()
    """Fly proxy's load limits per machine."""
    health_check: HealthCheck = HealthCheck()
    """The shallow HTTP check that gates deploys and routing."""
    deep_check: DeepCheck = DeepCheck()
    """The deep check (dependencies): gates deploys, not routing."""


class Metrics(Model):
    port: Port = catalog.DEFAULT_METRICS_PORT
    """Port of the Prometheus endpoint Fly scrapes."""
    path: UrlPath = catalog.DEFAULT_METRICS_PATH
    """Path of the Prometheus endpoint."""
