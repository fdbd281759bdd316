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


# -- UpstashRedis (Fly's GraphQL add-on API) ---------------------------------------


def test_redis_create_makes_the_database_and_reports_its_url(fly_api: FakeFlyApi) -> None:
    result = UpstashRedisProvider().create(dict(REDIS))
    add_on = fly_api.state.add_ons["webhost-prod-redis"]
    assert result.id == "webhost-prod-redis"
    assert add_on["organization"]["slug"] == "webhost-systems"
    assert add_on["readRegions"] == ["fra", "sin"]
    # the Upstash plan, not another add-on kind's plan of the same name
    assert add_on["addOnPlan"] == {"id": "plan_payg", "displayName": "Pay-as-you-go"}
    # flyctl internal/command/redis/create.go sends only the options turned on
    assert add_on["options"] == {}
    assert result.outs is not None
    assert result.outs["url"] == add_on["publicUrl"]
    assert result.outs["replica_regions"] == ["fra", "sin"]


def test_redis_create_adopts_its_own_earlier_create(fly_api: FakeFlyApi) -> None:
    UpstashRedisProvider().create(dict(REDIS))
    again = UpstashRedisProvider().create({**REDIS, "eviction": True})
    assert again.id == "webhost-prod-redis"
    assert fly_api.state.add_ons["webhost-prod-redis"]["options"] == {"eviction": True}


def test_redis_create_refuses_another_orgs_database(fly_api: FakeFlyApi) -> None:
    UpstashRedisProvider().create({**REDIS, "org": "other-org"})
    with pytest.raises(RuntimeError, match="belongs to another organization"):
        UpstashRedisProvider().create(dict(REDIS))


def test_redis_unknown_plan_names_the_plans(fly_api: FakeFlyApi) -> None:
    with pytest.raises(RuntimeError, match="plans: Fixed 250MB, Pay-as-you-go"):
        UpstashRedisProvider().create({**REDIS, "plan": "Gold"})


def test_redis_update_changes_regions_eviction_and_plan_in_place(fly_api: FakeFlyApi) -> None:
    provider = UpstashRedisProvider()
    olds = dict(provider.create(dict(REDIS)).outs or {})
    news = {**REDIS, "replica_regions": ["fra"], "eviction": True, "plan": "Fixed 250MB"}
    diff = provider.diff("webhost-prod-redis", olds, news)
    assert (diff.changes, diff.replaces) == (True, [])
    outs = provider.update("webhost-prod-redis", olds, news).outs or {}
    add_on = fly_api.state.add_ons["webhost-prod-redis"]
    assert (add_on["readRegions"], add_on["options"]) == (["fra"], {"eviction": True})
    assert outs["plan"] == "Fixed 250MB"
    assert outs["url"] == olds["url"]  # same database, same URL


def test_redis_diff_ignores_region_order_and_replaces_on_primary() -> None:
    olds = {**REDIS, "replica_regions": ["fra", "sin"], "url": "redis://x"}
    assert UpstashRedisProvider().diff("r", olds, {**REDIS}).changes is False
    moved = UpstashRedisProvider().diff("r", olds, {**REDIS, "primary_region": "ord"})
    assert (moved.replaces, moved.delete_before_replace) == (["primary_region"], True)


def test_redis_read_sees_drift_and_gone(fly_api: FakeFlyApi) -> None:
    provider = UpstashRedisProvider()
    olds = dict(provider.create(dict(REDIS)).outs or {})
    fly_api.state.add_ons["webhost-prod-redis"]["readRegions"] = ["fra"]
    read = provider.read("webhost-prod-redis", olds)
    assert read.outs is not None and read.outs["replica_regions"] == ["fra"]
    assert read.inputs is not None and read.inputs["replica_regions"] == ["fra"]
    del fly_api.state.add_ons["webhost-prod-redis"]
    assert provider.read("webhost-prod-redis", olds).id == ""


def test_redis_delete_is_idempotent(fly_api: FakeFlyApi) -> None:
    provider = UpstashRedisProvider()
    provider.create(dict(REDIS))
    provider.delete("webhost-prod-redis", {})
    provider.delete("webhost-prod-redis", {})
    assert fly_api.state.add_ons == {}


def test_redis_graphql_retries_a_server_error(fly_api: FakeFlyApi) -> None:
    fly_api.state.fail_next("POST", "/graphql", 502)
    assert UpstashRedisProvider().create(dict(REDIS)).id == "webhost-prod-redis"
