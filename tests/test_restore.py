"""Restore under protection: config, the program's clusters side by side, the restore
and attach scripts against the fake `fly`, and the fake's restore itself (flyctl
internal/command/postgres/backup.go runBackupRestore; postgres-flex
internal/flypg/barman_restore.go)."""

from __future__ import annotations

import copy
import json
import math
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cli import drill as drill_module
from cli import engine, stackfile
from cli.main import main
from components import config, postgres
from components.config import ConfigError
from tests.conftest import (
    PROJECT_FILE,
    ROOT,
    FakeFly,
    fake_fly_in,
    own_copy,
    run,
    run_command,
    stack_doc,
    write_stack,
)
from tests.known import COMMAND, SECRETS, KnownMocks

SOURCE = "webhost-prod-db"
RESTORED = "webhost-prod-db-r1"
APP = "webhost-prod"


def prod_with(**postgres_keys: Any) -> dict[str, Any]:
    doc = copy.deepcopy(stack_doc("prod"))
    doc["webhost:postgres"].update(copy.deepcopy(postgres_keys))
    return doc


def problems(tmp_path: Path, **postgres_keys: Any) -> list[str]:
    loaded = stackfile.load(write_stack(tmp_path, prod_with(**postgres_keys)), PROJECT_FILE)
    with pytest.raises(ConfigError) as caught:
        config.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)
    return caught.value.problems


def evaluate(tmp_path: Path, **postgres_keys: Any) -> engine.Evaluation:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return run(
        prod_with(**postgres_keys), tmp_path, stack="prod", preview=False, mocks=KnownMocks()
    )


RESTORE = {"name": RESTORED, "source": SOURCE}


# -- config ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"restores": [{"name": RESTORED, "source": "nope-db"}]}, "restores.0.source"),
        ({"restores": [{"name": SOURCE, "source": SOURCE}]}, "restores.0.name"),
        ({"restores": [{"name": APP, "source": SOURCE}]}, "restores.0.name"),
        ({"restores": [dict(RESTORE), dict(RESTORE)]}, "restores.1.name"),
        (
            {"restores": [{**RESTORE, "targetTime": "2026-11-24T12:00:00Z", "targetName": "x"}]},
            "restores.0.targetName",
        ),
        ({"restores": [{**RESTORE, "targetTime": "2026-11-24 12:00"}]}, "restores.0.targetTime"),
        (
            {"restores": [{**RESTORE, "targetTime": "2026-13-24T12:00:00Z"}]},
            "restores.0.targetTime",
        ),
        ({"restores": [{**RESTORE, "targetTime": "2026-11-24T12:00:00"}]}, "restores.0.targetTime"),
        ({"restores": [{**RESTORE, "targetName": "a b"}]}, "restores.0.targetName"),
        ({"restores": [{**RESTORE, "from": SOURCE}]}, "restores.0.from"),
        ({"active": "elsewhere-db"}, "active"),
        ({"restores": [RESTORE], "retired": [SOURCE]}, "active"),
        ({"restores": [RESTORE], "active": RESTORED, "retired": ["ghost-db"]}, "retired.0"),
        ({"restores": [RESTORE], "active": RESTORED, "retired": [SOURCE, SOURCE]}, "retired.1"),
        ({"restores": [RESTORE], "backups": {"enabled": False}}, "restores.0"),
    ],
)
def test_bad_cluster_lists_are_refused_with_the_key(
    tmp_path: Path, keys: dict[str, Any], expected: str
) -> None:
    found = problems(tmp_path, **keys)
    assert len(found) == 1, found
    assert found[0].startswith(f"webhost:postgres.{expected}"), found


def test_a_restore_beside_the_first_cluster_parses(tmp_path: Path) -> None:
    loaded = stackfile.load(
        write_stack(
            tmp_path,
            prod_with(
                restores=[{**RESTORE, "targetTime": "2026-11-24T12:00:00.5+01:00"}],
                active=RESTORED,
                retired=[SOURCE],
            ),
        ),
        PROJECT_FILE,
    )
    parsed = config.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)
    assert parsed.postgres_clusters == [SOURCE, RESTORED]
    assert parsed.postgres_active == RESTORED


# -- the program ----------------------------------------------------------------------
def commands(evaluation: engine.Evaluation) -> dict[str, Any]:
    return {r.name: r for r in evaluation.by_type(COMMAND)}


def test_a_restore_is_new_resources_beside_the_first_cluster_which_keep_their_inputs(
    tmp_path: Path,
) -> None:
    before = commands(evaluate(tmp_path / "a"))
    after = evaluate(tmp_path / "b", restores=[RESTORE], active=RESTORED)
    now = commands(after)
    # the first cluster's resources: same names, same inputs, still protected
    for name, resource in before.items():
        assert name in now, name
        assert dict(now[name].inputs) == dict(resource.inputs), name
        assert now[name].protect == resource.protect
    added = sorted(set(now) - set(before))
    prefix = f"webhost-db-{RESTORED}"
    assert added == sorted(
        [
            prefix,
            f"{prefix}-attach",
            f"{prefix}-backups",
            f"{prefix}-replica-fra",
            f"{prefix}-replica-sin",
            f"{prefix}-setup",
        ]
    )
    assert all(now[name].protect for name in added)
    env = now[prefix].inputs["environment"]
    assert env["WEBHOST_RESTORE_SOURCE"] == SOURCE and env["WEBHOST_PG_APP"] == RESTORED
    assert now[f"{prefix}-attach"].inputs["environment"]["WEBHOST_RESTORED"] == "true"
    # one attach at a time: they share the app's scratch secret
    assert now["webhost-db-attach"].urn in now[f"{prefix}-attach"].dependencies
    # the app's secrets now wait on the new cluster's attach
    assert now[f"{prefix}-attach"].urn in after.one(SECRETS).dependencies
    assert now["webhost-db-attach"].urn not in after.one(SECRETS).dependencies


def test_the_app_follows_the_active_cluster(tmp_path: Path) -> None:
    stays = evaluate(tmp_path / "a", restores=[RESTORE])
    moves = evaluate(tmp_path / "b", restores=[RESTORE], active=RESTORED)
    assert commands(stays)["webhost-db-attach"].urn in stays.one(SECRETS).dependencies
    moved = commands(moves)[f"webhost-db-{RESTORED}-attach"]
    assert moved.urn in moves.one(SECRETS).dependencies


def test_a_retired_cluster_is_unprotected_and_retained(tmp_path: Path) -> None:
    now = commands(evaluate(tmp_path, restores=[RESTORE], active=RESTORED, retired=[SOURCE]))
    old = [r for n, r in now.items() if n.startswith("webhost-db") and RESTORED not in n]
    assert old and all(not r.protect and r.retain_on_delete for r in old)
    new = [r for n, r in now.items() if RESTORED in n]
    assert new and all(r.protect for r in new)


# -- the scripts against the fake -------------------------------------------------------
@pytest.fixture(scope="module")
def restored_commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    evaluation = evaluate(tmp_path_factory.mktemp("stack"), restores=[RESTORE], active=RESTORED)
    return {r.name: dict(r.inputs) for r in evaluation.by_type(COMMAND)}


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


def fly(fake: FakeFly, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["fly", *argv], env=fake.env(), input=stdin, capture_output=True, text=True, check=False
    )


def sql(fake: FakeFly, app: str, database: str, text: str) -> list[str]:
    state = fake.snapshot()
    leader = next(m["id"] for m in state["apps"][app]["machines"] if m.get("role") == "primary")
    command = f"psql -X -q -At -v ON_ERROR_STOP=1 -p 5433 -U postgres -d {database}"
    done = ok(fly(fake, "ssh", "console", "--app", app, "--machine", leader, "--command", command,
                  stdin=text))  # fmt: skip
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def source_template(
    restored_commands: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> FakeFly:
    """The first cluster as the program leaves it, backups on, with rows in its database:
    made once for the module (four scripts and their flyctl calls), copied per test."""
    directory = tmp_path_factory.mktemp("source")
    fake = fake_fly_in(directory)
    fake.seed_app(APP)
    for name in ("webhost-db", "webhost-db-attach", "webhost-db-setup", "webhost-db-backups"):
        ok(run_command(restored_commands[name], fake, directory))
    sql(fake, SOURCE, "webhost_prod", "CREATE TABLE orders (id int);\n")
    sql(fake, SOURCE, "webhost_prod", "INSERT INTO orders VALUES ('before-backup');\n")
    ok(fly(fake, "postgres", "backup", "create", "--app", SOURCE))
    return fake


@pytest.fixture
def source(source_template: FakeFly, fake_fly: FakeFly) -> FakeFly:
    """The template's state and call log, this test's own to change."""
    return own_copy(source_template, fake_fly)


def test_the_cluster_script_restores_by_flyctls_path_and_converges(
    source: FakeFly, restored_commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    sql(source, SOURCE, "webhost_prod", "INSERT INTO orders VALUES ('after-backup');\n")
    done = ok(run_command(restored_commands[f"webhost-db-{RESTORED}"], source, tmp_path))
    restores = [
        c["argv"] for c in source.calls() if c["argv"][:3] == ["postgres", "backup", "restore"]
    ]
    assert restores == [
        ["postgres", "backup", "restore", RESTORED, "--app", SOURCE, "--image-ref",
         restored_commands["webhost-db"]["environment"]["WEBHOST_IMAGE"]]
    ]  # fmt: skip
    assert postgres.operator_url(done.stdout) is not None
    size = int(restored_commands["webhost-db"]["environment"]["WEBHOST_CLUSTER_SIZE"])
    assert source.machines(RESTORED) == {"iad": size}
    # the newest point: the base backup and the WAL after it
    assert sql(source, RESTORED, "webhost_prod", "SELECT * FROM orders;\n") == [
        "before-backup",
        "after-backup",
    ]
    # the first cluster is untouched; a re-run restores nothing again
    assert source.machines(SOURCE) == {"iad": size}
    ok(run_command(restored_commands[f"webhost-db-{RESTORED}"], source, tmp_path))
    again = [c for c in source.calls() if c["argv"][:3] == ["postgres", "backup", "restore"]]
    assert len(again) == 1


def test_a_point_in_time_restore_stops_at_the_target(
    source: FakeFly, restored_commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    sql(source, SOURCE, "webhost_prod", "INSERT INTO orders VALUES ('before-target');\n")
    target = datetime.now(UTC).isoformat()
    sql(source, SOURCE, "webhost_prod", "INSERT INTO orders VALUES ('after-target');\n")
    inputs = restored_commands[f"webhost-db-{RESTORED}"]
    inputs = {
        **inputs,
        "environment": {**inputs["environment"], "WEBHOST_RESTORE_TARGET_TIME": target},
    }
    ok(run_command(inputs, source, tmp_path))
    argv = next(
        c["argv"] for c in source.calls() if c["argv"][:3] == ["postgres", "backup", "restore"]
    )
    assert argv[argv.index("--restore-target-time") + 1] == target
    assert sql(source, RESTORED, "webhost_prod", "SELECT * FROM orders;\n") == [
        "before-backup",
        "before-target",
    ]
    restore_config = source.secrets(RESTORED)["S3_ARCHIVE_REMOTE_RESTORE_CONFIG"]
    assert restore_config.endswith(f"?targetTime={target}&targetInclusive=true")


def test_a_restore_of_a_cluster_without_backups_fails_and_makes_nothing(
    restored_commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    fake_fly.seed_app(APP)
    ok(run_command(restored_commands["webhost-db"], fake_fly, tmp_path))
    done = run_command(restored_commands[f"webhost-db-{RESTORED}"], fake_fly, tmp_path)
    assert done.returncode != 0
    assert "backups are not enabled" in done.stderr
    assert RESTORED not in fake_fly.snapshot()["apps"]


def test_a_restore_whose_member_never_comes_up_stops_before_any_clone(
    source: FakeFly, restored_commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # flyctl exits 0 whatever the launch did (runBackupRestore ignores
    # LaunchMachinesPostgres's error); a target before every backup fails the boot.
    inputs = restored_commands[f"webhost-db-{RESTORED}"]
    env = {**inputs["environment"], "WEBHOST_RESTORE_TARGET_NAME": "no-such-backup"}
    done = run_command({**inputs, "environment": env}, source, tmp_path)
    assert done.returncode != 0, done.stdout
    assert not [c for c in source.calls() if c["argv"][:2] == ["machine", "clone"]
                and "--app" in c["argv"] and RESTORED in c["argv"]]  # fmt: skip
    # run again (a run cut off mid-restore finds the same): no second restore, no
    # clone, nothing destroyed
    again = run_command({**inputs, "environment": env}, source, tmp_path)
    assert again.returncode != 0 and "no passing primary" in again.stderr
    calls = [c["argv"] for c in source.calls()]
    assert sum(a[:3] == ["postgres", "backup", "restore"] for a in calls) == 1
    assert not [a for a in calls if a[:2] in (["machine", "clone"], ["apps", "destroy"])]
    assert RESTORED in source.snapshot()["apps"]


def test_the_restored_users_copy_is_dropped_and_the_app_attached_afresh(
    source: FakeFly, restored_commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    old_password = source.cluster(SOURCE)["users"]["webhost_prod"]
    ok(run_command(restored_commands[f"webhost-db-{RESTORED}"], source, tmp_path))
    assert source.cluster(RESTORED)["users"]["webhost_prod"] == old_password  # restored
    done = ok(run_command(restored_commands[f"webhost-db-{RESTORED}-attach"], source, tmp_path))
    url = postgres.attached_url(done.stdout)
    new_password = source.cluster(RESTORED)["users"]["webhost_prod"]
    assert new_password != old_password
    assert url.startswith(f"postgres://webhost_prod:{new_password}@{RESTORED}.flycast:5432/")
    assert old_password not in done.stdout + done.stderr
    # the first cluster keeps its user and its attachment
    assert source.cluster(SOURCE)["users"]["webhost_prod"] == old_password
    assert [a["app"] for a in source.cluster(SOURCE)["attachments"]] == [APP]
    ok(run_command(restored_commands[f"webhost-db-{RESTORED}-setup"], source, tmp_path))
    assert sql(source, RESTORED, "webhost_prod", "SELECT count(*) FROM orders;\n") == ["1"]


def test_the_first_clusters_attach_never_drops_a_user_it_cannot_detach(
    source: FakeFly, restored_commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # Without WEBHOST_RESTORED (the first cluster's attach), a user with no attachment
    # to detach stops the script: the drop is only for a restore's copy.
    state = source.snapshot()
    state["pg"][SOURCE]["attachments"] = []
    source.state.write_text(json.dumps(state))
    done = run_command(restored_commands["webhost-db-attach"], source, tmp_path)
    assert done.returncode != 0
    assert "webhost_prod" in source.cluster(SOURCE)["users"]


# -- the restore drill ----------------------------------------------------------------
def prod_config() -> config.StackConfig:
    loaded = stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE)
    return config.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)


SCRATCH = f"{SOURCE}-drill-202612060700"


class Clock:
    """Monotonic seconds that move only when the drill waits (no timed test)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def drill(fake: FakeFly, monkeypatch: pytest.MonkeyPatch, **env: str) -> drill_module.Report:
    for key, value in fake.env(**env).items():
        monkeypatch.setenv(key, value)
    clock = Clock()
    return drill_module.run(
        prod_config(), "prod", scratch=SCRATCH, clock=clock, sleep=clock.sleep, poll_seconds=600
    )


def apps(fake: FakeFly) -> set[str]:
    return set(fake.snapshot()["apps"])


def destroyed(fake: FakeFly) -> list[str]:
    return [c["argv"][2] for c in fake.calls() if c["argv"][:2] == ["apps", "destroy"]]


def test_the_drill_restores_smoke_tests_measures_and_destroys_only_the_scratch(
    source: FakeFly, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = apps(source)
    report = drill(source, monkeypatch)
    assert report.passed, report.failures
    assert report.steps == {
        "recovery point": "measured",
        "restore": "launched",
        "smoke queries": "passed",
        "destroy": "destroyed",
    }
    assert report.recovery_point_seconds is not None and report.recovery_point_seconds < 3600
    assert report.recovery_time_seconds == 0.0  # the fake's clock never moved
    assert destroyed(source) == [SCRATCH]
    assert apps(source) == before
    restore = next(
        c["argv"] for c in source.calls() if c["argv"][:3] == ["postgres", "backup", "restore"]
    )
    assert restore == ["postgres", "backup", "restore", SCRATCH, "--app", SOURCE]
    drill_module.write(report, tmp_path / "figures.json")
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["passed"] and figures["scratch"] == SCRATCH
    assert figures["recovery_point_objective_seconds"] == 26 * 3600
    assert figures["recovery_time_objective_seconds"] == 2 * 3600


@pytest.mark.parametrize(
    ("env", "step", "made"),
    [
        ({"FAKE_FLY_FAIL": "postgres backup restore"}, "restore", False),
        ({"FAKE_FLY_REMOTE_FAIL": "SELECT 1"}, "smoke queries", True),
        ({"FAKE_FLY_FAIL_NTH": "apps list:2"}, "destroy", None),
        ({"FAKE_FLY_FAIL": "apps destroy"}, "destroy", True),
        ({"FAKE_FLY_FAIL": "ssh console"}, "recovery point", True),
    ],
)
def test_a_fault_at_every_step_is_reported_and_destroys_nothing_else(
    source: FakeFly,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    step: str,
    made: bool | None,
) -> None:
    before = apps(source)
    report = drill(source, monkeypatch, **env)
    assert not report.passed
    assert report.steps[step] == "failed", report.steps
    assert any(f.startswith(f"{step}:") for f in report.failures), report.failures
    # nothing but the scratch cluster is ever destroyed
    assert set(destroyed(source)) <= {SCRATCH}
    assert before <= apps(source)
    if made is False:
        assert destroyed(source) == [] and SCRATCH not in apps(source)
    if step == "destroy":
        assert report.scratch_left
        assert SCRATCH in " ".join(report.failures)


def test_the_drill_never_takes_an_existing_app_for_its_scratch(
    source: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    source.seed_app(SCRATCH)
    state = source.snapshot()
    state["apps"][SCRATCH]["org"] = "webhost-systems"
    source.state.write_text(json.dumps(state))
    report = drill(source, monkeypatch)
    assert not report.passed and "already exists" in report.failures[-1]
    assert destroyed(source) == []
    assert not [c for c in source.calls() if c["argv"][:3] == ["postgres", "backup", "restore"]]


@pytest.mark.parametrize("scratch", [SOURCE, APP, "webhost-prod-redis", "webhost-prod-db-copy"])
def test_a_scratch_name_of_the_stacks_own_or_unmarked_is_refused(
    source: FakeFly, monkeypatch: pytest.MonkeyPatch, scratch: str
) -> None:
    for key, value in source.env().items():
        monkeypatch.setenv(key, value)
    with pytest.raises(drill_module.DrillInputError):
        drill_module.run(prod_config(), "prod", scratch=scratch)
    assert source.calls() == [c for c in source.calls() if c["argv"][:2] != ["apps", "destroy"]]


def test_a_restore_that_never_serves_fails_at_the_time_objective_and_is_destroyed(
    source: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No completed base backup: flyctl launches the member and exits 0; the member's
    # restore fails (postgres-flex: "no backups found"), so no smoke query ever passes.
    state = source.snapshot()
    state["pg"][SOURCE]["base_backups"] = []
    source.state.write_text(json.dumps(state))
    report = drill(source, monkeypatch)
    assert report.steps["restore"] == "launched"
    assert report.steps["smoke queries"] == "failed"
    assert report.recovery_time_seconds is None
    assert destroyed(source) == [SCRATCH] and SCRATCH not in apps(source)


def test_a_backup_older_than_the_objective_fails_the_drill(
    source: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = source.snapshot()
    for backup in state["pg"][SOURCE]["base_backups"]:
        backup["end_time"] = "Mon Nov 2 10:00:00 2026"
    source.state.write_text(json.dumps(state))
    report = drill(source, monkeypatch)
    assert report.steps["destroy"] == "destroyed"
    assert [f for f in report.failures if f.startswith("recovery point:")], report.failures
    assert "over the 26h objective" in report.failures[0]


def test_the_cli_writes_the_figures_and_exits_1_on_a_failure(
    source: FakeFly,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in source.env(FAKE_FLY_FAIL="postgres backup restore").items():
        monkeypatch.setenv(key, value)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    figures = tmp_path / "drill.json"
    code = main(
        ["restore-drill", "--stack", "prod", "--scratch", SCRATCH, "--figures", str(figures)]
    )
    assert code == 1
    assert json.loads(figures.read_text())["passed"] is False
    assert "Restore drill: stack prod (FAILED)" in summary.read_text()
    assert "error: restore:" in capsys.readouterr().err


def test_the_pack_lets_a_retired_cluster_go_unprotected_and_no_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = {"restores": [RESTORE], "active": RESTORED, "retired": [SOURCE]}
    path = write_stack(tmp_path, prod_with(**keys), name="prod")
    assert main(["plan", "--stack-file", str(path)]) == 0, capsys.readouterr().err
    # the same stack with the protection dropped from the active cluster's resources
    # (a transform an operator might add) is refused
    doc = prod_with(**keys)
    doc["webhost:protect"] = False
    path = write_stack(tmp_path, doc, name="prod")
    assert main(["plan", "--stack-file", str(path)]) == 3
    shown = capsys.readouterr().out
    assert f"webhost-db-{RESTORED}: a data resource that is not protected" in shown
    assert "webhost-db: a data resource" not in shown


def test_monitoring_and_checks_follow_the_active_cluster(tmp_path: Path) -> None:
    from components.monitoring import alerts

    loaded = stackfile.load(
        write_stack(tmp_path, prod_with(restores=[RESTORE], active=RESTORED)), PROJECT_FILE
    )
    parsed = config.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)
    rules = repr(alerts.postgres_rules(parsed))
    assert RESTORED in rules
    assert f"{SOURCE}'" not in rules and f'{SOURCE}"' not in rules


def test_a_passed_drill_prints_the_figures_the_backups_policy_reads(
    source: FakeFly, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = drill(source, monkeypatch)
    assert report.passed and report.recovery_point_seconds is not None
    recorded: dict[str, Any] = {}
    for line in report.config_commands():
        words = shlex.split(line)
        assert words[:5] == ["pulumi", "config", "set", "--stack", "prod"]
        path, value = words[words.index("--path") + 1], words[-1]
        assert path.startswith("webhost:postgres.backups.lastDrill.")
        recorded[path.rsplit(".", 1)[1]] = value if path.endswith("date") else int(value)
    # Whole minutes, rounded up: a figure never reads better than it was measured.
    assert recorded == {
        "date": report.started_at[:10],
        "recoveryPointMinutes": math.ceil(report.recovery_point_seconds / 60),
        "restoreMinutes": 0,
    }
    doc = prod_with(backups={"lastDrill": recorded})
    loaded = stackfile.load(write_stack(tmp_path, doc), PROJECT_FILE)
    parsed = config.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)
    assert parsed.postgres is not None
    last = parsed.postgres.backups.last_drill
    assert last is not None and last.recovery_point_minutes == recorded["recoveryPointMinutes"]
    assert "\n".join(report.config_commands()) in report.markdown()
    report.failures.append("smoke queries: refused")
    assert report.config_commands() == [] and "pulumi config set" not in report.markdown()
