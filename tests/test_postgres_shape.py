"""The Postgres cluster's shape: what the cluster script cannot apply fails the plan.

The provider is called directly (under mocks a dynamic provider never runs), and
once through the SDK's own dynamic provider host (`python -m pulumi.dynamic`, the
process the engine starts), which is what carries a check failure to `pulumi
preview` as a property and a reason.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime.proto import provider_pb2

from cli import engine
from components.fly.providers.postgres_shape import PostgresShapeProvider
from tests.conftest import ROOT, run, stack_doc
from tests.fakeprovider_client import served
from tests.known import COMMAND

SHAPE = "pulumi-python:dynamic/fly:PostgresShape"
CLUSTER = "webhost-prod-db"
# What state holds after `pulumi up` of prod (Pulumi.prod.yaml), numbers as the
# engine carries them: doubles.
RECORDED: dict[str, Any] = {
    "name": CLUSTER,
    "primary_region": "iad",
    "image": "flyio/postgres-flex-timescaledb:16",
    "cluster_size": 3.0,
    "volume_gb": 40.0,
}


def check(**changes: Any) -> dict[str, str]:
    """The provider's failures for the recorded shape changed by `changes`: property -> reason."""
    news = {**RECORDED, **changes}
    result = PostgresShapeProvider().check(dict(RECORDED), news)
    assert result.inputs == news
    return {f.property: f.reason for f in result.failures}


# -- refused: what the cluster script cannot apply ------------------------------------


def test_moving_the_primary_region_is_refused_with_the_regional_failover() -> None:
    reason = check(primary_region="fra")["primary_region"]
    assert "webhost:primaryRegion 'iad' -> 'fra'" in reason
    assert f"fly postgres failover --app {CLUSTER}" in reason
    assert "fly machine clone" in reason and "PRIMARY_REGION=fra" in reason
    assert "set primaryRegion back to 'iad'" in reason


def test_a_new_image_is_refused_with_the_image_update() -> None:
    reason = check(image="flyio/postgres-flex-timescaledb:17")["image"]
    assert "webhost:postgres.image" in reason and "'flyio/postgres-flex-timescaledb:17'" in reason
    assert f"fly image update --app {CLUSTER} --image flyio/postgres-flex-timescaledb:17" in reason
    assert "pulumi up --replace" in reason and "pulumi state unprotect" in reason


def test_a_new_digest_of_the_same_tag_is_refused() -> None:
    # The script compares images without their digest: it would do nothing, and say so
    # nowhere. Refusing at plan time keeps a pinned digest from being ignored.
    pinned = "flyio/postgres-flex-timescaledb:16@sha256:" + "a" * 64
    assert (
        "image"
        in PostgresShapeProvider()
        .check(
            {**RECORDED, "image": pinned},
            {**RECORDED, "image": pinned.replace("a" * 64, "b" * 64)},
        )
        .failures[0]
        .property
    )


def test_shrinking_the_cluster_is_refused_with_the_member_to_destroy() -> None:
    reason = check(cluster_size=2)["cluster_size"]
    assert "webhost:postgres.clusterSize 3 -> 2" in reason
    assert "Remove 1 member(s)" in reason and "never the primary" in reason
    assert f"fly machine destroy <id> --force --app {CLUSTER}" in reason
    assert "set clusterSize back to 3" in reason


def test_shrinking_the_volume_is_refused_with_a_restore() -> None:
    reason = check(volume_gb=20)["volume_gb"]
    assert "webhost:postgres.volumeGb 40 -> 20" in reason
    assert "only grow" in reason and "set postgres.name" in reason
    assert "--replace" not in reason  # no change by hand makes a volume smaller


def test_each_refused_change_is_its_own_failure_on_one_line() -> None:
    failures = check(primary_region="fra", image="other/pg:1", cluster_size=1, volume_gb=10)
    assert set(failures) == {"primary_region", "image", "cluster_size", "volume_gb"}
    assert all("\n" not in reason for reason in failures.values())


# -- allowed: what the script converges, or nothing to hold the change to ------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"cluster_size": 4},  # the script clones members up to clusterSize
        {"volume_gb": 80},  # the script runs `fly volumes extend`
        {"cluster_size": 3, "volume_gb": 40},  # ints from the program equal doubles from state
        {"image": "docker.io/flyio/postgres-flex-timescaledb:16"},  # the same image
        {"image": "registry-1.docker.io/flyio/postgres-flex-timescaledb:16"},
    ],
    ids=["same", "grow-members", "grow-volume", "int-vs-double", "docker.io", "registry-1"],
)
def test_what_the_script_converges_is_allowed(changes: dict[str, Any]) -> None:
    assert check(**changes) == {}


def test_a_new_cluster_is_held_to_nothing() -> None:
    news = {**RECORDED, "cluster_size": 1, "volume_gb": 1}
    assert PostgresShapeProvider().check({}, news).failures == []


def test_another_cluster_name_is_another_cluster() -> None:
    # A restore is adopted by setting postgres.name (README): its shape is the new one's.
    changed = check(name="webhost-prod-db-restored", primary_region="fra", volume_gb=10)
    assert changed == {}


@pytest.mark.parametrize(
    "unknown",
    # rpc.UNKNOWN's string, and what dynamic/__main__.py Check hands the provider in a
    # preview (deserialize_properties keeping unknowns: pulumi.output.Unknown)
    ["04da6b54-80e4-46f7-96ec-b56ff0331ba9", Unknown()],
    ids=["string", "object"],
)
def test_an_unknown_value_in_a_preview_is_no_change(unknown: Any) -> None:
    assert check(primary_region=unknown, image=unknown) == {}
    assert check(name=unknown, primary_region="fra") == {}


def test_it_records_without_replacing() -> None:
    provider = PostgresShapeProvider()
    created = provider.create({**RECORDED, "__provider": "x"})
    assert created.id == CLUSTER and created.outs == RECORDED
    renamed = {**RECORDED, "name": "webhost-prod-db-restored"}
    diff = provider.diff(CLUSTER, {**RECORDED, "__provider": "x"}, {**renamed, "__provider": "y"})
    assert diff.changes is True and not diff.replaces  # a protected resource cannot be replaced
    assert provider.diff(CLUSTER, dict(RECORDED), dict(RECORDED)).changes is False
    assert provider.update(CLUSTER, dict(RECORDED), renamed).outs == renamed


def test_the_provider_pickles_by_reference() -> None:
    # The engine loads it in another process from its module (ARCHITECTURE.md, dynamic
    # providers): a class pickled by value would be a copy, not the module's.
    loaded = dill.loads(base64.b64decode(serialize_provider(PostgresShapeProvider())))
    assert type(loaded) is PostgresShapeProvider


# -- through the SDK's dynamic provider host ------------------------------------------


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


@pytest.fixture
def dynamic_host(tmp_path: Path) -> Iterator[Any]:
    """`python -m pulumi.dynamic`, as the engine starts it: it prints its port."""
    with served(
        [sys.executable, "-m", "pulumi.dynamic"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as stub:
        yield stub


def test_the_dynamic_host_returns_the_failure_the_engine_prints(dynamic_host: Any) -> None:
    # The host answers Check with one CheckFailure(property, reason) per failure (pulumi
    # sdk/python/lib/pulumi/dynamic/__main__.py, Check); the engine prints each and marks
    # the resource invalid, preview included (pkg/resource/deploy/step_generator.go,
    # issueCheckErrors).
    provider = serialize_provider(PostgresShapeProvider())
    olds = {**RECORDED, "__provider": provider}
    answer = dynamic_host.Check(
        provider_pb2.CheckRequest(
            urn=f"urn:pulumi:prod::webhost::{SHAPE}::webhost-db-shape",
            olds=_struct(olds),
            news=_struct({**olds, "image": "flyio/postgres-flex-timescaledb:17"}),
        )
    )
    assert [f.property for f in answer.failures] == ["image"]
    assert f"fly image update --app {CLUSTER}" in answer.failures[0].reason


# -- in the program --------------------------------------------------------------------


@pytest.fixture
def prod(tmp_path: Path) -> engine.Evaluation:
    return run(stack_doc("prod"), tmp_path, stack="prod")


def test_the_cluster_waits_for_its_shape(prod: engine.Evaluation) -> None:
    shape = prod.one(SHAPE, "webhost-db-shape")
    assert shape.urn in prod.one(COMMAND, "webhost-db").dependencies


def test_the_shape_is_a_protected_child_of_postgres_in_prod(prod: engine.Evaluation) -> None:
    shape = prod.one(SHAPE, "webhost-db-shape")
    assert shape.parent == prod.one("webhost:data:Postgres").urn
    assert shape.protect


def test_the_shape_holds_the_config_in_plain_inputs(prod: engine.Evaluation) -> None:
    inputs, secret = prod.one(SHAPE, "webhost-db-shape").rendered_inputs()
    assert secret == []
    assert {k: inputs[k] for k in RECORDED} == {**RECORDED, "cluster_size": 3, "volume_gb": 40}
