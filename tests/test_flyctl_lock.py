"""The flyctl scripts' lock (components/fly/scripts/lib.sh webhost_lock): a run does not
start flyctl work on a Fly app while a script of an earlier run still acts on it.

Each fault: the lock held by a live process (every script stops before any flyctl
call, saying who holds it), left by a dead one (taken), and unusable (a clear error,
nothing done). The scripts run as local.Command runs them, against the fake `fly`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeFly, lock_held, run_command

APP = "webhost-prod"
CLUSTER = "webhost-prod-db"


def lock_dir(tmp_path: Path) -> Path:
    # run_command's TMPDIR; the scripts' default lock directory lives under it.
    return tmp_path / "scratch" / "webhost-infra-locks"


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A live process holding the cluster's lock, as a script of a killed run would."""
    lock_dir(tmp_path).mkdir(parents=True)
    with lock_held(lock_dir(tmp_path) / f"{CLUSTER}.lock") as process:
        yield process


def test_every_script_waits_for_a_live_holder_then_stops_before_any_flyctl_call(
    commands: dict[str, dict[str, Any]],
    fake_fly: FakeFly,
    tmp_path: Path,
    holder: subprocess.Popen[str],
) -> None:
    on_cluster = {n: c for n, c in commands.items() if "WEBHOST_PG_APP" in c["environment"]}
    assert len(on_cluster) >= 5  # the cluster, replicas, attach, setup, backups
    for name, inputs in on_cluster.items():
        for script in ("create", "update", "delete"):
            if not inputs.get(script):
                continue
            done = run_command(inputs, fake_fly, tmp_path, script, WEBHOST_LOCK_WAIT="0")
            assert done.returncode != 0, (name, script)
            assert f"flyctl work on {CLUSTER} still under way" in done.stderr, (name, script)
            assert "pid 4242" in done.stderr and "nothing was done" in done.stderr
    assert fake_fly.calls() == []


def test_a_script_runs_once_the_holder_is_gone(
    commands: dict[str, dict[str, Any]],
    fake_fly: FakeFly,
    tmp_path: Path,
    holder: subprocess.Popen[str],
) -> None:
    replica = commands["webhost-db-replica-fra"]
    assert run_command(replica, fake_fly, tmp_path, WEBHOST_LOCK_WAIT="0").returncode != 0
    holder.communicate()  # the earlier run's script ends
    done = run_command(replica, fake_fly, tmp_path, WEBHOST_LOCK_WAIT="0")
    assert "still under way" not in done.stderr
    assert fake_fly.calls()  # it went on to flyctl


def test_a_lock_left_by_a_dead_process_is_taken(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    fake_fly.seed_app(APP)
    lock_dir(tmp_path).mkdir(parents=True)
    left = lock_dir(tmp_path) / f"{CLUSTER}.lock"
    left.write_text("pid 999999 since 2026-01-01T00:00:00Z\n")  # its holder died
    done = run_command(commands["webhost-db"], fake_fly, tmp_path, WEBHOST_LOCK_WAIT="0")
    assert done.returncode == 0, done.stderr
    assert "still under way" not in done.stderr
    assert "pid 999999" not in left.read_text()  # now names the script that took it


def test_the_attach_locks_the_app_too(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    lock_dir(tmp_path).mkdir(parents=True)
    with lock_held(lock_dir(tmp_path) / f"{APP}.lock"):
        for name in ("webhost-db-attach", "webhost-deploy"):
            done = run_command(commands[name], fake_fly, tmp_path, WEBHOST_LOCK_WAIT="0")
            assert f"flyctl work on {APP} still under way" in done.stderr, name
    assert fake_fly.calls() == []


@pytest.mark.parametrize("broken", ["lock file is a directory", "lock directory is a file"])
def test_an_unusable_lock_is_a_clear_error_and_nothing_is_done(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path, broken: str
) -> None:
    directory = lock_dir(tmp_path)
    if broken == "lock file is a directory":
        (directory / f"{CLUSTER}.lock").mkdir(parents=True)
        expected = f"cannot open the flyctl lock file {directory}/{CLUSTER}.lock"
    else:
        directory.parent.mkdir(parents=True)
        directory.write_text("")
        expected = f"cannot make the flyctl lock directory {directory}"
    done = run_command(commands["webhost-db"], fake_fly, tmp_path, WEBHOST_LOCK_WAIT="0")
    assert done.returncode != 0
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert fake_fly.calls() == []
