"""Sizing policies: Fly's VM rules, the tier's floors, capacity, and the margin."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)

from components import catalog, cost
from components.config import StackConfig
from policies import registered, spec


def _vms(environment: Mapping[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(what, cpu kind, cpus, memory MB) of every VM size a command deploys."""
    found: list[tuple[str, str, Any, Any]] = []
    if isinstance(toml := environment.get("WEBHOST_FLY_TOML"), str):
        found += app_vms(tomllib.loads(toml))
    if "WEBHOST_VM_CPU_KIND" in environment:
        found.append(
            (
                "postgres VM",
                environment["WEBHOST_VM_CPU_KIND"],
                environment.get("WEBHOST_VM_CPUS"),
                environment.get("WEBHOST_VM_MEMORY"),
            )
        )
    return found


def app_vms(document: Mapping[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(what, cpu kind, cpus, memory MB) of each fly.toml `[[vm]]`."""
    found = []
    for vm in document.get("vm", []):
        memory = str(vm.get("memory", "")).lower().removesuffix("mb")
        found.append(("app VM", vm.get("cpu_kind"), vm.get("cpus"), memory))
    return found


def fly_vm_valid(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != spec.COMMAND:
        return
    environment = args.props.get("environment")
    if not isinstance(environment, Mapping):
        return
    for what, kind, cpus, memory in _vms(environment):
        if kind not in catalog.CPU_COUNTS:
            report(f"{args.name}: {what} cpu kind {kind!r} is not one Fly offers", None)
            continue
        try:
            cpus_n, memory_mb = int(cpus), int(memory)
        except (TypeError, ValueError):
            report(f"{args.name}: {what} size {cpus!r} CPUs / {memory!r} MB is not a number", None)
            continue
        for field, rule in catalog.vm_problems(kind, cpus_n, memory_mb).items():
            report(
                f"{args.name}: {what} {kind} {cpus_n} CPUs {memory_mb} MB ({field}): {rule}", None
            )


def tier_sizing(args: StackValidationArgs, report: ReportViolation) -> None:
    """App machines meet the floors of the tier: CPU kind, CPUs, memory, count.

    The tier's floors on the registered sizes: the deploy's fly.toml `[[vm]]` and
    MachineCounts' counts (policies/registered.py); the spec's where a stack
    registers none (a stack policy given the Platform alone)."""
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    sizes: list[tuple[Any, int, int]] = [(config.vm.cpu_kind, config.vm.cpus, config.vm.memory_mb)]
    tomls = [d.fly_toml for d in registered.deploys(args.resources) if d.fly_toml is not None]
    if tomls:
        sizes = []
        for document in tomls:
            for _, kind, cpus, memory in app_vms(document):
                try:
                    sizes.append((kind, int(cpus), int(memory)))
                except (TypeError, ValueError):
                    continue  # fly-vm-valid reports a size that is not a number
    counts = [m.counts for m in registered.machines(args.resources) if m.counts is not None]
    regions = counts[0] if counts else config.regions
    primary = config.primary_region
    if tomls and isinstance(tomls[0].get("primary_region"), str):
        primary = tomls[0]["primary_region"]
    reported: set[str] = set()
    for kind, cpus, memory_mb in sizes:
        for problem in catalog.tier_sizing_problems(
            config.tier,
            kind=kind,
            cpus=cpus,
            memory_mb=memory_mb,
            machines=sum(regions.values()),
            primary_machines=regions.get(primary, 0),
        ):
            if problem not in reported:
                reported.add(problem)
                report(f"app {config.app_name}: {problem}", urn)


def per_machine(tier: catalog.Tier, service: Mapping[str, Any]) -> tuple[int, str]:
    """Customers one machine hosts under the fly.toml's proxy limits, and why when
    fewer than the tier's density: the density holds at catalog.DENSITY_SOFT_LIMIT."""
    density = catalog.CUSTOMERS_PER_MACHINE[tier]
    concurrency = service.get("concurrency")
    limits = concurrency if isinstance(concurrency, Mapping) else {}
    soft = _limit(limits.get("soft_limit"), catalog.UNSET_SOFT_LIMIT)
    hard = _limit(limits.get("hard_limit"), None)
    limit = soft if hard is None else min(soft, hard)
    room = min(density, limit * density // catalog.DENSITY_SOFT_LIMIT)
    if room >= density:
        return density, ""
    kind = limits.get("type", "connections")
    return room, (
        f"; Fly's proxy limits each machine to {limit} {kind} (http.concurrency soft/hard "
        f"limit), room for {room} of the {density} the tier's density assumes at "
        f"{catalog.DENSITY_SOFT_LIMIT}"
    )


def _limit(value: Any, unset: int | None) -> int:
    if value is None:
        return unset if unset is not None else catalog.DENSITY_SOFT_LIMIT * 1_000
    number = registered.number(value)
    return max(0, int(number)) if number is not None else 0


def registered_serving(service: Mapping[str, Any], total: int, primary: str) -> tuple[int, str]:
    """Machines Fly will run under load (of the registered `total`), and why when fewer.

    With autostop on and autostart off, Fly's proxy stops idle machines and never
    starts them again (superfly/docs launch/autostop-autostart, "Autostop/autostart
    configuration recommendations"): only the `min_machines_running` it keeps in
    the primary region (same page, "Minimum number of Machines running") can carry
    load. Autostart on, or autostop off, every machine runs when needed.
    """
    stop = service.get("auto_stop_machines")
    start = service.get("auto_start_machines")
    running = int(registered.number(service.get("min_machines_running")) or 0)
    if stop not in ("off", False, None) and start is False:
        return min(running, total), (
            f" (http.autoStopMachines {stop} with autoStartMachines off: Fly never restarts "
            f"a stopped machine, so only the {running} kept running in {primary} count)"
        )
    return total, ""


def capacity(args: StackValidationArgs, report: ReportViolation) -> None:
    """The app's machines can host the stack's customers at the tier's density.

    Customers the registered machines host: MachineCounts' counts, the fly.toml's
    autostop and concurrency limits as the deploy applies them; the tier and the
    customers are the spec's (business figures, not infrastructure)."""
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    totals = [m.total for m in registered.machines(args.resources)]
    deploys = [d for d in registered.deploys(args.resources) if d.fly_toml is not None]
    if not totals or not deploys:
        if not totals or not registered.deploys(args.resources):
            report(f"app {config.app_name}: no registered machines and fly.toml to size", urn)
        return
    known = [t for t in totals if t is not None]
    if not known:
        return  # not known yet (a preview)
    document = deploys[0].fly_toml or {}
    service = registered.http_service(document)
    primary = str(document.get("primary_region", config.primary_region))
    machines, why = registered_serving(service, min(known), primary)
    each, limited = per_machine(config.tier, service)
    room = machines * each
    if config.customers > room:
        needed = -(-config.customers // each) if each else None
        advice = f"run at least {needed}" if needed else "raise the proxy's limits"
        report(
            f"app {config.app_name}: {machines} machines host {room} {config.tier} "
            f"customers ({each} each), not {config.customers}: {advice}{why}{limited}",
            urn,
        )


@spec.on_config
def margin(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """Estimated monthly cost leaves at least the minimum margin on revenue."""
    floor = float(args.get_config().get("minimumMargin", catalog.MIN_MARGIN))
    estimate = cost.estimate(config)
    if estimate.margin is None:
        report(
            f"app {config.app_name}: no revenue (0 customers) to cover ${estimate.cost:.2f}", urn
        )
    elif estimate.margin < floor:
        # Inexact, the margin is a ceiling: under the floor already, it fails for sure.
        at_most, without = ("", "") if estimate.exact else ("at most ", " without usage")
        report(
            f"app {config.app_name}: margin {at_most}{estimate.margin:.1%} (cost "
            f"${estimate.cost:.2f}{without}, revenue ${estimate.revenue:.2f}) is under the "
            f"{floor:.0%} floor",
            urn,
        )
    elif not estimate.exact:
        # A usage-billed item with no volume: the cost is a floor and the margin a
        # ceiling, so a ceiling over the floor proves nothing, and a missing volume must
        # not read as a free service: reported as unchecked, never passed.
        unknown = ", ".join(u.name for u in estimate.unestimated)
        report(
            f"app {config.app_name}: margin not checked: at most {estimate.margin:.1%} (cost "
            f"${estimate.cost:.2f} leaves out usage-based {unknown}; `webhost-infra cost` "
            "lists their rates)",
            urn,
        )


POLICIES = [
    ResourceValidationPolicy(
        name="fly-vm-valid",
        description="Every Fly VM size obeys Fly's rules: CPU counts, memory per CPU, steps.",
        validate=fly_vm_valid,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    spec.stack_policy("tier-sizing", tier_sizing),
    spec.stack_policy("capacity", capacity),
    spec.stack_policy(
        "margin",
        margin,
        EnforcementLevel.ADVISORY,
        minimumMargin=spec.bounded(catalog.MIN_MARGIN, 0, 1, kind="number"),
    ),
]
