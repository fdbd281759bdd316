"""App (`pulumi-python:dynamic/fly:App`): the Fly app itself, POST/GET/DELETE /v1/apps."""

from __future__ import annotations

import contextlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult

from components.fly.api import App as AppAnswer
from components.fly.api import FlyClient, FlyForbidden, FlyNotFound
from components.fly.providers.base import DynamicResource, FlyProvider, made_or_found, replacing


class AppProvider(FlyProvider):
    """A Fly app. Name and org are immutable."""

    def _outs(self, name: str, org: str, status: str) -> dict[str, Any]:
        return {"name": name, "org": org, "status": status, "hostname": f"{name}.fly.dev"}

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        name, org = props["name"], props["org"]
        app = made_or_found(
            lambda: client.create_app(name, org), lambda: self._adopt(client, name, org)
        )
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
        return replacing(("name", "org"), olds, news, delete_first=True)

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with contextlib.suppress(FlyNotFound):  # already gone is what delete wants
            self._client().delete_app(id_)


class App(DynamicResource, module="fly", name="App"):
    """The Fly app itself (`pulumi-python:dynamic/fly:App`): `name=`, `org=`."""

    PROVIDER = AppProvider
    INPUTS = ("name", "org")
    OUTPUTS = ("status", "hostname")

    name: pulumi.Output[str]
    org: pulumi.Output[str]
    status: pulumi.Output[str]
    hostname: pulumi.Output[str]
