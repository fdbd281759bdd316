"""The replica scripts (postgres_replica.sh, postgres_replica_delete.sh), run for real
against the fake `fly` (tests/pg_scripts.py says how)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import FakeFly, run_command
from tests.pg_scripts import CLUSTER, argvs, delete_fails_when, failed, ok, size, with_env


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
    delete_fails_when(cluster, commands["webhost-db-replica-fra"], tmp_path, "machine list")
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
