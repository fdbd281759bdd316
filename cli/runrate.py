"""The run rate: what the machines running now cost a month, against the cost estimate.

The estimate (components/cost.py) prices the machines the stack declares. A `fly
scale count` or `fly scale vm` by hand, a clone left behind, or an autoscaler that
never scales back changes the bill without changing the stack. The nightly drift job
asks this: how many machines of which size run in each of the app and the Postgres
cluster, what they cost a month at Fly's prices, and whether that run rate still
leaves the margin the runbook promises (catalog.MIN_MARGIN).

Only started machines count: Fly bills a started machine for its CPU and RAM and a
stopped one for its root file system alone (superfly/docs about/pricing.html.markerb
@ 5c22c8c, "For stopped Machines we charge only for the root file system"). What
the estimate prices besides machines (volumes, the dedicated IPv4, Redis) is taken
from it as it is: drift compares those with the stack on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from components import catalog, cost
from components.config import StackConfig

# fly-go machine_types.go: Machine.State "started" for a running machine.
STARTED = "started"
# The machine lines components/cost.py writes ("app machines (...)", "postgres machines
# (...)"): the ones the run rate replaces with what runs.
MACHINE_LINES = ("app machines", "postgres machines")

Size = tuple[str, int, int]  # cpu kind, cpus, memory MB
Fleet = Counter[tuple[Size, str]]  # (size, region) -> started machines


@dataclass(frozen=True)
class RunRate:
    assumed: cost.Estimate
    live: cost.Estimate
    fleets: Mapping[str, Fleet]  # "app" / "postgres" -> what runs

    @property
    def delta(self) -> float:
        return self.live.cost - self.assumed.cost


def fleet(machines: Iterable[Mapping[str, Any]], *, group: str | None = None) -> Fleet:
    """Started machines by size and region, from flyctl's `machine list --json`
    (fly-go machine_types.go: state, region, config.guest.{cpu_kind,cpus,memory_mb},
    config.metadata.fly_process_group); `group`: only that process group."""
    counted: Fleet = Counter()
    for m in machines:
        config = m.get("config") or {}
        if (
            group is not None
            and (config.get("metadata") or {}).get("fly_process_group", group) != group
        ):
            continue
        if m.get("state") != STARTED:
            continue
        guest = config.get("guest") or {}
        size = (
            str(guest.get("cpu_kind")),
            int(guest.get("cpus") or 0),
            int(guest.get("memory_mb") or 0),
        )
        counted[(size, str(m.get("region")))] += 1
    return counted


def _priced(label: str, machines: Fleet) -> list[cost.LineItem]:
    items: list[cost.LineItem] = []
    for (kind, cpus, memory_mb), region in sorted(machines):
        if kind not in catalog.CPU_PRICE_USD:
            raise ValueError(f"{label}: a machine of CPU kind {kind!r}, which has no price")
        items.append(
            cost.LineItem(
                f"{label} ({kind} {cpus}x {memory_mb} MB) in {region}",
                machines[((kind, cpus, memory_mb), region)],
                "machine",
                catalog.regional_machine_price(kind, cpus, memory_mb, region),
            )
        )
    return items


def run_rate(config: StackConfig, fleets: Mapping[str, Fleet]) -> RunRate:
    """The estimate with its machine lines replaced by the machines that run."""
    assumed = cost.estimate(config)
    others = [i for i in assumed.items if not i.name.startswith(MACHINE_LINES)]
    machines = [*_priced("app machines", fleets.get("app", Counter()))]
    machines += _priced("postgres machines", fleets.get("postgres", Counter()))
    live = replace(assumed, items=(*machines, *others))
    return RunRate(assumed, live, fleets)


def _describe(machines: Fleet) -> str:
    by_size: Counter[Size] = Counter()
    for (size, _region), n in machines.items():
        by_size[size] += n
    return ", ".join(f"{n} x {k} {c}x {m} MB" for (k, c, m), n in sorted(by_size.items())) or "none"


def _expected(config: StackConfig) -> dict[str, Fleet]:
    vm = config.vm
    app: Fleet = Counter(
        {((vm.cpu_kind, vm.cpus, vm.memory_mb), r): n for r, n in config.regions.items() if n}
    )
    out = {"app": app}
    if (pg := config.postgres) is not None:
        size = (pg.vm.cpu_kind, pg.vm.cpus, pg.vm.memory_mb)
        where = Counter({config.primary_region: pg.cluster_size}) + Counter(pg.replica_regions)
        out["postgres"] = Counter({(size, r): n for r, n in where.items()})
    return out


def differences(config: StackConfig, rate: RunRate) -> list[tuple[str, str]]:
    """(config key, what runs against what the estimate assumed) per fleet that differs."""
    keys = {"app": "webhost:regions", "postgres": "webhost:postgres"}
    found: list[tuple[str, str]] = []
    for name, wanted in _expected(config).items():
        live = rate.fleets.get(name, Counter())
        if live != wanted:
            found.append(
                (
                    keys[name],
                    f"{name} {_describe(live)} running, the estimate assumed {_describe(wanted)}",
                )
            )
    return found


def margin_finding(config: StackConfig, rate: RunRate) -> tuple[str, str] | None:
    """(config key, message) when the run rate leaves less than the runbook's margin
    (catalog.MIN_MARGIN, the floor the margin policy holds the estimate to); the key is
    the first fleet that differs from the estimate (else the VM, the size that bills)."""
    floor, margin = catalog.MIN_MARGIN, rate.live.margin
    if margin is None or margin >= floor:
        return None
    diffs = differences(config, rate)
    planned = rate.assumed.margin
    detail = "; ".join(text for _key, text in diffs)
    return (
        diffs[0][0] if diffs else "webhost:vm",
        f"monthly run rate ${rate.live.cost:.2f} (estimate ${rate.assumed.cost:.2f}"
        + (f", margin {planned:.1%}" if planned is not None else "")
        + f") leaves a {margin:.1%} margin, under the {floor:.0%} floor"
        + (f": {detail}" if detail else ""),
    )


def read_fleets(config: StackConfig, fly: Callable[..., Any]) -> dict[str, Fleet]:
    """What runs, through `fly` (cli/drift.py's flyctl JSON reader): the app's machines
    of its app process group, and every member of the Postgres cluster."""
    out: dict[str, Fleet] = {}
    app = fly("machine", "list", "--app", config.app_name)
    out["app"] = fleet(app or [], group="app")
    if config.postgres_active is not None:  # the cluster the app uses
        members = fly("machine", "list", "--app", config.postgres_active)
        out["postgres"] = fleet(members or [])
    return out
