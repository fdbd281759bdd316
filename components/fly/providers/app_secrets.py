"""AppSecrets (`pulumi-python:dynamic/fly:AppSecrets`): the subset of an app's secrets
this stack owns."""

from __future__ import annotations

import contextlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from components.fly.api import FlyNotFound
from components.fly.providers.base import DynamicResource, FlyProvider, replacing, unknown


class AppSecretsProvider(FlyProvider):
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
        moved = replacing(("app",), olds, news)
        if moved.changes:
            # A new app is a replacement whatever the values; and they may be unknown
            # then (cli/diff/ hands this diff a plan's computed values).
            return moved
        values = news.get("values", {})
        # Not known yet in a preview (a DATABASE_URL from an attach that runs again):
        # an update, whose values the apply knows.
        changed = unknown(values) or dict(olds.get("values", {})) != dict(values)
        return replacing(("app",), olds, news, changed=changed)

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


class AppSecrets(DynamicResource, module="fly", name="AppSecrets"):
    """Secrets this stack sets on a Fly app (`pulumi-python:dynamic/fly:AppSecrets`):
    `app=`, `values=` (name -> value, secret however it arrives).

    `keys` (names) and `version` (Fly's counter) are derived from the values but hold
    none of them, so they stay readable.
    """

    PROVIDER = AppSecretsProvider
    INPUTS = ("app", "values")
    OUTPUTS = ("keys", "version")
    SECRET_INPUTS = ("values",)
    SECRET_OUTPUTS = ("values",)

    app: pulumi.Output[str]
    keys: pulumi.Output[list[str]]
    version: pulumi.Output[int]
