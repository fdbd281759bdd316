"""Upstash Redis over Fly's GraphQL add-on API, as `fly redis create/update` drive it."""

from __future__ import annotations

import pytest

from components.fly.providers.upstash_redis import UpstashRedisProvider, update_options
from tests.fakes.fly_api import FakeFlyApi

NAME = "webhost-prod-redis"
REDIS = {
    "name": NAME,
    "org": "webhost-systems",
    "primary_region": "iad",
    "replica_regions": ["sin", "fra"],
    "eviction": False,
    "plan": "Pay-as-you-go",
}


def test_plans_are_looked_up_for_upstash_only(fly_api: FakeFlyApi) -> None:
    UpstashRedisProvider().create(dict(REDIS))
    lookups = [
        r.body["query"]
        for r in fly_api.state.calls("POST", "/graphql")
        if "addOnPlans" in str(r.body)
    ]
    assert lookups and all("addOnPlans(type: upstash_redis)" in q for q in lookups)
    assert fly_api.state.add_ons[NAME]["addOnPlan"]["id"] == "plan_payg"


def test_unknown_plan_lists_only_upstash_plans(fly_api: FakeFlyApi) -> None:
    with pytest.raises(RuntimeError, match=r"plans: Fixed 250MB, Pay-as-you-go$"):
        UpstashRedisProvider().create({**REDIS, "plan": "Gold"})


def _update_variables(fly_api: FakeFlyApi) -> dict[str, object]:
    updates = [
        r.body["variables"]
        for r in fly_api.state.calls("POST", "/graphql")
        if "updateAddOn" in r.body["query"]
    ]
    return dict(updates[-1])


def test_update_sends_back_the_current_options_and_metadata(fly_api: FakeFlyApi) -> None:
    provider = UpstashRedisProvider()
    olds = dict(provider.create({**REDIS, "plan": "Fixed 250MB"}).outs or {})
    add_on = fly_api.state.add_ons[NAME]
    add_on["options"] = {"auto_upgrade": True, "future_flag": "kept"}  # set with flyctl
    metadata = dict(add_on["metadata"])
    provider.update(NAME, olds, {**REDIS, "plan": "Fixed 250MB", "replica_regions": ["fra"]})
    sent = _update_variables(fly_api)
    assert sent["options"] == {"auto_upgrade": True, "future_flag": "kept"}
    assert sent["metadata"] == metadata
    assert fly_api.state.add_ons[NAME]["options"] == {"auto_upgrade": True, "future_flag": "kept"}


def test_update_turns_eviction_on_and_off_explicitly(fly_api: FakeFlyApi) -> None:
    provider = UpstashRedisProvider()
    olds = dict(provider.create(dict(REDIS)).outs or {})
    on = dict(provider.update(NAME, olds, {**REDIS, "eviction": True}).outs or {})
    assert (_update_variables(fly_api)["options"], on["eviction"]) == ({"eviction": True}, True)
    off = dict(provider.update(NAME, on, dict(REDIS)).outs or {})
    assert (_update_variables(fly_api)["options"], off["eviction"]) == ({"eviction": False}, False)


@pytest.mark.parametrize(
    ("current", "eviction", "plan", "sent"),
    [
        # declining to enable sends no false (flyctl update.go: stale data must not turn it off)
        ({}, False, "Pay-as-you-go", {}),
        ({"eviction": False}, False, "Pay-as-you-go", {}),
        ({"eviction": True}, False, "Pay-as-you-go", {"eviction": False}),
        ({}, True, "Pay-as-you-go", {"eviction": True}),
        # auto upgrade only on fixed (or legacy) plans; prod_pack never in options
        ({"auto_upgrade": True}, False, "Pay-as-you-go", {}),
        ({"auto_upgrade": True}, False, "Fixed 250MB", {"auto_upgrade": True}),
        ({"auto_upgrade": True}, False, "Pro 2k", {"auto_upgrade": True}),
        ({"prod_pack": True, "x": 1}, False, "Fixed 250MB", {"x": 1}),
    ],
)
def test_update_options_follow_fly_redis_update(
    current: dict[str, object], eviction: bool, plan: str, sent: dict[str, object]
) -> None:
    before = dict(current)
    assert update_options(current, eviction, plan) == sent
    assert current == before  # the add-on's own copy is left as it was


def test_create_after_a_lost_answer_makes_one_database(fly_api: FakeFlyApi) -> None:
    fly_api.state.lose_answer_next("POST", "/graphql", containing="createAddOn")
    result = UpstashRedisProvider().create(dict(REDIS))
    assert result.id == NAME
    assert list(fly_api.state.add_ons) == [NAME]
    creates = [r for r in fly_api.state.calls("POST", "/graphql") if "createAddOn" in str(r.body)]
    assert len(creates) == 1


def test_create_asks_again_when_the_lost_create_made_nothing(fly_api: FakeFlyApi) -> None:
    fly_api.state.fail_next("POST", "/graphql", 502)  # the lookup: retried, it only reads
    fly_api.state.faults[-1].containing = "createAddOn"
    assert UpstashRedisProvider().create(dict(REDIS)).id == NAME
    creates = [r for r in fly_api.state.calls("POST", "/graphql") if "createAddOn" in str(r.body)]
    assert len(creates) == 2
    assert list(fly_api.state.add_ons) == [NAME]
