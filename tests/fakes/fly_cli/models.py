"""The fake's one state store: apps, machines, volumes, secrets, Postgres clusters,
their users and attachments, and the secrets min-version flyctl caches locally.

It lives in $FAKE_FLY_STATE, a JSON file, so a script can be re-run against what an
earlier run left; main.py loads it under a lock, a command changes it through `Fly`,
and main.py writes it back. Command groups (command/<group>) hold flyctl's logic; the
platform's own behaviour a command triggers (a machine booting, a release) is here.
"""

from __future__ import annotations

import json
import os

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.machine_types import (
    APP_GROUP,
    BARMAN_SECRET,
    PROCESS_GROUP,
    RELEASE_VERSION,
    fly_apps_machine,
    launch_metadata,
    process_group,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# postgres-flex's own roles (flypg/admin, repmgr): made on every cluster, never restored.
FLEX_ROLES = ("postgres", "flypgadmin", "repmgr")


def token_hex(nbytes: int) -> str:
    """secrets.token_hex without importing `secrets` (its hmac import costs every call
    of the fake a few milliseconds): the same os.urandom bytes, as hex."""
    return os.urandom(nbytes).hex()


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state in `path`, or an empty one."""
    try:
        with open(path) as file:
            state: dict[str, Any] = json.load(file)
    except FileNotFoundError:
        return {"apps": {}, "deploys": [], "pg": {}, "calls": 0, "minvers": {}, "failed_once": []}
    return state


def save(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    with open(path, "w") as file:
        json.dump(state, file)


class Fly:
    """The state store, and the platform rules every command group shares."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        state.setdefault("minvers", {})
        state.setdefault("failed_once", [])

    # -- helpers ---------------------------------------------------------------

    def app(self, name: str | None) -> dict[str, Any]:
        if name is None:
            # command.RequireAppName (internal/command/command.go)
            raise Fail("the config for your app is missing an app name, add an app field")
        if name not in self.state["apps"]:
            # GraphQL GetAppCompact's answer for a missing app
            raise Fail(f'Could not find App "{name}"')
        app: dict[str, Any] = self.state["apps"][name]
        app.setdefault("volumes", [])
        app.setdefault("secrets_version", 0)
        return app

    def new_app(self, name: str, org: str = "personal") -> dict[str, Any]:
        app = {"org": org, "machines": [], "secrets": {}, "secrets_version": 0, "volumes": []}
        self.state["apps"][name] = app
        return app

    def next_id(self) -> str:
        self.state["calls"] = self.state.get("calls", 0) + 1
        return f"{self.state['calls']:014x}"

    def new_machine(
        self,
        app: dict[str, Any],
        region: str,
        guest: dict[str, Any],
        *,
        image: str = "",
        volume_gb: int | None = None,
        env: dict[str, str] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        machine: dict[str, Any] = {
            "id": self.next_id(),
            "region": region,
            "guest": dict(guest),
            "image": image,
            "env": dict(env or {}),
            "metadata": dict(launch_metadata() if metadata is None else metadata),
            "volume": None,
            "secrets_version": app.get("booted_version"),
        }
        if volume_gb is not None:
            volume = {"id": f"vol_{self.next_id()}", "size_gb": volume_gb, "region": region}
            volume["attached_machine_id"] = machine["id"]
            app["volumes"].append(volume)
            machine["volume"] = volume["id"]
        app["machines"].append(machine)
        return machine

    def new_cluster(self, name: str, org: str | None, **extra: Any) -> dict[str, Any]:
        """A Postgres Flex cluster as flypg/launcher.go leaves it: postgres-flex's own
        roles (fresh passwords), the postgres database, the default barman settings
        (postgres-flex internal/flypg/barman_config.go defaults), no attachments."""
        cluster: dict[str, Any] = {
            "org": org,
            "users": {u: token_hex(8) for u in FLEX_ROLES},
            "superusers": list(FLEX_ROLES),
            "databases": ["postgres"],
            "attachments": [],
            "extensions": {},
            "max_connections": 300,
            "backup_config": {"recovery_window": "7d", "full_backup_frequency": "24h"},
            **extra,
        }
        self.state["pg"][name] = cluster
        return cluster

    def pg(self, name: str | None) -> dict[str, Any]:
        self.app(name)
        if name not in self.state["pg"]:
            raise Fail(f"app {name} is not a postgres app")  # postgres/users.go
        cluster: dict[str, Any] = self.state["pg"][name]
        return cluster

    def leader(self, app: dict[str, Any]) -> dict[str, Any]:
        # postgres.go pickLeader: the machine whose "role" check says primary
        machine: dict[str, Any]
        for machine in app["machines"]:
            if machine.get("role") == "primary":
                return machine
        raise Fail("no active leader found")

    def update_secrets(self, name: str, values: dict[str, str | None]) -> None:
        """appsecrets.Update: set/unset (unsetting a missing one is no error), cache minvers."""
        sent = {k: v for k, v in values.items() if v is not None}
        if sent and os.environ.get("FAKE_FLY_ECHO_SECRETS") == "1":
            from urllib.parse import urlsplit

            quoted = " ".join(
                f"{k}={v} password={urlsplit(v).password or v}" for k, v in sent.items()
            )
            raise Fail(f"failed to update app secrets: 422 {json.dumps(sent)} ({quoted})")
        app = self.app(name)
        for key, value in values.items():
            if value is None:
                app["secrets"].pop(key, None)
            else:
                app["secrets"][key] = value
        app["secrets_version"] += 1
        self.state["minvers"][name] = app["secrets_version"]
        # fly-go AppSecret.UpdatedAt, as the app's secrets version it was written at
        updated = app.setdefault("secret_versions", {})
        for key, value in values.items():
            if value is None:
                updated.pop(key, None)
            else:
                updated[key] = app["secrets_version"]

    @staticmethod
    def in_group(machine: dict[str, Any], group: str) -> bool:
        metadata = machine.get("metadata", launch_metadata())
        return fly_apps_machine(machine) and process_group(metadata) == group

    def machine(self, app: dict[str, Any], machine_id: str) -> dict[str, Any]:
        machine: dict[str, Any]
        for machine in app["machines"]:
            if machine["id"] == machine_id:
                return machine
        raise Fail(f"failed to get machine {machine_id}: machine not found")

    def release(self, name: str) -> None:
        """secrets.go DeploySecrets: a restart-only machine deployment of the app's Fly
        Launch machines. Each gets the new release's metadata (deploy/
        machines_launchinput.go launchInputForRestart, setMachineReleaseData: release
        version, and process group `app` where it had none) and boots with the secrets
        as of the version flyctl cached (MinSecretsVersion = appsecrets.GetMinvers)."""
        app = self.app(name)
        releases = app.setdefault("releases", {})
        version = str(len(releases) + 1)
        releases[version] = self.state["minvers"].get(name, app["secrets_version"])
        print(f"Updating existing machines in '{name}'")
        for machine in app["machines"]:
            if not fly_apps_machine(machine):
                continue
            metadata = machine.setdefault("metadata", launch_metadata())
            metadata[RELEASE_VERSION] = version
            metadata.setdefault(PROCESS_GROUP, APP_GROUP)
            machine["env_secrets"] = sorted(app["secrets"])
            self.boot(name, machine)

    def boot(self, name: str, machine: dict[str, Any]) -> None:
        """A Postgres Flex member starting: its monitor reads the barman settings once
        (postgres-flex cmd/monitor/main.go, only with S3_ARCHIVE_CONFIG in its
        environment; monitor_backup_schedule.go keeps them until the next start)."""
        cluster = self.state["pg"].get(name)
        if cluster is None:
            return
        archiving = BARMAN_SECRET in machine.get("env_secrets", [])
        machine["barman_in_force"] = dict(cluster["backup_config"]) if archiving else None
