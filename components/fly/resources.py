"""Pulumi dynamic providers over Fly's APIs: App, AppSecrets, IpAddress, Certificate, UpstashRedis.

Providers are pickled (dill) into the state and re-loaded by the engine in a
fresh process, so they hold no client, no token and no config: every call makes
its own client, which reads FLY_API_HOSTNAME (Machines API), FLY_API_BASE_URL
(GraphQL) and FLY_API_TOKEN from the environment of `pulumi up`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from components.fly.api import FlyClient, FlyConflict, FlyGraphQL, FlyNotFound


class _FlyProvider(ResourceProvider):
    # The provider captures no secret, so its serialized form need not be one
    # (it stays readable in state and in the plan).
    serialize_as_secret_always = False

    def _client(self) -> FlyClient:
        return FlyClient()


def _replace_on(
    keys: tuple[str, ...], olds: Mapping[str, Any], news: Mapping[str, Any]
) -> list[str]:
    return [k for k in keys if olds.get(k) != news.get(k)]


# -- App -------------------------------------------------------------------------


class AppProvider(_FlyProvider):
    """A Fly app: POST/GET/DELETE /v1/apps. Name and org are immutable."""

    def _outs(self, name: str, org: str, status: str) -> dict[str, Any]:
        return {"name": name, "org": org, "status": status, "hostname": f"{name}.fly.dev"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        name, org = props["name"], props["org"]
        try:
            client.create_app(name, org)
        except FlyConflict:
            # The name exists. Adopt it only if it is ours (a retried create whose
            # first attempt landed); another org's app is a hard error.
            existing = client.get_app(name)
            owner = existing.get("organization", {}).get("slug")
            if owner != org:
                raise RuntimeError(
                    f"Fly app name {name!r} is taken by another organization; "
                    "choose another appName"
                ) from None
        app = client.get_app(name)
        return CreateResult(name, self._outs(name, org, app.get("status", "pending")))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            app = self._client().get_app(id_)
        except FlyNotFound:
            return ReadResult("", {})
        org = app.get("organization", {}).get("slug", props.get("org", ""))
        outs = self._outs(id_, org, app.get("status", ""))
        return ReadResult(id_, outs, inputs={"name": id_, "org": org})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _replace_on(("name", "org"), olds, news)
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with contextlib.suppress(FlyNotFound):  # already gone is what delete wants
            self._client().delete_app(id_)


class App(Resource, module="fly", name="App"):
    """The Fly app itself (`pulumi-python:dynamic/fly:App`)."""

    name: pulumi.Output[str]
    org: pulumi.Output[str]
    status: pulumi.Output[str]
    hostname: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        org: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "org": org, "status": None, "hostname": None}
        super().__init__(AppProvider(), resource_name, props, opts)


# -- AppSecrets ------------------------------------------------------------------


class AppSecretsProvider(_FlyProvider):
    """The subset of an app's secrets this stack owns.

    Keys it does not own are never read, changed or removed. `version` is Fly's
    secrets version after the last write: a deploy trigger that changes when a
    value does, without exposing any value.
    """

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, values = props["app"], dict(props["values"])
        version = self._client().update_secrets(app, values)
        return CreateResult(
            app, {"app": app, "values": values, "keys": sorted(values), "version": version}
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            present = self._client().list_secret_names(id_)
        except FlyNotFound:
            return ReadResult("", {})
        owned = {k: v for k, v in dict(props.get("values", {})).items() if k in present}
        if not owned:
            return ReadResult("", {})
        # A key removed out of band drops out of `values`, so the next diff sets it again.
        outs = {**props, "values": owned, "keys": sorted(owned)}
        return ReadResult(id_, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _replace_on(("app",), olds, news)
        changed = bool(replaces) or dict(olds.get("values", {})) != dict(news.get("values", {}))
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        app, values = news["app"], dict(news["values"])
        old_values = dict(olds.get("values", {}))
        delta: dict[str, str | None] = {k: None for k in old_values if k not in values}
        delta.update({k: v for k, v in values.items() if old_values.get(k) != v})
        version = self._client().update_secrets(app, delta) if delta else olds.get("version", 0)
        return UpdateResult(
            {"app": app, "values": values, "keys": sorted(values), "version": version}
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        keys = list(props.get("keys", []))
        if not keys:
            return
        with contextlib.suppress(FlyNotFound):  # the app is gone, and its secrets with it
            self._client().update_secrets(id_, dict.fromkeys(keys))


class AppSecrets(Resource, module="fly", name="AppSecrets"):
    """Secrets this stack sets on a Fly app (`pulumi-python:dynamic/fly:AppSecrets`)."""

    app: pulumi.Output[str]
    keys: pulumi.Output[list[str]]
    version: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        app: pulumi.Input[str],
        values: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "app": app,
            "values": pulumi.Output.secret(values),
            "keys": None,
            "version": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["values"])
        )
        super().__init__(AppSecretsProvider(), resource_name, props, opts)


# -- IpAddress -------------------------------------------------------------------


def _ip_type(assignment: Mapping[str, Any]) -> str:
    """Fly's type of a listed address (the list does not say it outright)."""
    address = str(assignment.get("ip", ""))
    if assignment.get("shared"):
        return "shared_v4"
    return "v6" if ":" in address else "v4"


class IpAddressProvider(_FlyProvider):
    """A public address of an app: /v1/apps/{app}/ip_assignments. Replaced, never changed."""

    def _outs(self, app: str, ip_type: str, address: str) -> dict[str, Any]:
        return {"app": app, "type": ip_type, "address": address}

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        app, ip_type = props["app"], props["type"]
        try:
            address = client.assign_ip(app, ip_type)["ip"]
        except FlyConflict:
            # An app has one shared IPv4: a retried create finds the one it made.
            existing = [a for a in client.list_ips(app) if _ip_type(a) == ip_type]
            if not existing:
                raise
            address = existing[0]["ip"]
        return CreateResult(f"{app}/{address}", self._outs(app, ip_type, address))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app, address = id_.split("/", 1)
        try:
            listed = self._client().list_ips(app)
        except FlyNotFound:
            return ReadResult("", {})
        found = next((a for a in listed if a.get("ip") == address), None)
        if found is None:
            return ReadResult("", {})
        outs = self._outs(app, _ip_type(found), address)
        return ReadResult(id_, outs, inputs={"app": app, "type": outs["type"]})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _replace_on(("app", "type"), olds, news)
        # The new address exists before the old is released, so DNS never points nowhere.
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        app, address = id_.split("/", 1)
        with contextlib.suppress(FlyNotFound):  # released already, or the app is gone
            self._client().release_ip(app, address)


class IpAddress(Resource, module="fly", name="IpAddress"):
    """A public IP of a Fly app (`pulumi-python:dynamic/fly:IpAddress`)."""

    app: pulumi.Output[str]
    type: pulumi.Output[str]
    address: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        app: pulumi.Input[str],
        type: pulumi.Input[str],  # Fly's own name for it
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"app": app, "type": type, "address": None}
        super().__init__(IpAddressProvider(), resource_name, props, opts)


# -- Certificate -----------------------------------------------------------------


class CertificateProvider(_FlyProvider):
    """A hostname on an app with a Let's Encrypt certificate: /v1/apps/{app}/certificates.

    Outputs what Fly reports: `status`, `configured`, and `dns_requirements`, the
    records Fly wants (the ACME challenge CNAME among them).
    """

    def _outs(self, app: str, cert: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "app": app,
            "hostname": cert["hostname"],
            "status": cert.get("status", ""),
            "configured": bool(cert.get("configured", False)),
            "dns_requirements": dict(cert.get("dns_requirements") or {}),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        app, hostname = props["app"], props["hostname"]
        try:
            cert = client.request_certificate(app, hostname)
        except FlyConflict:
            cert = client.get_certificate(app, hostname)  # a retried create that landed
        return CreateResult(f"{app}/{hostname}", self._outs(app, cert))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app, hostname = id_.split("/", 1)
        try:
            cert = self._client().get_certificate(app, hostname)
        except FlyNotFound:
            return ReadResult("", {})
        return ReadResult(id_, self._outs(app, cert), inputs={"app": app, "hostname": hostname})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _replace_on(("app", "hostname"), olds, news)
        # A hostname belongs to one app at a time: moving it must remove it first.
        return DiffResult(
            changes=bool(replaces), replaces=replaces, delete_before_replace="app" in replaces
        )

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        app, hostname = id_.split("/", 1)
        with contextlib.suppress(FlyNotFound):
            self._client().delete_certificate(app, hostname)


class Certificate(Resource, module="fly", name="Certificate"):
    """A hostname and its ACME certificate (`pulumi-python:dynamic/fly:Certificate`)."""

    app: pulumi.Output[str]
    hostname: pulumi.Output[str]
    status: pulumi.Output[str]
    configured: pulumi.Output[bool]
    dns_requirements: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        *,
        app: pulumi.Input[str],
        hostname: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "app": app,
            "hostname": hostname,
            "status": None,
            "configured": None,
            "dns_requirements": None,
        }
        super().__init__(CertificateProvider(), resource_name, props, opts)


# -- UpstashRedis ------------------------------------------------------------------

# Add-ons share one namespace of operations; `provider` says which kind is meant.
_PROVIDER = "upstash_redis"
_ADD_ON = """query($name: String, $provider: String) { addOn(name: $name, provider: $provider) {
  id name publicUrl primaryRegion readRegions options
  addOnPlan { id displayName } organization { slug } } }"""
_ORGANIZATION = "query($slug: String!) { organization(slug: $slug) { id } }"
_PLANS = "query { addOnPlans { nodes { id displayName } } }"
_CREATE = """mutation($organizationId: ID!, $name: String, $primaryRegion: String, $planId: ID,
  $readRegions: [String!], $options: JSON!) {
  createAddOn(input: {organizationId: $organizationId, type: upstash_redis, name: $name,
    primaryRegion: $primaryRegion, planId: $planId, readRegions: $readRegions,
    options: $options}) { addOn { id name } } }"""
_UPDATE = """mutation($addOnId: ID!, $planId: ID!, $readRegions: [String!], $options: JSON!) {
  updateAddOn(input: {addOnId: $addOnId, planId: $planId, readRegions: $readRegions,
    options: $options}) { addOn { id } } }"""
_DELETE = """mutation($name: String, $provider: String) {
  deleteAddOn(input: {name: $name, provider: $provider}) { deletedAddOnName } }"""


class UpstashRedisProvider(_FlyProvider):
    """An Upstash Redis database through Fly's GraphQL add-on API.

    This is what `fly redis create/update/destroy` call; flyctl itself cannot be
    driven here because `fly redis update` always prompts for the plan and the
    eviction setting. Replica regions, eviction and plan change in place; the
    name, organization and primary region are fixed at creation.
    """

    def _graphql(self) -> FlyGraphQL:
        return FlyGraphQL()

    def _plan_id(self, api: FlyGraphQL, plan: str) -> str:
        plans = api(_PLANS)["addOnPlans"]["nodes"]
        for node in plans:
            if node["displayName"] == plan:
                return str(node["id"])
        names = ", ".join(sorted(n["displayName"] for n in plans))
        raise RuntimeError(f"Upstash has no plan {plan!r}; plans: {names}")

    def _outs(self, props: Mapping[str, Any], add_on: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "name": add_on["name"],
            "org": (add_on.get("organization") or {}).get("slug", props.get("org")),
            "primary_region": add_on.get("primaryRegion"),
            "replica_regions": sorted(add_on.get("readRegions") or []),
            "eviction": bool((add_on.get("options") or {}).get("eviction", False)),
            "plan": (add_on.get("addOnPlan") or {}).get("displayName"),
            "url": add_on.get("publicUrl"),
        }

    def _update(self, api: FlyGraphQL, add_on_id: str, props: Mapping[str, Any]) -> None:
        api(
            _UPDATE,
            addOnId=add_on_id,
            planId=self._plan_id(api, props["plan"]),
            readRegions=sorted(props["replica_regions"]),
            options={"eviction": bool(props["eviction"])},
        )

    @staticmethod
    def _find(api: FlyGraphQL, name: str) -> dict[str, Any] | None:
        try:
            add_on: dict[str, Any] | None = api(_ADD_ON, name=name, provider=_PROVIDER)["addOn"]
        except FlyNotFound:
            return None
        return add_on

    def _get(self, api: FlyGraphQL, name: str) -> dict[str, Any]:
        if (add_on := self._find(api, name)) is None:
            raise RuntimeError(f"Redis database {name!r} is gone")
        return add_on

    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._graphql()
        name = props["name"]
        existing = self._find(api, name)
        if existing is None:
            api(
                _CREATE,
                organizationId=api(_ORGANIZATION, slug=props["org"])["organization"]["id"],
                name=name,
                primaryRegion=props["primary_region"],
                planId=self._plan_id(api, props["plan"]),
                readRegions=sorted(props["replica_regions"]),
                options={"eviction": bool(props["eviction"])},
            )
        elif (existing.get("organization") or {}).get("slug") != props["org"]:
            raise RuntimeError(f"Redis database {name!r} belongs to another organization")
        else:
            # A retried create whose first attempt landed: converge it.
            self._update(api, existing["id"], props)
        return CreateResult(name, self._outs(props, self._get(api, name)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        add_on = self._find(self._graphql(), id_)
        if add_on is None:
            return ReadResult("", {})
        outs = self._outs(props, add_on)
        inputs = {k: outs[k] for k in _REDIS_INPUTS}
        return ReadResult(id_, outs, inputs=inputs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = _replace_on(("name", "org", "primary_region"), olds, news)
        olds = {**olds, "replica_regions": sorted(olds.get("replica_regions") or [])}
        news = {**news, "replica_regions": sorted(news.get("replica_regions") or [])}
        changed = bool(replaces) or any(olds.get(k) != news.get(k) for k in _REDIS_INPUTS)
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._graphql()
        self._update(api, self._get(api, id_)["id"], news)
        return UpdateResult(self._outs(news, self._get(api, id_)))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with contextlib.suppress(FlyNotFound):
            self._graphql()(_DELETE, name=id_, provider=_PROVIDER)


_REDIS_INPUTS = ("name", "org", "primary_region", "replica_regions", "eviction", "plan")


class UpstashRedis(Resource, module="fly", name="UpstashRedis"):
    """An Upstash Redis database (`pulumi-python:dynamic/fly:UpstashRedis`). `url` is secret."""

    name: pulumi.Output[str]
    primary_region: pulumi.Output[str]
    replica_regions: pulumi.Output[list[str]]
    url: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        org: pulumi.Input[str],
        primary_region: pulumi.Input[str],
        replica_regions: pulumi.Input[list[str]],
        eviction: pulumi.Input[bool],
        plan: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "org": org,
            "primary_region": primary_region,
            "replica_regions": replica_regions,
            "eviction": eviction,
            "plan": plan,
            "url": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["url"])
        )
        super().__init__(UpstashRedisProvider(), resource_name, props, opts)
