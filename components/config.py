"""The stack config contract: raw `webhost:*` values in, one frozen model out.

Config is parsed once, at the edge, before any resource is registered. Every
problem is reported at once, one line each, naming the key path, the value and
the rule (`webhost:vm.memoryMb = 4096: performance VMs take ...`). Nothing
deeper in the program touches a raw config dict.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
import types
import typing
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Annotated, Any, Literal

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import catalog
from components.cache_rule import RULE_EXPRESSION_MAX, cache_expression

NAMESPACE = "webhost"
SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 - a mask, not a credential


class ConfigError(pulumi.RunError):
    """Invalid stack config. Pulumi prints a RunError without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack config:\n" + "\n".join(problems))


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _plain_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads `true` as 1 for an integer field: `cpus: true` is
        # a mistake, never one CPU. And past 2**53 a number no longer survives Pulumi's
        # wire format, where every number is a double (pulumi/pulumi
        # sdk/python/lib/pulumi/runtime/rpc.py serializes into google.protobuf.Struct).
        field = cls.model_fields.get(info.field_name or "")
        if field is None or not _is_int(field.annotation):
            return value
        if isinstance(value, bool):
            raise ValueError("a number, not a boolean")
        if isinstance(value, int) and abs(value) > NUMBER_MAX:
            raise ValueError(f"beyond any sane range (at most {NUMBER_MAX})")
        return value


NUMBER_MAX = 2**53


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (typing.Union, types.UnionType):
        return any(_is_int(a) for a in typing.get_args(annotation))
    return False


def _region(code: str) -> str:
    if code not in catalog.REGIONS:
        hint = difflib.get_close_matches(code, catalog.REGIONS, n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else ""
        raise ValueError(
            f"not a Fly region{suggestion}; regions: {', '.join(sorted(catalog.REGIONS))}"
        )
    return code


def _matches(pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    check.rule = rule  # type: ignore[attr-defined]  # read by cli/reference.py
    return AfterValidator(check)


def _auto_stop(value: object) -> object:
    # fly.toml used to take a bool here; Fly maps false -> "off", true -> "stop".
    if isinstance(value, bool):
        return "stop" if value else "off"
    return value


Region = Annotated[str, AfterValidator(_region)]
# Our bound: Fly derives org slugs from names; none is longer than a DNS label.
Slug = Annotated[
    str, _matches(r"[a-z0-9][a-z0-9-]{0,62}", "1..63 lowercase letters, digits and dashes")
]
AppName = Annotated[
    str,
    _matches(
        r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?",
        "1..63 lowercase letters, digits and dashes, not starting or ending with a dash",
    ),
]
ImageRef = Annotated[
    str,
    _matches(
        # distribution/reference: a name is at most 255 characters, a tag 128.
        r"(?=[^@]{1,384}(?:@|$))[a-z0-9][a-z0-9._/:-]*(?:@sha256:[0-9a-f]{64})?",
        "an image reference such as registry.fly.io/webhost:v1.2.3 or ...@sha256:<digest>",
    ),
]
# fly.toml's check durations are read by fly-go's Duration (superfly/fly-go duration.go
# @ 22d6e518f42d), which hands strings to Go's time.ParseDuration: decimal numbers with
# the units ns, us (or µs, μs), ms, s, m, h, summed ("1m30s"), and an error past
# 1<<63-1 nanoseconds (go/src/time/format.go, "invalid duration"): about 2562047h.
_GO_UNIT_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_GO_MAX_NS = (1 << 63) - 1
_GO_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_DURATION_RULE = "a duration such as 15s, 1m30s or 500ms (units ns, us, ms, s, m, h)"


def _duration_ns(text: str) -> Fraction:
    """Nanoseconds in a Go duration; ValueError naming the rule when Go would refuse it."""
    # Go's parser overflows long before 64 characters; the cap keeps int() cheap.
    if len(text) > 64 or not text:
        raise ValueError(_DURATION_RULE)
    total, at = Fraction(0), 0
    while at < len(text):
        part = _GO_PART.match(text, at)
        if part is None:
            raise ValueError(_DURATION_RULE)
        total += Fraction(part.group(1)) * _GO_UNIT_NS[part.group(2)]
        at = part.end()
    if total > _GO_MAX_NS:
        raise ValueError(
            "longer than Go's time.ParseDuration takes (2562047h47m16.854775807s), "
            "so flyctl would refuse the fly.toml"
        )
    if total <= 0:
        raise ValueError("must be longer than zero")
    return total


def _go_duration(text: str) -> str:
    _duration_ns(text)
    return text


Duration = Annotated[str, AfterValidator(_go_duration)]


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
    _matches(r"[!-~][ -~]{0,254}", "a command line such as /app/bin/migrate (printable)"),
    AfterValidator(_shell_words),
]
UrlPath = Annotated[str, _matches(r"/[A-Za-z0-9._~/-]*", "an absolute URL path such as /health")]
EnvName = Annotated[
    str, _matches(r"[A-Z_][A-Z0-9_]*", "an environment name such as PHX_HOST (A-Z, 0-9, _)")
]
Port = Annotated[int, Field(ge=1, le=65535)]
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# RFC 1035 section 2.3.4: a label is at most 63 octets (the pattern's {0,61}), a name
# at most 255 on the wire, which is 253 characters in dotted text without the root dot.
DNS_NAME_MAX = 253


def _dns_length(name: str) -> str:
    if len(name.removesuffix(".")) > DNS_NAME_MAX:
        raise ValueError(f"longer than a DNS name may be ({DNS_NAME_MAX} characters)")
    return name


DnsName = Annotated[
    str,
    _matches(
        rf"(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,61}}[a-z0-9]", "a domain name such as webhost.example"
    ),
    AfterValidator(_dns_length),
]
HostName = Annotated[
    str,
    # A wildcard is one whole leading `*` label (RFC 6125 6.4.3; Cloudflare's Origin
    # CA takes `*.` only on the left, its API's hostnames description as the e2e fake
    # e2e/fake_cloudflare/fakecf/origin_ca.py records): `*` is the zone's `*.zone`.
    _matches(
        rf"@|\*|(?:\*\.)?(?:{_LABEL}\.)*{_LABEL}\.?",
        "a name relative to the zone (www, api.eu, @ for the apex, * or *.eu for a "
        "wildcard) or a fully qualified name ending in a dot",
    ),
    AfterValidator(_dns_length),
]
ZoneId = Annotated[str, _matches(r"[0-9a-f]{32}", "a Cloudflare zone id: 32 hex digits")]
RulesetId = Annotated[str, _matches(r"[0-9a-f]{32}", "a Cloudflare ruleset id: 32 hex digits")]
PathPattern = Annotated[
    str,
    _matches(r"/[A-Za-z0-9._~/-]*\*?", "a URL path, `*` at the end for a prefix (/assets/*)"),
]


def _seconds(duration: str) -> Fraction:
    return _duration_ns(duration) / 1_000_000_000


def _service_check_duration(duration: str) -> str:
    # catalog.SERVICE_CHECK_SECONDS: flyctl raises or lowers it, so Fly would run
    # another check than the one configured.
    low, high = catalog.SERVICE_CHECK_SECONDS
    if not low <= _seconds(duration) <= high:
        raise ValueError(
            f"Fly runs a service check's durations within {low}s..{high}s and moves one "
            "outside to the nearer bound (flyctl appconfig validation.go)"
        )
    return duration


ServiceCheckDuration = Annotated[Duration, AfterValidator(_service_check_duration)]


class VmSpec(_Model):
    """One machine's size. Field order matters: each check reads the ones above."""

    cpu_kind: catalog.CpuKind
    """CPU class of the machines."""
    cpus: PositiveInt
    """CPUs per machine: a count Fly offers for the kind."""
    memory_mb: PositiveInt
    """Memory per machine in MB: 256 MB steps (shared) or 1024 (performance), per-CPU range."""

    @field_validator("cpus")
    @classmethod
    def _cpus_offered(cls, cpus: int, info: ValidationInfo) -> int:
        kind = info.data.get("cpu_kind")
        if kind is not None and (problem := catalog.cpu_count_problem(kind, cpus)):
            raise ValueError(problem)
        return cpus

    @field_validator("memory_mb")
    @classmethod
    def _memory_fits(cls, memory_mb: int, info: ValidationInfo) -> int:
        kind, cpus = info.data.get("cpu_kind"), info.data.get("cpus")
        if (
            kind is not None
            and cpus is not None
            and (problem := catalog.memory_problem(kind, cpus, memory_mb))
        ):
            raise ValueError(problem)
        return memory_mb


# One year: the HSTS max-age hstspreload.org's submission rules ask for. The bound is
# ours: a longer max-age buys nothing and takes longer to undo.
HSTS_MAX_AGE_DEFAULT = 31_536_000
HSTS_MAX_AGE_MAX = 31_536_000
# flyctl internal/command/deploy/machines.go @ ad0172f: DefaultWaitTimeout 5m,
# DefaultReleaseCommandTimeout 5m, DefaultMaxUnavailable 0.33.
DEPLOY_WAIT_TIMEOUT = "5m"
RELEASE_COMMAND_TIMEOUT = "5m"
MAX_UNAVAILABLE = 0.33
# Fly's Phoenix launcher sets the release command to the release's migrate script
# (flyctl scanner/phoenix.go @ ad0172f, `s.ReleaseCmd = "/app/bin/migrate"`). The image
# must provide it: README.md, "The app contract".
RELEASE_COMMAND = "/app/bin/migrate"

# Sanity bounds of our own (no Fly limit is this low): past them a value is a typo,
# and the numbers would otherwise flow unchecked into fly.toml and flyctl's argv.
LOAD_LIMIT_MAX = 1_000_000
CUSTOMERS_MAX = 10_000_000
MACHINES_PER_REGION_MAX = 1_000


class Concurrency(_Model):
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


class HealthCheck(_Model):
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
        interval = info.data.get("interval")
        if interval is not None and _seconds(timeout) >= _seconds(interval):
            raise ValueError(f"must be shorter than interval ({interval})")
        return timeout


class DeepCheck(_Model):
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
        if _seconds(interval) < catalog.TOP_CHECK_MIN_INTERVAL_SECONDS:
            raise ValueError(
                f"at least {catalog.TOP_CHECK_MIN_INTERVAL_SECONDS}s: flyctl refuses a shorter "
                "[checks] interval (appconfig validation.go, the minimum in flaps)"
            )
        return interval

    @field_validator("timeout")
    @classmethod
    def _timeout_flaps_takes(cls, timeout: str) -> str:
        # catalog.TOP_CHECK_MAX_TIMEOUT_SECONDS: flyctl refuses the fly.toml.
        if _seconds(timeout) > catalog.TOP_CHECK_MAX_TIMEOUT_SECONDS:
            raise ValueError(
                f"at most {catalog.TOP_CHECK_MAX_TIMEOUT_SECONDS}s: flyctl refuses a longer "
                "[checks] timeout (appconfig validation.go, the maximum in flaps)"
            )
        return timeout

    @field_validator("timeout")
    @classmethod
    def _timeout_below_interval(cls, timeout: str, info: ValidationInfo) -> str:
        interval = info.data.get("interval")
        if interval is not None and _seconds(timeout) >= _seconds(interval):
            raise ValueError(f"must be shorter than interval ({interval})")
        return timeout


class SecurityHeaders(_Model):
    """HSTS and nosniff: at Cloudflare when proxied, else from Fly's proxy. CSP stays in the app."""

    enabled: bool = True
    """Send Strict-Transport-Security and X-Content-Type-Options: nosniff."""
    hsts_max_age: Annotated[int, Field(ge=0, le=HSTS_MAX_AGE_MAX)] = HSTS_MAX_AGE_DEFAULT
    """HSTS max-age in seconds (one year by default)."""
    include_subdomains: bool = False
    """HSTS includeSubDomains: every name under the zone must then serve HTTPS."""
    preload: bool = False
    """HSTS preload: hard to undo (browsers ship the list); off by default."""
    nosniff: bool = True
    """X-Content-Type-Options: nosniff."""

    @field_validator("preload")
    @classmethod
    def _preload_rules(cls, preload: bool, info: ValidationInfo) -> bool:
        # hstspreload.org's submission rules: max-age at least one year and
        # includeSubDomains, or the list refuses the domain.
        if preload and (
            info.data.get("hsts_max_age", 0) < HSTS_MAX_AGE_DEFAULT
            or not info.data.get("include_subdomains")
        ):
            raise ValueError(
                f"preload needs hstsMaxAge of at least {HSTS_MAX_AGE_DEFAULT} and "
                "includeSubdomains: true (hstspreload.org's rules)"
            )
        return preload


class Deploy(_Model):
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
    emergency: Annotated[str, _matches(r"[ -~]{1,200}", "1..200 printable characters")] | None = (
        None
    )
    """The reason for an `immediate` deploy in an emergency; shown on every plan."""

    @field_validator("max_unavailable")
    @classmethod
    def _whole_count(cls, value: float | None) -> float | None:
        # flyctl machines_deploymachinesapp.go getPoolSize @ ad0172f: 1 and above is a
        # machine count (truncated), below 1 a fraction of the machines.
        if value is not None and value >= 1 and value != int(value):
            raise ValueError("a fraction below 1 or a whole number of machines")
        return value


class HttpService(_Model):
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


class Metrics(_Model):
    port: Port = catalog.DEFAULT_METRICS_PORT
    """Port of the Prometheus endpoint Fly scrapes."""
    path: UrlPath = catalog.DEFAULT_METRICS_PATH
    """Path of the Prometheus endpoint."""


class CacheRules(_Model):
    """Cloudflare caching of Phoenix's static files (proxied mode only)."""

    enabled: bool = True
    """Make the cache rule (it only acts on proxied traffic)."""
    paths: Annotated[list[PathPattern], Field(min_length=1)] = list(catalog.STATIC_PATHS)
    """Paths cached at the edge; `*` at the end matches a prefix."""
    edge_ttl_seconds: Annotated[int, Field(ge=60, le=catalog.STATIC_EDGE_TTL_SECONDS)] = (
        catalog.STATIC_EDGE_TTL_SECONDS
    )
    """How long Cloudflare keeps them, ignoring the origin's headers."""
    ruleset_id: RulesetId | None = None
    """The zone's existing cache-rules entry point, adopted with `pulumi import`."""


class CertificateWait(_Model):
    """After its DNS records exist, each certificate is checked until Fly has issued it."""

    timeout: Duration = "5m"
    """Longest wait per host; Let's Encrypt usually issues within a minute or two."""
    interval: Duration = "10s"
    """Time between checks (each asks Fly to validate again)."""
    on_timeout: Literal["fail", "warn"] = "fail"
    """`fail` stops the update naming the host and the missing record; `warn` carries on."""

    @field_validator("interval")
    @classmethod
    def _interval_below_timeout(cls, interval: str, info: ValidationInfo) -> str:
        timeout = info.data.get("timeout")
        if timeout is not None and _seconds(interval) > _seconds(timeout):
            raise ValueError(f"must be at most timeout ({timeout})")
        return interval

    @property
    def timeout_seconds(self) -> float:
        return float(_seconds(self.timeout))

    @property
    def interval_seconds(self) -> float:
        return float(_seconds(self.interval))


# Cloudflare's Origin CA (pulumi_cloudflare 6.23.1 origin_ca_certificate.py; the
# Terraform provider's internal/services/origin_ca_certificate/schema.go): the validity
# periods it issues, in days (5475, fifteen years, is its default), and its request
# type per key type ("origin-ecc" signs an ECDSA key, "origin-rsa" an RSA one).
ORIGIN_VALIDITY_DAYS = (7, 30, 90, 365, 730, 1095, 5475)
ORIGIN_REQUEST_TYPES: dict[str, str] = {"ecdsa": "origin-ecc", "rsa": "origin-rsa"}
# "Certificates may be generated with up to 200 individual Subject Alternative Names"
# (developers.cloudflare.com/ssl/origin-configuration/origin-ca/, hostname coverage).
ORIGIN_MAX_HOSTNAMES = 200
# The CSR (components/tls.py csr_pem) names the first host as its subject's common name,
# which X.509 bounds at 64 characters (RFC 5280 appendix A, ub-common-name); the
# `cryptography` library refuses a longer one when `up` builds the CSR.
COMMON_NAME_MAX = 64


def _origin_validity(days: int) -> int:
    if days not in ORIGIN_VALIDITY_DAYS:
        raise ValueError(
            "one of the validity periods Cloudflare's Origin CA issues: "
            f"{', '.join(str(d) for d in ORIGIN_VALIDITY_DAYS)} (days)"
        )
    return days


class OriginCertificate(_Model):
    """The Cloudflare Origin CA certificate of `certificate: origin`."""

    validity_days: Annotated[int, AfterValidator(_origin_validity)] = ORIGIN_VALIDITY_DAYS[-1]
    """Days the certificate is valid (Cloudflare's default and longest: 5475, 15 years)."""
    key_type: Literal["ecdsa", "rsa"] = "ecdsa"
    """The key generated in the program: ECDSA P-256 (`origin-ecc`) or RSA 2048 (`origin-rsa`)."""

    @property
    def request_type(self) -> str:
        return ORIGIN_REQUEST_TYPES[self.key_type]


class Domain(_Model):
    """The app's public names, on a Cloudflare zone. Field order matters for checks."""

    zone: DnsName
    """Cloudflare zone name (`webhost.example`)."""
    zone_id: ZoneId | None = None
    """Cloudflare zone id; looked up by name when absent."""
    hosts: Annotated[list[HostName], Field(min_length=1)]
    """Names the app answers on, relative to the zone (`@`, `www`); each gets a certificate.
    The first is the app's PHX_HOST and url, never a wildcard; a wildcard (`*` for
    `*.zone`, `*.eu`) needs `certificate: origin` behind the proxy."""
    proxied: bool
    """Cloudflare's proxy in front (A and AAAA proxied) or DNS only (A and AAAA unproxied)."""
    ipv4: catalog.Ipv4Kind | None = None
    """IPv4 to allocate: `shared` (the default), `dedicated` or `none`."""
    owns_zone: bool = True
    """This stack manages zone-wide SSL/TLS settings, CAA and cache rule (one stack per zone)."""
    cache_rules: CacheRules = CacheRules()
    """Edge caching of static assets."""
    certificate_wait: CertificateWait = CertificateWait()
    """How long `up` waits for each certificate to be issued, and what a timeout does."""
    certificate: Literal["acme", "origin"] = "acme"
    """`acme`: Fly issues Let's Encrypt certificates; `origin`: a Cloudflare Origin CA
    certificate made here is imported into Fly (proxied only)."""
    origin_certificate: OriginCertificate = OriginCertificate()
    """Validity and key type of the Origin CA certificate (`certificate: origin`)."""

    @field_validator("certificate")
    @classmethod
    def _origin_needs_proxy(cls, certificate: str, info: ValidationInfo) -> str:
        # An Origin CA certificate is trusted by Cloudflare's proxy alone, never by a
        # browser: Cloudflare's docs (developers.cloudflare.com/ssl/origin-configuration/
        # origin-ca/) have it only for an origin that "only receives traffic from proxied
        # records"; Fly's guidance imports one only behind the proxy (superfly/docs
        # networking/understanding-cloudflare.html.md, "Using a Cloudflare Origin Certificate").
        if certificate == "origin" and info.data.get("proxied") is False:
            raise ValueError(
                "needs proxied: true; an Origin CA certificate is trusted only by "
                "Cloudflare's proxy, so browsers reaching Fly directly would refuse it"
            )
        return certificate

    @field_validator("hosts")
    @classmethod
    def _hosts_in_zone(cls, hosts: list[str], info: ValidationInfo) -> list[str]:
        zone = info.data.get("zone")
        if zone is None:
            return hosts
        seen: dict[str, str] = {}
        for host in hosts:
            name = _fqdn(zone, host)
            if len(name) > DNS_NAME_MAX:
                raise ValueError(f"{host} makes a name longer than {DNS_NAME_MAX} characters")
            if name != zone and not name.endswith(f".{zone}"):
                raise ValueError(f"{host} is outside the zone {zone}")
            if name in seen:
                raise ValueError(f"{host} names {name}, as {seen[name]} does")
            seen[name] = host
        return hosts

    @model_validator(mode="after")
    def _wildcards_need_origin(self) -> Domain:
        # Fly cannot issue a wildcard through Cloudflare's proxy; its guidance imports
        # an Origin CA certificate instead (superfly/docs networking/
        # understanding-cloudflare.html.md, "wildcard ... cannot be issued
        # automatically"). DNS only, Let's Encrypt wildcards need DNS-01 (superfly/docs
        # networking/custom-domain.html.markerb, "DNS Challenge"), whose record for
        # `*.zone` is `_acme-challenge.zone` (RFC 8555 7.1.3, 8.4): the apex's own
        # challenge name, and not a name Fly's docs or flyctl confirm; refused.
        wild = [h for h in self.hosts if h.startswith("*")]
        if wild and self.certificate != "origin":
            where = "behind the proxy" if self.proxied else "without the proxy"
            raise ValueError(
                f"@hosts: {', '.join(wild)}: a wildcard host {where} needs certificate: "
                "origin (and proxied: true); Fly cannot issue wildcards through Cloudflare's "
                "proxy (superfly/docs networking/understanding-cloudflare)"
            )
        return self

    @model_validator(mode="after")
    def _first_host_is_one_name(self) -> Domain:
        # The first host is where the app is: its PHX_HOST (StackConfig.with_derived_env),
        # the stack's `url` output and the probes' target (components/platform.py).
        # Phoenix builds URLs from PHX_HOST and a `*.` name is no host a probe or a
        # browser can reach.
        if self.hosts[0].startswith("*"):
            raise ValueError(
                f"@hosts: {self.hosts[0]}: the first host is the app's PHX_HOST, the stack's "
                "url and the probes' target, so one concrete name; list a wildcard after it"
            )
        return self

    @model_validator(mode="after")
    def _origin_certificate_takes_the_names(self) -> Domain:
        if self.certificate != "origin":
            return self
        if len(self.hosts) > ORIGIN_MAX_HOSTNAMES:
            raise ValueError(
                f"@hosts: {len(self.hosts)} hosts, over the {ORIGIN_MAX_HOSTNAMES} names "
                "Cloudflare's Origin CA puts in one certificate"
            )
        if len(first := self.fqdns[0]) > COMMON_NAME_MAX:
            raise ValueError(
                f"@hosts: {first} is {len(first)} characters; the certificate request names "
                f"the first host as its common name, at most {COMMON_NAME_MAX} (RFC 5280): "
                "list a shorter host first"
            )
        return self

    @model_validator(mode="after")
    def _cache_rule_fits(self) -> Domain:
        if not (self.proxied and self.cache_rules.enabled):
            return self
        length = len(cache_expression(self.fqdns, list(self.cache_rules.paths)))
        if length > RULE_EXPRESSION_MAX:
            raise ValueError(
                f"@cacheRules.paths: the cache rule's expression for {len(self.hosts)} hosts "
                f"and these paths is {length} characters, over the {RULE_EXPRESSION_MAX} "
                "Cloudflare takes; fewer hosts or paths, or cacheRules.enabled: false"
            )
        return self

    @property
    def fqdns(self) -> list[str]:
        """Each host's fully qualified name (no trailing dot), in config order."""
        return [_fqdn(self.zone, host) for host in self.hosts]

    @property
    def ipv4_kind(self) -> catalog.Ipv4Kind:
        """Fly's guidance has an A record in both modes (superfly/docs
        networking/understanding-cloudflare.html.md @ 5c22c8c): a free shared IPv4."""
        return "shared" if self.ipv4 is None else self.ipv4


def _fqdn(zone: str, host: str) -> str:
    if host == "@":
        return zone
    if host.endswith("."):
        return host.removesuffix(".")
    return f"{host}.{zone}"


# Our own sanity bound, not Fly's: a backup period past ten years is a typo.
PERIOD_MAX_HOURS = 87_600


def _period_bound(period: str) -> str:
    if _hours(period) > PERIOD_MAX_HOURS:
        raise ValueError(f"at most {PERIOD_MAX_HOURS}h ({PERIOD_MAX_HOURS // 24}d)")
    return period


Period = Annotated[
    str,
    _matches(r"[1-9][0-9]{0,5}[hd]", "a period in hours or days such as 24h or 7d"),
    AfterValidator(_period_bound),
]
SqlName = Annotated[
    str, _matches(r"[a-z][a-z0-9_-]{0,62}", "a lowercase Postgres name such as uuid-ossp")
]
_DATABASE_NAME = r"[a-z_][a-z0-9_]{0,62}"
DatabaseName = Annotated[
    str, _matches(_DATABASE_NAME, "a lowercase Postgres identifier such as webhost")
]
PlanName = Annotated[str, _matches(r"[A-Za-z0-9][A-Za-z0-9 .-]{0,62}", "an Upstash plan name")]


# A Fly app's name is a DNS label: the app answers at <name>.fly.dev and, on the
# private network, <name>.internal (superfly/docs networking/private-networking.html.md
# @ 5c22c8c, "Fly.io `.internal` DNS"), and RFC 1035 section 2.3.4 bounds a label at 63
# octets. AppName takes no more.
APP_NAME_MAX = 63


def _derived_app_name_problem(name: str, section: str) -> str | None:
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
    duration (time.ParseDuration, read by _duration_ns above), or under one hour. Ten
    years is our own bound, as for the other periods."""
    rule = "a Go duration of at least 1h such as 24h or 12h30m (units h, m, s, ms, us, ns)"
    try:
        ns = _duration_ns(value)
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


def _unique_regions(regions: list[str]) -> list[str]:
    if duplicated := sorted({r for r in regions if regions.count(r) > 1}):
        raise ValueError(f"{', '.join(duplicated)} listed twice")
    return regions


class RestoreDrill(_Model):
    """What the last restore drill measured, as the drill writes it
    (`pulumi config set --path webhost:postgres.backups.lastDrill.<key>`); the
    `backups` policy judges these figures over the declared schedule."""

    date: date
    """Day the drill restored a backup into a new cluster (YYYY-MM-DD)."""
    recovery_point_minutes: Annotated[int, Field(ge=0, le=PERIOD_MAX_HOURS * 60)]
    """Data lost: minutes between the restore target and the newest write the restore held."""
    restore_minutes: Annotated[int, Field(ge=0, le=PERIOD_MAX_HOURS * 60)]
    """Minutes from starting the restore to a cluster that answered queries."""


class Backups(_Model):
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
        if frequency is not None and _hours(rpo) * _HOUR_NS < _duration_ns(frequency):
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


class Restore(_Model):
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


class Postgres(_Model):
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
    replica_regions: Annotated[list[Region], AfterValidator(_unique_regions)] = []
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


class Redis(_Model):
    """Upstash Redis with replica regions."""

    name: AppName | None = None
    """Upstash database name; `<appName>-redis` when absent."""
    primary_region: Region | None = None
    """Primary region; the stack's primaryRegion when absent (fixed after creation)."""
    replica_regions: Annotated[list[Region], AfterValidator(_unique_regions)] = []
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


# Grafana's root URL (pulumiverse_grafana 2.44.0 provider.py, `url`: "The root URL of a
# Grafana server"): https only, since the provider sends its token to it.
GrafanaUrl = Annotated[
    str,
    _matches(
        r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?",
        "an https URL such as https://webhost.grafana.net",
    ),
]
ContactName = Annotated[
    str, _matches(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}", "1..64 letters, digits, spaces, . _ -")
]
ProbeName = Annotated[str, _matches(r"[A-Za-z][A-Za-z0-9]{0,39}", "a probe name such as Frankfurt")]


class ContactPoint(_Model):
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


class Monitoring(_Model):
    """Grafana watching the runbook's targets (components/monitoring).

    The Grafana token comes from GRAFANA_AUTH (and GRAFANA_SM_ACCESS_TOKEN for the
    probes), the data source's read-only Fly token from FLY_METRICS_TOKEN: never here.
    """

    url: GrafanaUrl
    """Grafana to manage (its token: GRAFANA_AUTH in the environment)."""
    folder: Annotated[
        str, _matches(r"[!-~][ -~]{0,99}", "1..100 printable characters, such as WebHost")
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


DERIVED_ENV_NAMES: frozenset[str] = frozenset({"PORT", "REGIONS", "POOL_SIZE"})
# What Fly's Phoenix launcher writes into rel/env.sh.eex (flyctl scanner/phoenix.go
# PhoenixCallback @ ad0172f), rendered into [env] instead, plus the shared cookie. What
# the release does with them: README.md, "The app contract".
CLUSTER_ENV_NAMES: frozenset[str] = frozenset(
    {"DNS_CLUSTER_QUERY", "ERL_AFLAGS", "ECTO_IPV6", "RELEASE_COOKIE"}
)
_CLUSTER_RULE = (
    "is derived for clustering (DNS_CLUSTER_QUERY from appName, ERL_AFLAGS and ECTO_IPV6 "
    "for Fly's IPv6 network, RELEASE_COOKIE generated once); the program sets it"
)


def _plain_env_name(name: str) -> str:
    if name in CLUSTER_ENV_NAMES:
        raise ValueError(_CLUSTER_RULE)
    if name in catalog.SECRET_ENV_NAMES:
        raise ValueError("is a secret: the program sets it through Fly secrets, never plain env")
    if name in DERIVED_ENV_NAMES:
        raise ValueError(
            "is derived (PORT from http.internalPort, REGIONS from regions, "
            "POOL_SIZE from postgres.poolSize)"
        )
    return name


def _app_secret_name(name: str) -> str:
    if name in CLUSTER_ENV_NAMES:
        raise ValueError(_CLUSTER_RULE)
    if name in catalog.GENERATED_SECRETS:
        raise ValueError("the program generates this secret; pick another name")
    if name in catalog.DATA_SECRETS:
        raise ValueError("the data tier sets this secret (webhost:postgres, webhost:redis)")
    if name in catalog.OPERATOR_SECRETS.values():
        key = next(k for k, v in catalog.OPERATOR_SECRETS.items() if v == name)
        raise ValueError(f"set by webhost:{key}; set one or the other")
    if name in DERIVED_ENV_NAMES or name == "PHX_HOST":
        raise ValueError("a plain env name the program sets (PHX_HOST, PORT, REGIONS, POOL_SIZE)")
    return name


class StackConfig(_Model):
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
    env: dict[Annotated[EnvName, AfterValidator(_plain_env_name)], str] = {}
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
    secrets: dict[Annotated[EnvName, AfterValidator(_app_secret_name)], SecretStr] = {}
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
    def _postgres_fits(cls, pg: Postgres | None, info: ValidationInfo) -> Postgres | None:
        regions, primary = info.data.get("regions"), info.data.get("primary_region")
        if pg is None or regions is None or primary is None:
            return pg
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
        return pg

    @field_validator("postgres")
    @classmethod
    def _derived_postgres_names(cls, pg: Postgres | None, info: ValidationInfo) -> Postgres | None:
        app = info.data.get("app_name")
        if pg is None or app is None:
            return pg
        if pg.name == app:
            # "App names are unique across the Fly.io platform" (superfly/docs blueprints/
            # staging-prod-isolation.html.md @ 5c22c8c): the create would find it taken
            # (flyctl test/preflight/fly_postgres_test.go, "Name has already been taken").
            raise ValueError(
                "@name: the app's own name; Fly app names are unique, so the cluster needs another"
            )
        if pg.name is None and (problem := _derived_app_name_problem(f"{app}-db", "postgres")):
            raise ValueError(f"@name: {problem}")
        database = app.replace("-", "_")
        if pg.database is None and not re.fullmatch(_DATABASE_NAME, database):
            # PostgreSQL's docs (sql-syntax-lexical, "Identifiers and Key Words"): an
            # unquoted identifier begins with a letter or an underscore.
            raise ValueError(
                f"@database: unset, so {database} (appName with _), which does not start "
                "with a letter or _ as a Postgres identifier must; set postgres.database"
            )
        return pg

    @field_validator("postgres")
    @classmethod
    def _clusters(cls, pg: Postgres | None, info: ValidationInfo) -> Postgres | None:
        """The clusters side by side: the first (postgres.name) and each restore, each
        from one before it; one active, never a retired one."""
        app = info.data.get("app_name")
        if pg is None or app is None:
            return pg
        known = [pg.name or f"{app}-db"]
        for i, restore in enumerate(pg.restores):
            if restore.name in known or restore.name == app:
                raise ValueError(
                    f"@restores.{i}.name: {restore.name} is already a cluster or the app"
                )
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
            raise ValueError(
                f"@active: {pg.active} is not one of the clusters ({', '.join(known)})"
            )
        if (pg.active or known[0]) in pg.retired:
            raise ValueError(
                f"@active: {pg.active or known[0]} is retired; make another cluster active first"
            )
        return pg

    @field_validator("redis")
    @classmethod
    def _derived_redis_name(cls, redis: Redis | None, info: ValidationInfo) -> Redis | None:
        app = info.data.get("app_name")
        if (
            redis is not None
            and redis.name is None
            and app is not None
            and (problem := _derived_app_name_problem(f"{app}-redis", "redis"))
        ):
            raise ValueError(f"@name: {problem}")
        return redis

    @field_validator("monitoring")
    @classmethod
    def _probes_fit_grafana(cls, monitoring: Monitoring | None) -> Monitoring | None:
        # Grafana's synthetic monitoring API bounds an HTTP check's timeout at 1 min and
        # at its frequency (catalog.SM_TIMEOUT_MS); the timeout is derived from the p95.
        if monitoring is None or not monitoring.synthetic:
            return monitoring
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
        return monitoring

    @field_validator("redis")
    @classmethod
    def _redis_regions(cls, redis: Redis | None, info: ValidationInfo) -> Redis | None:
        primary = info.data.get("primary_region")
        if redis is not None and (redis.primary_region or primary) in redis.replica_regions:
            raise ValueError("@replicaRegions: the primary region is not a replica")
        return redis

    @property
    def postgres_name(self) -> str | None:
        if self.postgres is None:
            return None
        return self.postgres.name or f"{self.app_name}-db"

    @property
    def postgres_clusters(self) -> list[str]:
        """Every cluster of the stack, the first (postgres.name) first."""
        if self.postgres is None or self.postgres_name is None:
            return []
        return [self.postgres_name, *(r.name for r in self.postgres.restores)]

    @property
    def postgres_active(self) -> str | None:
        """The cluster the app uses."""
        if self.postgres is None:
            return None
        return self.postgres.active or self.postgres_name

    @property
    def database_name(self) -> str | None:
        if self.postgres is None:
            return None
        return self.postgres.database or self.app_name.replace("-", "_")

    @property
    def redis_name(self) -> str | None:
        if self.redis is None:
            return None
        return self.redis.name or f"{self.app_name}-redis"

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
        return {name for name, f in cls.model_fields.items() if _holds_secret(f.annotation)}

    @classmethod
    def secret_fields(cls) -> set[str]:
        """Config keys (aliases) of the operator secrets."""
        return {cls.model_fields[n].alias or n for n in cls.secret_field_names()}


def _holds_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_holds_secret(arg) for arg in typing.get_args(annotation))


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


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys valid at `loc` (the path of an unknown key's parent)."""
    model: type[BaseModel] = StackConfig
    for part in loc:
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        annotation = field.annotation if field else None
        # An optional section (`Domain | None`) is the model inside.
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            annotation = members[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [f.alias or n for n, f in model.model_fields.items()]


_SCALAR_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|true|false")
_SUBPATH = re.compile(r"@([A-Za-z0-9.]+): ")
_SHOWN_MAX = 120  # one line stays one line, whatever was pasted into a value


def _render_value(value: Any) -> str:
    if isinstance(value, str) and _SCALAR_TEXT.fullmatch(value) and len(value) <= _SHOWN_MAX:
        return value  # a number or boolean as Pulumi passes it: text, shown as written
    try:
        shown = json.dumps(value, sort_keys=True, default=str)
    except (ValueError, RecursionError):
        return "(a value too large to show)"
    return shown if len(shown) <= _SHOWN_MAX else f"{shown[: _SHOWN_MAX - 3]}..."


def _key_text(part: int | str) -> str:
    """A key as it can be printed: control characters and the like escaped, never raw."""
    text = str(part)
    return text if text.isprintable() else json.dumps(text)


def _path(loc: Collection[int | str]) -> str:
    return f"{NAMESPACE}:{'.'.join(_key_text(p) for p in loc)}"


def _leaves(value: Any) -> list[str]:
    """Every scalar under `value` as text: what must not appear in a secret key's line."""
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None else [str(value)]


def _problem(error: Mapping[str, Any], raw: Mapping[str, Any], secret_tops: Collection[str]) -> str:
    loc = tuple(part for part in error["loc"] if part != "[key]")
    path = _path(loc)
    kind = error["type"]
    if kind == "missing":
        return f"{path}: required, not set"
    value: Any = raw
    for part in loc:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            value = None
    is_key = error["loc"][-1:] == ("[key]",)
    if is_key:
        value = loc[-1]
    # A check across the whole model (loc empty) names its key with `@key: ` below.
    secret = bool(loc) and str(loc[0]) in secret_tops
    # A key's name is never a secret; everything under a secret key is.
    shown = _render_value(value) if is_key or not secret else SECRET_PLACEHOLDER
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(str(loc[-1]), _allowed_keys(loc[:-1]), n=1)
        rule = f"unknown key (did you mean {hint[0]}?)" if hint else "unknown key"
        return f"{path} = {shown}: {rule}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not is_key and (sub := _SUBPATH.match(message)):
        # A check across fields raised on the section names the key inside it at fault.
        for part in sub.group(1).split("."):
            loc, value = (*loc, part), value.get(part) if isinstance(value, Mapping) else None
        path, message = _path(loc), message[sub.end() :]
        shown = _render_value(value) if not secret else SECRET_PLACEHOLDER
    if secret and any(leaf and leaf in message for leaf in _leaves(raw.get(str(loc[0])))):
        # A rule that quotes its input (a hint, a name) would quote the secret.
        message = "not valid (the rule quotes the value, which is secret)"
    return f"{path} = {shown}: {message}"


SecurePath = tuple[int | str, ...]


def _secure_under(key: str, secure_paths: Collection[SecurePath]) -> list[SecurePath]:
    return sorted((p for p in secure_paths if p[:1] == (key,)), key=str)


def _secret_problems(
    values: Mapping[str, Any],
    secret_keys: Collection[str],
    secure_paths: Collection[SecurePath] | None,
) -> tuple[list[str], set[str]]:
    """Lines for secure values where plain ones belong and the reverse; and the keys at fault.

    `secure_paths` (full key first, then the path inside its value) says which values
    the stack file encrypts; None when only the top-level secret keys are known, as
    under the engine, which decrypts before the program runs.
    """
    prefix = f"{NAMESPACE}:"
    problems: list[str] = []
    refused: set[str] = set()
    secret_map = StackConfig.model_fields["secrets"].alias or "secrets"
    scalars = StackConfig.secret_fields() - {secret_map}
    for key, value in values.items():
        full = f"{prefix}{key}"
        if key in scalars:
            if full not in secret_keys:
                problems.append(
                    f"{_path([key])}: is a secret; "
                    f"set it with `pulumi config set --secret {full} <value>`"
                )
                refused.add(key)
        elif key == secret_map:
            names = list(value) if isinstance(value, Mapping) else []
            encrypted = (
                {p[1] for p in _secure_under(full, secure_paths) if len(p) == 2}
                if secure_paths is not None
                else (set(names) if full in secret_keys else set())
            )
            for name in names:
                if name not in encrypted:
                    problems.append(
                        f"{_path([key, name])}: not encrypted, so it sits in the stack file "
                        f"in plain text; set it with `pulumi config set --secret --path "
                        f"'{full}.{name}' <value>`"
                    )
                    refused.add(key)
            if not isinstance(value, Mapping) and full not in secret_keys:
                problems.append(
                    f"{_path([key])}: a map of names to secure values; set each with "
                    f"`pulumi config set --secret --path '{full}.NAME' <value>`"
                )
                refused.add(key)
        elif key == _MONITORING:
            found = _monitoring_secret_problems(full, value, secret_keys, secure_paths)
            problems += found
            if found:
                refused.add(key)
        elif full in secret_keys:
            refused.add(key)
            where = _secure_under(full, secure_paths or ())
            paths = [_path([key, *p[1:]]) for p in where] or [_path([key])]
            if key == "env":
                problems += [
                    f"{p}: a secure value in plain env, which fly.toml and every machine "
                    "carry in the clear; move it to webhost:secrets (`pulumi config set "
                    "--secret --path 'webhost:secrets.NAME' <value>`)"
                    for p in paths
                ]
            else:
                problems += [
                    f"{p}: a secure value, but this key is plain config that reaches "
                    "resource inputs in the clear; set it without --secret"
                    for p in paths
                ]
    return problems, refused


_MONITORING = "monitoring"


def _config_path(loc: SecurePath) -> str:
    """A key path as `pulumi config set --path` spells it (`a.b[0].c`)."""
    text = f"{NAMESPACE}:{loc[0]}"
    for part in loc[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


_CONTACT_SECRETS = frozenset({"url", "addresses"})


def _monitoring_secret_problems(
    full: str,
    value: Any,
    secret_keys: Collection[str],
    secure_paths: Collection[SecurePath] | None,
) -> list[str]:
    """webhost:monitoring is plain config but for its contact points' url and addresses.

    Setting one with `--secret --path` marks the whole key secret, so under the engine
    (which decrypts before the program runs) only the stack file says which paths are
    encrypted: offline each is checked, under the engine a secret key is trusted.
    """
    points = value.get("contactPoints") if isinstance(value, Mapping) else None
    wanted: set[SecurePath] = {
        (_MONITORING, "contactPoints", i, field)
        for i, point in enumerate(points if isinstance(points, list) else [])
        if isinstance(point, Mapping)
        for field in _CONTACT_SECRETS
        if point.get(field) is not None
    }
    if secure_paths is None:
        encrypted = wanted if full in secret_keys else set()
        stray: list[SecurePath] = []
    else:
        found = {(_MONITORING, *p[1:]) for p in _secure_under(full, secure_paths)}
        encrypted = found & wanted
        stray = sorted(found - wanted, key=str)
    problems = [
        f"{_path(p)}: not encrypted, so it sits in the stack file in plain text; set it "
        f"with `pulumi config set --secret --path '{_config_path(p)}' <value>`"
        for p in sorted(wanted - encrypted, key=str)
    ]
    problems += [
        f"{_path(p)}: a secure value, but this key is plain config that reaches resource "
        "inputs in the clear; set it without --secret"
        for p in stray
    ]
    return problems


def _collisions(values: Mapping[str, Any]) -> list[str]:
    """A webhost:secrets name also in webhost:env: the app would get one of the two."""
    env, secrets = values.get("env"), values.get("secrets")
    if not isinstance(env, Mapping) or not isinstance(secrets, Mapping):
        return []
    return [
        f"{_path(['secrets', name])}: also set in webhost:env; an app variable is either "
        "plain or secret"
        for name in secrets
        if name in env
    ]


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
    problems, refused = _secret_problems(values, secret_keys, secure_paths)
    problems += _collisions(values)
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        problems += [
            _problem(e, values, secret_tops)
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
