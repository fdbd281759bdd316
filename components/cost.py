"""What a stack costs a month on Fly, what its customers pay, and the margin between.

Catalog list prices times what the config declares: app machines, Postgres
members and replicas with their volumes, a dedicated IPv4, Fly's managed
certificates, Redis (a fixed plan's base and read regions, or pay-as-you-go
requests). An estimate for planning and for the margin policy, not an invoice.
Every usage-billed item the stack creates whose volume the config cannot tell
(volume snapshots, the backups' Tigris bucket, outbound data transfer, Grafana's
probe executions, pay-as-you-go Redis without `redis.monthlyRequests`) is listed
as not estimated with its published rate, never priced at $0: the estimate is then
inexact, its cost a floor and its margin a ceiling.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from components import catalog
from components.config import Monitoring as MonitoringConfig
from components.config import Postgres as PostgresConfig
from components.config import StackConfig


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Unestimated:
    """Something billed on usage with no volume to estimate it from."""

    name: str
    rate: str  # the published rate, for the reader
    hint: str | None  # what to configure to get it estimated; None: nothing can
    volume: str = ""  # what the config does tell of its volume
    source: str = ""  # where the rate (or the metering) is published


@dataclass(frozen=True)
class Estimate:
    items: tuple[LineItem, ...]
    customers: int
    price_per_customer: float
    unestimated: tuple[Unestimated, ...] = ()

    @property
    def cost(self) -> float:
        """The estimated items; a floor of the bill when anything is unestimated."""
        return sum(item.monthly for item in self.items)

    @property
    def exact(self) -> bool:
        """Whether every billed item is priced: else cost is a floor, margin a ceiling."""
        return not self.unestimated

    @property
    def revenue(self) -> float:
        return self.customers * self.price_per_customer

    @property
    def margin(self) -> float | None:
        """(revenue - cost) / revenue; None without revenue."""
        return (self.revenue - self.cost) / self.revenue if self.revenue else None


def _size(kind: str, cpus: int, memory_mb: int) -> str:
    return (
        f"{kind}-cpu-{cpus}x {memory_mb} MB"
        if kind == "shared"
        else f"{kind}-{cpus}x {memory_mb} MB"
    )


def _machines(
    label: str, kind: catalog.CpuKind, cpus: int, memory_mb: int, counts: Mapping[str, int]
) -> list[LineItem]:
    """Machines at list price as one line, and one line per region Fly prices apart."""
    name = f"{label} ({_size(kind, cpus, memory_mb)})"
    at_list = sum(n for r, n in counts.items() if r not in catalog.REGION_PRICE_MARKUP)
    items = [LineItem(name, at_list, "machine", catalog.machine_price(kind, cpus, memory_mb))]
    items += [
        LineItem(
            f"{name} in {region}",
            n,
            "machine",
            catalog.regional_machine_price(kind, cpus, memory_mb, region),
        )
        for region, n in sorted(counts.items())
        if region in catalog.REGION_PRICE_MARKUP and n
    ]
    return [item for item in items if item.quantity] or items[:1]


def _certificates(config: StackConfig) -> list[LineItem]:
    """Fly's managed certificates, one per host, at list (catalog.CERTIFICATE_PRICE_USD).
    A wildcard host is valid only with `certificate: origin` (components/config/edge.py), whose
    imported certificates Fly does not manage: every ACME one is single-hostname."""
    if config.domain is None or config.domain.certificate != "acme":
        return []
    hosts = len(config.domain.fqdns)
    return [LineItem("fly certificates", hosts, "hostname", catalog.CERTIFICATE_PRICE_USD)]


def _egress() -> Unestimated:
    low, high = catalog.EGRESS_USD_PER_GB
    return Unestimated(
        "outbound data transfer",
        f"${low:.2f}..${high:.2f} per GB by region group",
        None,
        "follows traffic",
        catalog.EGRESS_SOURCE,
    )


def _snapshots(pg: PostgresConfig) -> Unestimated:
    members = pg.cluster_size + len(pg.replica_regions)
    return Unestimated(
        "postgres volume snapshots",
        f"${catalog.SNAPSHOT_PRICE_USD_PER_GB:.2f} per GB-month past "
        f"{catalog.SNAPSHOT_FREE_GB} GB free",
        None,
        f"daily, kept {catalog.SNAPSHOT_RETENTION_DAYS} days, of {members} x "
        f"{pg.volume_gb} GB volumes; billed on data stored",
        catalog.SNAPSHOT_SOURCE,
    )


def _backups() -> Unestimated:
    return Unestimated(
        "postgres backups (Tigris bucket)",
        f"${catalog.TIGRIS_STORAGE_USD_PER_GB:.2f} per GB-month past "
        f"{catalog.TIGRIS_FREE_GB} GB free, ${catalog.TIGRIS_CLASS_A_USD_PER_1000:g} per "
        f"1000 writes, ${catalog.TIGRIS_CLASS_B_USD_PER_1000:g} per 1000 reads",
        None,
        "base backups and WAL in the recovery window",
        catalog.TIGRIS_SOURCE,
    )


def probe_executions(config: StackConfig, monitoring: MonitoringConfig) -> int:
    """Grafana's metered test executions a month (catalog.SM_MINUTES_PER_MONTH): one
    check per health path (components/monitoring `_probes`: health, and deep-health when
    the deep check is on), from every probe, each counted as one minute (its timeout is
    at most a minute, catalog.SM_TIMEOUT_MS, rounded up)."""
    checks = 1 + config.http.deep_check.enabled
    per_month = catalog.SM_MINUTES_PER_MONTH * 60_000 // monitoring.probe_frequency_ms
    return checks * len(monitoring.probes) * per_month


def _probes(config: StackConfig, monitoring: MonitoringConfig) -> Unestimated:
    return Unestimated(
        "grafana synthetic probe executions",
        # The checks' per-check alerts (components/monitoring) are alert rules on the
        # probes' metrics: no metered item of their own in any source read here.
        "Grafana Cloud's price per execution (in no source read here)",
        None,
        f"{probe_executions(config, monitoring):,} executions a month",
        catalog.SM_EXECUTIONS_SOURCE,
    )


def estimate(config: StackConfig) -> Estimate:
    vm = config.vm
    items = _machines("app machines", vm.cpu_kind, vm.cpus, vm.memory_mb, config.regions)
    if (pg := config.postgres) is not None:
        members = pg.cluster_size + len(pg.replica_regions)
        where = Counter({config.primary_region: pg.cluster_size}) + Counter(pg.replica_regions)
        items += [
            *_machines("postgres machines", pg.vm.cpu_kind, pg.vm.cpus, pg.vm.memory_mb, where),
            LineItem(
                "postgres volumes", members * pg.volume_gb, "GB", catalog.VOLUME_PRICE_USD_PER_GB
            ),
        ]
    if config.domain is not None and config.domain.ipv4_kind == "dedicated":
        items.append(LineItem("dedicated IPv4", 1, "address", catalog.DEDICATED_IPV4_PRICE_USD))
    items += _certificates(config)
    unestimated = [_egress()]
    if pg is not None:
        unestimated.append(_snapshots(pg))
        if pg.backups.enabled:
            unestimated.append(_backups())
    if config.monitoring is not None and config.monitoring.synthetic:
        unestimated.append(_probes(config, config.monitoring))
    if (redis := config.redis) is not None:
        if redis.plan in catalog.REDIS_FIXED_PLANS_USD:
            base, per_read_region = catalog.REDIS_FIXED_PLANS_USD[redis.plan]
            items.append(LineItem(f"redis ({redis.plan})", 1, "plan", base))
            if redis.replica_regions:
                items.append(
                    LineItem(
                        f"redis ({redis.plan}) read regions",
                        len(redis.replica_regions),
                        "region",
                        per_read_region,
                    )
                )
        elif redis.monthly_requests is not None:
            items.append(
                LineItem(
                    f"redis ({redis.plan}) requests",
                    redis.monthly_requests / 100_000,
                    "100k req",
                    catalog.REDIS_PAYG_USD_PER_100K_REQUESTS,
                )
            )
        else:
            unestimated.append(
                Unestimated(
                    f"redis ({redis.plan})",
                    f"${catalog.REDIS_PAYG_USD_PER_100K_REQUESTS:.2f} per 100k requests",
                    "webhost:redis.monthlyRequests",
                    source="superfly/docs upstash/redis.html.md @ 5c22c8c",
                )
            )
    return Estimate(
        tuple(items),
        config.customers,
        catalog.TIER_PRICE_USD[config.tier],
        tuple(unestimated),
    )


def _note(usage: Unestimated) -> str:
    known = f"; {usage.volume}" if usage.volume else ""
    how = f"; set {usage.hint} to estimate it" if usage.hint else ""
    return f"  {usage.rate}{known}{how}"


def report(estimate: Estimate, tier: str) -> str:
    """The breakdown as `webhost-infra cost` prints it. While anything is unestimated the
    cost line is a floor and the margin line a ceiling, and both say so."""
    lines = [f"{'item':<52} {'qty':>6} {'unit':<8} {'each':>9} {'monthly':>10}"]
    for item in estimate.items:
        lines.append(
            f"{item.name:<52} {item.quantity:>6g} {item.unit:<8} "
            f"{item.unit_price:>9.2f} {item.monthly:>10.2f}"
        )
    for usage in estimate.unestimated:
        lines += [f"{usage.name:<52} not estimated (usage-based)", _note(usage)]
    unknown = len(estimate.unestimated)
    cost = f"cost, without {unknown} usage-based items" if unknown else "cost"
    lines.append(f"{cost:<78} {estimate.cost:>10.2f}")
    revenue = f"revenue ({estimate.customers} {tier} customers x ${estimate.price_per_customer:g})"
    lines.append(f"{revenue:<78} {estimate.revenue:>10.2f}")
    margin = estimate.margin
    label = f"margin, at most (not exact: {unknown} items not estimated)" if unknown else "margin"
    lines.append(f"{label:<78} {'n/a' if margin is None else f'{margin:.1%}':>10}")
    return "\n".join(lines)


def as_json(estimate: Estimate, tier: str) -> str:
    """`webhost-infra cost --format json`: `exact` is false while anything is unestimated;
    then `cost` is a floor and `margin` a ceiling."""
    return json.dumps(
        {
            "tier": tier,
            "items": [
                {
                    "name": item.name,
                    "quantity": item.quantity,
                    "unit": item.unit,
                    "unitPrice": round(item.unit_price, 4),
                    "monthly": round(item.monthly, 2),
                }
                for item in estimate.items
            ],
            "notEstimated": [
                {
                    "name": usage.name,
                    "rate": usage.rate,
                    "volume": usage.volume or None,
                    "configure": usage.hint,
                    "source": usage.source,
                }
                for usage in estimate.unestimated
            ],
            "exact": estimate.exact,
            "cost": round(estimate.cost, 2),
            "costIs": "exact" if estimate.exact else "floor",
            "customers": estimate.customers,
            "pricePerCustomer": estimate.price_per_customer,
            "revenue": round(estimate.revenue, 2),
            "margin": None if estimate.margin is None else round(estimate.margin, 4),
            "marginIs": "exact" if estimate.exact else "ceiling",
        },
        indent=2,
    )
