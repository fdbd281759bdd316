"""UpstashRedis (`pulumi-python:dynamic/fly:UpstashRedis`): an Upstash Redis database
through Fly's GraphQL add-on API."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, NotRequired

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult
from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict

from components.fly.api import FlyGraphQL, FlyNotFound, FlyOutcomeUnknown
from components.fly.providers.base import (
    DynamicResource,
    FlyProvider,
    replace_on,
    replacing,
    unknown,
)

# Add-ons share one namespace of operations; `provider` says which kind is meant.
_PROVIDER = "upstash_redis"
# The fields flyctl's GetAddOn reads for `fly redis update` (gql/genqclient.graphql),
# options and metadata among them: an update sends them back.
_ADD_ON = """query($name: String, $provider: String) { addOn(name: $name, provider: $provider) {
  id name publicUrl primaryRegion readRegions options metadata
  addOnPlan { id displayName } organization { slug } } }"""
_ORGANIZATION = "query($slug: String!) { organization(slug: $slug) { id } }"
# flyctl gql/genqclient.graphql ListAddOnPlans: plans of one add-on kind. Without
# `type` the list holds every kind's plans, whose display names can repeat.
_PLANS = "query { addOnPlans(type: upstash_redis) { nodes { id displayName } } }"
_CREATE = """mutation($organizationId: ID!, $name: String, $primaryRegion: String, $planId: ID,
  $readRegions: [String!], $options: JSON!) {
  createAddOn(input: {organizationId: $organizationId, type: upstash_redis, name: $name,
    primaryRegion: $primaryRegion, planId: $planId, readRegions: $readRegions,
    options: $options}) { addOn { id name } } }"""
# flyctl gql/genqclient.graphql UpdateRedisAddOn, without prodPack (left untouched
# when absent, per the schema's UpdateAddOnInput.prodPack).
_UPDATE = """mutation($addOnId: ID!, $planId: ID!, $readRegions: [String!]!, $options: JSON!,
  $metadata: JSON!) {
  updateAddOn(input: {addOnId: $addOnId, planId: $planId, readRegions: $readRegions,
    options: $options, metadata: $metadata}) { addOn { id } } }"""
_DELETE = """mutation($name: String, $provider: String) {
  deleteAddOn(input: {name: $name, provider: $provider}) { deletedAddOnName } }"""

# flyctl internal/command/redis/create.go: plans kept only by databases already on them,
# matched on the display name lower-cased with spaces as underscores; fixed plans.
_LEGACY_PLANS = frozenset({"pro_2k", "pro_10k", "starter", "standard"})


def _is_legacy_plan(plan: str) -> bool:
    return plan.lower().replace(" ", "_") in _LEGACY_PLANS


def _is_fixed_plan(plan: str) -> bool:
    return plan.lower().startswith(("flyio_fixed_", "fixed "))


class _Plan(TypedDict):
    id: str
    displayName: str


class _PlanNodes(TypedDict):
    nodes: list[_Plan] | None


# Built on first use, not at import: the plan imports this module and never validates a
# Fly answer (pydantic's defer_build, honoured by TypeAdapter from the type's config).
_DEFERRED = ConfigDict(defer_build=True)


@with_config(_DEFERRED)
class _Plans(TypedDict):
    addOnPlans: _PlanNodes


class _OrganizationId(TypedDict):
    id: str


@with_config(_DEFERRED)
class _Organization(TypedDict):
    organization: _OrganizationId


class _Slug(TypedDict):
    slug: str


class _AddOnData(TypedDict):
    id: str
    name: str
    publicUrl: NotRequired[str | None]
    primaryRegion: NotRequired[str | None]
    readRegions: NotRequired[list[str] | None]
    options: NotRequired[dict[str, Any] | None]
    metadata: NotRequired[dict[str, Any] | None]
    addOnPlan: NotRequired[_Plan | None]
    organization: NotRequired[_Slug | None]


@with_config(_DEFERRED)
class _AddOn(TypedDict):
    addOn: _AddOnData | None


_PLANS_ANSWER = TypeAdapter(_Plans)
_ORGANIZATION_ANSWER = TypeAdapter(_Organization)
_ADD_ON_ANSWER = TypeAdapter(_AddOn)


def update_options(current: Mapping[str, Any] | None, eviction: bool, plan: str) -> dict[str, Any]:
    """The `options` an update sends, from the add-on's current ones.

    As `fly redis update` builds them (flyctl internal/command/redis/update.go):
    eviction is set when wanted, set false only when it is on now, and otherwise
    left out (an explicit false on stale data could turn off what is on); auto
    upgrade is dropped on a plan that is neither fixed nor legacy; prod_pack never
    travels in options. Every other key goes back as it came.
    """
    options = dict(current or {})
    if eviction:
        options["eviction"] = True
    elif options.get("eviction") is True:
        options["eviction"] = False
    else:
        options.pop("eviction", None)
    if not _is_fixed_plan(plan) and not _is_legacy_plan(plan):
        options.pop("auto_upgrade", None)
    options.pop("prod_pack", None)
    return options


class UpstashRedisProvider(FlyProvider):
    """An Upstash Redis database through Fly's GraphQL add-on API.

    This is what `fly redis create/update/destroy` call; flyctl itself cannot be
    driven here because `fly redis update` always prompts for the plan and the
    eviction setting. Replica regions, eviction and plan change in place; the
    name, organization and primary region are fixed at creation.
    """

    def _graphql(self) -> FlyGraphQL:
        return FlyGraphQL()

    def _plan_id(self, api: FlyGraphQL, plan: str) -> str:
        plans = api.parse(_PLANS_ANSWER, api(_PLANS))["addOnPlans"]["nodes"] or []
        for node in plans:
            if node["displayName"] == plan:
                return node["id"]
        names = ", ".join(sorted(n["displayName"] for n in plans))
        raise RuntimeError(f"Upstash has no plan {plan!r}; plans: {names}")

    def _outs(self, props: Mapping[str, Any], add_on: _AddOnData) -> dict[str, Any]:
        organization, plan = add_on.get("organization"), add_on.get("addOnPlan")
        return {
            "name": add_on["name"],
            "org": organization["slug"] if organization else props.get("org"),
            "primary_region": add_on.get("primaryRegion"),
            "replica_regions": sorted(add_on.get("readRegions") or []),
            "eviction": bool((add_on.get("options") or {}).get("eviction", False)),
            "plan": plan["displayName"] if plan else None,
            "url": add_on.get("publicUrl"),
        }

    def _update(self, api: FlyGraphQL, add_on: _AddOnData, props: Mapping[str, Any]) -> None:
        # Start from what the add-on has, as `fly redis update` does, so options and
        # metadata this program does not manage go back unchanged.
        api(
            _UPDATE,
            addOnId=add_on["id"],
            planId=self._plan_id(api, props["plan"]),
            readRegions=sorted(props["replica_regions"]),
            options=update_options(add_on.get("options"), bool(props["eviction"]), props["plan"]),
            metadata=dict(add_on.get("metadata") or {}),
        )

    @staticmethod
    def _find(api: FlyGraphQL, name: str) -> _AddOnData | None:
        try:
            return api.parse(_ADD_ON_ANSWER, api(_ADD_ON, name=name, provider=_PROVIDER))["addOn"]
        except FlyNotFound:
            return None

    def _get(self, api: FlyGraphQL, name: str) -> _AddOnData:
        if (add_on := self._find(api, name)) is None:
            raise RuntimeError(f"Redis database {name!r} is gone")
        return add_on

    def _create(self, api: FlyGraphQL, props: Mapping[str, Any]) -> None:
        organization = api(_ORGANIZATION, slug=props["org"])
        api(
            _CREATE,
            allocates=True,
            organizationId=api.parse(_ORGANIZATION_ANSWER, organization)["organization"]["id"],
            name=props["name"],
            primaryRegion=props["primary_region"],
            planId=self._plan_id(api, props["plan"]),
            readRegions=sorted(props["replica_regions"]),
            # flyctl internal/command/redis/create.go sets only the options turned on.
            options={"eviction": True} if props["eviction"] else {},
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._graphql()
        name = props["name"]
        existing = self._find(api, name)
        if existing is None:
            try:
                self._create(api, props)
            except FlyOutcomeUnknown:
                # The answer was lost: look before asking again, so one database is made.
                existing = self._find(api, name)
                if existing is None:
                    self._create(api, props)
        if existing is not None:
            organization = existing.get("organization")
            if organization is None or organization["slug"] != props["org"]:
                raise RuntimeError(f"Redis database {name!r} belongs to another organization")
            # Ours, from an earlier create whose result was not recorded: converge it.
            self._update(api, existing, props)
        return CreateResult(name, self._outs(props, self._get(api, name)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        add_on = self._find(self._graphql(), id_)
        if add_on is None:
            return ReadResult("", {})
        outs = self._outs(props, add_on)
        inputs = {k: outs[k] for k in _REDIS_INPUTS}
        return ReadResult(id_, outs, inputs=inputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if unknown(news.get("replica_regions")):  # a preview's: an update that apply knows
            return replacing(("name", "org", "primary_region"), olds, news, changed=True,
                             delete_first=True)  # fmt: skip
        olds = {**olds, "replica_regions": sorted(olds.get("replica_regions") or [])}
        news = {**news, "replica_regions": sorted(news.get("replica_regions") or [])}
        changed = bool(replace_on(_REDIS_INPUTS, olds, news))
        return replacing(("name", "org", "primary_region"), olds, news, changed=changed,
                         delete_first=True)  # fmt: skip

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._graphql()
        self._update(api, self._get(api, id_), news)
        return UpdateResult(self._outs(news, self._get(api, id_)))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with contextlib.suppress(FlyNotFound):
            self._graphql()(_DELETE, name=id_, provider=_PROVIDER)


_REDIS_INPUTS = ("name", "org", "primary_region", "replica_regions", "eviction", "plan")


class UpstashRedis(DynamicResource, module="fly", name="UpstashRedis"):
    """An Upstash Redis database (`pulumi-python:dynamic/fly:UpstashRedis`). `url` is secret."""

    PROVIDER = UpstashRedisProvider
    INPUTS = _REDIS_INPUTS
    OUTPUTS = ("url",)
    # The URL carries the password, and no input of that name is secret for the engine
    # to re-mark it by (pulumi pkg/resource/plugin/provider_plugin.go annotateSecrets).
    SECRET_OUTPUTS = ("url",)

    name: pulumi.Output[str]
    primary_region: pulumi.Output[str]
    replica_regions: pulumi.Output[list[str]]
    url: pulumi.Output[str]
