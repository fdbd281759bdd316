"""The real engine's figures: per-phase costs, and how parallel the graph runs.

1. Runs e2e/run.py (both stacks, every phase) and prints its per-phase lines: wall
   time, flyctl invocations and Fly API requests from the fakes' logs.
2. The graph figure: a fresh `pulumi up` of prod with the fake `fly` sleeping a
   modelled duration per command (DURATIONS, Fly's real durations scaled down to
   seconds). The command stand-in logs when each command resource ran; the
   MachineCounts dynamic resource (components/fly/machines.py) runs `fly scale
   count` itself, so it weighs the modelled durations of the flyctl calls it made
   (the fake's call log: the calls without a command's WEBHOST_* environment). The
   longest dependency chain is the heaviest path through the state's dependency
   graph with those durations as weights (components weigh nothing and finish with
   their last child). Printed: wall time of the up / longest chain. Near 1.0
   means the engine ran in parallel everything the graph allows.

Needs the engine built (`make tools`) and the command stand-in (its timing log);
with a real pulumi-resource-command the graph figure is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "e2e"))

import run as e2e  # noqa: E402  (e2e/run.py)

from tests.fakes import fly_cli  # noqa: E402

# Modelled durations in seconds: roughly Fly's minutes as seconds / 20 (postgres
# create provisions machines and volumes and waits for the cluster, minutes; a
# deploy rolls every machine; a clone boots one machine). Prefix match on the
# subcommand, longest wins (tests/fakes/fly_cli/main.py, FAKE_FLY_DURATIONS).
DURATIONS = {
    "postgres create": 6.0,
    "postgres attach": 1.0,
    "deploy": 4.0,
    "machine clone": 2.0,
    "machine update": 1.5,
    "scale count": 2.0,
    "secrets deploy": 1.0,
    "volumes extend": 1.0,
    "ssh console": 0.5,
}


MACHINE_COUNTS = "pulumi-python:dynamic/fly:MachineCounts"


def modelled(argv: list[str]) -> float:
    """The fake's modelled duration of one flyctl call, by the rule it sleeps by."""
    return fly_cli.modelled_duration(" ".join(fly_cli.parse(argv).path), DURATIONS)


def provider_flyctl_seconds(calls: list[dict[str, Any]]) -> float:
    """The modelled flyctl time of the calls no command resource made: a command's
    script runs with its WEBHOST_* environment, a dynamic provider without. Only
    MachineCounts runs flyctl from a provider, one call after another."""
    return sum(
        modelled(c["argv"])
        for c in calls
        if not any(name.startswith("WEBHOST_") for name in c["env"])
    )


def longest_chain(resources: list[dict[str, Any]], weight: dict[str, float]) -> float:
    by_urn = {r["urn"]: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in resources:
        if r.get("parent"):
            children.setdefault(r["parent"], []).append(r["urn"])

    @cache
    def finish(urn: str) -> float:
        r = by_urn.get(urn)
        if r is None:
            return 0.0
        deps = set(r.get("dependencies") or [])
        for more in (r.get("propertyDependencies") or {}).values():
            deps |= set(more)
        start = max((finish(d) for d in deps if d != urn), default=0.0)
        own = start + weight.get(urn, 0.0)
        if r.get("custom", False):
            return own
        return max([own, *(finish(c) for c in children.get(urn, []))])

    return max((finish(u) for u in by_urn), default=0.0)


def graph_figure() -> None:
    timing = ROOT / ".tools" / "bench-timing.jsonl"
    timing.unlink(missing_ok=True)
    with e2e.stack("prod") as s:
        s.env["FAKE_FLY_DURATIONS"] = json.dumps(DURATIONS)
        s.env["STANDIN_TIMING_LOG"] = str(timing)
        started = time.monotonic()
        s.pulumi("up", "--yes", "--skip-preview")
        wall = time.monotonic() - started
        state = json.loads(s.pulumi("stack", "export").stdout)
        calls = [json.loads(line) for line in s.fly_log.read_text().splitlines()]
        s.pulumi("state", "unprotect", "--all", "--yes")
        s.pulumi("destroy", "--yes", "--skip-preview")
    if not timing.exists():
        print("graph: no timing log (not the command stand-in?): figure skipped")
        return
    weight: dict[str, float] = {}
    for line in timing.read_text().splitlines():
        entry = json.loads(line)
        weight[entry["urn"]] = weight.get(entry["urn"], 0.0) + entry["end"] - entry["start"]
    counts = [r["urn"] for r in state["deployment"]["resources"] if r["type"] == MACHINE_COUNTS]
    if len(counts) != 1:
        raise SystemExit(f"graph: {len(counts)} MachineCounts resources in the state, not 1")
    weight[counts[0]] = provider_flyctl_seconds(calls)
    chain = longest_chain(state["deployment"]["resources"], weight)
    serial = sum(weight.values())
    print(
        f"graph: fresh prod up {wall:.1f}s; longest dependency chain {chain:.1f}s; "
        f"all commands back to back {serial:.1f}s; wall / chain = {wall / chain:.2f}"
    )


def main() -> int:
    print("per phase (e2e/run.py):", flush=True)
    subprocess.run([sys.executable, str(ROOT / "e2e" / "run.py")], check=False)
    graph_figure()
    return 0


if __name__ == "__main__":
    sys.exit(main())
