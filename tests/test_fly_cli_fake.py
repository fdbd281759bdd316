"""The fake `fly` answers as flyctl does (commit ad0172f): cobra's rejections, the
real JSON shapes, and flyctl's failure modes, fault injection included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeFly
from tests.fakes import fly_cli, pg_server
from tests.fakes.pg_server import Server

FLY_GO_MACHINE_TAGS = {  # fly-go machine_types.go, type Machine
    "id", "name", "state", "region", "image_ref", "instance_id", "version", "private_ip",
    "created_at", "updated_at", "config", "events", "checks", "nonce", "host_status",
    "cordoned", "containers", "incomplete_config",
}  # fmt: skip
FLY_GO_VOLUME_TAGS = {  # fly-go volume_types.go, type Volume
    "id", "name", "state", "size_gb", "region", "zone", "encrypted", "attached_machine_id",
    "attached_alloc_id", "created_at", "host_dedication_id", "snapshot_retention",
    "auto_backup_enabled", "host_status",
}  # fmt: skip


def fly(fake: FakeFly, *argv: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(fake.bin_dir / "fly"), *argv],
        env=fake.env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cluster(fake: FakeFly) -> None:
    done = fly(
        fake, "postgres", "create", "--name", "db", "--org", "o", "--region", "iad",
        "--initial-cluster-size", "2", "--vm-cpu-kind", "shared", "--vm-cpus", "1",
        "--vm-memory", "1024", "--volume-size", "10",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_unknown_flags_and_subcommands_fail_as_cobra_does(fake_fly: FakeFly) -> None:
    done = fly(fake_fly, "machines", "list", "--app", "a", "--colour")
    assert (done.returncode, done.stderr) == (1, "Error: unknown flag: --colour\n")
    done = fly(fake_fly, "postgres", "frobnicate")
    assert done.returncode == 1
    assert 'unknown command "frobnicate" for "fly postgres"' in done.stderr
    done = fly(fake_fly, "scale", "count", "2", "-z")
    assert "unknown shorthand flag: 'z' in -z" in done.stderr


def test_a_missing_app_answers_with_flyctls_error(fake_fly: FakeFly) -> None:
    done = fly(fake_fly, "secrets", "list", "--app", "nope", "--json")
    assert (done.returncode, done.stderr) == (1, 'Error: Could not find App "nope"\n')


def test_machines_list_of_a_missing_app_answers_with_the_machines_apis_404(
    fake_fly: FakeFly,
) -> None:
    done = fly(fake_fly, "machines", "list", "--app", "nope", "--json")
    assert (done.returncode, done.stderr) == (1, "Error: failed to list VMs: app not found\n")


def test_listings_use_fly_gos_json_field_names(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    machines: list[dict[str, Any]] = json.loads(fly(fake_fly, "m", "ls", "-a", "db", "-j").stdout)
    assert machines and all(set(m) <= FLY_GO_MACHINE_TAGS for m in machines)
    assert {"cpu_kind", "cpus", "memory_mb"} == set(machines[0]["config"]["guest"])
    volumes = json.loads(fly(fake_fly, "volumes", "list", "--app", "db", "--json").stdout)
    assert volumes and all(set(v) <= FLY_GO_VOLUME_TAGS for v in volumes)
    # flypg.PostgresUser and fly.App have no JSON tags: Go field names
    users = json.loads(fly(fake_fly, "pg", "users", "list", "--app", "db", "--json").stdout)
    assert set(users[0]) == {"Username", "Superuser", "Databases"}
    apps = json.loads(fly(fake_fly, "apps", "list", "--json").stdout)
    assert apps[0]["Name"] == "db" and apps[0]["Organization"]["Slug"] == "o"
    listed = json.loads(fly(fake_fly, "secrets", "list", "--app", "db", "--json").stdout)
    assert set(listed[0]) == {"name", "digest", "status"}


def test_unsetting_a_missing_secret_is_no_error(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    done = fly(fake_fly, "secrets", "unset", "NOPE", "--app", "db", "--stage")
    assert done.returncode == 0, done.stderr


def test_postgres_connect_needs_a_terminal(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    done = fly(fake_fly, "postgres", "connect", "--app", "db", stdin="SELECT 1;")
    assert done.returncode == 1
    assert "not a TTY" in done.stderr


def test_backup_config_update_exits_0_when_flexctl_refuses(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    assert fly(fake_fly, "pg", "backup", "enable", "--app", "db").returncode == 0
    assert fly(fake_fly, "secrets", "deploy", "--app", "db").returncode == 0
    done = fly(
        fake_fly, "pg", "backup", "config", "update", "--app", "db", "--recovery-window", "2 days"
    )
    assert done.returncode == 0  # flyctl never reads the remote exit code
    assert "invalid value for recovery_window" in done.stderr
    shown = fly(fake_fly, "pg", "backup", "config", "show", "--app", "db").stdout
    assert "  RecoveryWindow = 7d\n" in shown


def statuses(fake: FakeFly) -> dict[str, str]:
    listed = json.loads(fly(fake, "secrets", "list", "--app", "db", "--json").stdout)
    return {s["name"]: s["status"] for s in listed}


def test_backups_are_off_until_the_archive_secret_is_deployed(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    assert fly(fake_fly, "pg", "backup", "enable", "--app", "db").returncode == 0
    # secrets/list.go computeSecretStatus: on no member's release yet
    assert statuses(fake_fly)["S3_ARCHIVE_CONFIG"] == "Staged"
    # flexctl backupsEnabled reads the leader's own environment; flyctl exits 0
    done = fly(fake_fly, "pg", "backup", "config", "show", "--app", "db")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "",
        "Error: backups are not enabled\n",
    )
    assert fly(fake_fly, "secrets", "deploy", "--app", "db").returncode == 0
    assert statuses(fake_fly)["S3_ARCHIVE_CONFIG"] == "Deployed"
    assert fly(fake_fly, "secrets", "set", "X=1", "--stage", "--app", "db").returncode == 0
    assert statuses(fake_fly)["X"] == "Staged"
    assert statuses(fake_fly)["S3_ARCHIVE_CONFIG"] == "Deployed"


def test_backup_enable_under_an_org_token_fails_before_any_change(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    before = fake_fly.snapshot()
    done = fly(fake_fly, "pg", "backup", "enable", "--app", "db", FLY_API_TOKEN="FlyV1 fm2_x")
    assert done.returncode == 1
    assert done.stderr == (
        "Error: To agree, the --yes flag must be specified when not running interactively\n"
    )
    assert fake_fly.snapshot()["apps"] == before["apps"]
    assert "--yes" not in fly_cli.COMMANDS[("postgres", "backup", "enable")]


def test_backup_settings_take_effect_at_a_restart_replicas_first(fake_fly: FakeFly) -> None:
    cluster(fake_fly)  # two members: a leader and a replica
    assert fly(fake_fly, "pg", "backup", "enable", "--app", "db").returncode == 0
    assert fly(fake_fly, "secrets", "deploy", "--app", "db").returncode == 0
    update = ("pg", "backup", "config", "update", "--app", "db", "--full-backup-frequency", "2h")
    assert "A restart is required" in fly(fake_fly, *update).stdout  # handle_admin.go: always

    def running() -> set[str]:
        machines = fake_fly.snapshot()["apps"]["db"]["machines"]
        return {m["barman_in_force"]["full_backup_frequency"] for m in machines}

    assert running() == {"24h"}  # the monitors keep what they read at start
    assert fly(fake_fly, "pg", "restart", "--app", "db").returncode == 0
    assert running() == {"2h"}
    machines = fake_fly.snapshot()["apps"]["db"]["machines"]
    roles = {m["id"]: m["role"] for m in machines}
    assert [roles[i] for i in fake_fly.snapshot()["restarts"]] == ["replica", "primary"]


def test_ssh_console_passes_the_remote_exit_status_on(fake_fly: FakeFly) -> None:
    cluster(fake_fly)
    leader = json.loads(fly(fake_fly, "m", "ls", "-a", "db", "-j").stdout)[0]["id"]
    command = "psql -v ON_ERROR_STOP=1 -p 5433 -U postgres -d postgres"
    args = ("ssh", "console", "--app", "db", "--machine", leader, "--command", command)
    bad = fly(fake_fly, *args, stdin='CREATE EXTENSION IF NOT EXISTS "x" CASCADE;', **{
        "FAKE_FLY_REMOTE_FAIL": "x"
    })  # fmt: skip
    assert bad.returncode == 1 and "Process exited with status 3" in bad.stderr
    plain = fly(fake_fly, *args[:-1], "psql -p 5433 -U postgres -d postgres", stdin="X;", **{
        "FAKE_FLY_REMOTE_FAIL": "X"
    })  # fmt: skip
    assert plain.returncode == 0  # psql without ON_ERROR_STOP exits 0 after a failed statement
    # psql's default port is 5432, HAProxy's, which has no socket on a member
    proxy = fly(fake_fly, *args[:-1], "psql -U postgres -d postgres", stdin="SELECT 1;")
    assert proxy.returncode == 1 and "Process exited with status 2" in proxy.stderr
    assert '/.s.PGSQL.5432" failed: No such file or directory' in proxy.stderr


def test_ssh_console_runs_psql_on_the_real_server(fake_fly: FakeFly, pg: Server) -> None:
    fake_fly.pg = pg
    cluster(fake_fly)
    members = json.loads(fly(fake_fly, "m", "ls", "-a", "db", "-j").stdout)
    leader = next(m["id"] for m in members if m["checks"][0]["output"] == "primary")
    replica = next(m["id"] for m in members if m["checks"][0]["output"] == "replica")
    args = ("ssh", "console", "--app", "db", "--command")
    stop = "psql -v ON_ERROR_STOP=1 -p 5433 -U postgres -d postgres"
    made = fly(fake_fly, *args, stop, "--machine", leader, stdin="CREATE TABLE t (n int);")
    assert made.returncode == 0, made.stderr
    assert pg.query("SELECT count(*) FROM pg_tables WHERE tablename = 't'") == ["1"]
    bad = fly(fake_fly, *args, stop, "--machine", leader, stdin='CREATE EXTENSION "nope";')
    assert bad.returncode == 1 and "Process exited with status 3" in bad.stderr
    assert 'extension "nope" is not available' in bad.stderr
    plain = fly(fake_fly, *args, "psql -p 5433 -U postgres", "--machine", leader, stdin="X;")
    assert plain.returncode == 0 and "syntax error" in plain.stderr
    read_only = fly(fake_fly, *args, stop, "--machine", replica, stdin="CREATE TABLE u ();")
    assert read_only.returncode == 1 and "read-only transaction" in read_only.stderr
    proxy = fly(fake_fly, *args, "psql -U postgres", "--machine", leader, stdin="SELECT 1;")
    assert proxy.returncode == 1 and ".s.PGSQL.5432" in proxy.stderr


def test_fails_once_then_answers(fake_fly: FakeFly, tmp_path: Path) -> None:
    cluster(fake_fly)
    first = fly(fake_fly, "machines", "list", "--app", "db", "--json", FAKE_FLY_FAIL_ONCE="machine")
    second = fly(
        fake_fly, "machines", "list", "--app", "db", "--json", FAKE_FLY_FAIL_ONCE="machine"
    )
    assert first.returncode == 1 and "502" in first.stderr and first.stdout == ""
    assert second.returncode == 0 and json.loads(second.stdout)


def test_deploy_boots_the_secrets_version_flyctl_cached(fake_fly: FakeFly, tmp_path: Path) -> None:
    fake_fly.seed_app("web")
    state = fake_fly.snapshot()
    state["apps"]["web"]["secrets_version"] = 4  # written through the API, not by flyctl
    fake_fly.state.write_text(json.dumps(state))
    config = tmp_path / "fly.toml"
    config.write_text(
        'app = "web"\nprimary_region = "iad"\n[[vm]]\ncpu_kind = "shared"\ncpus = 1\n'
        'memory = "512mb"\n'
    )
    deploy = ("deploy", "--app", "web", "--config", str(config), "--image", "i", "--yes")
    assert fly(fake_fly, *deploy).returncode == 0
    assert fake_fly.deploys()[-1]["secrets_version"] == 0  # stale: flyctl never saw v4
    assert fly(fake_fly, "secrets", "sync", "--app", "web").returncode == 0
    assert fly(fake_fly, *deploy).returncode == 0
    assert fake_fly.deploys()[-1]["secrets_version"] >= 4


# -- what `fly scale count` counts (flyctl internal/command/scale/count_machines.go) ----


def deployed(fake: FakeFly, tmp_path: Path, app: str = "web") -> None:
    """`fly deploy` of a fresh app: Fly's first deploy, two machines in the primary region."""
    fake.seed_app(app)
    config = tmp_path / "fly.toml"
    config.write_text(
        f'app = "{app}"\nprimary_region = "iad"\n[[vm]]\ncpu_kind = "shared"\ncpus = 1\n'
        'memory = "512mb"\n'
    )
    done = fly(fake, "deploy", "--app", app, "--config", str(config), "--image", "i", "--yes")
    assert done.returncode == 0, done.stderr


def seed_machine(fake: FakeFly, app: str, region: str, metadata: dict[str, str]) -> None:
    """A machine that is not the app group's: a release command's, a console, a one-off."""
    state = fly_cli.load(fake.state)
    fake_fly_state = fly_cli.Fly(state)
    guest = {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
    fake_fly_state.new_machine(state["apps"][app], region, guest, image="i", metadata=metadata)
    fake.state.write_text(json.dumps(state))


def listed(fake: FakeFly, app: str = "web") -> list[dict[str, Any]]:
    done = fly(fake, "machines", "list", "--app", app, "--json")
    assert done.returncode == 0, done.stderr
    machines: list[dict[str, Any]] = json.loads(done.stdout)
    return machines


def test_deployed_machines_carry_fly_launch_metadata(fake_fly: FakeFly, tmp_path: Path) -> None:
    # flyctl deploy/machines_launchinput.go: fly_platform_version v2, the process group
    deployed(fake_fly, tmp_path)
    metadata = [m["config"]["metadata"] for m in listed(fake_fly)]
    assert len(metadata) == 2
    assert all(
        md["fly_platform_version"] == "v2" and md["fly_process_group"] == "app" for md in metadata
    )


def test_scale_count_counts_only_the_app_groups_launch_machines(
    fake_fly: FakeFly, tmp_path: Path
) -> None:
    deployed(fake_fly, tmp_path)
    seed_machine(fake_fly, "web", "iad", {})  # `fly machine run`: no Fly Launch metadata
    release = {"fly_platform_version": "v2", "fly_process_group": "fly_app_release_command"}
    seed_machine(fake_fly, "web", "iad", release)
    console = {"fly_platform_version": "v2", "fly_process_group": "fly_app_console"}
    seed_machine(fake_fly, "web", "fra", console)
    done = fly(fake_fly, "scale", "count", "3", "--region", "iad", "--app", "web", "--yes")
    assert done.returncode == 0, done.stderr
    assert "+1 machines for group 'app' on region 'iad' of size 'shared-cpu-1x'" in done.stdout
    groups = [
        (m["region"], m["config"]["metadata"].get("fly_process_group")) for m in listed(fake_fly)
    ]
    assert groups.count(("iad", "app")) == 3
    assert len(groups) == 6  # the one-off, the release command and the console stay
    done = fly(fake_fly, "scale", "count", "0", "--region", "fra", "--app", "web", "--yes")
    assert done.returncode == 0, done.stderr
    assert "App already scaled to desired state. No need for changes" in done.stdout
    assert ("fra", "fly_app_console") in [
        (m["region"], m["config"]["metadata"].get("fly_process_group")) for m in listed(fake_fly)
    ]


def test_scale_count_before_any_deploy_fails_as_flyctl_does(fake_fly: FakeFly) -> None:
    fake_fly.seed_app("web")
    done = fly(fake_fly, "scale", "count", "1", "--region", "iad", "--app", "web", "--yes")
    assert done.returncode == 1
    assert "this app has no complete releases" in done.stderr


def test_scale_count_of_an_unknown_process_group_fails(fake_fly: FakeFly, tmp_path: Path) -> None:
    deployed(fake_fly, tmp_path)
    argv = ("scale", "count", "1", "--process-group", "worker", "--app", "web", "--yes")
    done = fly(fake_fly, *argv)
    assert done.returncode == 1
    assert "Attempting to scale unknown process groups [worker]" in done.stderr


def test_without_postgresql_the_sql_tests_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pg_server, "BIN", tmp_path)  # no initdb there
    problem = pg_server.missing()
    assert problem is not None and "\n" not in problem
    assert "apt-get install postgresql-15" in problem
    with pytest.raises(RuntimeError, match="postgresql-15"), pg_server.running():
        pass


def test_every_command_in_the_tree_has_its_groups_handler() -> None:
    """The tree (root.py) and the group modules (command/<group>) are kept apart so a
    call imports one group: a command parsed but handled nowhere would be a KeyError."""
    from tests.fakes.fly_cli import main

    for path in fly_cli.COMMANDS:
        assert callable(main.handler_of(path)), path


def test_the_installed_fly_starts_without_runpy(fake_fly: FakeFly) -> None:
    """The `fly` on PATH runs the fake's __main__.py as a file: run as a directory, every
    call also imported runpy and importlib's machinery (~5 ms of a ~23 ms call), and
    the scripts make dozens of calls a run. The call still answers as flyctl does."""
    done = fly(fake_fly, "apps", "list", "--json", PYTHONPROFILEIMPORTTIME="1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "tests.fakes.fly_cli.main" in imported  # the profile covers the fake's imports
    assert "runpy" not in imported and "importlib.util" not in imported


def test_the_fake_fly_imports_only_the_called_group(tmp_path: Path) -> None:
    """Per call the fake starts a Python: it imports the group it runs, not the others
    (and none of the heavier standard modules a group imports only when it needs them)."""
    probe = (
        "import sys; from tests.fakes.fly_cli import main; main.handler_of(('apps', 'list'));"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(done.stdout.split())
    assert "tests.fakes.fly_cli.command.apps" in loaded
    for heavy in (
        "tests.fakes.fly_cli.command.postgres",
        "tests.fakes.fly_cli.command.deploy",
        "subprocess",
        "tomllib",
        "secrets",
        "datetime",
        "typing",
        "dataclasses",
        "pathlib",
    ):
        assert heavy not in loaded, heavy
