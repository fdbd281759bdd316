"""Sizing policies: Fly's VM rules, the tier's floors, capacity, and the margin."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import catalog, cost
from components.config import StackConfig
from policies import spec


def _vms(environment: Mapping[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(what, cpu kind, cpus, memory MB) of every VM size a command deploys."""
    found: list[tuple[str, str, Any, Any]] = []
    if isinstance(toml := environment.get("WEBHOST_FLY_TOML"), str):
        for vm in tomllib.loads(toml).get("vm", []):
            memory = str(vm.get("memory", "")).lower().removesuffix("mb")
            found.append(("app VM", vm.get("cpu_kind"), vm.get("cpus"), memory))
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
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    vm = config.vm
    for problem in catalog.tier_sizing_problems(
        config.tier,
        kind=vm.cpu_kind,
        cpus=vm.cpus,
        memory_mb=vm.memory_mb,
        machines=config.machine_count,
        primary_machines=config.regions[config.primary_region],
    ):
        report(f"app {config.app_name}: {problem}", urn)


def serving_machines(config: StackConfig) -> tuple[int, str]:
    """Machines Fly will run under load, and why when fewer than the stack declares.

    With autostop on and autostart off, Fly's proxy stops idle machines and never
    starts them again (superfly/docs launch/autostop-autostart, "Autostop/autostart
    configuration recommendations"): only the `min_machines_running` it keeps in
    the primary region (same page, "Minimum number of Machines running") can carry
    load. Autostart on, or autostop off, every machine runs when needed.
    """
    http = config.http
    if http.auto_stop_machines != "off" and not http.auto_start_machines:
        return http.min_machines_running, (
            f" (http.autoStopMachines {http.auto_stop_machines} with autoStartMachines off: "
            f"Fly never restarts a stopped machine, so only the {http.min_machines_running} "
            f"kept running in {config.primary_region} count)"
        )
    return config.machine_count, ""


def capacity(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    per_machine = catalog.CUSTOMERS_PER_MACHINE[config.tier]
    machines, why = serving_machines(config)
    room = machines * per_machine
    if config.customers > room:
        needed = -(-config.customers // per_machine)
        report(
            f"app {config.app_name}: {machines} machines host {room} {config.tier} "
            f"customers ({per_machine} each), not {config.customers}: run at least "
            f"{needed}{why}",
            urn,
        )


def margin(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
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
    StackValidationPolicy(
        name="tier-sizing",
        description="App machines meet the floors of the tier: CPU kind, CPUs, memory, count.",
        validate=tier_sizing,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="capacity",
        description="The app's machines can host the stack's customers at the tier's density.",
        validate=capacity,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="margin",
        description="Estimated monthly cost leaves at least the minimum margin on revenue.",
        validate=margin,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema(
            properties={
                "minimumMargin": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "default": catalog.MIN_MARGIN,
                }
            }
        ),
    ),
]
