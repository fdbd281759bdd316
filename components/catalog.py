"""Facts about Fly.io and WebHost's tiers, each stated once.

Everything that validates a size, a region or a tier reads it from here: the
config model, the components and the policy pack. Sources: Fly's machine sizing
guide (fly.io/docs/machines/guides-examples/machine-sizing), `fly platform
regions`, and the runbook this program replaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

CpuKind = Literal["shared", "performance"]
Tier = Literal["starter", "professional", "business"]
DeployStrategy = Literal["rolling", "bluegreen", "canary", "immediate"]

# Fly's public regions after the 2025 consolidation. A retired code (sea, mia,
# ...) is rejected: Fly no longer places new machines there.
REGIONS: Final[dict[str, str]] = {
    "ams": "Amsterdam, Netherlands",
    "arn": "Stockholm, Sweden",
    "bom": "Mumbai, India",
    "cdg": "Paris, France",
    "dfw": "Dallas, Texas (US)",
    "ewr": "Secaucus, NJ (US)",
    "fra": "Frankfurt, Germany",
    "gru": "Sao Paulo, Brazil",
    "iad": "Ashburn, Virginia (US)",
    "jnb": "Johannesburg, South Africa",
    "lax": "Los Angeles, California (US)",
    "lhr": "London, United Kingdom",
    "nrt": "Tokyo, Japan",
    "ord": "Chicago, Illinois (US)",
    "sin": "Singapore",
    "sjc": "San Jose, California (US)",
    "syd": "Sydney, Australia",
    "yyz": "Toronto, Canada",
}

# Fly's VM size rules. fly-go's presets are the sizes Fly names (`shared-cpu-Nx`,
# `performance-Nx`); flyctl's machine update checks memory against them.
#   fly-go: superfly/fly-go machine_types.go @ 22d6e518f42d (MachinePresets,
#     MIN_/MAX_MEMORY_MB_PER_SHARED_CPU, MIN_/MAX_MEMORY_MB_PER_CPU)
#   flyctl: superfly/flyctl internal/machine/update.go @ ad0172face30 (cpusPerKind,
#     the memory increment per kind, the per-CPU min/max)
# flyctl's update also accepts performance 32/64/128 CPUs, but fly-go has no preset
# for them (fly.toml's `size` cannot name them): we offer what the presets offer.
CPU_COUNTS: Final[dict[CpuKind, tuple[int, ...]]] = {
    # fly-go MachinePresets: shared-cpu-1x, -2x, -4x, -6x, -8x
    "shared": (1, 2, 4, 6, 8),
    # fly-go MachinePresets: performance-1x .. -16x in even steps after 2
    "performance": (1, 2, 4, 6, 8, 10, 12, 14, 16),
}

# Memory increment per kind (flyctl update.go: `MemoryMB%256` for shared,
# `MemoryMB%1024` for performance; its suggestion text says "MiB increment").
MEMORY_STEP_MB: Final[dict[CpuKind, int]] = {"shared": 256, "performance": 1024}

# Memory allowed per CPU, in MB, inclusive (fly-go machine_types.go constants:
# MIN_MEMORY_MB_PER_SHARED_CPU 256, MAX_MEMORY_MB_PER_SHARED_CPU 2048,
# MIN_MEMORY_MB_PER_CPU 2048, MAX_MEMORY_MB_PER_CPU 8192).
MEMORY_PER_CPU_MB: Final[dict[CpuKind, tuple[int, int]]] = {
    "shared": (256, 2048),
    "performance": (2048, 8192),
}


# Secrets the program generates for the Phoenix app, with the lengths the
# runbook asked `mix phx.gen.secret` for.
GENERATED_SECRETS: Final[dict[str, int]] = {
    "SECRET_KEY_BASE": 64,
    "LIVE_VIEW_SIGNING_SALT": 32,
    "TOKEN_SIGNING_SECRET": 64,
    # One Erlang cookie for every image: nodes of two deploys cluster only when it
    # matches. 56 letters and digits, the length of the cookie Elixir's own release
    # generates (elixir-lang/elixir lib/mix/lib/mix/release.ex random_cookie:
    # Base.url_encode64 of 40 bytes); letters and digits need no quoting in an atom.
    "RELEASE_COOKIE": 56,
}

# Operator-provided secrets: stack config key -> app environment name.
OPERATOR_SECRETS: Final[dict[str, str]] = {
    "stripeSecretKey": "STRIPE_SECRET_KEY",
    "stripeWebhookSecret": "STRIPE_WEBHOOK_SECRET",
}

# Names the data tier wires in as secrets.
DATA_SECRETS: Final[tuple[str, ...]] = ("DATABASE_URL", "DATABASE_READ_URL", "REDIS_URL")

# Environment names that only ever reach the app as Fly secrets; putting one in
# plain `webhost:env` (as the runbook's fly.toml did) would publish it.
SECRET_ENV_NAMES: Final[frozenset[str]] = frozenset(
    [*GENERATED_SECRETS, *OPERATOR_SECRETS.values(), *DATA_SECRETS]
)

# The app's Prometheus endpoint, scraped by Fly's managed Prometheus; the image serves
# it (README.md, "The app contract"; `webhost-infra preflight` checks the image exposes it).
DEFAULT_METRICS_PORT: Final = 9091
DEFAULT_METRICS_PATH: Final = "/metrics"

# What flyctl's fly.toml validation says of check durations (superfly/flyctl
# internal/appconfig/validation.go @ ad0172f). A service check's interval, timeout and
# grace period (`http_service.checks`) below 1 second are raised to 1 second and above
# 1 minute lowered to 1 minute, with a warning: a check other than the one configured
# (validateSingleServiceCheckDuration). A top-level `[checks]` entry is refused with an
# interval under 2 seconds ("minimum interval in flaps") or a timeout over 60 seconds
# (validateChecksSection).
SERVICE_CHECK_SECONDS: Final = (1, 60)
TOP_CHECK_MIN_INTERVAL_SECONDS: Final = 2
TOP_CHECK_MAX_TIMEOUT_SECONDS: Final = 60


def cpu_count_problem(kind: CpuKind, cpus: int) -> str | None:
    """Why `cpus` is not a CPU count Fly offers for `kind`, or None."""
    allowed = CPU_COUNTS[kind]
    if cpus in allowed:
        return None
    return f"{kind} VMs come with {', '.join(map(str, allowed))} CPUs"


def memory_problem(kind: CpuKind, cpus: int, memory_mb: int) -> str | None:
    """Why `memory_mb` is not valid for `cpus` CPUs of `kind`, or None."""
    step = MEMORY_STEP_MB[kind]
    if memory_mb % step:
        return f"{kind} VMs take memory in multiples of {step} MB"
    low, high = MEMORY_PER_CPU_MB[kind]
    if low * cpus <= memory_mb <= high * cpus:
        return None
    return (
        f"{kind} VMs take {low}..{high} MB per CPU, "
        f"so {low * cpus}..{high * cpus} MB for {cpus} CPU{'s' if cpus > 1 else ''}"
    )


def vm_problems(kind: CpuKind, cpus: int, memory_mb: int) -> dict[str, str]:
    """Every rule a VM size breaks, keyed by the field at fault (cpus, memoryMb)."""
    problems: dict[str, str] = {}
    if (cpu := cpu_count_problem(kind, cpus)) is not None:
        problems["cpus"] = cpu
        return problems
    if (mem := memory_problem(kind, cpus, memory_mb)) is not None:
        problems["memoryMb"] = mem
    return problems


# -- the edge: Cloudflare in front of Fly ------------------------------------------

Ipv4Kind = Literal["shared", "dedicated", "none"]

# Fly's IP assignment types (Machines API `ip_assignments`).
IP_TYPES: Final[dict[str, str]] = {"v6": "v6", "shared": "shared_v4", "dedicated": "v4"}

# Zone-wide settings an owned zone gets, per Fly's Cloudflare guidance: Cloudflare
# verifies Fly's certificate (Full strict), and never serves plain HTTP.
ZONE_SETTINGS: Final[dict[str, str]] = {
    "ssl": "strict",
    "always_use_https": "on",
    "min_tls_version": "1.2",
}

# Fly issues certificates with Let's Encrypt; a CAA record must allow it.
CAA_ISSUER: Final = "letsencrypt.org"

# What a long edge TTL is safe for: URLs that change when the content does. `mix
# phx.digest` writes `<name>-<digest>.<ext>` beside each file of priv/static and
# keeps the original (hexdocs.pm/phoenix Mix.Tasks.Phx.Digest, 1.8.3); pages reach
# the digested name through `~p`/static_path, which Phoenix's generated layout uses
# for the esbuild and tailwind output under /assets. /favicon.ico, /robots.txt and
# images named in CSS or HTML by hand are fetched by their plain, reused names.
# `*` at the end matches a prefix.
STATIC_PATHS: Final[tuple[str, ...]] = ("/assets/*",)
STATIC_EDGE_TTL_SECONDS: Final = 31_536_000  # one year


# -- the data tier -----------------------------------------------------------------

# Unmanaged Postgres Flex with TimescaleDB (and PostGIS): Fly's own image, built
# from fly-apps/postgres-flex's Dockerfile-timescaledb.
POSTGRES_IMAGE: Final = "flyio/postgres-flex-timescaledb:16"
POSTGRES_EXTENSIONS: Final[tuple[str, ...]] = ("timescaledb", "postgis", "uuid-ossp")
# Writes go through the cluster's proxy to the primary (the attach's URL, 5432);
# reads go straight to the nearest member (a replica in a replica region).
POSTGRES_READ_PORT: Final = 5433
# The runbook's `ALTER SYSTEM SET max_connections = 200` and POOL_SIZE 10.
POSTGRES_MAX_CONNECTIONS: Final = 200
POSTGRES_POOL_SIZE: Final = 10
# Connections the app may not take: superuser slots, repmgr, monitoring, humans.
POSTGRES_RESERVED_CONNECTIONS: Final = 10
# flyctl refuses to enable or take backups on smaller members.
BACKUP_MIN_MEMORY_MB: Final = 512
# Postgres Flex keeps its WAL archive settings in this app secret (flyctl's
# `postgres backup enable` sets it); its presence means backups are on.
BACKUP_SECRET: Final = "S3_ARCHIVE_CONFIG"  # noqa: S105 - a name, not a value
# Ours: a staged app secret on the cluster while a backup settings change awaits the
# restart that puts it in force (postgres-flex reads them at start only); its value
# is "1", never a credential.
BACKUP_RESTART_MARKER: Final = "WEBHOST_BACKUP_RESTART_PENDING"

REDIS_DEFAULT_PLAN: Final = "Pay-as-you-go"


# -- tiers: sizing, capacity, prices -------------------------------------------------


@dataclass(frozen=True)
class TierSizing:
    """What an app machine of a tier must be, and how many a stack needs."""

    cpu_kind: CpuKind
    min_cpus: int
    min_memory_mb: int
    min_machines: int  # across all regions
    min_primary_machines: int  # in the primary region


# The runbook's scaling section, translated into sizes Fly offers.
TIER_SIZING: Final[dict[Tier, TierSizing]] = {
    "starter": TierSizing("shared", 1, 256, 1, 1),
    "professional": TierSizing("performance", 2, 4096, 2, 1),
    "business": TierSizing("performance", 4, 8192, 3, 3),
}

# Customers one app machine hosts, from the runbook's benchmarks.
CUSTOMERS_PER_MACHINE: Final[dict[Tier, int]] = {
    "starter": 50,
    "professional": 100,
    "business": 25,
}

# The proxy limits those densities were measured at: the runbook's [http_service]
# concurrency (components/config/app.py Concurrency defaults, soft 750 / hard 1000). A
# machine whose limit is lower takes proportionally fewer customers: Fly's proxy
# prefers other machines at soft_limit and sends nothing past hard_limit
# (superfly/docs reference/configuration.html.markerb @ 5c22c8c, "concurrency"; an
# unset soft_limit is 20, an unset hard_limit none). Our assumption: a customer's
# load counts the same whether the limit counts connections or requests.
DENSITY_SOFT_LIMIT: Final = 750
UNSET_SOFT_LIMIT: Final = 20

# Monthly price per customer.
TIER_PRICE_USD: Final[dict[Tier, float]] = {
    "starter": 49.0,
    "professional": 149.0,
    "business": 399.0,
}

# The runbook promises 85-92% margins: the floor.
MIN_MARGIN: Final = 0.85

# Fly list prices per month (fly.io/docs/about/pricing, as read 2026-11): a CPU
# comes with some memory, more memory is billed per GB. Region surcharges and
# bandwidth are left out: an estimate, not an invoice.
CPU_PRICE_USD: Final[dict[CpuKind, float]] = {"shared": 1.94, "performance": 31.00}
INCLUDED_MEMORY_MB: Final[dict[CpuKind, int]] = {"shared": 256, "performance": 2048}
MEMORY_PRICE_USD_PER_GB: Final = 5.00
VOLUME_PRICE_USD_PER_GB: Final = 0.15
DEDICATED_IPV4_PRICE_USD: Final = 2.00  # a shared IPv4 and IPv6 are free
# Upstash Redis on Fly, the plans Fly offers and their prices (superfly/docs
# upstash/redis.html.md @ 5c22c8c, "Pricing"): pay-as-you-go is billed per request,
# $0.20 per 100k; a fixed plan is a monthly base price plus a price per read region
# (each replica region; the primary is in the base).
REDIS_PAYG_PLAN: Final = REDIS_DEFAULT_PLAN
REDIS_PAYG_USD_PER_100K_REQUESTS: Final = 0.20
REDIS_FIXED_PLANS_USD: Final[dict[str, tuple[float, float]]] = {
    # plan: (base, per read region)
    "Fixed 250MB": (10.0, 5.0),
    "Fixed 1GB": (20.0, 10.0),
    "Fixed 5GB": (100.0, 50.0),
    "Fixed 10GB": (200.0, 100.0),
    "Fixed 50GB": (400.0, 200.0),
}
REDIS_PLANS: Final[tuple[str, ...]] = (REDIS_PAYG_PLAN, *REDIS_FIXED_PLANS_USD)

# Usage-billed items the stack creates and what they cost. An item whose volume the
# config cannot know is listed as not estimated (components/cost.py), never as $0.
#
# Volume snapshots (superfly/docs about/pricing.html.markerb @ 5c22c8c, "Volume
# Snapshots"): $0.08 per GB-month of stored snapshot data, the first 10 GB each month
# free; automatic daily snapshots with 5 days' retention are on by default for new
# volumes (flyctl's `postgres create` asks for neither AutoBackupEnabled nor a
# retention, so the cluster's volumes take the default: superfly/flyctl
# flypg/launcher.go @ ad0172f, its CreateVolumeRequest); billed on what is
# stored, incrementally, not on the provisioned size: the data written decides it.
SNAPSHOT_PRICE_USD_PER_GB: Final = 0.08
SNAPSHOT_FREE_GB: Final = 10
SNAPSHOT_RETENTION_DAYS: Final = 5
SNAPSHOT_SOURCE: Final = "superfly/docs about/pricing.html.markerb @ 5c22c8c"
# Tigris, where backups go (flyctl's `postgres backup enable` makes the bucket): Fly
# bills its usage at Tigris's list prices (superfly/docs tigris/index.html.markerb
# @ 5c22c8c, "Pricing and Billing", which links www.tigrisdata.com/docs/pricing/):
# standard storage $0.02 per GB-month past 5 GB free, class A requests (PUT, COPY,
# POST, LIST) $0.005 per 1000 past 10,000 free, class B (GET and the rest) $0.0005 per
# 1000 past 100,000 free, egress free. The base backups and WAL stored follow the
# data and its write rate.
TIGRIS_STORAGE_USD_PER_GB: Final = 0.02
TIGRIS_FREE_GB: Final = 5
TIGRIS_CLASS_A_USD_PER_1000: Final = 0.005
TIGRIS_CLASS_B_USD_PER_1000: Final = 0.0005
TIGRIS_SOURCE: Final = "www.tigrisdata.com/docs/pricing (linked from superfly/docs tigris/)"
# Outbound data transfer (superfly/docs about/pricing.html.markerb @ 5c22c8c, "Data
# transfer pricing"): per GB leaving for the internet, by region group, from $0.02
# (North America, Europe) and $0.04 (Asia Pacific, Oceania, South America) to $0.12
# (Africa, India); inbound is free. Traffic decides it.
EGRESS_USD_PER_GB: Final = (0.02, 0.12)
EGRESS_SOURCE: Final = SNAPSHOT_SOURCE
# Fly's managed certificates (same page, "Managed SSL certificates"): $0.10 a month per
# single-hostname certificate ($1 a wildcard, which the config lets only `certificate:
# origin` have); an organization's first 10 single-hostname certificates are free, an
# allowance shared by every app of the org, so the estimate prices each at list (a
# ceiling). An imported (`certificate: origin`) certificate is not one Fly manages.
CERTIFICATE_PRICE_USD: Final = 0.10
# Grafana Cloud synthetic monitoring is metered in test executions: probes x checks x
# minutes per execution (rounded up) x 43,200 / frequency in minutes, a 30-day month
# (grafana.com/docs/grafana-cloud/cost-management-and-billing/understand-your-invoice/
# synthetic-monitoring-invoice/). The price per execution is on Grafana's pricing page,
# in no source read here: the executions are counted, never priced.
SM_MINUTES_PER_MONTH: Final = 43_200
SM_EXECUTIONS_SOURCE: Final = (
    "grafana.com/docs/grafana-cloud/cost-management-and-billing/understand-your-invoice/"
    "synthetic-monitoring-invoice"
)


def machine_price(kind: CpuKind, cpus: int, memory_mb: int) -> float:
    """Monthly list price of one machine of this size."""
    extra_mb = max(0, memory_mb - INCLUDED_MEMORY_MB[kind] * cpus)
    return CPU_PRICE_USD[kind] * cpus + MEMORY_PRICE_USD_PER_GB * extra_mb / 1024


# Fly prices a running machine per region: the list price above times the region's
# markup, which scales the CPU preset and the per-GB RAM price alike (superfly/docs
# about/pricing.html.markerb @ 5c22c8c renders `data.pricing.regions[].markup_ratio`
# into both). The ratios themselves live in Fly's site data, not in the docs repo;
# the docs state one regional price: a shared-1x 256 MB machine running full time in
# sjc costs $2.32/month (about/cost-management.html.md @ 5c22c8c) against the $1.94
# list price. Regions not named here are priced at list.
REGION_PRICE_MARKUP: Final[dict[str, float]] = {"sjc": 2.32 / CPU_PRICE_USD["shared"]}
REGION_PRICE_SOURCE: Final = "superfly/docs about/cost-management.html.md @ 5c22c8c"


def regional_machine_price(kind: CpuKind, cpus: int, memory_mb: int, region: str) -> float:
    """Monthly price of one machine of this size in `region` (list price where Fly
    publishes no regional one)."""
    return machine_price(kind, cpus, memory_mb) * REGION_PRICE_MARKUP.get(region, 1.0)


def tier_sizing_problems(
    tier: Tier, *, kind: CpuKind, cpus: int, memory_mb: int, machines: int, primary_machines: int
) -> list[str]:
    """Every way an app's size falls short of its tier."""
    rule = TIER_SIZING[tier]
    problems = []
    if kind != rule.cpu_kind:
        problems.append(f"{tier} runs on {rule.cpu_kind} CPUs, not {kind}")
    if cpus < rule.min_cpus:
        problems.append(f"{tier} needs at least {rule.min_cpus} CPUs per machine, not {cpus}")
    if memory_mb < rule.min_memory_mb:
        problems.append(
            f"{tier} needs at least {rule.min_memory_mb} MB per machine, not {memory_mb}"
        )
    if machines < rule.min_machines:
        problems.append(f"{tier} needs at least {rule.min_machines} machines, not {machines}")
    if primary_machines < rule.min_primary_machines:
        problems.append(
            f"{tier} needs at least {rule.min_primary_machines} machines in the primary "
            f"region, not {primary_machines}"
        )
    return problems


# -- Monitoring (components/monitoring) ---------------------------------------------
# Fly's managed Prometheus (superfly/docs monitoring/metrics.html.md @ 5c22c8c,
# "Querying" and "External or self-hosted Grafana"): one endpoint per organization,
# queried with an `Authorization` header, `FlyV1 <token>` for tokens made by
# `fly tokens create` (the read-only kind the data source uses), `Bearer <token>`
# only for `flyctl auth token`. About 15 days of retention ("Retention, cost, and
# limits"), which the longest alert window below (6h) fits well inside.
FLY_PROMETHEUS_URL: Final = "https://api.fly.io/prometheus/{org}/"
FLY_PROMETHEUS_AUTH_SCHEME: Final = "FlyV1"
# The environment variable the data source's read-only Fly token comes from (a token
# of the same kind as FLY_API_TOKEN, provisioned in the same CI environments).
FLY_METRICS_TOKEN_ENV: Final = "FLY_METRICS_TOKEN"  # noqa: S105 - a variable name
# How Fly's own client reads a token (superfly/fly-go tokens/tokens.go @ 22d6e51):
# StripAuthorizationScheme drops leading `FlyV1`/`Bearer` schemes (any case, repeated)
# after trimming whitespace; Parse splits the rest on commas and trims each part; a
# part whose prefix before `_` is one of these is a macaroon, anything else a user
# (OAuth) token; `normalized` sends macaroons, comma-joined, as `FlyV1 <...>`. `fly
# tokens create readonly` prints its token already with the scheme (flyctl
# internal/command/tokens/create.go @ ad0172f prints LimitedAccessToken.TokenHeader).
FLY_MACAROON_PREFIXES: Final = frozenset({"fm1r", "fm1a", "fm2"})
FLY_AUTH_SCHEMES: Final = ("flyv1", "bearer")  # compared case-insensitively (EqualFold)
# Multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on SLOs",
# recommendation 6, table 5-8, for a 99.9% / 30-day SLO): page when 2% of the
# budget burns in 1h (burn rate 14.4, long window 1h, short window 5m) or 5% in 6h
# (burn rate 6, long window 6h, short window 30m). The short window is 1/12 of the
# long one, so the alert resets soon after the burn stops.
BURN_RATE_WINDOWS: Final[tuple[tuple[float, str, str], ...]] = (
    (14.4, "1h", "5m"),
    (6.0, "6h", "30m"),
)
# The runbook's targets: 99.9% uptime and API responses under 200 ms.
AVAILABILITY_TARGET: Final = 0.999
SLO_WINDOW_DAYS: Final = 30
LATENCY_P95_MS: Final = 200
# Grafana synthetic monitoring's public probes, as the SDK's own examples name them
# (pulumiverse_grafana 2.44.0 syntheticmonitoring/check.py: probes["ohio"],
# ["frankfurt"], ["london"], ["mumbai"]); looked up by name with get_probes.
DEFAULT_PROBES: Final = ("Ohio", "Frankfurt", "London", "Mumbai")
# syntheticmonitoring/check.py (pulumiverse_grafana 2.44.0): frequency 1000..3600000 ms,
# timeout 1000..180000 ms, at most 5 custom labels. The API is narrower for an HTTP
# check (grafana/synthetic-monitoring-agent pkg/pb/synthetic_monitoring/checks_extra.go
# @ bff8060, validateTimeout): timeout 1 s..1 min and at most the frequency (180 s is
# the scripted checks' bound), else ErrInvalidCheckTimeout.
SM_FREQUENCY_MS: Final = (1_000, 3_600_000)
SM_TIMEOUT_MS: Final = (1_000, 60_000)
# A probe's budget: five times the p95 target, so a slow answer fails the check while
# one merely over target does not (our choice), never below Grafana's minimum.
SM_TIMEOUT_PER_P95: Final = 5


def probe_timeout_ms(latency_p95_ms: int) -> int:
    """The synthetic checks' timeout for a p95 latency target."""
    return max(SM_TIMEOUT_MS[0], SM_TIMEOUT_PER_P95 * latency_p95_ms)


# Names no one receives mail or webhooks at: the domains RFC 2606 reserves for
# documentation and tests (section 2: .example, .invalid, .test, .localhost;
# section 3: example.com, example.net, example.org), and localhost (RFC 6761 6.3).
# Grafana's own default contact point sends to its placeholder `<example@email.com>`
# (not a reserved name, but no one's pager): named too.
_PLACEHOLDER_HOST = re.compile(
    r"(?:^|[@/.])(?:example\.(?:com|net|org)|[a-z0-9-]+\.(?:example|invalid|test|localhost)"
    r"|example|invalid|test|localhost)\.?(?:$|[:/>?#])",
    re.IGNORECASE,
)
GRAFANA_PLACEHOLDER_ADDRESS: Final = "<example@email.com>"


def placeholder_target(target: str) -> bool:
    """Whether a contact point's address or URL names a host no one receives at."""
    parts = [part.strip() for part in re.split(r"[;,]", target)]
    return any(
        bool(_PLACEHOLDER_HOST.search(part))
        or GRAFANA_PLACEHOLDER_ADDRESS.strip("<>") in part.lower()
        for part in parts
    )
