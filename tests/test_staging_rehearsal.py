"""Staging rehearses prod (issue 20): prod's topology at the smallest sizes, so nothing
is first exercised in prod, within the tier policy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli.main import main
from components import catalog, config
from tests.conftest import stack_doc


def parsed(stack: str) -> config.StackConfig:
    doc: dict[str, Any] = stack_doc(stack)
    return config.parse({k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()})


STAGING, PROD = parsed("staging"), parsed("prod")


def test_the_edge_is_prod_s_mode_on_prod_s_zone_without_owning_it() -> None:
    assert STAGING.domain is not None and PROD.domain is not None
    assert STAGING.domain.proxied == PROD.domain.proxied
    assert STAGING.domain.certificate == PROD.domain.certificate
    assert STAGING.domain.zone == PROD.domain.zone
    # One stack owns a zone's settings, CAA and cache rule: prod.
    assert PROD.domain.owns_zone and not STAGING.domain.owns_zone
    assert not set(STAGING.domain.fqdns) & set(PROD.domain.fqdns)
    # Universal SSL covers first-level names only: each staging host is one label deep.
    zone = STAGING.domain.zone
    assert all(f.removesuffix(f".{zone}").count(".") == 0 for f in STAGING.domain.fqdns)


def test_the_data_tier_has_prod_s_shape() -> None:
    assert STAGING.postgres is not None and PROD.postgres is not None
    assert STAGING.postgres.cluster_size == PROD.postgres.cluster_size
    assert STAGING.postgres.replica_regions and PROD.postgres.replica_regions
    assert STAGING.postgres.backups.enabled and PROD.postgres.backups.enabled
    assert STAGING.redis is not None and PROD.redis is not None
    assert STAGING.redis.replica_regions and PROD.redis.replica_regions
    assert STAGING.redis.plan == PROD.redis.plan


def test_more_than_one_region_as_prod() -> None:
    assert len(STAGING.regions) > 1 and len(PROD.regions) > 1


def test_monitoring_on_its_own_grafana() -> None:
    assert STAGING.monitoring is not None and PROD.monitoring is not None
    assert STAGING.monitoring.synthetic == PROD.monitoring.synthetic
    # A Grafana org has one notification policy tree: shared, staging's alerts would
    # follow prod's routes.
    assert STAGING.monitoring.url != PROD.monitoring.url


def test_the_smallest_sizes() -> None:
    # One shared CPU per machine (the runbook's shared-cpu-1x / 1 GB); volumes, machine
    # counts and memory no larger than prod's.
    assert STAGING.postgres is not None and PROD.postgres is not None
    for small, big in ((STAGING.vm, PROD.vm), (STAGING.postgres.vm, PROD.postgres.vm)):
        assert (small.cpu_kind, small.cpus) == ("shared", 1)
        assert small.memory_mb <= big.memory_mb
    assert STAGING.postgres.volume_gb <= PROD.postgres.volume_gb
    assert sum(STAGING.regions.values()) < sum(PROD.regions.values())


def test_staging_passes_its_policies_and_prints_its_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--stack", "staging", "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    ran = {p["name"] for p in found["policies"]} if isinstance(found["policies"], list) else None
    levels = {v["policy"]: v["enforcementLevel"] for v in found["policyViolations"]}
    assert set(levels) <= {"margin"} and levels.get("margin") == "advisory"
    assert ran is None or {"tier-sizing", "capacity", "margin", "monitoring"} <= ran
    assert main(["cost", "--stack", "staging", "--format", "json"]) == 0
    estimate = json.loads(capsys.readouterr().out)
    assert estimate["tier"] == "starter"
    assert estimate["margin"] >= catalog.MIN_MARGIN
