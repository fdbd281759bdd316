"""The cluster script (postgres_cluster.sh, postgres_cluster_delete.sh), run for real
against the fake `fly` (tests/pg_scripts.py says how)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components import postgres
from tests.conftest import FakeFly, run_command
from tests.pg_scripts import CLUSTER, argvs, edit, failed, ok, size, unprotected, with_env


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
