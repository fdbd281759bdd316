"""The data tier under mocks: its graph, its protection, and credentials kept secret."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from cli import engine, plan
from tests.conftest import run, stack_doc
from tests.known import APP, COMMAND, REDIS, SECRETS, SENSITIVE, KnownMocks

CLUSTER = "webhost-prod-db"


@pytest.fixture
def prod(tmp_path: Path) -> engine.Evaluation:
    return run(stack_doc("prod"), tmp_path, stack="prod")


def urn(evaluation: engine.Evaluation, name: str) -> str:
    return evaluation.one(COMMAND, name).urn


def test_replicas_wait_for_the_cluster_and_not_each_other(prod: engine.Evaluation) -> None:
    cluster = urn(prod, "webhost-db")
    for region in ("fra", "sin"):
        assert prod.one(COMMAND, f"webhost-db-replica-{region}").dependencies == (cluster,)


def test_attach_waits_for_the_cluster_and_the_app(prod: engine.Evaluation) -> None:
    attach = prod.one(COMMAND, "webhost-db-attach")
    assert set(attach.dependencies) == {urn(prod, "webhost-db"), prod.one(APP).urn}


def test_setup_waits_for_the_database_the_attach_makes(prod: engine.Evaluation) -> None:
    assert prod.one(COMMAND, "webhost-db-setup").dependencies == (urn(prod, "webhost-db-attach"),)


def test_backups_wait_for_the_cluster(prod: engine.Evaluation) -> None:
    assert prod.one(COMMAND, "webhost-db-backups").dependencies == (urn(prod, "webhost-db"),)


def test_the_data_tier_never_waits_for_the_deploy(prod: engine.Evaluation) -> None:
    deploy = urn(prod, "webhost-deploy")
    data = [
        r
        for r in prod.resources
        if r.parent in {prod.one("webhost:data:Postgres").urn, prod.one("webhost:data:Redis").urn}
    ]
    assert data
    assert not [r.name for r in data if deploy in r.dependencies]


def test_prod_protects_the_data_and_retains_the_cluster(prod: engine.Evaluation) -> None:
    cluster = prod.one(COMMAND, "webhost-db")
    assert cluster.protect and cluster.retain_on_delete
    for name in ("webhost-db-replica-fra", "webhost-db-replica-sin", "webhost-db-attach"):
        assert prod.one(COMMAND, name).protect
    assert prod.one(REDIS).protect


def test_staging_neither_protects_nor_retains(tmp_path: Path) -> None:
    staging = run(stack_doc("staging"), tmp_path, stack="staging")
    assert not any(r.protect or r.retain_on_delete for r in staging.resources)


def test_credentials_are_secret_outputs(prod: engine.Evaluation) -> None:
    for name in ("webhost-db", "webhost-db-attach"):
        inputs, _ = prod.one(COMMAND, name).rendered_inputs()
        assert inputs["logging"] == "stderr"


@pytest.fixture
def after_up(tmp_path: Path) -> engine.Evaluation:
    return run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=KnownMocks())


def test_database_urls_reach_the_app_as_secrets(after_up: engine.Evaluation) -> None:
    values = after_up.one(SECRETS).inputs["values"]
    assert rpc.is_rpc_secret(values)
    values = rpc.unwrap_rpc_secret(values)
    password = SENSITIVE
    assert values["DATABASE_URL"] == (
        f"postgres://webhost_prod:{password}@{CLUSTER}.flycast:5432/webhost_prod?sslmode=disable"
    )
    assert values["DATABASE_READ_URL"] == (
        f"postgres://webhost_prod:{password}@top1.nearest.of.{CLUSTER}.internal:5433/"
        "webhost_prod?sslmode=disable"
    )
    assert (
        values["REDIS_URL"] == f"redis://default:{SENSITIVE}@fly-webhost-prod-redis.upstash.io:6379"
    )


def test_no_credential_in_the_plan_after_up(after_up: engine.Evaluation) -> None:
    assert SENSITIVE not in plan.as_json(after_up)
    assert SENSITIVE not in plan.as_text(after_up)


def test_redis_is_made_from_config(prod: engine.Evaluation) -> None:
    inputs = prod.one(REDIS).inputs
    expected: dict[str, Any] = {
        "name": "webhost-prod-redis",
        "org": "webhost-systems",
        "primary_region": "iad",
        "replica_regions": ["fra", "sin"],
        "eviction": False,
        "plan": "Pay-as-you-go",
    }
    assert {k: inputs[k] for k in expected} == expected


def test_pool_size_reaches_the_app(after_up: engine.Evaluation) -> None:
    toml = tomllib.loads(after_up.rendered_outputs()["flyToml"])
    assert toml["env"]["POOL_SIZE"] == "10"


def test_cluster_commands_carry_the_config(prod: engine.Evaluation) -> None:
    env = prod.one(COMMAND, "webhost-db").inputs["environment"]
    assert {k: env[k] for k in ("WEBHOST_PG_APP", "WEBHOST_CLUSTER_SIZE", "WEBHOST_VOLUME_GB")} == {
        "WEBHOST_PG_APP": CLUSTER,
        "WEBHOST_CLUSTER_SIZE": "3",
        "WEBHOST_VOLUME_GB": "40",
    }
    setup = prod.one(COMMAND, "webhost-db-setup").inputs["environment"]
    assert setup["WEBHOST_EXTENSIONS"] == "timescaledb postgis uuid-ossp"
    assert setup["WEBHOST_MAX_CONNECTIONS"] == "200"


def test_backups_off_means_no_backup_command(tmp_path: Path) -> None:
    doc = stack_doc("staging")
    doc["webhost:postgres"] = {**doc["webhost:postgres"], "backups": {"enabled": False}}
    evaluation = run(doc, tmp_path, stack="staging")
    assert [r.name for r in evaluation.by_type(COMMAND) if r.name.endswith("backups")] == []


def test_without_a_data_tier_the_app_gets_no_data_secrets(tmp_path: Path) -> None:
    doc = {
        k: v
        for k, v in stack_doc("staging").items()
        if k not in {"webhost:postgres", "webhost:redis"}
    }
    evaluation = run(doc, tmp_path, stack="staging", preview=False, mocks=KnownMocks())
    assert evaluation.rendered_outputs()["secretNames"] == [
        "LIVE_VIEW_SIGNING_SALT",
        "RELEASE_COOKIE",
        "SECRET_KEY_BASE",
        "TOKEN_SIGNING_SECRET",
    ]
    assert "POOL_SIZE" not in tomllib.loads(evaluation.rendered_outputs()["flyToml"])["env"]


def test_an_evaluation_after_a_failed_one_is_unaffected(tmp_path: Path) -> None:
    clean = len(run(stack_doc("prod"), tmp_path, stack="prod").resources)
    # PlanMocks after up give the attach no stdout: parsing its URL fails the program.
    with pytest.raises(TypeError):
        run(stack_doc("prod"), tmp_path, stack="prod", preview=False)
    assert len(run(stack_doc("prod"), tmp_path, stack="prod").resources) == clean
