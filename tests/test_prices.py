"""Every Redis plan the program accepts is priced from Fly's published list.

Source of every number here: superfly/docs upstash/redis.html.md @ 5c22c8c,
"Pricing": pay-as-you-go $0.20 per 100k requests; fixed plans a monthly base plus
a price per read region (Fixed 250MB $10 + $5, 1GB $20 + $10, 5GB $100 + $50,
10GB $200 + $100, 50GB $400 + $200).
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

PUBLISHED = {
    "Fixed 250MB": (10.0, 5.0),
    "Fixed 1GB": (20.0, 10.0),
    "Fixed 5GB": (100.0, 50.0),
    "Fixed 10GB": (200.0, 100.0),
    "Fixed 50GB": (400.0, 200.0),
}


def prod(**redis: Any) -> config.StackConfig:
    doc = stack_doc("prod")
    doc["webhost:redis"] = {"replicaRegions": ["fra", "sin"], "eviction": False, **redis}
    # As Pulumi hands config to a program: structured values as JSON text.
    return config.parse({k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()})


def redis_cost(estimate: cost.Estimate) -> float:
    return sum(i.monthly for i in estimate.items if i.name.startswith("redis"))


@pytest.mark.parametrize(("plan", "price"), PUBLISHED.items())
def test_fixed_plan_is_base_plus_each_read_region(plan: str, price: tuple[float, float]) -> None:
    base, per_read_region = price
    assert redis_cost(cost.estimate(prod(plan=plan))) == base + 2 * per_read_region
    assert redis_cost(cost.estimate(prod(plan=plan, replicaRegions=[]))) == base


def test_pay_as_you_go_from_the_monthly_volume() -> None:
    estimate = cost.estimate(prod(plan="Pay-as-you-go", monthlyRequests=5_000_000))
    assert redis_cost(estimate) == pytest.approx(10.0)  # 50 x 100k at $0.20
    assert not any(u.name.startswith("redis") for u in estimate.unestimated)


def test_pay_as_you_go_without_a_volume_is_unestimated_never_free() -> None:
    estimate = cost.estimate(prod(plan="Pay-as-you-go"))
    assert [i for i in estimate.items if i.name.startswith("redis")] == []
    assert "redis (Pay-as-you-go)" in [u.name for u in estimate.unestimated]
    text = cost.report(estimate, "professional")
    assert "redis (Pay-as-you-go)" + " " * 32 + "not estimated (usage-based)" in text
    assert "  $0.20 per 100k requests; set webhost:redis.monthlyRequests to estimate it" in text
    assert "margin, at most" in text


def test_the_margin_policy_sees_the_real_redis_cost() -> None:
    # 50GB with two read regions: $800 a month, which 10 customers do not cover.
    redis = {"plan": "Fixed 50GB", "replicaRegions": ["fra", "sin"], "eviction": False}
    found = stack_violations("margin", [platform(customers=10, redis=redis)])
    assert found and "cost $1407.20 without usage" in found[0]


def test_the_margin_policy_says_when_it_cannot_check() -> None:
    redis = {"plan": "Pay-as-you-go", "replicaRegions": ["fra", "sin"], "eviction": False}
    found = stack_violations("margin", [platform(redis=redis)])
    assert len(found) == 1
    assert found[0].startswith("app webhost-prod: margin not checked: at most 91.8% (cost $607.20")
    assert "redis (Pay-as-you-go)" in found[0]


def test_a_plan_fly_does_not_offer_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = stack_doc("prod")
    doc["webhost:redis"] = {**doc["webhost:redis"], "plan": "Fixed 2GB"}
    code = main(["plan", "--stack-file", str(write_stack(tmp_path, doc, "prod"))])
    err = capsys.readouterr().err
    assert code == 2
    assert '  webhost:redis.plan = "Fixed 2GB": not a plan Fly offers (' in err
    assert "Traceback" not in err
