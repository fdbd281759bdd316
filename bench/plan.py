"""How long the offline plan of the prod stack takes, against the floor it cannot beat.

The floor is a fresh interpreter importing every SDK the program loads (pulumi,
pulumi_command, pulumi_cloudflare, pulumi_random, pulumi_policy,
pulumiverse_grafana); the plan is a fresh `webhost-infra plan --stack prod`; the
diff is a fresh `webhost-infra diff --stack prod --base HEAD` (both sides
evaluated in one process). Also prints the warm in-process evaluation alone.
The CLI's console script freezes the heap out of the interpreter's last collector
pass (cli.main.run); the floor as issue 22 defines it does not, so the ratio to a
floor that ends the same way is printed beside it: that one is the plan's own work.
Median of several runs each, in wall time and in CPU time (user + system of the
process, which another load on the machine disturbs far less than the wall clock).
Targets: plan within 1.25x the floor (issues 10, 22), diff under two plans.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
PLAN_OVER_FLOOR = 1.25
DIFF_OVER_PLAN = 2.0
FLOOR = (
    "import pulumi, pulumi_command, pulumi_cloudflare, pulumi_random, pulumi_policy,"
    " pulumiverse_grafana"
)
# The same imports, ending as the CLI's console script ends (cli.main.run freezes the
# heap out of the exit's collector pass): the plan's own work over the SDKs' shows
# against this one, with the exit's saving taken out.
FLOOR_FROZEN_EXIT = FLOOR + "; import gc; gc.freeze()"


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


def run(argv: list[str]) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu)


def median(argv: list[str]) -> Run:
    runs = [run(argv) for _ in range(RUNS)]
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs))


def warm_evaluation() -> float:
    from cli import engine, stackfile

    stack = stackfile.load(ROOT / "Pulumi.prod.yaml")

    def once() -> float:
        start = time.perf_counter()
        engine.evaluate(
            ROOT / "__main__.py",
            project=stack.project,
            stack=stack.stack,
            config=stack.config,
            secret_keys=sorted(stack.secret_keys),
        )
        return time.perf_counter() - start

    once()  # imports and first-run caches
    return statistics.median(once() for _ in range(RUNS))


def main() -> None:
    cli = str(Path(sys.executable).parent / "webhost-infra")
    floor = median([sys.executable, "-c", FLOOR])
    frozen = median([sys.executable, "-c", FLOOR_FROZEN_EXIT])
    plan = median([cli, "plan", "--stack", "prod", "--format", "json"])
    diff = median([cli, "diff", "--stack", "prod", "--base", "HEAD", "--format", "json"])
    for label, (f, z, p, d) in (
        ("wall", (floor.wall, frozen.wall, plan.wall, diff.wall)),
        ("cpu", (floor.cpu, frozen.cpu, plan.cpu, diff.cpu)),
    ):
        print(f"{label}: floor (python + pulumi imports):   {f * 1000:8.1f} ms")
        print(f"{label}: floor, its exit frozen as the CLI's: {z * 1000:6.1f} ms")
        print(f"{label}: plan --stack prod (fresh process): {p * 1000:8.1f} ms")
        print(f"{label}: diff --stack prod --base HEAD:     {d * 1000:8.1f} ms")
        print(f"{label}: ratio plan / floor: {p / f:8.2f} (target <= {PLAN_OVER_FLOOR})")
        print(f"{label}: ratio plan / floor with the same exit: {p / z:5.2f}")
        print(f"{label}: ratio diff / plan:  {d / p:8.2f} (target < {DIFF_OVER_PLAN})")
    print(f"prod evaluation alone (warm, in-proc): {warm_evaluation() * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
