"""The data tier's keys (`webhost:postgres.*`, `webhost:redis.*`): every rule, with its line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import config
from tests.configcase import base, only, problems, text

# -- webhost:postgres / webhost:redis -------------------------------------------------


def postgres_doc(**fields: Any) -> dict[str, Any]:
    return {
        "vm": {"cpuKind": "shared", "cpus": 1, "memoryMb": 1024},
        "volumeGb": 10,
        **fields,
    }


def test_postgres_defaults_follow_the_runbook() -> None:
    parsed = config.parse(base() | {"webhost:postgres": text(postgres_doc())})
    pg = parsed.postgres
    assert pg is not None
    assert pg.extensions == ["timescaledb", "postgis", "uuid-ossp"]
    assert (pg.max_connections, pg.pool_size) == (200, 10)
    assert pg.image == "flyio/postgres-flex-timescaledb:16"
    assert (parsed.postgres_name, parsed.database_name) == ("webhost-prod-db", "webhost_prod")
    assert parsed.data_secret_names == ["DATABASE_URL", "DATABASE_READ_URL", "REDIS_URL"]


def test_postgres_vm_obeys_flys_size_rules() -> None:
    line = only(postgres=postgres_doc(vm={"cpuKind": "performance", "cpus": 2, "memoryMb": 2048}))
    assert line.startswith(
        "webhost:postgres.vm.memoryMb = 2048: performance VMs take 2048..8192 MB"
    )


def test_postgres_volume_bounds() -> None:
    assert only(postgres=postgres_doc(volumeGb=0)) == (
        "webhost:postgres.volumeGb = 0: Input should be greater than or equal to 1"
    )


def test_postgres_replica_in_the_primary_region_is_rejected() -> None:
    line = only(postgres=postgres_doc(replicaRegions=["fra", "iad"]))
    assert line == (
        'webhost:postgres.replicaRegions = ["fra", "iad"]: iad is the primary region, not a replica'
    )


def test_postgres_replica_regions_unique_and_real() -> None:
    assert only(postgres=postgres_doc(replicaRegions=["fra", "fra"])).endswith("fra listed twice")
    assert "not a Fly region" in only(postgres=postgres_doc(replicaRegions=["mars"]))


def test_postgres_pool_must_fit_max_connections() -> None:
    line = only(postgres=postgres_doc(poolSize=40, maxConnections=200))
    assert line == (
        "webhost:postgres.poolSize = 40: 40 x 6 app machines = 240 connections, over the 190 "
        "that maxConnections 200 leaves after 10 reserved"
    )


def test_backups_need_members_with_512_mb() -> None:
    line = only(postgres=postgres_doc(vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 256}))
    assert line == (
        "webhost:postgres.vm.memoryMb = 256: "
        "backups need members with at least 512 MB (or backups.enabled: false)"
    )
    small = postgres_doc(
        vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 256}, backups={"enabled": False}
    )
    assert config.parse(base() | {"webhost:postgres": text(small)}).postgres is not None


def test_backup_periods() -> None:
    # postgres-flex's rule (internal/flypg/barman_config.go); more in test_bad_input.py
    assert only(postgres=postgres_doc(backups={"recoveryWindow": "1 week"})).endswith(
        "a whole number of days or weeks such as 7d or 2w"
    )
    line = only(
        postgres=postgres_doc(
            backups={"fullBackupFrequency": "90m", "recoveryPointObjective": "1h"}
        )
    )
    assert line.endswith("must be at least fullBackupFrequency (90m)")
    line = only(
        postgres=postgres_doc(
            backups={"fullBackupFrequency": "48h", "recoveryPointObjective": "24h"}
        )
    )
    assert line.endswith("must be at least fullBackupFrequency (48h)")


def test_extension_names() -> None:
    assert only(postgres=postgres_doc(extensions=["PostGIS; DROP"])).startswith(
        'webhost:postgres.extensions.0 = "PostGIS; DROP": a lowercase Postgres name'
    )


def test_redis_replica_in_its_primary_is_rejected() -> None:
    assert only(redis={"replicaRegions": ["iad"]}) == (
        'webhost:redis.replicaRegions = ["iad"]: the primary region is not a replica'
    )
    assert only(redis={"primaryRegion": "fra", "replicaRegions": ["fra"]}) == (
        'webhost:redis.replicaRegions = ["fra"]: the primary region is not a replica'
    )


def test_redis_unknown_key_suggests() -> None:
    assert (
        only(redis={"evict": True})
        == "webhost:redis.evict = true: unknown key (did you mean eviction?)"
    )


def test_pool_size_is_derived_not_set() -> None:
    assert "POOL_SIZE from postgres.poolSize" in only(env={"POOL_SIZE": "5"})


@pytest.mark.parametrize("app", ["a" * 61, "a" * 63, "webhost-" + "x" * 53])
def test_derived_data_names_past_an_app_names_63_are_refused(app: str) -> None:
    lines = problems(appName=app)
    assert lines == sorted(
        [
            f"webhost:postgres.name = null: unset, so the name is {app}-db, {len(app) + 3} "
            "characters, over the 63 of a Fly app name (a DNS label); set postgres.name",
            f"webhost:redis.name = null: unset, so the name is {app}-redis, {len(app) + 6} "
            "characters, over the 63 of a Fly app name (a DNS label); set redis.name",
        ]
    )


def test_derived_data_names_within_63_or_set_are_taken() -> None:
    parsed = config.parse(base() | {"webhost:appName": "a" * 57})
    assert (parsed.postgres_name, parsed.redis_name) == ("a" * 57 + "-db", "a" * 57 + "-redis")
    long = "a" * 63
    raw = base() | {
        "webhost:appName": long,
        "webhost:postgres": text({**json.loads(base()["webhost:postgres"]), "name": "pg"}),
        "webhost:redis": text({**json.loads(base()["webhost:redis"]), "name": "kv"}),
    }
    assert (config.parse(raw).postgres_name, config.parse(raw).redis_name) == ("pg", "kv")


@pytest.mark.parametrize("app", ["1webhost", "9-prod", "0"])
def test_a_derived_database_name_postgres_would_not_take_is_refused(app: str) -> None:
    line = only(appName=app)
    database = app.replace("-", "_")
    assert line == (
        f"webhost:postgres.database = null: unset, so {database} (appName with _), which does "
        "not start with a letter or _ as a Postgres identifier must; set postgres.database"
    )


@pytest.mark.parametrize("app", ["webhost-prod", "pg", "a" * 57])
def test_a_postgres_cluster_named_as_the_app_is_refused(app: str) -> None:
    postgres = json.loads(base()["webhost:postgres"])
    line = only(appName=app, postgres={**postgres, "name": app})
    assert line == (
        f'webhost:postgres.name = "{app}": the app\'s own name; Fly app names are unique, so '
        "the cluster needs another"
    )
