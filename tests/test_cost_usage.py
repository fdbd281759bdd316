"""Every usage-billed item a stack creates is priced or listed as not estimated, and an
estimate with anything unestimated never presents its margin as exact.

Rates checked here against their sources (components/catalog.py names each):
superfly/docs about/pricing.html.markerb @ 5c22c8c (volume snapshots $0.08/GB-month past
10 GB free, daily with 5 days' retention by default; managed certificates $0.10 a
hostname, $1 a wildcard; outbound transfer $0.02..$0.12 per GB), Tigris's pricing page
(storage $0.02/GB-month past 5 GB, class A $0.005 and class B $0.0005 per 1000), and
Grafana Cloud's synthetic-monitoring invoice page (executions = probes x checks x minutes
x 43,200 / frequency in minutes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from components import config, cost
from tests.conftest import stack_doc, write_stack
from tests.test_policies import platform, stack_violations


def parsed(stack: str = "prod", **changes: Any) -> config.StackConfig:
    doc = stack_doc(stack) | {f"webhost:{k}": v for k, v in changes.items()}
    doc = {k: v for k, v in doc.items() if v is not None}
    # As Pulumi hands config to a program: structured values as JSON text.
    return config.parse({k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()})


def unestimated(estimate: cost.Estimate) -> dict[str, cost.Unestimated]:
    return {u.name: u for u in estimate.unestimated}


def priced(estimate: cost.Estimate) -> dict[str, cost.LineItem]:
    return {i.name: i for i in estimate.items}


# -- each item -----------------------------------------------------------------------


def test_snapshots_of_every_postgres_volume_are_listed_with_fly_s_rate() -> None:
    snapshots = unestimated(cost.estimate(parsed()))["postgres volume snapshots"]
    assert snapshots.rate == "$0.08 per GB-month past 10 GB free"
    # prod: 3 members and 2 replicas of 40 GB, snapshotted daily and kept 5 days.
    assert "kept 5 days, of 5 x 40 GB volumes" in snapshots.volume
    assert snapshots.source.startswith("superfly/docs about/pricing")


def test_snapshots_follow_the_cluster_and_go_without_postgres() -> None:
    pg = stack_doc("prod")["webhost:postgres"] | {"clusterSize": 2, "replicaRegions": []}
    assert (
        "of 2 x 40 GB"
        in unestimated(cost.estimate(parsed(postgres=pg)))["postgres volume snapshots"].volume
    )
    without = unestimated(cost.estimate(parsed(postgres=None)))
    assert "postgres volume snapshots" not in without
    assert "postgres backups (Tigris bucket)" not in without


def test_backups_bucket_is_listed_only_while_backups_are_on() -> None:
    backups = unestimated(cost.estimate(parsed()))["postgres backups (Tigris bucket)"]
    assert backups.rate.startswith("$0.02 per GB-month past 5 GB free, $0.005 per 1000 writes")
    assert "tigrisdata.com" in backups.source
    pg = stack_doc("prod")["webhost:postgres"] | {"backups": {"enabled": False}}
    assert "postgres backups (Tigris bucket)" not in unestimated(cost.estimate(parsed(postgres=pg)))


@pytest.mark.parametrize(
    ("monitoring", "deep", "executions"),
    [
        # 4 probes x 2 checks (health, deep) x 43,200 one-minute runs
        ({}, True, 345_600),
        ({}, False, 172_800),
        ({"probes": ["Ohio"], "probeFrequencyMs": 300_000}, True, 2 * 8_640),
        ({"probes": ["Ohio", "London"], "probeFrequencyMs": 30_000}, True, 2 * 2 * 86_400),
    ],
)
def test_probe_executions_are_counted_as_grafana_meters_them(
    monitoring: dict[str, Any], deep: bool, executions: int
) -> None:
    base = stack_doc("prod")
    http = base["webhost:http"] | {"deepCheck": {"enabled": deep}}
    stack = parsed(monitoring=base["webhost:monitoring"] | monitoring, http=http)
    assert stack.monitoring is not None
    assert cost.probe_executions(stack, stack.monitoring) == executions
    probes = unestimated(cost.estimate(stack))["grafana synthetic probe executions"]
    assert probes.volume == f"{executions:,} executions a month"
    assert probes.hint is None  # no price in a source read here: nothing makes it estimated


def test_no_probes_no_executions() -> None:
    monitoring = stack_doc("prod")["webhost:monitoring"] | {"synthetic": False}
    assert "grafana synthetic probe executions" not in unestimated(
        cost.estimate(parsed(monitoring=monitoring))
    )
    assert "grafana synthetic probe executions" not in unestimated(
        cost.estimate(parsed(monitoring=None))
    )


def test_outbound_transfer_is_listed_for_every_stack() -> None:
    for stack in ("prod", "staging"):
        egress = unestimated(cost.estimate(parsed(stack)))["outbound data transfer"]
        assert egress.rate == "$0.02..$0.12 per GB by region group"


@pytest.mark.parametrize(
    ("domain", "certificates"),
    [
        ({}, 2),
        ({"hosts": ["www"]}, 1),
        ({"hosts": ["@", "www", "api"], "proxied": False}, 3),
        # imported Origin CA certificates (a wildcard among them) are not Fly-managed
        ({"hosts": ["@", "*"], "certificate": "origin"}, 0),
    ],
)
def test_fly_managed_certificates_are_priced_per_hostname(
    domain: dict[str, Any], certificates: int
) -> None:
    items = priced(cost.estimate(parsed(domain=stack_doc("prod")["webhost:domain"] | domain)))
    if not certificates:
        assert "fly certificates" not in items
        return
    assert items["fly certificates"].quantity == certificates
    assert items["fly certificates"].monthly == pytest.approx(0.10 * certificates)


def test_no_domain_no_certificates() -> None:
    assert "fly certificates" not in priced(cost.estimate(parsed(domain=None)))


# -- the exactness flag ------------------------------------------------------------------


def exact_stack() -> config.StackConfig:
    # Nothing usage-billed the config cannot size... except outbound transfer, which
    # every app has: so no stack is exact, and this is how the program says it.
    return parsed(postgres=None, monitoring=None, redis={"plan": "Fixed 1GB", "eviction": False})


def test_an_app_alone_is_still_inexact_for_its_traffic() -> None:
    estimate = cost.estimate(exact_stack())
    assert [u.name for u in estimate.unestimated] == ["outbound data transfer"]
    assert not estimate.exact


def test_exact_only_without_anything_unestimated() -> None:
    estimate = cost.estimate(exact_stack())
    whole = cost.Estimate(estimate.items, estimate.customers, estimate.price_per_customer)
    assert whole.exact
    text = cost.report(whole, "professional").splitlines()
    assert text[-1].split()[0] == "margin" and "at most" not in text[-1]
    assert text[-3].split()[0] == "cost"
    inexact = cost.report(estimate, "professional").splitlines()
    assert inexact[-1].startswith("margin, at most (not exact: 1 items not estimated)")
    assert inexact[-3].startswith("cost, without 1 usage-based items")


def test_cost_json_says_whether_the_margin_is_exact(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["cost", "--stack", "prod", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exact"] is False
    assert (out["costIs"], out["marginIs"]) == ("floor", "ceiling")
    assert {u["name"] for u in out["notEstimated"]} == {
        "outbound data transfer",
        "postgres volume snapshots",
        "postgres backups (Tigris bucket)",
        "grafana synthetic probe executions",
    }
    assert out["cost"] == pytest.approx(sum(i["monthly"] for i in out["items"]))
    assert out["margin"] == pytest.approx((out["revenue"] - out["cost"]) / out["revenue"], 1e-3)
    assert all(u["rate"] and u["source"] for u in out["notEstimated"])


def test_cost_json_rejects_bad_config_like_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = stack_doc("prod") | {"webhost:customers": -1}
    path = write_stack(tmp_path, doc, "prod")
    assert main(["cost", "--stack-file", str(path), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "webhost:customers" in captured.err


# -- the margin policy reads the flag -----------------------------------------------------


@pytest.mark.parametrize("customers", [50, 80])
def test_a_ceiling_over_the_floor_is_unchecked_never_passed(customers: int) -> None:
    found = stack_violations("margin", [platform(customers=customers)], minimumMargin=0.5)
    assert len(found) == 1
    assert "margin not checked: at most" in found[0]
    assert "postgres volume snapshots" in found[0]


@pytest.mark.parametrize("customers", [1, 5])
def test_a_ceiling_under_the_floor_fails_outright(customers: int) -> None:
    found = stack_violations("margin", [platform(customers=customers)], minimumMargin=0.85)
    assert len(found) == 1
    assert "margin at most" in found[0] and "is under the 85% floor" in found[0]
