"""The backups scripts (postgres_backups.sh, postgres_backups_delete.sh), run for real
against the fake `fly` (tests/pg_scripts.py says how)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeFly, run_command
from tests.pg_scripts import CLUSTER, argvs, called, delete_fails_when, failed, ok, with_env

BACKUPS = "webhost-db-backups"
WANT = {"recovery_window": "14d", "full_backup_frequency": "24h"}
# `fly tokens create org` makes a macaroon, `FlyV1 ...` (README: Running it for real).
ORG_TOKEN = "FlyV1 fm2_org-token-that-must-not-leak"
MARKER = "WEBHOST_BACKUP_RESTART_PENDING"


def fly_answer(fly: FakeFly, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A flyctl call outside the program (the operator's, or a look at the result)."""
    return subprocess.run(
        [str(fly.bin_dir / "fly"), *argv],
        env=fly.env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def secret_statuses(fly: FakeFly) -> dict[str, str]:
    listed = fly_answer(fly, "secrets", "list", "--app", CLUSTER, "--json")
    assert listed.returncode == 0, listed.stderr
    return {s["name"]: s["status"] for s in json.loads(listed.stdout)}


def members(fly: FakeFly) -> list[dict[str, Any]]:
    machines: list[dict[str, Any]] = fly.snapshot()["apps"][CLUSTER]["machines"]
    return machines


def in_force(fly: FakeFly) -> list[Any]:
    """The barman settings each member's monitor runs with (read at its start)."""
    return [m.get("barman_in_force") for m in members(fly)]


def converged(fly: FakeFly, want: dict[str, str] = WANT) -> None:
    assert secret_statuses(fly).get("S3_ARCHIVE_CONFIG") == "Deployed"
    assert MARKER not in fly.secrets(CLUSTER)
    assert fly.cluster(CLUSTER)["backup_config"] == want
    assert in_force(fly) == [want] * len(members(fly))


def rerun_converges(fly: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """The backups script run again succeeds, and backups are on as the stack asks."""
    ok(run_command(commands[BACKUPS], fly, tmp_path))
    converged(fly)


def operator_enables(fly: FakeFly) -> None:
    """The operator's one-time `fly postgres backup enable`, as themselves (README)."""
    done = fly_answer(fly, "postgres", "backup", "enable", "--app", CLUSTER)
    assert done.returncode == 0, done.stderr
    assert secret_statuses(fly)["S3_ARCHIVE_CONFIG"] == "Staged"


def nothing_lost(fly: FakeFly, before: dict[str, Any]) -> None:
    after = fly.snapshot()
    assert len(after["apps"][CLUSTER]["machines"]) == len(before["apps"][CLUSTER]["machines"])
    assert set(before["apps"][CLUSTER]["secrets"]) <= set(after["apps"][CLUSTER]["secrets"])
    assert not [a for a in argvs(fly) if a[:2] in (["apps", "destroy"], ["machine", "destroy"])]


def test_backups_enable_deploy_configure_and_restart_into_force(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    first = ok(run_command(commands[BACKUPS], cluster, tmp_path))
    converged(cluster)
    # postgres/restart.go: the replicas one by one, the leader last
    leader = next(m["id"] for m in members(cluster) if m["role"] == "primary")
    restarts = cluster.snapshot()["restarts"]
    assert restarts[-1] == leader and leader not in restarts[:-1]
    calls = len(argvs(cluster))
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    again = argvs(cluster)[calls:]
    # converged: the archive Deployed, the settings as configured, no restart owed
    assert [a[:2] for a in again] == [
        ["secrets", "list"],
        ["postgres", "backup"],
        ["secrets", "list"],
    ]
    assert sum(a[:3] == ["postgres", "backup", "enable"] for a in argvs(cluster)) == 1
    archive = cluster.secrets(CLUSTER)["S3_ARCHIVE_CONFIG"]
    assert archive not in first.stdout + first.stderr


def test_backups_under_an_org_token_stop_before_any_change_with_one_line(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    before = cluster.snapshot()
    for _ in range(2):
        done = failed(run_command(commands[BACKUPS], cluster, tmp_path, FLY_API_TOKEN=ORG_TOKEN))
        ours = [line for line in done.stderr.splitlines() if not line.startswith("Error")]
        (line,) = ours
        assert f"`fly postgres backup enable --app {CLUSTER}` in a terminal" in line
        assert "org token" in line
    assert cluster.snapshot()["apps"][CLUSTER]["secrets"] == before["apps"][CLUSTER]["secrets"]
    assert not cluster.snapshot().get("addons")
    assert not called(cluster, "secrets", "deploy")


def test_backups_after_the_operators_one_time_enable_converge_under_an_org_token(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    operator_enables(cluster)
    ok(run_command(commands[BACKUPS], cluster, tmp_path, FLY_API_TOKEN=ORG_TOKEN))
    converged(cluster)


def test_backups_staged_archive_config_is_deployed_by_the_rerun(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # What `fly postgres backup enable` leaves (flyctl: "Run `fly secrets deploy`"),
    # or a run cut off right after it: staged, not yet in any member's environment.
    operator_enables(cluster)
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    assert ["secrets", "deploy", "--app", CLUSTER] in argvs(cluster)
    converged(cluster)


def test_backups_bucket_keys_never_reach_the_output(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # extensions/core/core.go setSecretsFromExtension prints the bucket's keys.
    cut = failed(run_command(commands[BACKUPS], cluster, tmp_path, FAKE_FLY_FAIL="secrets deploy"))
    done = ok(run_command(commands[BACKUPS], cluster, tmp_path))
    keys = cluster.secrets(CLUSTER)
    printed = cut.stdout + cut.stderr + done.stdout + done.stderr
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_ARCHIVE_CONFIG"):
        assert keys[name] not in printed


def test_backups_settings_changed_later_are_restarted_into_force(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    restarts = len(cluster.snapshot()["restarts"])
    changed = with_env(commands[BACKUPS], WEBHOST_RECOVERY_WINDOW="3w")
    ok(run_command(changed, cluster, tmp_path))
    converged(cluster, {**WANT, "recovery_window": "3w"})
    assert len(cluster.snapshot()["restarts"]) == restarts + len(members(cluster))


# Every flyctl call a first run makes, in order: (subcommand, its n-th call).
FIRST_RUN = [
    ("secrets list", 1),
    ("postgres backup enable", 1),
    ("secrets list", 2),
    ("secrets deploy", 1),
    ("secrets list", 3),
    ("postgres backup config show", 1),
    ("secrets list", 4),
    ("secrets set", 1),
    ("postgres backup config update", 1),
    ("postgres backup config show", 2),
    ("secrets list", 5),
    ("postgres restart", 1),
    ("secrets unset", 1),
    ("secrets list", 6),
]


def test_backups_first_run_makes_the_calls_the_fault_table_names(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    calls = len(argvs(cluster))
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    made: list[tuple[str, int]] = []
    for argv in argvs(cluster)[calls:]:
        step = next(s for s, _ in FIRST_RUN if argv[: len(s.split())] == s.split())
        made.append((step, sum(1 for m in made if m[0] == step) + 1))
    assert made == FIRST_RUN


@pytest.mark.parametrize(("step", "nth"), FIRST_RUN, ids=[f"{s}-{n}" for s, n in FIRST_RUN])
def test_backups_a_fault_at_any_step_stops_with_flyctls_line_and_the_rerun_converges(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, step: str, nth: int
) -> None:
    before = cluster.snapshot()
    done = failed(
        run_command(commands[BACKUPS], cluster, tmp_path, FAKE_FLY_FAIL_NTH=f"{step}:{nth}")
    )
    assert "Traceback" not in done.stderr
    assert f"failed to {step}: simulated failure" in done.stderr
    nothing_lost(cluster, before)
    rerun_converges(cluster, commands, tmp_path)


@pytest.mark.parametrize("printed", ["null", "{}", '[{"digest": "x"}]', "no listing"])
def test_backups_a_lost_secrets_listing_is_no_answer(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, printed: str
) -> None:
    done = failed(
        run_command(commands[BACKUPS], cluster, tmp_path, FAKE_FLY_STDOUT=f"secrets list={printed}")
    )
    assert done.stderr.strip().splitlines()[-1] == (
        f"`fly secrets list --app {CLUSTER} --json` answered no listing: stopped there"
    )
    assert [a[:2] for a in argvs(cluster) if a[0] != "apps"][-1:] == [["secrets", "list"]]
    assert not called(cluster, "postgres", "backup")
    rerun_converges(cluster, commands, tmp_path)


def test_backups_settings_flexctl_did_not_print_change_nothing(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    operator_enables(cluster)
    done = failed(
        run_command(
            commands[BACKUPS], cluster, tmp_path, FAKE_FLY_STDOUT="postgres backup config show="
        )
    )
    assert "printed no settings" in done.stderr.strip().splitlines()[-1]
    assert not called(cluster, "postgres", "backup", "config", "update")
    assert not called(cluster, "postgres", "restart")
    rerun_converges(cluster, commands, tmp_path)


def test_backups_enable_cut_off_half_way_stops_with_one_line(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # extensions/core/core.go: the bucket made and its keys set, S3_ARCHIVE_CONFIG not
    failed(
        run_command(commands[BACKUPS], cluster, tmp_path, FAKE_FLY_HALF="postgres backup enable")
    )
    keys = cluster.secrets(CLUSTER)
    for _ in range(2):
        done = failed(run_command(commands[BACKUPS], cluster, tmp_path))
        ours = [line for line in done.stderr.splitlines() if not line.startswith("Error")]
        (line,) = ours
        assert "has a Tigris bucket but no S3_ARCHIVE_CONFIG" in line
        assert keys["AWS_SECRET_ACCESS_KEY"] not in done.stdout + done.stderr
    assert cluster.secrets(CLUSTER) == keys
    assert len(cluster.snapshot()["addons"]) == 1


def test_backups_delete_stops_archiving(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path, script="delete"))
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path, script="delete"))
    assert "S3_ARCHIVE_CONFIG" not in cluster.secrets(CLUSTER)


def test_backups_delete_takes_an_owed_restart_with_it(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    failed(run_command(commands[BACKUPS], cluster, tmp_path, FAKE_FLY_FAIL="postgres restart"))
    assert MARKER in cluster.secrets(CLUSTER)
    ok(run_command(commands[BACKUPS], cluster, tmp_path, script="delete"))
    assert not {"S3_ARCHIVE_CONFIG", MARKER} & set(cluster.secrets(CLUSTER))
    # not staged: the members restart without it, and stop archiving
    assert in_force(cluster) == [None] * len(members(cluster))


def test_backups_delete_of_a_resource_recorded_before_the_marker(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    old = dict(commands[BACKUPS])
    old["environment"] = {
        k: v for k, v in old["environment"].items() if k != "WEBHOST_BACKUP_RESTART_MARKER"
    }
    ok(run_command(old, cluster, tmp_path, script="delete"))
    assert "S3_ARCHIVE_CONFIG" not in cluster.secrets(CLUSTER)


def test_backups_delete_fails_when_it_cannot_ask(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    delete_fails_when(cluster, commands["webhost-db-backups"], tmp_path, "secrets list")
    assert "S3_ARCHIVE_CONFIG" in cluster.secrets(CLUSTER)
