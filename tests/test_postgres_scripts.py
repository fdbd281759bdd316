"""The Postgres scripts the program declares, run for real against the fake `fly` on PATH.

Each test takes the command exactly as the program registers it (script and
environment) from an evaluation of the prod stack, and runs it the way
local.Command does. The SQL (psql over `fly ssh console`, and what `fly postgres
attach` / `detach` run through postgres-flex) runs on a real PostgreSQL 15 server
(tests/fakes/pg_server.py). It loads uuid-ossp (contrib); Debian packages no
TimescaleDB, and PostGIS only apart: those are the extensions a test shows failing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from components import postgres
from tests.conftest import FakeFly, prod_commands, run_command
from tests.fakes.pg_server import Server

CLUSTER = "webhost-prod-db"
APP = "webhost-prod"


@pytest.fixture(scope="module")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return prod_commands(tmp_path_factory.mktemp("stack"))


def with_env(inputs: dict[str, Any], **env: str) -> dict[str, Any]:
    return {**inputs, "environment": {**inputs["environment"], **env}}


def ok(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return done


def argvs(fly: FakeFly) -> list[list[str]]:
    return [call["argv"] for call in fly.calls()]


def failed(done: Any) -> Any:
    assert done.returncode != 0, done.stdout + done.stderr
    return done


def edit(fly: FakeFly, change: Any) -> None:
    """Change the fake's state the way something outside the program would."""
    state = fly.snapshot()
    change(state)
    fly.state.write_text(json.dumps(state))


def size(commands: dict[str, dict[str, Any]]) -> int:
    return int(commands["webhost-db"]["environment"]["WEBHOST_CLUSTER_SIZE"])


def unprotected(inputs: dict[str, Any]) -> dict[str, Any]:
    """The same command as an unprotected stack (staging) declares it."""
    return with_env(inputs, WEBHOST_PROTECTED="false")


@pytest.fixture
def cluster(commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path) -> FakeFly:
    fake_fly.seed_app(APP)
    ok(run_command(commands["webhost-db"], fake_fly, tmp_path))
    return fake_fly


@pytest.fixture
def sql_cluster(cluster: FakeFly, pg: Server) -> FakeFly:
    """The cluster with the real server behind its SQL (attach, detach, setup)."""
    cluster.pg = pg
    return cluster


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
        "--initial-cluster-size": str(size(commands)),
        "--vm-cpu-kind": "performance",
        "--vm-cpus": "1",
        "--vm-memory": "4096",
        "--volume-size": "40",
    }
    assert fake_fly.machines(CLUSTER) == {"iad": size(commands)}


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
    # Issue 19: a create killed after `fly postgres create` printed the credentials
    # and before the engine recorded them: the re-run (a create again, with no last
    # stdout) adopts the cluster and reads the operator password back from the
    # cluster's own secret, on a member, never through argv.
    done = ok(run_command(commands["webhost-db"], cluster, tmp_path))
    assert sum(a[:2] == ["postgres", "create"] for a in argvs(cluster)) == 1
    assert cluster.machines(CLUSTER) == {"iad": size(commands)}
    password = cluster.cluster(CLUSTER)["users"]["postgres"]
    assert postgres.operator_url(done.stdout) == (
        f"postgres://postgres:{password}@{CLUSTER}.flycast:5432"
    )
    assert password not in done.stderr
    assert not [a for a in argvs(cluster) if any(password in w for w in a)]


def test_cluster_rerun_that_cannot_read_the_password_back_fails_and_says_why(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    edit(cluster, lambda s: s["apps"][CLUSTER]["secrets"].pop("OPERATOR_PASSWORD"))
    done = failed(run_command(commands["webhost-db"], cluster, tmp_path))
    assert "OPERATOR_PASSWORD" in done.stderr
    assert done.stdout == ""


def test_an_update_of_the_cluster_prints_the_credentials_of_its_create_again(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    # Issue 19: the operator URL is read from the Command's stdout, which every update
    # replaces (the create script runs again on update: pulumi-command local
    # commandOutputs.go); the update gets the last stdout in PULUMI_COMMAND_STDOUT and
    # prints it again, so a VM size change no longer empties the stack's output.
    cluster = commands["webhost-db"]
    assert cluster["addPreviousOutputInEnv"] is True
    created = ok(run_command(cluster, fake_fly, tmp_path)).stdout
    resized = with_env(cluster, WEBHOST_VM_MEMORY="8192")
    updated = ok(run_command(resized, fake_fly, tmp_path, PULUMI_COMMAND_STDOUT=created))
    assert postgres.operator_url(updated.stdout) == postgres.operator_url(created) is not None
    assert sum(a[:2] == ["postgres", "create"] for a in argvs(fake_fly)) == 1
    password = fake_fly.cluster(CLUSTER)["users"]["postgres"]
    assert password not in updated.stderr


def test_cluster_create_cut_off_half_way_is_left_to_a_human_in_prod(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    half = failed(
        run_command(commands["webhost-db"], fake_fly, tmp_path, FAKE_FLY_HALF="postgres create")
    )
    assert "Error: failed to launch machine" in half.stderr
    assert fake_fly.machines(CLUSTER) == {}  # an app with no member
    done = failed(run_command(commands["webhost-db"], fake_fly, tmp_path))
    assert f"run 'fly apps destroy {CLUSTER}' yourself" in done.stderr
    assert CLUSTER in fake_fly.snapshot()["apps"]
    assert not [a for a in argvs(fake_fly) if a[:2] == ["apps", "destroy"]]


def test_cluster_create_cut_off_half_way_converges_when_unprotected(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    script = unprotected(commands["webhost-db"])
    failed(run_command(script, fake_fly, tmp_path, FAKE_FLY_HALF="postgres create"))
    ok(run_command(script, fake_fly, tmp_path))
    assert fake_fly.machines(CLUSTER) == {"iad": size(commands)}
    assert ["apps", "destroy", CLUSTER, "--yes"] in argvs(fake_fly)


@pytest.mark.parametrize("listing", ["machine list", "volumes list", "apps list"])
def test_cluster_rerun_with_a_listing_failing_once_destroys_nothing(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, listing: str
) -> None:
    before = cluster.snapshot()["apps"][CLUSTER]
    for script in (commands["webhost-db"], unprotected(commands["webhost-db"])):
        done = failed(run_command(script, cluster, tmp_path, FAKE_FLY_FAIL_ONCE=listing))
        assert "non-2xx status: 502" in done.stderr
        edit(cluster, lambda state: state.update(failed_once=[]))
    assert cluster.snapshot()["apps"][CLUSTER] == before
    assert not [a for a in argvs(cluster) if a[:2] == ["apps", "destroy"]]
    assert sum(a[:2] == ["postgres", "create"] for a in argvs(cluster)) == 1  # the fixture's


def test_cluster_without_machines_but_with_volumes_is_refused(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    edit(cluster, lambda state: state["apps"][CLUSTER].update(machines=[]))
    done = failed(run_command(unprotected(commands["webhost-db"]), cluster, tmp_path))
    assert "may hold the database" in done.stderr
    assert len(cluster.snapshot()["apps"][CLUSTER]["volumes"]) == size(commands)
    assert not [a for a in argvs(cluster) if a[:2] == ["apps", "destroy"]]


def test_cluster_credentials_never_reach_a_failed_runs_output(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    # create succeeds, the listing right after it fails: the run fails with the
    # password printed by flyctl in neither stream (both land in the error message)
    done = failed(
        run_command(commands["webhost-db"], fake_fly, tmp_path, FAKE_FLY_FAIL="machine list")
    )
    password = fake_fly.cluster(CLUSTER)["users"]["postgres"]
    assert password not in done.stdout + done.stderr
    # The private copy is gone too; only the flyctl lock stays (lib.sh webhost_lock),
    # holding who took it and when, never a credential.
    left = list((tmp_path / "scratch").iterdir())
    assert [p.name for p in left] in ([], ["webhost-infra-locks"])
    assert not any(password in f.read_text() for d in left for f in d.iterdir())


def test_cluster_grows_to_a_new_size(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    bigger = str(size(commands) + 1)
    ok(
        run_command(
            with_env(commands["webhost-db"], WEBHOST_CLUSTER_SIZE=bigger), cluster, tmp_path
        )
    )
    assert cluster.machines(CLUSTER) == {"iad": size(commands) + 1}
    assert sum(a[:2] == ["machine", "clone"] for a in argvs(cluster)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"WEBHOST_CLUSTER_SIZE": "1"}, "clusterSize: 3 members in iad, the config asks 1"),
        ({"WEBHOST_IMAGE": "flyio/postgres-flex:17"}, "fly image update --app webhost-prod-db"),
        ({"WEBHOST_VOLUME_GB": "10"}, "volumeGb: volume"),
        ({"WEBHOST_REGION": "ord"}, "primaryRegion: the cluster elects its primary in iad"),
    ],
)
def test_cluster_changes_it_cannot_make_are_refused_and_nothing_changes(
    cluster: FakeFly,
    commands: dict[str, dict[str, Any]],
    tmp_path: Path,
    change: dict[str, str],
    message: str,
) -> None:
    before = cluster.snapshot()["apps"][CLUSTER]
    done = failed(run_command(with_env(commands["webhost-db"], **change), cluster, tmp_path))
    assert "nothing was changed" in done.stderr
    assert message.replace("3", str(size(commands))) in done.stderr
    assert cluster.snapshot()["apps"][CLUSTER] == before


def test_cluster_volumes_grow_to_a_new_size(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(with_env(commands["webhost-db"], WEBHOST_VOLUME_GB="60"), cluster, tmp_path))
    volumes = cluster.snapshot()["apps"][CLUSTER]["volumes"]
    assert [v["size_gb"] for v in volumes] == [60] * size(commands)


def test_cluster_members_follow_a_new_vm_size(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    resized = with_env(commands["webhost-db"], WEBHOST_VM_CPUS="2", WEBHOST_VM_MEMORY="8192")
    ok(run_command(resized, cluster, tmp_path))
    n = size(commands)
    assert (
        cluster.guests(CLUSTER) == [{"cpu_kind": "performance", "cpus": 2, "memory_mb": 8192}] * n
    )
    updates = [a for a in argvs(cluster) if a[:2] == ["machine", "update"]]
    assert len(updates) == n and all("--yes" in a for a in updates)
    ok(run_command(resized, cluster, tmp_path))  # already so: no more updates
    assert sum(a[:2] == ["machine", "update"] for a in argvs(cluster)) == n


def test_cluster_delete_destroys_the_app_once(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    script = unprotected(commands["webhost-db"])
    ok(run_command(script, cluster, tmp_path, script="delete"))
    ok(run_command(script, cluster, tmp_path, script="delete"))
    assert CLUSTER not in cluster.snapshot()["apps"]
    assert sum(a[:2] == ["apps", "destroy"] for a in argvs(cluster)) == 1


def test_cluster_delete_when_the_listing_fails_destroys_nothing(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    script = unprotected(commands["webhost-db"])
    failed(run_command(script, cluster, tmp_path, script="delete", FAKE_FLY_FAIL="apps list"))
    assert CLUSTER in cluster.snapshot()["apps"]


def test_cluster_delete_in_a_protected_stack_destroys_nothing(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = failed(run_command(commands["webhost-db"], cluster, tmp_path, script="delete"))
    assert "protected stack" in done.stderr
    assert CLUSTER in cluster.snapshot()["apps"]


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
    assert cluster.machines(CLUSTER) == {"iad": size(commands), "fra": 1, "sin": 1}
    clones = [a for a in argvs(cluster) if a[:2] == ["machine", "clone"]]
    assert sorted(a[a.index("--region") + 1] for a in clones) == ["fra", "sin"]


def volumes_in(fly: FakeFly, region: str) -> list[dict[str, Any]]:
    return [v for v in fly.snapshot()["apps"][CLUSTER]["volumes"] if v["region"] == region]


def test_replica_clone_cut_off_after_its_volume_attaches_that_volume(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # flyctl's clone creates the new volume, then launches the machine (machine/
    # clone.go): cut off in between, a volume is left attached to nothing. The re-run
    # clones onto it (--attach-volume), so the region holds one member and one volume.
    replica = commands["webhost-db-replica-fra"]
    failed(run_command(replica, cluster, tmp_path, FAKE_FLY_HALF="machine clone"))
    left = volumes_in(cluster, "fra")
    assert [v["attached_machine_id"] for v in left] == [None]
    ok(run_command(replica, cluster, tmp_path))
    assert cluster.machines(CLUSTER)["fra"] == 1
    assert [v["id"] for v in volumes_in(cluster, "fra")] == [left[0]["id"]]
    assert volumes_in(cluster, "fra")[0]["attached_machine_id"] is not None


def test_cluster_growth_cut_off_after_a_volume_attaches_that_volume(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    grown = with_env(commands["webhost-db"], WEBHOST_CLUSTER_SIZE=str(size(commands) + 1))
    failed(run_command(grown, cluster, tmp_path, FAKE_FLY_HALF="machine clone"))
    ok(run_command(grown, cluster, tmp_path))
    assert cluster.machines(CLUSTER) == {"iad": size(commands) + 1}
    volumes = volumes_in(cluster, "iad")
    assert len(volumes) == size(commands) + 1
    assert all(v["attached_machine_id"] for v in volumes)


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
    assert cluster.machines(CLUSTER) == {"iad": size(commands), "sin": 1}
    # `fly machine destroy` keeps the volume: the delete destroys it too
    regions = [v["region"] for v in cluster.snapshot()["apps"][CLUSTER]["volumes"]]
    assert sorted(regions) == ["iad"] * size(commands) + ["sin"]


def test_replica_delete_fails_when_it_cannot_list(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path))
    replica = commands["webhost-db-replica-fra"]
    failed(run_command(replica, cluster, tmp_path, script="delete", FAKE_FLY_FAIL="machine list"))
    assert cluster.machines(CLUSTER)["fra"] == 1


def test_replica_delete_fails_while_the_replica_is_still_there(
    cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-replica-fra"], cluster, tmp_path))
    replica = commands["webhost-db-replica-fra"]
    done = failed(
        run_command(replica, cluster, tmp_path, script="delete", FAKE_FLY_FAIL="volumes destroy")
    )
    assert "failed to volumes destroy" in done.stderr
    ok(run_command(replica, cluster, tmp_path, script="delete"))  # the left volume goes now
    assert "fra" not in [v["region"] for v in cluster.snapshot()["apps"][CLUSTER]["volumes"]]


def test_replica_without_a_primary_member_says_so(
    commands: dict[str, dict[str, Any]], fake_fly: FakeFly, tmp_path: Path
) -> None:
    ok(run_command(with_env(commands["webhost-db"], WEBHOST_REGION="ord"), fake_fly, tmp_path))
    done = run_command(commands["webhost-db-replica-fra"], fake_fly, tmp_path)
    assert done.returncode != 0
    assert f"no member of {CLUSTER} in iad to clone" in done.stderr


# -- attach -------------------------------------------------------------------------


def test_attach_makes_the_apps_own_user_and_database(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    state = sql_cluster.cluster(CLUSTER)
    password = state["users"]["webhost_prod"]
    assert "webhost_prod" in state["databases"]
    url = postgres.attached_url(done.stdout)
    assert (
        url
        == f"postgres://webhost_prod:{password}@{CLUSTER}.flycast:5432/webhost_prod?sslmode=disable"
    )
    assert done.stdout == f"WEBHOST_ATTACH_DATABASE_URL={url}\n"
    assert postgres.read_url(url, CLUSTER) == (
        f"postgres://webhost_prod:{password}@top1.nearest.of.{CLUSTER}.internal:5433/"
        "webhost_prod?sslmode=disable"
    )
    assert password not in done.stderr
    # the program owns DATABASE_URL: the attach's own secret is gone again
    assert sql_cluster.secrets(APP) == {}
    attach = next(a for a in argvs(sql_cluster) if a[:2] == ["postgres", "attach"])
    assert "--yes" in attach and attach[attach.index("--database-user") + 1] == "webhost_prod"


def test_attach_user_is_not_a_superuser(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    assert "webhost_prod" not in sql_cluster.cluster(CLUSTER)["superusers"]
    assert pg.query("SELECT rolsuper FROM pg_roles WHERE rolname = 'webhost_prod'") == ["f"]


def test_attach_credentials_never_reach_a_failed_runs_output(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # the attach succeeds, the scratch secret's removal after it fails
    done = failed(
        run_command(
            commands["webhost-db-attach"],
            sql_cluster,
            tmp_path,
            FAKE_FLY_FAIL_NTH="secrets unset:2",
        )
    )
    password = sql_cluster.cluster(CLUSTER)["users"]["webhost_prod"]
    assert password not in done.stdout + done.stderr


def test_an_answer_quoting_the_attachs_secret_reaches_no_output(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # Issue 17.9: flyctl's attach writes the new URL into the app's secrets; an error
    # that quotes that write (as is, JSON-encoded, as a password field) must not carry
    # the password, or any 8 characters of it, into the Command's error.
    done = failed(
        run_command(commands["webhost-db-attach"], sql_cluster, tmp_path, FAKE_FLY_ECHO_SECRETS="1")
    )
    password = sql_cluster.cluster(CLUSTER)["users"]["webhost_prod"]
    shown = done.stdout + done.stderr
    assert "failed to update app secrets" in shown  # the error itself still shows
    assert not [
        password[i : i + 8] for i in range(len(password) - 7) if password[i : i + 8] in shown
    ]
    assert "[redacted]" in shown


def test_attach_cut_off_half_way_converges_to_one_attachment(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    failed(
        run_command(
            commands["webhost-db-attach"], sql_cluster, tmp_path, FAKE_FLY_HALF="postgres attach"
        )
    )
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    assert postgres.attached_url(done.stdout).startswith("postgres://webhost_prod:")
    state = sql_cluster.cluster(CLUSTER)
    # flyctl registers the attachment before it makes the user (attach.go
    # runAttachCluster): the re-run detaches that record first, so one is left.
    assert [x["user"] for x in state["attachments"]] == ["webhost_prod"]
    assert f":{state['users']['webhost_prod']}@" in done.stdout


def test_attach_rerun_after_success_keeps_one_attachment(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    state = sql_cluster.cluster(CLUSTER)
    assert [x["user"] for x in state["attachments"]] == ["webhost_prod"]
    assert postgres.attached_url(done.stdout).startswith("postgres://webhost_prod:")
    assert f":{state['users']['webhost_prod']}@" in done.stdout  # the live password


def test_attach_update_prints_the_recorded_url_again(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    assert attach["addPreviousOutputInEnv"] is True
    created = ok(run_command(attach, sql_cluster, tmp_path)).stdout.rstrip("\n")
    updated = ok(
        run_command(attach, sql_cluster, tmp_path, script="update", PULUMI_COMMAND_STDOUT=created)
    )
    assert postgres.attached_url(updated.stdout) == postgres.attached_url(created)
    assert sum(a[:2] == ["postgres", "attach"] for a in argvs(sql_cluster)) == 1
    assert created not in updated.stderr


def test_attach_update_without_the_user_says_to_replace(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    done = failed(run_command(attach, sql_cluster, tmp_path, script="update"))
    assert "pulumi up --replace" in done.stderr


def test_attach_clears_a_scratch_secret_left_behind(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    sql_cluster.seed_app(APP, WEBHOST_ATTACH_DATABASE_URL="postgres://left:over@x/y")
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    assert sql_cluster.secrets(APP) == {}


def test_attach_output_without_the_url_is_an_error_that_leaks_nothing() -> None:
    with pytest.raises(ValueError, match="printed no WEBHOST_ATTACH_DATABASE_URL") as caught:
        postgres.attached_url("Error: something\n  password=hunter2\n")
    assert "hunter2" not in str(caught.value)


def test_detach_removes_this_stacks_attachment_by_name(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    other = {"app": APP, "database": "reports", "user": "reports", "var": "REPORTS_URL"}
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["attachments"].insert(0, other))
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["users"].update(reports="x"))
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path, script="delete"))
    state = sql_cluster.cluster(CLUSTER)
    assert state["attachments"] == [other]  # the one listed first stays
    assert "webhost_prod" not in state["users"] and "reports" in state["users"]
    assert "webhost_prod" in state["databases"]  # the data stays
    assert "Detach completed successfully!" in done.stderr
    # Again: flyctl offers only the other attachment, which is left (answered with Ctrl-C
    # once flyctl is quiet: survey keeps prompting when no option matches).
    again = commands["webhost-db-attach"]
    ok(run_command(again, sql_cluster, tmp_path, script="delete", WEBHOST_DETACH_QUIET="0.3"))
    assert sql_cluster.cluster(CLUSTER)["attachments"] == [other]


def test_attach_cut_off_twice_leaves_one_attachment(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    for _ in range(2):
        failed(run_command(attach, sql_cluster, tmp_path, FAKE_FLY_HALF="postgres attach"))
    assert len(sql_cluster.cluster(CLUSTER)["attachments"]) == 1  # the re-run detached it
    ok(run_command(attach, sql_cluster, tmp_path))
    assert [x["user"] for x in sql_cluster.cluster(CLUSTER)["attachments"]] == ["webhost_prod"]


def test_attach_leaves_another_users_attachment_alone(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    other = {"app": APP, "database": "reports", "user": "reports", "var": "REPORTS_URL"}
    edit(sql_cluster, lambda s: s["pg"][CLUSTER]["attachments"].append(other))
    attach = commands["webhost-db-attach"]
    ok(run_command(attach, sql_cluster, tmp_path, WEBHOST_DETACH_QUIET="0.3"))
    state = sql_cluster.cluster(CLUSTER)
    assert [x["user"] for x in state["attachments"]] == ["reports", "webhost_prod"]


def test_attach_stops_when_the_detach_of_a_left_attachment_fails(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    attach = commands["webhost-db-attach"]
    failed(run_command(attach, sql_cluster, tmp_path, FAKE_FLY_HALF="postgres attach"))
    done = failed(run_command(attach, sql_cluster, tmp_path, FAKE_FLY_FAIL="postgres detach"))
    assert "fly postgres detach failed" in done.stderr
    assert len(sql_cluster.cluster(CLUSTER)["attachments"]) == 1
    assert not [a for a in argvs(sql_cluster) if a[:2] == ["postgres", "attach"]][1:]


def test_detach_fails_while_the_user_is_still_there(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    attach = commands["webhost-db-attach"]
    failed(
        run_command(attach, sql_cluster, tmp_path, script="delete", FAKE_FLY_FAIL="postgres detach")
    )
    assert "webhost_prod" in sql_cluster.cluster(CLUSTER)["users"]


# -- setup and backups ----------------------------------------------------------------


# The one extension of the prod stack's three that the local server can load (contrib).
LOADABLE = "uuid-ossp"


def loadable(commands: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The setup as the prod stack declares it, asking only for what the server has."""
    setup = commands["webhost-db-setup"]
    assert LOADABLE in setup["environment"]["WEBHOST_EXTENSIONS"].split()
    return with_env(setup, WEBHOST_EXTENSIONS=LOADABLE)


def password_of(attach_stdout: str) -> str:
    password = urlsplit(postgres.attached_url(attach_stdout)).password
    assert password
    return password


def extensions(pg: Server, database: str = "webhost_prod") -> list[str]:
    return pg.query("SELECT extname FROM pg_extension ORDER BY extname", database)


def owner(pg: Server, database: str = "webhost_prod") -> str:
    rows = pg.query(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{database}'")
    return rows[0]


def roles_of(pg: Server, user: str) -> list[str]:
    return pg.query(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        f"JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = '{user}' ORDER BY 1"
    )


def test_setup_creates_extensions_and_sets_max_connections(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    assert extensions(pg) == ["plpgsql", "uuid-ossp"]
    assert sql_cluster.cluster(CLUSTER)["max_connections"] == 200
    again = ok(run_command(loadable(commands), sql_cluster, tmp_path))  # "no changes"
    assert "no changes to apply" in again.stderr
    assert extensions(pg) == ["plpgsql", "uuid-ossp"]
    ssh = next(a for a in argvs(sql_cluster) if a[:2] == ["ssh", "console"])
    assert "--pty" not in ssh
    assert "ON_ERROR_STOP=1" in ssh[ssh.index("--command") + 1]


@pytest.mark.parametrize(
    "wanted",
    [
        "uuid-ossp timescaledb",  # one made, then one the server lacks: neither stays
        "timescaledb postgis uuid-ossp",  # the prod stack's list as it is
    ],
)
def test_setup_with_an_extension_the_server_lacks_fails_and_keeps_nothing(
    sql_cluster: FakeFly,
    commands: dict[str, dict[str, Any]],
    tmp_path: Path,
    pg: Server,
    wanted: str,
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    granted = roles_of(pg, "webhost_prod")
    setup = with_env(commands["webhost-db-setup"], WEBHOST_EXTENSIONS=wanted)
    done = failed(run_command(setup, sql_cluster, tmp_path))
    assert 'extension "timescaledb" is not available' in done.stderr
    assert "Process exited with status 3" in done.stderr
    assert extensions(pg) == ["plpgsql"]  # the whole transaction rolled back
    assert owner(pg) == "postgres" and roles_of(pg, "webhost_prod") == granted
    assert sql_cluster.cluster(CLUSTER)["max_connections"] != 200  # it stopped there


def test_setup_leaves_the_app_owning_its_database_and_able_to_migrate(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    password = password_of(done.stdout)
    assert owner(pg) == "webhost_prod"
    migrated = pg.psql(
        "CREATE TABLE accounts (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), name text);"
        "CREATE INDEX accounts_name ON accounts (name);"
        "INSERT INTO accounts (name) VALUES ('a');"
        "ALTER TABLE accounts ADD COLUMN created timestamptz;"
        "SELECT count(*) FROM accounts;",
        database="webhost_prod",
        user="webhost_prod",
        password=password,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.split() == ["1"]


def test_setup_leaves_the_app_no_way_into_another_database(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    password = password_of(done.stdout)
    # another app's database on the same sql_cluster, as postgres-flex makes one
    pg.query("CREATE DATABASE reports")
    pg.query("GRANT CREATE on SCHEMA PUBLIC to PUBLIC;", "reports")
    pg.query("CREATE TABLE figures (n int); INSERT INTO figures VALUES (42)", "reports")
    # what postgres-flex's GrantAccess alone gives the user: every table, everywhere
    before = pg.psql("SELECT n FROM figures", database="reports", user="webhost_prod",
                     password=password)  # fmt: skip
    assert before.stdout.split() == ["42"]
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    assert roles_of(pg, "webhost_prod") == []
    # (creating tables there is that database's own setting: postgres-flex lets every
    # role create in a new database's public schema; its app's setup revokes that)
    for sql in ("SELECT n FROM figures", "INSERT INTO figures VALUES (1)"):
        refused = pg.psql(sql, database="reports", user="webhost_prod", password=password)
        assert refused.returncode != 0 and "permission denied" in refused.stderr, sql
    assert pg.query("SELECT n FROM figures", "reports") == ["42"]
    # and the cluster's other users no longer reach the app's database
    pg.query("CREATE USER other_app WITH LOGIN PASSWORD 'other-password'")
    kept_out = pg.psql("SELECT 1", database="webhost_prod", user="other_app",
                       password="other-password")  # fmt: skip
    assert kept_out.returncode != 0 and "permission denied for database" in kept_out.stderr


def test_setup_after_a_re_attach_gives_the_new_user_its_database_back(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    attach = commands["webhost-db-attach"]
    first = ok(run_command(attach, sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    made = pg.psql(
        "CREATE SCHEMA billing; CREATE TYPE mood AS ENUM ('ok');"
        "CREATE TABLE kept (id serial PRIMARY KEY, n int, m mood,"
        " u uuid DEFAULT uuid_generate_v4());"
        "CREATE TABLE billing.lines (id bigint GENERATED ALWAYS AS IDENTITY, n int);"
        "CREATE SEQUENCE tickets; CREATE VIEW seen AS SELECT n FROM kept;"
        "CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS s FROM kept;"
        "CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';"
        "INSERT INTO kept (n, m) VALUES (7, 'ok');",
        database="webhost_prod",
        user="webhost_prod",
        password=password_of(first.stdout),
    )
    assert made.returncode == 0, made.stderr
    # the attachment replaced: detached (postgres-flex gives the user's objects to
    # postgres), attached again under the same name, then the setup runs again
    # (components/postgres.py replaces it with the attach)
    ok(run_command(attach, sql_cluster, tmp_path, script="delete"))
    assert owner(pg) == "postgres"
    done = ok(run_command(attach, sql_cluster, tmp_path))
    assert roles_of(pg, "webhost_prod") == ["pg_read_all_data", "pg_write_all_data"]
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    assert owner(pg) == "webhost_prod" and roles_of(pg, "webhost_prod") == []
    migrated = pg.psql(
        "INSERT INTO kept (n, m) VALUES (1, 'ok'); INSERT INTO billing.lines (n) VALUES (1);"
        "SELECT nextval('tickets'); REFRESH MATERIALIZED VIEW totals;"
        "ALTER TABLE kept ADD COLUMN note text; ALTER TYPE mood ADD VALUE 'sad';"
        "ALTER SCHEMA billing RENAME TO invoices;"
        "CREATE OR REPLACE VIEW seen AS SELECT n, m FROM kept;"
        "SELECT twice(s::int) FROM totals;",
        database="webhost_prod",
        user="webhost_prod",
        password=password_of(done.stdout),
    )
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.split() == ["1", "16"]
    # the extension's own objects stay postgres's
    assert pg.query(
        "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'uuid_generate_v4'",
        "webhost_prod",
    ) == ["postgres"]
    ok(run_command(loadable(commands), sql_cluster, tmp_path))  # and again: converged


def test_setup_surfaces_other_config_errors(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    done = run_command(loadable(commands), sql_cluster, tmp_path, FAKE_FLY_FAIL="postgres config")
    assert done.returncode != 0
    assert "simulated failure" in done.stderr


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
    assert not [a for a in argvs(cluster) if a[:2] == ["secrets", "deploy"]]


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
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    converged(cluster)


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
    assert not [a for a in argvs(cluster) if a[:2] == ["postgres", "backup"]]
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    converged(cluster)


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
    assert not [a for a in argvs(cluster) if a[:4] == ["postgres", "backup", "config", "update"]]
    assert not [a for a in argvs(cluster) if a[:2] == ["postgres", "restart"]]
    ok(run_command(commands[BACKUPS], cluster, tmp_path))
    converged(cluster)


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
    ok(run_command(commands["webhost-db-backups"], cluster, tmp_path))
    backups = commands["webhost-db-backups"]
    failed(run_command(backups, cluster, tmp_path, script="delete", FAKE_FLY_FAIL="secrets list"))
    assert "S3_ARCHIVE_CONFIG" in cluster.secrets(CLUSTER)


# -- across every script ------------------------------------------------------------------


def test_no_credential_ever_reaches_argv(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for name in ("webhost-db-replica-fra", "webhost-db-attach", "webhost-db-backups"):
        ok(run_command(commands[name], sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    state = sql_cluster.snapshot()
    credentials = [
        *state["pg"][CLUSTER]["users"].values(),
        *(v for app in state["apps"].values() for v in app["secrets"].values()),
        "fly-token-that-must-not-leak",
    ]
    every_arg = json.dumps(argvs(sql_cluster))
    assert credentials
    assert not [c for c in credentials if c in every_arg]
