"""Pulumi dynamic providers over Fly's APIs: App, AppSecrets, IpAddress, Certificate, UpstashRedis.

Providers are pickled (dill) into the state and re-loaded by the engine in a
fresh process, so they hold no client, no token and no config: every call makes
its own client, which reads FLY_API_HOSTNAME (Machines API), FLY_API_BASE_URL
(GraphQL) and FLY_API_TOKEN from the environment of `pulumi up`.

The engine strips secrets before it calls a dynamic provider (the Python SDK's
provider declares acceptSecrets false: pulumi sdk/python/lib/pulumi/dynamic/__main__.py)
and re-marks only the outputs whose key is a secret input's (annotateSecrets in
pulumi pkg/resource/plugin/provider_plugin.go). So each resource lists in
SECRET_OUTPUTS, passed as `additional_secret_outputs`, every output that carries
a secret under another key, or state would keep it in plaintext.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any, ClassVar, NotRequired

import pulumi
from pulumi.dynamic import (
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from components.fly.api import App as AppAnswer
from components.fly.api import (
    FlyClient,
    FlyConflict,
    FlyForbidden,
    FlyGraphQL,
    FlyNotFound,
    FlyOutcomeUnknown,
    ip_type_of,
)


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
            app = client.create_app(name, org)
        except FlyConflict:
            app = self._adopt(client, name, org)
        return CreateResult(name, self._outs(name, org, app.get("status", "pending")))

    @staticmethod
    def _adopt(client: FlyClient, name: str, org: str) -> AppAnswer:
        """The taken name's app, if it is ours; otherwise a clear refusal.

        Ours means in the same organization: a create of ours whose answer was lost
        (and retried), or an earlier run cut off before it recorded state. An app in
        another organization is never adopted: its name is global at Fly (fly-go
        flaps/flaps_error.go, the name_taken suggestion), and a 403 on reading it
        means it lives in an organization this token cannot see (fly-go
        flaps/flaps_apps.go AppNameAvailable).
        """
        refusal = (
            f"Fly app name {name!r} is taken by another organization{{}}; app names are "
            "global across Fly.io: choose another appName"
        )
        try:
            app = client.wait_for_app(name)
        except FlyForbidden:
            raise RuntimeError(refusal.format(" (one this token cannot see)")) from None
        if app["organization"]["slug"] != org:
            raise RuntimeError(refusal.format(f" ({app['organization']['slug']})"))
        return app

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            app = self._client().get_app(id_)
        except FlyNotFound:
            return ReadResult("", {})
        org = app["organization"]["slug"]
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

    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()

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
        # The values replaced or unset are secrets too: an answer could quote them.
        client = self._client()
        version = (
            client.update_secrets(app, delta, known=old_values.values())
            if delta
            else olds.get("version", 0)
        )
        return UpdateResult(
            {"app": app, "values": values, "keys": sorted(values), "version": version}
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        keys = list(props.get("keys", []))
        if not keys:
            return
        known = dict(props.get("values", {})).values()  # never sent, but Fly holds them
        with contextlib.suppress(FlyNotFound):  # the app is gone, and its secrets with it
            self._client().update_secrets(id_, dict.fromkeys(keys), known=known)


class AppSecrets(Resource, module="fly", name="AppSecrets"):
    """Secrets this stack sets on a Fly app (`pulumi-python:dynamic/fly:AppSecrets`).

    `keys` (names) and `version` (Fly's counter) are derived from the values but hold
    none of them, so they stay readable.
    """

    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ("values",)

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
            opts, pulumi.ResourceOptions(additional_secret_outputs=list(self.SECRET_OUTPUTS))
        )
        super().__init__(AppSecretsProvider(), resource_name, props, opts)


# -- IpAddress -------------------------------------------------------------------


class IpAddressProvider(_FlyProvider):
    """A public address of an app: /v1/apps/{app}/ip_assignments. Replaced, never changed."""

    def _outs(self, app: str, ip_type: str, address: str) -> dict[str, Any]:
        return {"app": app, "type": ip_type, "address": address}

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        app, ip_type = props["app"], props["type"]
        # A create cut off after Fly allocated (the run killed before the engine recorded
        # it) leaves an address no state knows, and Fly allocates another v6 or dedicated
        # v4 on every POST (fly-go flaps/flaps_ip_assignments.go AssignIP has no name or
        # key to repeat on): a paid IPv4 twice. The stack has one address per (app, type)
        # (components/edge.py, components/platform.py), so the listing is the handle: an
        # address of the type already there is the one an earlier create made, and is
        # adopted; the oldest if several (an extra is never released by a create).
        found = [a for a in client.list_ips(app) if ip_type_of(a) == ip_type]
        if found:
            address = min(found, key=lambda a: a.get("created_at") or "")["ip"]
            return CreateResult(f"{app}/{address}", self._outs(app, ip_type, address))
        try:
            # Never two addresses for one lost answer: allocate_ip looks before it asks again.
            address = client.allocate_ip(app, ip_type)["ip"]
        except FlyConflict:
            # An app has one shared IPv4: a create racing another finds the one it made.
            existing = [a for a in client.list_ips(app) if ip_type_of(a) == ip_type]
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
        outs = self._outs(app, ip_type_of(found), address)
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

    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()

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

    Outputs what Fly reports: `status`, `configured`, `dns_requirements` as Fly lists
    them, and from those the records the edge makes: the `_fly-ownership` TXT record
    (`ownership_txt_name`, `ownership_txt_value`) and the A / AAAA values Fly expects
    (`a_records`, `aaaa_records`).
    """

    def _outs(self, app: str, cert: Mapping[str, Any]) -> dict[str, Any]:
        wanted = cert["dns_requirements"]
        return {
            "app": app,
            "hostname": cert["hostname"],
            "status": cert["status"],
            "configured": bool(cert["configured"]),
            "dns_requirements": dict(wanted),
            # docs machines/api/certificates-resource: dns_requirements.ownership is
            # {name, app_value, org_value}; flyctl internal/command/certificates/root.go
            # tells users to make `TXT <name> <app_value>`.
            "ownership_txt_name": wanted["ownership"]["name"],
            "ownership_txt_value": wanted["ownership"]["app_value"],
            "a_records": list(wanted["a"] or []),
            "aaaa_records": list(wanted["aaaa"] or []),
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
        client = self._client()
        with contextlib.suppress(FlyNotFound):
            detail = client.get_certificate_detail(app, hostname)
            if any(c.get("source") == "custom" for c in detail.get("certificates") or []):
                # Moving to an imported certificate (domain.certificate: origin): deleting
                # the hostname would take the custom certificate with it (superfly/docs
                # machines/api/certificates-resource.html.markerb, "Delete hostname and all
                # certificates"), so only ACME issuance stops ("Delete ACME certificates").
                client.delete_acme_certificate(app, hostname)
            else:
                client.delete_certificate(app, hostname)


class Certificate(Resource, module="fly", name="Certificate"):
    """A hostname and its ACME certificate (`pulumi-python:dynamic/fly:Certificate`)."""

    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()

    app: pulumi.Output[str]
    hostname: pulumi.Output[str]
    status: pulumi.Output[str]
    configured: pulumi.Output[bool]
    dns_requirements: pulumi.Output[dict[str, Any]]
    ownership_txt_name: pulumi.Output[str]
    ownership_txt_value: pulumi.Output[str]
    a_records: pulumi.Output[list[str]]
    aaaa_records: pulumi.Output[list[str]]

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
            "ownership_txt_name": None,
            "ownership_txt_value": None,
            "a_records": None,
            "aaaa_records": None,
        }
        super().__init__(CertificateProvider(), resource_name, props, opts)


# -- UpstashRedis ------------------------------------------------------------------

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


class _Plans(TypedDict):
    addOnPlans: _PlanNodes


class _OrganizationId(TypedDict):
    id: str


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
        replaces = _replace_on(("name", "org", "primary_region"), olds, news)
        olds = {**olds, "replica_regions": sorted(olds.get("replica_regions") or [])}
        news = {**news, "replica_regions": sorted(news.get("replica_regions") or [])}
        changed = bool(replaces) or any(olds.get(k) != news.get(k) for k in _REDIS_INPUTS)
        return DiffResult(changes=changed, replaces=replaces, delete_before_replace=True)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._graphql()
        self._update(api, self._get(api, id_), news)
        return UpdateResult(self._outs(news, self._get(api, id_)))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with contextlib.suppress(FlyNotFound):
            self._graphql()(_DELETE, name=id_, provider=_PROVIDER)


_REDIS_INPUTS = ("name", "org", "primary_region", "replica_regions", "eviction", "plan")


class UpstashRedis(Resource, module="fly", name="UpstashRedis"):
    """An Upstash Redis database (`pulumi-python:dynamic/fly:UpstashRedis`). `url` is secret."""

    # The URL carries the password, and no input of that name is secret for the engine
    # to re-mark it by (pulumi pkg/resource/plugin/provider_plugin.go annotateSecrets).
    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ("url",)

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
            opts, pulumi.ResourceOptions(additional_secret_outputs=list(self.SECRET_OUTPUTS))
        )
        super().__init__(UpstashRedisProvider(), resource_name, props, opts)
