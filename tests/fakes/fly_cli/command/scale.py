"""`fly scale count`: flyctl internal/command/scale/."""

from __future__ import annotations

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.machine_types import (
    APP_GROUP,
    fly_apps_machine,
    launch_metadata,
    process_group,
    vm_size,
)
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def scale_count(fly: Fly, a: Call) -> None:
    """scale/count.go runScaleCount and count_machines.go runMachinesScaleCount: only
    the Fly Launch machines of the named process group (default "app") are counted,
    added or destroyed; one-offs, release command and console machines are not."""
    name = a.get("app")
    app = fly.app(name)
    group = a.get("process-group") or APP_GROUP
    expected = _group_counts(a.args, group)
    unknown = sorted(g for g in expected if g != APP_GROUP)  # fly.toml has no [processes]
    if unknown:
        raise Fail(
            f"Attempting to scale unknown process groups [{' '.join(unknown)}] but valid "
            f"names are [{APP_GROUP}].\n Use `fly scale count COUNT --process-group=NAME` "
            "\n or multi group syntax `fly scale count NAME1=COUNT1 NAME2=COUNT2 ...`"
        )
    machines = [m for m in app["machines"] if fly_apps_machine(m)]
    if not any(d["app"] == name for d in fly.state["deploys"]):
        raise Fail(
            "this app has no complete releases. Run `fly deploy` to create one and rerun "
            "this command"
        )
    regions = [r for r in (a.get("region") or "").split(",") if r]
    if not regions:
        regions = list(dict.fromkeys(m["region"] for m in machines))
    launch = app.get("launch") or {"guest": {}, "primary_region": ""}
    regions = regions or [launch["primary_region"]]
    max_per_region = int(a.get("max-per-region") or -1)
    actions: list[tuple[str, int, list[dict[str, Any]], dict[str, Any]]] = []
    for group_name, (absolute, relative) in expected.items():
        mine = [m for m in machines if fly.in_group(m, group_name)]
        total = max(len(mine) + relative if relative else absolute, 0)
        current: dict[str, int] = {}
        for m in mine:
            current[m["region"]] = current.get(m["region"], 0) + 1
        template = {
            "guest": launch["guest"],
            "image": launch.get("image", ""),
            "metadata": launch_metadata(group_name),
        }
        if mine:
            template = {**mine[0], "metadata": mine[0].get("metadata", launch_metadata())}
        for region, delta in _converge(total, current, regions, max_per_region).items():
            here = [m for m in mine if m["region"] == region]
            actions.append((region, delta, here, template))
    if not actions:
        print("App already scaled to desired state. No need for changes")
        return
    print(f"App '{name}' is going to be scaled according to this plan:")
    for region, delta, _, template in actions:
        print(
            f"{delta:+4d} machines for group '{process_group(template['metadata'])}' on "
            f"region '{region}' of size '{vm_size(template['guest'])}'"
        )
    if not a.on("yes"):
        raise Fail("--yes flag must be specified when not running interactively")
    print("Executing scale plan")
    for region, delta, here, template in actions:
        for machine in here[: max(-delta, 0)]:  # count_machines.go: action.Machines[-i]
            app["machines"].remove(machine)
            print(f"  Destroyed {machine['id']} region:{region}")
        for _ in range(max(delta, 0)):
            made = fly.new_machine(
                app,
                region,
                template["guest"],
                image=template.get("image", ""),
                metadata=template["metadata"],
            )
            print(f"  Created {made['id']} region:{region}")


def _group_counts(args: list[str], group: str) -> dict[str, tuple[int, int]]:
    """scale/count.go parseGroupCounts: `3`, `+1`, `-1` for `group`, or `NAME=COUNT`
    pairs; group -> (absolute, relative)."""

    def parsed(text: str) -> tuple[int, int]:
        try:
            number = int(text)
        except ValueError:
            raise Fail(f'strconv.Atoi: parsing "{text}": invalid syntax') from None
        if text.startswith(("+", "-")):
            if number == 0:
                raise Fail(f"invalid relative scale count: {text}")
            return 0, number
        return number, 0

    if not args:
        raise Fail("requires at least 1 arg(s), only received 0")
    if len(args) == 1 and "=" not in args[0]:
        return {group: parsed(args[0])}
    counts = {}
    for arg in args:
        parts = arg.split("=")
        if len(parts) != 2:
            raise Fail(f"'{arg}' is not a valid process=count option")
        counts[parts[0]] = parsed(parts[1])
    return counts


def _converge(
    total: int, current: dict[str, int], regions: list[str], max_per_region: int
) -> dict[str, int]:
    """scale/count_machines.go convergeGroupCounts: the machines to add (+) or remove (-)
    per region so that `regions` hold `total`; regions not named are left alone."""
    regions = list(dict.fromkeys(regions or list(current)))
    diffs: dict[str, int] = {}
    if max_per_region >= 0:
        if len(regions) * max_per_region < total:
            raise Fail(
                "the number of regions by the maximum machines per region is fewer than the "
                "expected total"
            )
        for region in regions:
            if current.get(region, 0) > max_per_region:
                diffs[region] = max_per_region - current.get(region, 0)
    diff = total - sum(current.get(r, 0) + diffs.get(r, 0) for r in regions)
    i = 0
    while diff > 0:
        region = regions[i % len(regions)]
        if max_per_region < 0 or current.get(region, 0) + diffs.get(region, 0) < max_per_region:
            diffs[region] = diffs.get(region, 0) + 1
            diff -= 1
        i += 1
    i = -1
    while diff < 0:  # from the second region on (regions[-i % n]): the first is usually the primary
        region = regions[-i % len(regions)]
        if current.get(region, 0) + diffs.get(region, 0) > 0:
            diffs[region] = diffs.get(region, 0) - 1
            diff += 1
        i -= 1
    return {r: d for r, d in diffs.items() if d}


HANDLERS = {
    ("scale", "count"): scale_count,
}
