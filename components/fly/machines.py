"""MachineCounts (`pulumi-python:dynamic/fly:MachineCounts`): the app's machines per region.

`fly scale count` is what Fly offers for "N machines of the app in region R" (flyctl
internal/command/scale/count.go); it launches new machines from the app's current
machine config and release, which only flyctl assembles, so the provider runs the
`fly` on PATH rather than re-implementing it over the Machines API. FLY_API_TOKEN
stays in the environment flyctl inherits: it is never an argument, an input or an
output, and flyctl's stderr (which these errors quote) does not print it.

Unlike the deploy's `local.Command` (pulumi-command has no Read:
provider/pkg/provider/local/commandController.go), this resource reads the live
counts back, so `pulumi refresh` sees a region scaled by hand and the next `up`
scales it back:

- inputs: `app` and `counts` (region -> machines wanted, the program's);
- outputs: the same two, plus `observed` (region -> machines found), which `read`
  refreshes and nothing else changes. `read` returns no inputs, so the engine keeps
  the program's `counts` as the inputs (pulumi sdk/python/lib/pulumi/dynamic/
  __main__.py Read: inputs only when the provider returns them);
- `diff` compares the old *outputs* with the new inputs: the engine passes the old
  outputs as `olds` (pulumi pkg/resource/plugin/provider_plugin.go Diff sends
  `Olds: mOldOutputs`, and the dynamic host hands `request.olds` to `diff`). After a
  refresh those hold what `read` observed, so `observed != counts` is a change and
  the next `up` updates. A refresh right after an up diffs in the same way
  (pkg/resource/deploy/step.go RefreshStep.Apply calls the provider's Diff with the
  refreshed outputs and the old inputs): `observed == counts`, no change.

Counting is flyctl's own (one place, also used by `webhost-infra drift`): a machine
counts when `fly scale count` would count it, i.e. one of the Fly Launch machines
`ListFlyAppsMachines` returns (fly-go flaps/flaps_machines.go: platform v2, not
destroyed or destroying, not a release command's, not a console) in the app's
process group (count_machines.go groups by `Machine.ProcessGroup()` and scales the
default group, "app"). A `fly machine run` one-off (no Fly Launch metadata) or a
release command machine is neither counted nor touched.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

# fly-go machine_types.go: the metadata keys and values flyctl labels machines with.
PLATFORM_VERSION_KEY: Final = "fly_platform_version"
PLATFORM_V2: Final = "v2"
PROCESS_GROUP_KEY: Final = "fly_process_group"
LEGACY_PROCESS_GROUP_KEY: Final = "process_group"  # MachineConfig.ProcessGroup's fallback
APP_GROUP: Final = "app"  # MachineProcessGroupApp, what scale count scales by default
RELEASE_COMMAND_GROUP: Final = "fly_app_release_command"
CONSOLE_GROUP: Final = "fly_app_console"
INACTIVE_STATES: Final = frozenset({"destroyed", "destroying"})  # Machine.IsActive
# flyctl's explicit answers for an app that does not exist: GraphQL's, for commands that
# look the app up first (flyctl itself tests for it: internal/command/deploy/deploy.go),
# and the Machines API's 404 behind `fly machines list`, which asks flaps straight away
# (internal/command/machine/list.go; fly-go flaps/flaps_machines.go List wraps it as
# "failed to list VMs: %w", flaps.go handleAPIError gives the body's `error`, and
# flaps_apps_test.go shows `{"error":"app not found"}` for a 404).
NO_SUCH_APP: Final = ("Could not find App", "failed to list VMs: app not found")
# A listing answers in seconds; a scale launches or destroys machines and waits for
# Fly (count_machines.go), minutes at most: bounded, so a hung flyctl fails the up.
READ_TIMEOUT_S: Final = 120
SCALE_TIMEOUT_S: Final = 30 * 60


# The flyctl scripts' lock per Fly app (scripts/lib.sh webhost_lock, which says why a
# local kernel lock): the same file, so `fly scale count` never runs while a script of
# an earlier, killed run still acts on the app. Same directory and bounded wait.
LOCK_DIR_ENV: Final = "WEBHOST_LOCK_DIR"
LOCK_WAIT_ENV: Final = "WEBHOST_LOCK_WAIT"
LOCK_WAIT_S: Final = 1800.0


def _lock_path(app: str) -> str:
    directory = os.environ.get(LOCK_DIR_ENV) or os.path.join(
        os.environ.get("TMPDIR") or "/tmp",  # noqa: S108 - lib.sh's own default, one lock
        "webhost-infra-locks",
    )
    return os.path.join(directory, f"{app}.lock")


@contextmanager
def app_lock(app: str) -> Iterator[None]:
    """Hold the app's flyctl lock, waiting at most WEBHOST_LOCK_WAIT seconds; RuntimeError
    naming the holder when it stays taken, or when the lock cannot be opened."""
    path = _lock_path(app)
    wait = float(os.environ.get(LOCK_WAIT_ENV) or LOCK_WAIT_S)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held until the block ends
    except OSError as exc:
        raise RuntimeError(
            f"cannot open the flyctl lock file {path} for app {app} ({exc.strerror}); fix its "
            f"permissions or set {LOCK_DIR_ENV}; nothing was done"
        ) from None
    with handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "a process that wrote nothing"
                    raise RuntimeError(
                        f"flyctl work on {app} still under way after {wait:g} s ({holder}): a "
                        "script of an earlier run still acting? nothing was done. Let it "
                        "finish (or end that process), then run again"
                    ) from None
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
        handle.truncate(0)
        handle.write(
            f"pid {os.getpid()} (MachineCounts) since "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n"
        )
        handle.flush()
        yield


class FlyctlError(Exception):
    """flyctl could not answer; the message quotes its stderr (which holds no token)."""


def fly(
    *args: str, timeout: float = READ_TIMEOUT_S, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`fly ARGS` (with `stdin` on its input when given), the token left in the
    environment; raises FlyctlError on no answer."""
    binary = shutil.which("fly") or shutil.which("flyctl")
    if binary is None:
        raise FlyctlError("flyctl (`fly`) is not on PATH")
    try:
        return subprocess.run(
            [binary, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        raise FlyctlError(f"`fly {' '.join(args)}` did not answer in {timeout:g} s") from None


def failed(args: Iterable[str], done: subprocess.CompletedProcess[str]) -> FlyctlError:
    """flyctl's failure as one line: the command and what flyctl said on stderr."""
    said = "; ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
    return FlyctlError(f"`fly {' '.join(args)}` failed: {said or 'no output'}")


class NoSuchApp(FlyctlError):
    """flyctl said the app it names does not exist: the one answer that means "absent"."""


def _answer(*args: str) -> Any:
    """flyctl's JSON answer (`--json` added). NoSuchApp on flyctl's explicit not-found;
    any other failure raises FlyctlError: it never reads as an empty answer."""
    done = fly(*args, "--json")
    if done.returncode != 0:
        if said := next((text for text in NO_SUCH_APP if text in done.stderr), None):
            raise NoSuchApp(f"`fly {' '.join(args)}`: {said}")
        raise failed(args, done)
    try:
        return json.loads(done.stdout)
    except (json.JSONDecodeError, RecursionError):
        raise FlyctlError(f"`fly {' '.join(args)} --json` printed no JSON") from None


def listing(*args: str) -> list[dict[str, Any]]:
    """A flyctl `list` command's JSON answer (`--json` added): a list of objects.

    NoSuchApp on flyctl's explicit not-found; anything else that is not a list of
    objects raises FlyctlError. flaps List decodes into a slice made with make()
    (fly-go flaps/flaps_machines.go), so even an app with no machines prints `[]`: a
    `null`, an object or a list of anything else is no answer, least of all "none".
    """
    listed = _answer(*args)
    if not isinstance(listed, list) or not all(isinstance(m, dict) for m in listed):
        raise FlyctlError(
            f"`fly {' '.join(args)} --json` printed {type(listed).__name__} JSON, "
            "not a list of objects"
        )
    return listed


def process_group(machine: Mapping[str, Any]) -> str:
    """fly-go MachineConfig.ProcessGroup: fly_process_group, else process_group, else ""."""
    metadata = (machine.get("config") or {}).get("metadata") or {}
    return str(metadata.get(PROCESS_GROUP_KEY) or metadata.get(LEGACY_PROCESS_GROUP_KEY) or "")


def is_app_machine(machine: Mapping[str, Any]) -> bool:
    """Whether `fly scale count` counts this machine as one of the app's (module docstring)."""
    config = machine.get("config")
    if not config:  # count_machines.go drops machines whose config Fly could not give
        return False
    metadata = config.get("metadata") or {}
    return (
        metadata.get(PLATFORM_VERSION_KEY) == PLATFORM_V2
        and machine.get("state") not in INACTIVE_STATES
        # A release command's machine carries its own group, or the older
        # process_group=release_command label (fly-go Machine.IsReleaseCommandMachine).
        and metadata.get(LEGACY_PROCESS_GROUP_KEY) != "release_command"
        and process_group(machine) == APP_GROUP
    )


def region_counts(listed: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The app's machines per region, counted as `fly scale count` counts them."""
    return dict(sorted(Counter(str(m.get("region")) for m in listed if is_app_machine(m)).items()))


def _whole(app: str, region: str, count: Any) -> int:
    """A count as the engine hands it (numbers cross it as doubles: 3.0) back to an int;
    anything that is not a whole number of machines, 0 or more, is refused. A negative one
    would reach flyctl as `-1`, which `fly scale count` reads as "one fewer" (flyctl
    internal/command/scale/count.go parseGroupCounts: a leading sign is relative)."""
    whole = (
        isinstance(count, int | float)
        and not isinstance(count, bool)
        and math.isfinite(count)
        and count >= 0
        and float(count).is_integer()
    )
    if not whole:
        raise RuntimeError(
            f"MachineCounts of app {app}: region {region}: count {count!r} is not a whole "
            "number of machines (0 or more)"
        )
    return int(count)


def _wanted(counts: Any, app: str = "") -> dict[str, int]:
    """Region -> count with zeros dropped (0 and absent both mean no machine there)."""
    wanted = {str(r): _whole(app, str(r), n) for r, n in sorted(dict(counts or {}).items())}
    return {r: n for r, n in wanted.items() if n}


def _differing(have: Mapping[str, int], wanted: Mapping[str, int]) -> list[str]:
    """The regions whose machine count is not the wanted one (absent counts as 0)."""
    return [r for r in sorted({*have, *wanted}) if have.get(r, 0) != wanted.get(r, 0)]


def scale_order(have: Mapping[str, int], wanted: Mapping[str, int]) -> list[str]:
    """The regions to scale, every increase before any decrease.

    Moving machines between regions (iad 3 -> 0, fra 0 -> 3) must never dip below what
    either config asks for: `fly scale count` launches or destroys one region's machines
    per call and waits for them (flyctl internal/command/scale/count_machines.go
    runMachinesScaleCount), so growing first means that when an `up` dies between two
    calls the app holds at least the old count and the new one in every region, and the
    next `up` only has decreases left. Within each half, regions go by name.
    """
    differing = _differing(have, wanted)
    return [r for r in differing if wanted.get(r, 0) > have.get(r, 0)] + [
        r for r in differing if wanted.get(r, 0) < have.get(r, 0)
    ]


def __getattr__(name: str) -> Any:
    """MachineCounts and its provider, which lived here until they moved to
    components/fly/providers/machine_counts.py: a state pickled before names this module
    (components/fly/providers/base.py). Looked up late, as that module imports this one."""
    if name in ("MachineCounts", "MachineCountsProvider"):
        from components.fly.providers import machine_counts  # noqa: PLC0415 - a cycle

        return getattr(machine_counts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
