"""How long the unit suite (`make test`'s pytest step) takes from a warm `.venv`.

Prints the wall time of `pytest -q` as `make unit` runs it (in parallel on every
core), the import floor (a fresh interpreter importing every SDK the program
loads, as bench/plan.py measures it), and their ratio against the target of
issue 22 (60x the floor). One run: the suite is minutes long, and a second run
would only repeat the warm caches of the first.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from plan import FLOOR, RUNS  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parent.parent
SUITE_OVER_FLOOR = 60


def wall(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return time.perf_counter() - start, last


def main() -> None:
    floor = statistics.median(wall([sys.executable, "-c", FLOOR])[0] for _ in range(RUNS))
    suite, summary = wall([sys.executable, "-m", "pytest", "-q", "-n", "auto"])
    print(f"cores:                                {os.cpu_count():8d}")
    print(f"floor (python + every SDK's import):  {floor * 1000:8.1f} ms")
    print(f"unit suite (pytest -n auto):          {suite:8.1f} s   {summary}")
    ratio = suite / floor
    print(f"ratio suite / floor:                  {ratio:8.1f} (target <= {SUITE_OVER_FLOOR})")


if __name__ == "__main__":
    main()
