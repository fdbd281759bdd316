"""`make e2e`: the real Pulumi engine runs this program against the fakes.

For each of staging and prod, in a temporary copy of the project with a file
backend, a passphrase secrets provider and a PULUMI_HOME of its own (nothing is
downloaded: automatic plugin acquisition and the update check are off), it runs
the phases of issue 9 and checks what the fakes hold after each:

  preview   `pulumi preview` with the policy pack passes; with a tier the VM breaks,
            the same command is refused naming `tier-sizing`
  up        `pulumi up` creates everything; the fakes hold what the stack describes
  noop      a second `up` changes nothing, runs no flyctl write and no API write
  refresh   `pulumi refresh` finds no drift
  drift     a secret removed, an IP released, each out of band and alone, then
            `up --refresh` must put it back; a region scaled down by hand (`fly scale
            count`) must show in `refresh` (MachineCounts' observed counts) and preview
            as an update of MachineCounts alone, which `up` puts back; a region scaled
            up by hand must be put back by `up --refresh`
  image     a new webhost:image previews as an update of the deploy alone; up applies it
  contact   prod: a contact point added, then renamed: each takes one `up`, the policy
            routes to it and the old one is gone; the Fly header has one scheme
  restore   prod: the newest backup and a point in time restored beside the cluster in
            one `up`, the app moved to the new one, the old one kept, then retired
            (e2e/restore.py)
  workflows the GitHub jobs' own commands in each job's environment (e2e/workflows.py)
  rollback  prod: rollback.yml to an image deployed before is an update of the deploy
            alone; the next up from main is refused, then a no-op or a roll-forward
  export    the exported state holds no secret in plaintext and no token; dynamic
            providers are pickled by reference to our modules
  destroy   staging: every resource leaves the fakes; prod: refused while protected,
            retained data stays after unprotect
  crash     prod (a fresh stack): `pulumi up` killed across the graph, recovered by the
            runbook; everything converges (e2e/crash.py). `--phases crash` or
            E2E_PHASES=crash runs only the named phases
  layout    staging (a fresh stack): the previous provider layout's program (git
            archive of the commit before the move) creates the stack, the current one
            updates it with no replace, then refresh and destroy (e2e/layout.py)

Per phase it prints the wall time, flyctl invocations (writes) and Fly API requests
(writes) from the fakes' logs. The last line on success starts with `e2e passed:`.
On a failure it exits 1 naming the stack and phase, with the engine's output tail.

The modules: this one holds the phase table (PHASES: add a phase with one line
there), runs it per stack and prints the figures; e2e/world.py starts the world of
fakes a stack runs in; e2e/harness.py is the stack's handle (the engine runner, the
fakes' logs, Failure); e2e/checks.py reads back config, machines and previews;
e2e/preview.py and e2e/phases.py are the lifecycle phases, and e2e/origin.py,
restore.py, workflows.py, rollback.py and crash.py one phase each. None of them
imports this module. Engine: .tools/bin when built, else `pulumi` on PATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from e2e.crash import phase_crash  # noqa: E402
from e2e.harness import (  # noqa: E402  (bench/engine.py and the tests read them here)
    Failure,
    Skipped,
    Stack,
    engine_bin,
    is_api_write,
    is_fly_write,
)
from e2e.layout import phase_layout  # noqa: E402
from e2e.origin import phase_origin  # noqa: E402
from e2e.phases import (  # noqa: E402
    phase_contact,
    phase_destroy,
    phase_drift,
    phase_export,
    phase_image,
    phase_noop,
    phase_refresh,
    phase_up,
)
from e2e.preview import phase_preview  # noqa: E402
from e2e.restore import phase_restore  # noqa: E402
from e2e.rollback import phase_rollback  # noqa: E402
from e2e.workflows import phase_workflows  # noqa: E402
from e2e.world import stack  # noqa: E402

__all__ = ["Failure", "Skipped", "Stack", "is_api_write", "is_fly_write", "main", "stack"]


# The phase table: each phase by name, in the order it runs on one stack.
PHASES: list[tuple[str, Callable[[Stack], None]]] = [
    ("preview", phase_preview),  # the policy pack under the engine (e2e/preview.py)
    ("up", phase_up),
    ("noop", phase_noop),
    ("origin", phase_origin),  # origin certificates, then back to acme (e2e/origin.py)
    ("refresh", phase_refresh),
    ("drift", phase_drift),
    ("image", phase_image),
    ("contact", phase_contact),
    ("restore", phase_restore),  # prod: a restore under protection (e2e/restore.py)
    ("workflows", phase_workflows),  # the GitHub jobs' own commands (e2e/workflows.py)
    ("rollback", phase_rollback),  # prod: rollback.yml, then the next up (e2e/rollback.py)
    ("export", phase_export),
    ("destroy", phase_destroy),  # staging: all gone; prod: refused, then data retained
]
# After those, each on a fresh stack of its own: on the stack named beside it, or on any
# stack whose --phases names it.
FRESH_PHASES: list[tuple[str, Callable[[Stack], None], str]] = [
    ("crash", phase_crash, "prod"),  # `pulumi up` killed across the graph (e2e/crash.py)
    # the previous provider layout's stack updates in place (e2e/layout.py, issue 22)
    ("layout", phase_layout, "staging"),
]


def run_stack(
    name: str, keep_going: bool, only: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """Runs every phase (or those in `only`); returns (passed, failures)."""
    failures: list[str] = []
    fresh_phases = [
        (phase_name, phase)
        for phase_name, phase, default in FRESH_PHASES
        if (phase_name in only if only else name == default)
    ]
    with stack(name) as s:
        for phase_name, phase in [p for p in PHASES if not only or p[0] in only]:
            try:
                with s.phase(phase_name):
                    phase(s)
            except Failure as failure:
                message = f"e2e FAILED: {failure}"
                print(message, file=sys.stderr)
                if failure.output:
                    print("--- engine output (tail) ---", file=sys.stderr)
                    print(failure.output, file=sys.stderr)
                failures.append(str(failure))
                if not keep_going or phase_name in ("up",):
                    break
        passed = s.passed
    for phase_name, phase in fresh_phases if not failures or keep_going else []:
        with stack(name) as fresh:
            try:
                with fresh.phase(phase_name):
                    phase(fresh)
            except Failure as failure:
                print(f"e2e FAILED: {failure}\n{failure.output}", file=sys.stderr)
                failures.append(str(failure))
            passed += fresh.passed
    return passed, failures


def engine_version() -> str:
    env = dict(os.environ)
    tools = engine_bin()
    if tools is not None:
        env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["pulumi", "version"], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main(argv: list[str]) -> int:
    # `--phases crash` (or E2E_PHASES=crash,up): only those phases, by name.
    chosen = argv[argv.index("--phases") + 1] if "--phases" in argv[:-1] else ""
    argv = [a for a in argv if a not in ("--phases", chosen)]
    only = {p for p in (chosen or os.environ.get("E2E_PHASES", "")).split(",") if p} or None
    stacks = [a for a in argv if not a.startswith("-")] or ["staging", "prod"]
    keep_going = "--keep-going" in argv
    version = engine_version()
    print(f"e2e: pulumi {version}; stacks {', '.join(stacks)}", flush=True)
    # The workflows install the CLI for previews and applies at PULUMI_VERSION: the
    # engine proven here must be that one (tests/test_workflows.py holds them equal).
    pinned = {
        str(yaml.safe_load(path.read_text()).get("env", {}).get("PULUMI_VERSION"))
        for path in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
        if "PULUMI_VERSION" in (yaml.safe_load(path.read_text()).get("env") or {})
    }
    if {f"v{v}" for v in pinned} != {version}:
        print(f"e2e failed: the workflows pin pulumi {sorted(pinned)}, the engine here is "
              f"{version}", file=sys.stderr)  # fmt: skip
        return 1
    summary: list[str] = []
    failed: list[str] = []
    for name in stacks:
        passed, failures = run_stack(name, keep_going, only)
        summary.append(f"{name} [{' '.join(passed)}]")
        failed += failures
    if failed:
        print(f"e2e failed: {len(failed)} phase(s): " + "; ".join(failed), file=sys.stderr)
        return 1
    print(f"e2e passed: pulumi {version}; " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
