"""How long the offline plan of the prod stack takes, against the floor it cannot beat.

The floor is a fresh interpreter importing every SDK the program loads (pulumi,
pulumi_command, pulumi_cloudflare, pulumi_random, pulumi_policy,
pulumiverse_grafana); the plan is a fresh `webhost-infra plan --stack prod`; the
diff is a fresh `webhost-infra diff --stack prod --base HEAD` (both sides
evaluated in one process). Also prints the warm in-process evaluation alone.
Median of several runs each. Targets: plan within 1.25x the floor (issues 10,
22), diff under two plans.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
PLAN_OVER_FLOOR = 1.25
DIFF_OVER_PLAN = 2.0
FLOOR = (
    "import pulumi, pulumi_command, pulumi_cloudflare, pulumi_random, pulumi_policy,"
    " pulumiverse_grafana"
)


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def median(argv: list[str]) -> float:
    return statistics.median(wall(argv) for _ in range(RUNS))


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
    plan = median([cli, "plan", "--stack", "prod", "--format", "json"])
    diff = median([cli, "diff", "--stack", "prod", "--base", "HEAD", "--format", "json"])
    print(f"floor (python + pulumi imports):      {floor * 1000:8.1f} ms")
    print(f"plan --stack prod (fresh process):    {plan * 1000:8.1f} ms")
    print(f"diff --stack prod --base HEAD:        {diff * 1000:8.1f} ms")
    print(
        f"ratio plan / floor:                   {plan / floor:8.2f} (target <= {PLAN_OVER_FLOOR})"
    )
    print(f"ratio diff / plan:                    {diff / plan:8.2f} (target < {DIFF_OVER_PLAN})")
    print(f"prod evaluation alone (warm, in-proc): {warm_evaluation() * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
