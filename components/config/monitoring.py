"""Monitoring: Grafana's data source, dashboard, alert rules, probes and contact points
(`webhost:monitoring.*`), and the environment they read at `pulumi up` (the Fly metrics
token, a contact point's `fromEnv`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pydantic import AfterValidator, Field, SecretStr, model_validator

from components import catalog
from components.config.validators import (
    NAMESPACE,
    SECRET_PLACEHOLDER,
    EnvName,
    Model,
    matches,
)

# Grafana's root URL (pulumiverse_grafana 2.44.0 provider.py, `url`: "The root URL of a
# Grafana server"): https only, since the provider sends its token to it.
GrafanaUrl = Annotated[
    str,
    matches(
        r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?",
        "an https URL such as https://webhost.grafana.net",
    ),
]
ContactName = Annotated[
    str, matches(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}", "1..64 letters, digits, spaces, . _ -")
]
ProbeName = Annotated[str, matches(r"[A-Za-z][A-Za-z0-9]{0,39}", "a probe name such as Frankfurt")]


class ContactPoint(Model):
    """Where alerts go. The URL or the addresses are secrets: set with `--secret --path`."""

    name: ContactName
    """Grafana contact point name."""
    kind: Literal["webhook", "email"]
    """`webhook` (url) or `email` (addresses)."""
    url: SecretStr | None = None
    """Webhook URL (Slack, PagerDuty, ... incoming webhooks); secret."""
    addresses: SecretStr | None = None
    """Email addresses, separated by `;` or `,`; secret."""
    from_env: EnvName | None = None
    """Instead of url/addresses: the environment variable holding it at `pulumi up`."""

    @model_validator(mode="after")
    def _target_fits_kind(self) -> ContactPoint:
        wanted, other = ("url", "addresses") if self.kind == "webhook" else ("addresses", "url")
        if getattr(self, other) is not None:
            raise ValueError(f"@{other}: a {self.kind} contact point takes {wanted}, not {other}")
        if self.from_env is not None:
            if getattr(self, wanted) is not None:
                raise ValueError(f"@fromEnv: {wanted} or fromEnv, not both")
            return self
        if getattr(self, wanted) is None:
            raise ValueError(f"@{wanted}: a {self.kind} contact point needs {wanted} (or fromEnv)")
        target: SecretStr = getattr(self, wanted)
        if target.get_secret_value() != SECRET_PLACEHOLDER and catalog.placeholder_target(
            target.get_secret_value()
        ):
            # The value is a secret: the rule is named, never the value.
            raise ValueError(
                f"@{wanted}: names a placeholder host no one receives at (example.com, "
                ".example, .invalid, .test, localhost, Grafana's example@email.com)"
            )
        return self


def _unique_contacts(points: list[ContactPoint]) -> list[ContactPoint]:
    names = [p.name for p in points]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"contact point names must be unique: {', '.join(duplicated)}")
    return points


def _unique_probes(probes: list[str]) -> list[str]:
    lowered = [p.lower() for p in probes]
    if duplicated := sorted({p for p in probes if lowered.count(p.lower()) > 1}):
        raise ValueError(f"{', '.join(duplicated)} listed twice")
    return probes


class Monitoring(Model):
    """Grafana watching the runbook's targets (components/monitoring).

    The Grafana token comes from GRAFANA_AUTH (and GRAFANA_SM_ACCESS_TOKEN for the
    probes), the data source's read-only Fly token from FLY_METRICS_TOKEN: never here.
    """

    url: GrafanaUrl
    """Grafana to manage (its token: GRAFANA_AUTH in the environment)."""
    folder: Annotated[
        str, matches(r"[!-~][ -~]{0,99}", "1..100 printable characters, such as WebHost")
    ] = "WebHost"
    """Folder of the dashboard and the alert rules (the app name is appended)."""
    availability_target: Annotated[float, Field(strict=True, ge=0.9, lt=1)] = (
        catalog.AVAILABILITY_TARGET
    )
    """Share of requests answered without a 5xx (0.999 is the runbook's 99.9%)."""
    slo_window_days: Annotated[int, Field(ge=7, le=90)] = catalog.SLO_WINDOW_DAYS
    """Days the availability target is measured over (the error budget's period)."""
    latency_p95_ms: Annotated[int, Field(ge=10, le=60_000)] = catalog.LATENCY_P95_MS
    """p95 response time target per region, in ms (the runbook's 200)."""
    probes: Annotated[
        list[ProbeName], Field(min_length=1, max_length=32), AfterValidator(_unique_probes)
    ] = list(catalog.DEFAULT_PROBES)
    """Grafana synthetic monitoring probes that check the health path."""
    probe_frequency_ms: Annotated[
        int, Field(ge=catalog.SM_FREQUENCY_MS[0], le=catalog.SM_FREQUENCY_MS[1])
    ] = 60_000
    """How often each probe checks, in ms."""
    synthetic: bool = True
    """Make the synthetic checks (needs GRAFANA_SM_ACCESS_TOKEN)."""
    contact_points: Annotated[list[ContactPoint], AfterValidator(_unique_contacts)] = []
    """Where alerts go; the first is the default route. Empty: Grafana's own policy."""
    allow_missing_fly_token: Annotated[bool, Field(strict=True)] = False
    """Go on without FLY_METRICS_TOKEN (else refused): the data source keeps its header."""


def check_probes(monitoring: Monitoring) -> None:
    """Grafana's synthetic monitoring API bounds an HTTP check's timeout at 1 min and at
    its frequency (catalog.SM_TIMEOUT_MS); the timeout is derived from the p95."""
    if not monitoring.synthetic:
        return
    timeout = catalog.probe_timeout_ms(monitoring.latency_p95_ms)
    high = catalog.SM_TIMEOUT_MS[1]
    if timeout > high:
        raise ValueError(
            f"@latencyP95Ms: the probes time out at {catalog.SM_TIMEOUT_PER_P95}x it, "
            f"{timeout} ms, over the {high} ms Grafana's synthetic monitoring takes "
            f"for an HTTP check; at most {high // catalog.SM_TIMEOUT_PER_P95} "
            "(or synthetic: false)"
        )
    if timeout > monitoring.probe_frequency_ms:
        raise ValueError(
            f"@probeFrequencyMs: shorter than the probes' timeout, {timeout} ms "
            f"({catalog.SM_TIMEOUT_PER_P95}x latencyP95Ms); Grafana's synthetic "
            "monitoring refuses a check that times out after its next run is due"
        )


class FlyTokenError(ValueError):
    """FLY_METRICS_TOKEN holds no token Fly's Prometheus would take. The message never
    quotes the value."""


def _strip_schemes(text: str) -> str:
    # fly-go tokens.StripAuthorizationScheme: trim, then drop a leading FlyV1/Bearer
    # (any case) and repeat, so `FlyV1 FlyV1 fm2_...` is one token, never two schemes.
    text = text.strip()
    scheme, space, rest = text.partition(" ")
    if space and scheme.strip().lower() in catalog.FLY_AUTH_SCHEMES:
        return _strip_schemes(rest)
    return text


def fly_authorization(token: str) -> str:
    """The `Authorization` value for Fly's Prometheus from a token as Fly prints it (with
    or without `FlyV1`/`Bearer`, padded, comma-joined): `FlyV1 <macaroons>`, as fly-go
    builds it (catalog.FLY_MACAROON_PREFIXES). A user token alone is refused: it is not
    read-only, and the data source stores it in Grafana."""
    parts = [part.strip() for part in _strip_schemes(token).split(",")]
    parts = [part for part in parts if part]
    if not parts:
        raise FlyTokenError("holds no token, only a scheme or commas")
    macaroons = [p for p in parts if p.partition("_")[0] in catalog.FLY_MACAROON_PREFIXES]
    if not macaroons:
        raise FlyTokenError(
            "holds no Fly macaroon token (fm1r_, fm1a_ or fm2_...): a user token is not "
            "read-only; `fly tokens create readonly <org>` prints one"
        )
    if any(len(p.split()) > 1 for p in macaroons):
        raise FlyTokenError("has whitespace inside a token; paste it as Fly printed it")
    return f"{catalog.FLY_PROMETHEUS_AUTH_SCHEME} {','.join(macaroons)}"


# Set to "1" by `webhost-infra` while it evaluates the program offline (cli/engine.py):
# nothing is sent anywhere, and the plan, the diff and the cost need no credential, so
# a missing FLY_METRICS_TOKEN is no reason to stop there (a malformed one still is). An
# environment variable, not a module's state: the diff evaluates its base with the
# base's own modules. Honoured only under Pulumi's mock monitor, never the real engine.
OFFLINE_ENV = "WEBHOST_OFFLINE_EVALUATION"


def offline() -> bool:
    """Whether this evaluation is `webhost-infra`'s offline one (OFFLINE_ENV)."""
    return os.environ.get(OFFLINE_ENV) == "1" and isinstance(
        pulumi_settings.get_monitor(), pulumi_mocks.MockMonitor
    )


def fly_token_problem(
    monitoring: Monitoring | None, environ: Mapping[str, str], *, offline: bool = False
) -> str | None:
    """Why a run must stop before registering anything, or None: a stack that declares
    monitoring needs FLY_METRICS_TOKEN unless it opts out or is evaluated offline (an
    empty value, as CI gives for an unset secret, is missing); a malformed token is
    refused even then."""
    if monitoring is None:
        return None
    name = catalog.FLY_METRICS_TOKEN_ENV
    raw = environ.get(name, "")
    if not raw.strip():
        if monitoring.allow_missing_fly_token or offline:
            return None
        return (
            f"{NAMESPACE}:monitoring: {name} is not set, so the Fly data source would have no "
            "Authorization header: export a read-only token (`fly tokens create readonly "
            f"<org>`), or set {NAMESPACE}:monitoring.allowMissingFlyToken: true to go on without it"
        )
    try:
        fly_authorization(raw)
    except FlyTokenError as error:
        return f"{NAMESPACE}:monitoring: {name} {error}"
    return None


def contact_env_problems(
    monitoring: Monitoring | None, environ: Mapping[str, str], *, offline: bool = False
) -> list[str]:
    """A contact point whose target comes from the environment (`fromEnv`): the
    variable must be set, except offline, and name no placeholder host (the value
    is a secret: never shown)."""
    problems: list[str] = []
    for index, point in enumerate(monitoring.contact_points if monitoring else []):
        if point.from_env is None:
            continue
        where = f"{NAMESPACE}:monitoring.contactPoints[{index}].fromEnv"
        value = environ.get(point.from_env, "").strip()
        if not value and not offline:
            problems.append(
                f"{where}: {point.from_env} is not set, so contact point {point.name} would "
                "send to no one; export it (the pager's URL or addresses)"
            )
        elif value and catalog.placeholder_target(value):
            problems.append(
                f"{where}: {point.from_env} names a placeholder host no one receives at "
                "(example.com, .example, .invalid, .test, localhost, Grafana's example@email.com)"
            )
    return problems
