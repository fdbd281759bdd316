"""MachineCounts (`pulumi-python:dynamic/fly:MachineCounts`): the app's machines per
region, scaled with `fly scale count` and read back; components/fly/machines.py says how
(flyctl, the counting, the lock, the diff against observed counts)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from components.fly.machines import (
    SCALE_TIMEOUT_S,
    FlyctlError,
    NoSuchApp,
    _differing,
    _wanted,
    app_lock,
    failed,
    fly,
    listing,
    region_counts,
    scale_order,
)
from components.fly.providers.base import DynamicResource, Provider, unknown


class MachineCountsProvider(Provider):
    """Scales the app per region with flyctl and reads the counts back (module docstring)."""

    @staticmethod
    def _listed(app: str) -> list[dict[str, Any]] | None:
        """The app's machines, every one Fly lists (flyctl internal/command/machine/list.go
        renders flaps List as JSON, fly-go machine_types.go tags; lib.sh machines_json
        asks the same); None only when flyctl says the app does not exist."""
        try:
            return listing("machines", "list", "--app", app)
        except NoSuchApp:
            return None
        except FlyctlError as exc:
            raise RuntimeError(f"MachineCounts of app {app}: cannot list machines: {exc}") from None

    @staticmethod
    def _scale(app: str, region: str, count: int) -> None:
        # One region per call: `--region a,b` spreads the count over them
        # (count_machines.go convergeGroupCounts), it does not repeat it. `--yes`: no
        # prompt, which would fail without a terminal (prompt.NonInteractiveError).
        args = ("scale", "count", str(count), "--region", region, "--app", app, "--yes")
        try:
            done = fly(*args, timeout=SCALE_TIMEOUT_S)
        except FlyctlError as exc:  # not on PATH, or no answer within the bound
            raise RuntimeError(
                f"MachineCounts of app {app}: scaling region {region} to {count} failed: {exc}"
            ) from None
        if done.returncode != 0:
            raise RuntimeError(
                f"MachineCounts of app {app}: scaling region {region} to {count} failed: "
                f"{failed(args, done)}"
            )

    def _converge(self, app: str, counts: Any) -> dict[str, Any]:
        wanted = _wanted(counts, app)
        if not wanted:
            # config.py refuses it (the primary region needs a machine); here too, no
            # answer of anyone's takes the whole app down.
            raise RuntimeError(
                f"MachineCounts of app {app}: no region has a machine; refusing to scale "
                "every region to 0"
            )
        with app_lock(app):
            return self._converge_locked(app, counts, wanted)

    def _converge_locked(self, app: str, counts: Any, wanted: dict[str, int]) -> dict[str, Any]:
        listed = self._listed(app)
        if listed is None:
            raise RuntimeError(f"MachineCounts of app {app}: the app does not exist for flyctl")
        present = region_counts(listed)
        # A region already at its count is left alone: flyctl would only answer "App
        # already scaled to desired state" (count_machines.go). A region that has
        # machines and is no longer configured goes to 0, after every increase.
        for region in scale_order(present, wanted):
            self._scale(app, region, wanted.get(region, 0))
        after = self._listed(app)
        if after is None:
            raise RuntimeError(f"MachineCounts of app {app}: the app is gone after scaling")
        observed = region_counts(after)
        if off := _differing(observed, wanted):
            region = off[0]
            raise RuntimeError(
                f"MachineCounts of app {app}: region {region} has "
                f"{observed.get(region, 0)} machines after scaling, "
                f"{wanted.get(region, 0)} asked"
            )
        return {"app": app, "counts": dict(counts or {}), "observed": observed}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(props["app"]), self._converge(str(props["app"]), props["counts"]))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app = str(props.get("app") or id_)
        listed = self._listed(app)
        if listed is None:  # flyctl's explicit not-found: the app, and its machines, are gone
            return ReadResult("", {})
        observed = region_counts(listed)
        # No inputs returned: the wanted counts stay the program's (module docstring).
        return ReadResult(
            id_, {"app": app, "counts": props.get("counts", observed), "observed": observed}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # `olds` are the old outputs: `observed` as created, updated or last refreshed.
        # Never a replacement: an update converges whatever changed, the app included.
        if unknown(news.get("counts")) or unknown(news.get("app")):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        moved = olds.get("app") != news.get("app")
        app = str(news.get("app"))
        drifted = _wanted(olds.get("observed"), app) != _wanted(news.get("counts"), app)
        changed = moved or drifted
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._converge(str(news["app"]), news["counts"]))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # Nothing to do. Scaling to 0 here would take the app down before its own
        # delete; the App resource's delete (DELETE /v1/apps/{app}) removes the app
        # with its machines, and runs after this one: this resource depends on the
        # deploy, which depends on the App, and the engine deletes dependents first.
        return


class MachineCounts(DynamicResource, module="fly", name="MachineCounts"):
    """The app's machines per region (`pulumi-python:dynamic/fly:MachineCounts`): `app=`,
    `counts=` (region -> machines)."""

    PROVIDER = MachineCountsProvider
    INPUTS = ("app", "counts")
    OUTPUTS = ("observed",)

    app: pulumi.Output[str]
    counts: pulumi.Output[dict[str, int]]
    observed: pulumi.Output[dict[str, int]]
