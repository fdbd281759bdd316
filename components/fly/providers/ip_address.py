"""IpAddress (`pulumi-python:dynamic/fly:IpAddress`): a public address of an app,
/v1/apps/{app}/ip_assignments. Replaced, never changed."""

from __future__ import annotations

import contextlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult

from components.fly.api import FlyConflict, FlyNotFound, ip_type_of
from components.fly.providers.base import DynamicResource, FlyProvider, replacing


class IpAddressProvider(FlyProvider):
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
        # The new address exists before the old is released, so DNS never points nowhere.
        return replacing(("app", "type"), olds, news)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        app, address = id_.split("/", 1)
        with contextlib.suppress(FlyNotFound):  # released already, or the app is gone
            self._client().release_ip(app, address)


class IpAddress(DynamicResource, module="fly", name="IpAddress"):
    """A public IP of a Fly app (`pulumi-python:dynamic/fly:IpAddress`): `app=`, `type=`
    (Fly's own name for it)."""

    PROVIDER = IpAddressProvider
    INPUTS = ("app", "type")
    OUTPUTS = ("address",)

    app: pulumi.Output[str]
    type: pulumi.Output[str]
    address: pulumi.Output[str]
