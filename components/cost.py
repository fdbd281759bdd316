"""What a stack costs a month on Fly, what its customers pay, and the margin between.

Catalog list prices times what the config declares: app machines, Postgres
members and replicas with their volumes, a dedicated IPv4, Redis (a fixed plan's
base and read regions, or pay-as-you-go requests). An estimate for planning and
for the margin policy, not an invoice. What is billed on usage and has no
configured volume (pay-as-you-go Redis without `redis.monthlyRequests`) is listed
as unestimated, never priced at $0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from components import catalog
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
    hint: str  # what to configure to get it estimated


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
    unestimated: list[Unestimated] = []
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
                )
            )
    return Estimate(
        tuple(items),
        config.customers,
        catalog.TIER_PRICE_USD[config.tier],
        tuple(unestimated),
    )


def report(estimate: Estimate, tier: str) -> str:
    """The breakdown as `webhost-infra cost` prints it."""
    lines = [f"{'item':<52} {'qty':>6} {'unit':<8} {'each':>9} {'monthly':>10}"]
    for item in estimate.items:
        lines.append(
            f"{item.name:<52} {item.quantity:>6g} {item.unit:<8} "
            f"{item.unit_price:>9.2f} {item.monthly:>10.2f}"
        )
    for usage in estimate.unestimated:
        note = f"usage-based, {usage.rate}: not estimated (set {usage.hint})"
        lines.append(f"{usage.name:<52} {note}")
    cost = "cost, not counting usage-based items" if estimate.unestimated else "cost"
    lines.append(f"{cost:<78} {estimate.cost:>10.2f}")
    revenue = f"revenue ({estimate.customers} {tier} customers x ${estimate.price_per_customer:g})"
    lines.append(f"{revenue:<78} {estimate.revenue:>10.2f}")
    margin = estimate.margin
    label = "margin, at most" if estimate.unestimated else "margin"
    lines.append(f"{label:<78} {'n/a' if margin is None else f'{margin:.1%}':>10}")
    return "\n".join(lines)
