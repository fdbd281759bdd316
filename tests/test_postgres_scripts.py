"""The Postgres scripts the program declares, run for real against the fake `fly` on PATH.

Each test takes the command exactly as the program registers it (script and
environment) from an evaluation of the prod stack, and runs it the way
local.Command does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components import postgres
from tests.conftest import FakeFly, run, run_command, stack_doc
from tests.known import COMMAND, KnownMocks

CLUSTER = "webhost-prod-db"
APP = "webhost-prod"


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    evaluation = run(
        stack_doc("prod"),
        tmp_path_factory.mktemp("stack"),
        stack="prod",
        preview=False,
        mocks=KnownMocks(),
    )
    return {r.name: dict(r.inputs) for r in evaluation.by_type(COMMAND)}


def with_env(inputs: dict[str, Any], **env: str) -> dict[str, Any]:
    return {**inputs, "environment": {**inputs["environment"], **env}}


def ok(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return done


def argvs(fly: FakeFly) -> list[list[str]]:
    return [call["argv"] for call in fly.calls()]


@pytest.fixture
def cluster(commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path) -> FakeFly:
    fake_fly.seed_app(APP)
    ok(run_command(commands["webhost-db"], fake_fly, tmp_path))
    return fake_fly


# -- the cluster --------------------------------------------------------------------


def test_cluster_create_flags(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db"], fake_fly, tmp_path))
    create = next(a for a in argvs(fake_fly) if a[:2] == ["postgres", "create"])
    flags = dict(zip(create[2::2], create[3::2], strict=True))
    assert flags == {
        "--name": CLUSTER,
        "--org": "webhost-systems",
        "--region": "iad",
        "--image-ref": "flyio/postgres-flex-timescaledb:16",
        "--initial-cluster-size": "2",
        "--vm-cpu-kind": "performance",
        "--vm-cpus": "1",
        "--vm-memory": "4096",
        "--volume-size": "40",
    }
    assert fake_fly.machines(CLUSTER) == {"iad": 2}


def test_cluster_credentials_go_to_stdout_only(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    done = ok(run_command(commands["webhost-db"], fake_fly, tmp_path))
    password = fake_fly.cluster(CLUSTER)["users"]["postgres"]
    assert password in done.stdout
    assert password not in done.stderr
    assert postgres.operator_url(done.stdout) == (
        f"postgres://postgres:{password}@{CLUSTER}.flycast:5432"
    )
    assert commands["webhost-db"]["logging"] == "stderr"  # stdout never reaches the logs


def test_cluster_rerun_after_success_converges(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = ok(run_command(commands["webhost-db"], cluster, tmp_path))
    assert sum(a[:2] == ["postgres", "create"] for a in argvs(cluster)) == 1
    assert cluster.machines(CLUSTER) == {"iad": 2}
    assert done.stdout == ""  # no credentials this time
    assert postgres.operator_url(done.stdout) is None


def test_cluster_create_cut_off_half_way_converges(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    failed = run_command(
        commands["webhost-db"], fake_fly, tmp_path, FAKE_FLY_HALF="postgres create"
    )
    assert failed.returncode != 0
    assert "Error: failed to launch machine" in failed.stderr
    assert fake_fly.machines(CLUSTER) == {}  # an app with no member
    ok(run_command(commands["webhost-db"], fake_fly, tmp_path))
    assert fake_fly.machines(CLUSTER) == {"iad": 2}
    assert ["apps", "destroy", CLUSTER, "--yes"] in argvs(fake_fly)


def test_cluster_grows_to_a_new_size(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(with_env(commands["webhost-db"], WEBHOST_CLUSTER_SIZE="3"), cluster, tmp_path))
    assert cluster.machines(CLUSTER) == {"iad": 3}
    assert sum(a[:2] == ["machine", "clone"] for a in argvs(cluster)) == 1


def test_cluster_members_follow_a_new_vm_size(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    resized = with_env(commands["webhost-db"], WEBHOST_VM_CPUS="2", WEBHOST_VM_MEMORY="8192")
    ok(run_command(resized, cluster, tmp_path))
    assert (
        cluster.guests(CLUSTER) == [{"cpu_kind": "performance", "cpus": 2, "memory_mb": 8192}] * 2
    )
    updates = [a for a in argvs(cluster) if a[:2] == ["machine", "update"]]
    assert len(updates) == 2 and all("--yes" in a for a in updates)
    ok(run_command(resized, cluster, tmp_path))  # already so: no more updates
    assert sum(a[:2] == ["machine", "update"] for a in argvs(cluster)) == 2


def test_cluster_delete_destroys_the_app_once(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db"], cluster, tmp_path, script="delete"))
    ok(run_command(commands["webhost-db"], cluster, tmp_path, script="delete"))
    assert CLUSTER not in cluster.snapshot()["apps"]
    assert sum(a[:2] == ["apps", "destroy"] for a in argvs(cluster)) == 1


def test_cluster_failure_surfaces_flyctls_error(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    done = run_command(commands["webhost-db"], fake_fly, tmp_path, FAKE_FLY_FAIL="postgres create")
    assert done.returncode != 0
    assert "Error: failed to postgres create: simulated failure (status 503)" in done.stderr


# -- replicas -----------------------------------------------------------------------


def test_replica_is_a_clone_in_its_region(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-replica-sin"], cluster, tmp_path))
    assert cluster.machines(CLUSTER) == {"iad": 2, "fra": 1, "sin": 1}
    clones = [a for a in argvs(cluster) if a[:2] == ["machine", "clone"]]
    assert sorted(a[a.index("--region") + 1] for a in clones) == ["fra", "sin"]


def test_replica_rerun_adds_no_second_member(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path))
    assert cluster.machines(CLUSTER)["fra"] == 1


def test_replica_delete_removes_only_its_region(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-replica-sin"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path, script="delete"))
    assert cluster.machines(CLUSTER) == {"iad": 2, "sin": 1}


def test_replica_without_a_primary_member_says_so(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    ok(run_command(with_env(commands["webhost-db"], WEBHOST_REGION="ord"), fake_fly, tmp_path))
    done = run_command(commands["webhost-db-replica-fra"], fake_fly, tmp_path)
    assert done.returncode != 0
    assert f"no member of {CLUSTER} in iad to clone" in done.stderr


# -- attach -------------------------------------------------------------------------


def test_attach_makes_the_apps_own_user_and_database(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], cluster, tmp_path))
    state = cluster.cluster(CLUSTER)
    password = state["users"]["webhost_prod"]
    assert "webhost_prod" in state["databases"]
    url = postgres.attached_url(done.stdout)
    assert (
        url
        == f"postgres://webhost_prod:{password}@{CLUSTER}.flycast:5432/webhost_prod?sslmode=disable"
    )
    assert postgres.read_url(url, CLUSTER) == (
        f"postgres://webhost_prod:{password}@top1.nearest.of.{CLUSTER}.internal:5433/"
        "webhost_prod?sslmode=disable"
    )
    assert password not in done.stderr
    # the program owns DATABASE_URL: the attach's own secret is gone again
    assert cluster.secrets(APP) == {}
    attach = next(a for a in argvs(cluster) if a[:2] == ["postgres", "attach"])
    assert "--yes" in attach and attach[attach.index("--database-user") + 1] == "webhost_prod"


def test_attach_cut_off_half_way_converges(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    failed = run_command(
        commands["webhost-db-attach"], cluster, tmp_path, FAKE_FLY_HALF="postgres attach"
    )
    assert failed.returncode != 0
    done = ok(run_command(commands["webhost-db-attach"], cluster, tmp_path))
    # the half-made user's password is lost: the attach takes the next free name
    assert postgres.attached_url(done.stdout).startswith("postgres://webhost_prod_2:")
    assert len(cluster.cluster(CLUSTER)["attachments"]) == 1


def test_attach_clears_a_scratch_secret_left_behind(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    cluster.seed_app(APP, WEBHOST_ATTACH_DATABASE_URL="postgres://left:over@x/y")
    ok(run_command(commands["webhost-db-attach"], cluster, tmp_path))
    assert cluster.secrets(APP) == {}


def test_attach_output_without_the_url_is_an_error_that_leaks_nothing() -> None:
    with pytest.raises(ValueError, match="printed no WEBHOST_ATTACH_DATABASE_URL") as caught:
        postgres.attached_url("Error: something\n  password=hunter2\n")
    assert "hunter2" not in str(caught.value)


def test_detach_answers_flyctls_prompt_on_a_terminal(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], cluster, tmp_path))
    done = ok(run_command(commands["webhost-db-attach"], cluster, tmp_path, script="delete"))
    state = cluster.cluster(CLUSTER)
    assert state["attachments"] == []
    assert "webhost_prod" not in state["users"]
    assert "webhost_prod" in state["databases"]  # the data stays
    assert "Detach completed successfully!" in done.stderr


def test_attach_is_replaced_never_rerun_in_place(commands: dict[str, dict[str, Any]]) -> None:
    assert commands["webhost-db-attach"]["update"] == ":"


# -- setup and backups ----------------------------------------------------------------


def test_setup_creates_extensions_and_sets_max_connections(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-setup"], cluster, tmp_path))
    state = cluster.cluster(CLUSTER)
    assert state["extensions"]["webhost_prod"] == ["timescaledb", "postgis", "uuid-ossp"]
    assert state["max_connections"] == 200
    again = ok(run_command(commands["webhost-db-setup"], cluster, tmp_path))  # "no changes"
    assert "no changes to apply" in again.stderr
    assert cluster.cluster(CLUSTER)["extensions"]["webhost_prod"] == [
        "timescaledb",
        "postgis",
        "uuid-ossp",
    ]


def test_setup_surfaces_other_config_errors(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], cluster, tmp_path))
    done = run_command(
        commands["webhost-db-setup"], cluster, tmp_path, FAKE_FLY_FAIL="postgres config"
    )
    assert done.returncode != 0
    assert "simulated failure" in done.stderr


def test_backups_enable_once_then_configure(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    first = ok(run_command(commands["webhost-db-backups"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path))
    assert sum(a[:3] == ["postgres", "backup", "enable"] for a in argvs(cluster)) == 1
    assert ["secrets", "deploy", "--app", CLUSTER] in argvs(cluster)
    assert cluster.cluster(CLUSTER)["backup_config"] == {
        "recovery_window": "14d",
        "full_backup_frequency": "24h",
    }
    archive = cluster.secrets(CLUSTER)["S3_ARCHIVE_CONFIG"]
    assert archive not in first.stdout + first.stderr


def test_backups_delete_stops_archiving(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path))
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path, script="delete"))
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path, script="delete"))
    assert "S3_ARCHIVE_CONFIG" not in cluster.secrets(CLUSTER)


# -- across every script ------------------------------------------------------------------


def test_no_credential_ever_reaches_argv(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for name in (
        "webhost-db-replica-fra",
        "webhost-db-attach",
        "webhost-db-setup",
        "webhost-db-backups",
    ):
        ok(run_command(commands[name], cluster, tmp_path))
    state = cluster.snapshot()
    credentials = [
        *state["pg"][CLUSTER]["users"].values(),
        *(v for app in state["apps"].values() for v in app["secrets"].values()),
        "fly-token-that-must-not-leak",
    ]
    every_arg = json.dumps(argvs(cluster))
    assert credentials
    assert not [c for c in credentials if c in every_arg]
