"""A fake `fly` executable: the flyctl subcommands the scripts use, with Fly's behaviour.

Facts are from flyctl's source at commit ad0172face303b77584eea95b46fa3ddc61d5ddd
(superfly/flyctl), fly-go 22d6e518 (superfly/fly-go) and postgres-flex d263c9ed
(fly-apps/postgres-flex); each handler names the file it follows.

State (apps, machines, volumes, secrets, Postgres users and attachments, and the
secrets min-version flyctl caches locally) lives in $FAKE_FLY_STATE, a JSON file,
so a script can be re-run against what an earlier run left. Every call is
appended to $FAKE_FLY_LOG as JSON: argv, and which FLY_* / WEBHOST_* names were
in the environment (names only).

Arguments are parsed the way cobra does for the command tree in `COMMANDS`: an
unknown subcommand or flag fails with cobra's own text and exit status 1.

Failures, the way flyctl reports them (`Error: ...` on stderr, exit status 1):
- $FAKE_FLY_FAIL="<subcommand>" makes every call of that subcommand fail;
- $FAKE_FLY_FAIL_ONCE="<subcommand>" makes only its first call fail (a transient 5xx);
- $FAKE_FLY_FAIL_NTH="<subcommand>:<n>" makes only its n-th call fail (a later step);
- $FAKE_FLY_STDOUT="<subcommand>=<text>" makes that subcommand succeed (exit 0) having
  printed <text> instead of its answer: what a caller sees when flyctl's output is not
  what it asked for (a `null` or a banner where JSON was expected);
- $FAKE_FLY_HALF="<subcommand>" makes it fail half-way (postgres create: the app
  exists, no member yet; postgres attach: attachment registered and database made,
  user creation failed);
- $FAKE_FLY_REMOTE_FAIL="<text>": a command run on a Postgres machine whose input
  contains <text> exits 1 there (flyctl ignores that for `backup config update`,
  `ssh console` passes it on); modelled SQL only, a real server fails for real;
- $FAKE_FLY_IGNORE_BACKUP_CONFIG=1: flexctl accepts a backup config update and
  applies nothing (what a failed remote command looks like through flyctl);
- $FAKE_FLY_TOS_UNAGREED=1: the user behind a user token never accepted an extension
  provider's terms (an org token, `FlyV1 ...`, never counts as having accepted them);
- $FAKE_FLY_ECHO_SECRETS=1: every secrets write (`secrets set`, the attach's) fails
  with an answer quoting the values it sent: as is, JSON-encoded, and as a password
  field. A made-up hostile answer, not one Fly is documented to give: what a script
  must survive if Fly's error (or a proxy's) quotes the request.

SQL: with $FAKE_FLY_PG_SOCKET_DIR naming the socket directory of a real PostgreSQL
server (tests/fakes/pg_server.py), `ssh console --command psql ...` runs that psql
against it, as it would run on the member, and `postgres attach` / `detach` / `apps
destroy` run there the SQL postgres-flex's admin API runs. Without it (the e2e
lifecycle, whose stacks ask for TimescaleDB and PostGIS, which no server here can
load), psql is modelled: the extensions it would create are recorded in the state,
and a few statements on rows (CREATE TABLE, INSERT, SELECT * / count(*)), enough to
show what a restore brings back.

Backups and restores (modelled, never on the real server, which is one for all
clusters): `postgres backup create` records a base backup of the modelled data;
after every call, a cluster whose leader archives gets its changed data recorded
with the time (archived WAL); `postgres backup restore` makes a new cluster from
the base backup and WAL postgres-flex would pick for the target.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class Fail(Exception):
    pass


# fly-go machine_types.go: the metadata keys and values Fly Launch machines carry.
PLATFORM_VERSION = "fly_platform_version"
PROCESS_GROUP = "fly_process_group"
APP_GROUP = "app"
RELEASE_COMMAND_GROUP = "fly_app_release_command"
CONSOLE_GROUP = "fly_app_console"
RELEASE_VERSION = "fly_release_version"
# flyctl flypg/launcher.go BarmanSecretName
BARMAN_SECRET = "S3_ARCHIVE_CONFIG"


def launch_metadata(group: str = APP_GROUP) -> dict[str, str]:
    """What flyctl labels the machines it launches for a process group with
    (deploy/machines_launchinput.go, appconfig/machines.go)."""
    return {PLATFORM_VERSION: "v2", PROCESS_GROUP: group, "fly_flyctl_version": "0.3.170"}


# Where a Postgres Flex member's Postgres listens (postgres-flex internal/flypg/node.go
# `Port: 5433`; flyctl internal/flypg/launcher.go prints "Postgres port: 5433"). 5432
# is HAProxy's, over TCP only (postgres-flex config/haproxy.cfg): no socket for it.
FLEX_PORT = 5433
# psql's compiled-in defaults on a member (the image installs Debian/Ubuntu's
# postgresql packages, postgres-flex pg16/Dockerfile; its config sets no socket
# directory and the image no PGHOST/PGPORT): the socket directory and port 5432.
MEMBER_SOCKET_DIR = "/var/run/postgresql"
PSQL_DEFAULT_PORT = 5432
# The environment name that carries the real server's socket directory.
PG_SOCKET_ENV = "FAKE_FLY_PG_SOCKET_DIR"

# flypg/launcher.go: Postgres Flex members carry no process group.
POSTGRES_METADATA = {
    PLATFORM_VERSION: "v2",
    "fly-managed-postgres": "true",
    "fly_flyctl_version": "0.3.170",
}


def process_group(metadata: dict[str, str]) -> str:
    """fly-go machine_types.go MachineConfig.ProcessGroup: fly_process_group, else the
    older process_group key, else none."""
    return metadata.get(PROCESS_GROUP) or metadata.get("process_group") or ""


def fly_apps_machine(machine: dict[str, Any]) -> bool:
    """fly-go flaps/flaps_machines.go ListFlyAppsMachines: Fly Launch (platform v2)
    machines that are active, neither a release command's nor a console."""
    metadata: dict[str, str] = machine.get("metadata", launch_metadata())
    group = process_group(metadata)
    return (
        metadata.get(PLATFORM_VERSION) == "v2"
        and machine.get("state", "started") not in ("destroyed", "destroying")
        and group != CONSOLE_GROUP
        and group != RELEASE_COMMAND_GROUP
        and metadata.get("process_group") != "release_command"
    )


def vm_size(guest: dict[str, Any]) -> str:
    """fly-go machine_types.go MachineGuest.ToSize."""
    kind = guest.get("cpu_kind")
    if kind in ("shared", "performance"):
        prefix = "shared-cpu" if kind == "shared" else "performance"
        return f"{prefix}-{guest.get('cpus')}x"
    return "unknown"


# -- the command tree (flyctl ad0172f) ------------------------------------------------
# flag name -> (shorthand, takes a value). flag.App/AppConfig/Yes/JSONOutput/Org/Region
# are internal/flag/flag.go; VM size flags internal/flag/machines.go (VMSizeFlags).
APP = {"app": ("a", True), "config": ("c", True)}
YES = {"yes": ("y", False)}
JSON_ = {"json": ("j", False)}
DETACH = {"detach": ("", False)}
VM_SIZE = {
    name: ("", True)
    for name in (
        "vm-size",
        "vm-cpus",
        "vm-cpu-kind",
        "vm-memory",
        "vm-max-memory",
        "vm-gpus",
        "vm-gpu-kind",
    )
}
# root.go: persistent flags every command takes.
GLOBAL = {"access-token": ("t", True), "verbose": ("", False), "debug": ("", False)}


def _flags(*groups: dict[str, tuple[str, bool]], **extra: tuple[str, bool]) -> dict[str, Any]:
    merged: dict[str, tuple[str, bool]] = {}
    for group in groups:
        merged.update(group)
    merged.update({k.replace("_", "-"): v for k, v in extra.items()})
    return merged


COMMANDS: dict[tuple[str, ...], dict[str, tuple[str, bool]]] = {
    # internal/command/apps/list.go, destroy.go (the app is an argument, no --app)
    ("apps", "list"): _flags(JSON_, {"org": ("o", True)}, quiet=("q", False)),
    ("apps", "destroy"): _flags(YES),
    # internal/command/deploy/deploy.go (the flags the fake models, all real)
    ("deploy",): _flags(
        APP,
        YES,
        DETACH,
        image=("i", True),
        strategy=("", True),
        no_public_ips=("", False),
        dns_checks=("", False),
        wait_timeout=("", True),
        primary_region=("", True),
        regions=("", True),
        ha=("", False),
    ),
    # internal/command/scale/count.go (flag.ProcessGroup: internal/flag/flag.go)
    ("scale", "count"): _flags(
        APP,
        YES,
        VM_SIZE,
        process_group=("g", True),
        env=("e", True),
        region=("r", True),
        max_per_region=("", True),
        with_new_volumes=("", False),
        from_snapshot=("", True),
    ),
    # internal/command/machine/list.go, clone.go, update.go (+ run.go sharedFlags), destroy.go
    ("machine", "list"): _flags(APP, JSON_, quiet=("q", False)),
    ("machine", "clone"): _flags(
        APP,
        DETACH,
        {"region": ("r", True)},
        select=("s", False),
        name=("", True),
        from_snapshot=("", True),
        attach_volume=("", True),
        standby_for=("", True),
        volume_requires_unique_zone=("", False),
    ),
    ("machine", "update"): _flags(
        APP, YES, VM_SIZE, image=("i", True), select=("s", False), skip_start=("", False)
    ),
    ("machine", "destroy"): _flags(APP, select=("s", False), force=("f", False), image=("i", True)),
    # internal/command/volumes/list.go, destroy.go, extend.go
    ("volumes", "list"): _flags(APP, JSON_, all=("", False)),
    ("volumes", "destroy"): _flags(APP, YES),
    ("volumes", "extend"): _flags(APP, YES, JSON_, size=("s", True)),
    # internal/command/secrets/{list,unset,sync,deploy}.go; secrets.go sharedFlags
    ("secrets", "list"): _flags(APP, JSON_),
    ("secrets", "set"): _flags(APP, DETACH, stage=("", False), dns_checks=("", False)),
    ("secrets", "unset"): _flags(APP, DETACH, stage=("", False), dns_checks=("", False)),
    ("secrets", "sync"): _flags(APP, DETACH, stage=("", False), dns_checks=("", False)),
    ("secrets", "deploy"): _flags(APP, DETACH, dns_checks=("", False)),
    # internal/command/postgres/create.go
    ("postgres", "create"): _flags(
        VM_SIZE,
        DETACH,
        {"region": ("r", True), "org": ("o", True)},
        enable_backups=("", False),
        name=("n", True),
        generate_name=("", False),
        password=("p", True),
        initial_cluster_size=("", True),
        volume_size=("", True),
        consul_url=("", True),
        snapshot_id=("", True),
        fork_from=("", True),
        image_ref=("", True),
        stolon=("", False),
        flex=("", False),
        autostart=("", False),
    ),
    # internal/command/postgres/users.go, attach.go, detach.go, connect.go, config_update.go
    ("postgres", "users", "list"): _flags(APP, JSON_),
    ("postgres", "attach"): _flags(
        APP,
        YES,
        database_name=("", True),
        database_user=("", True),
        variable_name=("", True),
        superuser=("", False),
    ),
    ("postgres", "detach"): _flags(APP),
    ("postgres", "connect"): _flags(
        APP, database=("d", True), user=("u", True), password=("p", True)
    ),
    ("postgres", "config", "update"): _flags(
        APP, YES, DETACH, max_connections=("", True), force=("", False)
    ),
    # internal/command/postgres/restart.go
    ("postgres", "restart"): _flags(APP, force=("", False), skip_health_checks=("", False)),
    # internal/command/postgres/backup.go (`enable` takes no --yes)
    ("postgres", "backup", "enable"): _flags(APP),
    ("postgres", "backup", "config", "show"): _flags(APP),
    ("postgres", "backup", "create"): _flags(
        APP, name=("n", True), immediate_checkpoint=("i", False)
    ),
    ("postgres", "backup", "list"): _flags(APP),
    ("postgres", "backup", "restore"): _flags(
        APP,
        DETACH,
        restore_target_time=("", True),
        restore_target_name=("", True),
        restore_target_inclusive=("", False),
        image_ref=("", True),
    ),
    ("postgres", "backup", "config", "update"): _flags(
        APP,
        archive_timeout=("", True),
        recovery_window=("", True),
        full_backup_frequency=("", True),
        minimum_redundancy=("", True),
    ),
    # internal/command/ssh/console.go
    ("ssh", "console"): _flags(
        APP,
        {"org": ("o", True), "region": ("r", True)},
        command=("C", True),
        machine=("", True),
        select=("s", False),
        quiet=("q", False),
        address=("A", True),
        container=("", True),
        no_container=("", False),
        pty=("", False),
        user=("u", True),
        process_group=("", True),
    ),
}

# cobra aliases: machine.go (machines, m), list.go (ls), postgres.go (pg), volumes.go
# (volume, vol), apps.go (app), destroy (rm, remove, delete).
ALIASES = {
    "machines": "machine",
    "m": "machine",
    "ls": "list",
    "pg": "postgres",
    "volume": "volumes",
    "vol": "volumes",
    "app": "apps",
    "rm": "destroy",
    "remove": "destroy",
    "delete": "destroy",
}


@dataclass
class Call:
    path: tuple[str, ...]
    args: list[str] = field(default_factory=list)
    flags: dict[str, str | bool] = field(default_factory=dict)

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.flags.get(name, default)
        return value if isinstance(value, str) or value is None else str(value)

    def need(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise Fail(f'required flag(s) "{name}" not set')
        return value

    def on(self, name: str) -> bool:
        return self.flags.get(name) is True


def parse(argv: list[str]) -> Call:
    """What cobra does with argv for the tree above; Fail with cobra's text otherwise."""
    words = [w for w in argv if not w.startswith("-")]
    path: tuple[str, ...] = ()
    for typed in words:
        candidate = (*path, ALIASES.get(typed, typed))
        if any(key[: len(candidate)] == candidate for key in COMMANDS):
            path = candidate
            if path in COMMANDS:
                break
        else:
            break
    if path not in COMMANDS:
        where = " ".join(("fly", *path))
        unknown = words[len(path)] if len(words) > len(path) else ""
        raise Fail(f'unknown command "{unknown}" for "{where}"')
    spec = {**GLOBAL, **COMMANDS[path]}
    shorts = {short: name for name, (short, _) in spec.items() if short}
    call = Call(path)
    consumed = 0
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            if name not in spec:
                raise Fail(f"unknown flag: --{name}")
            if spec[name][1]:
                if not eq:
                    if i >= len(argv):
                        raise Fail(f"flag needs an argument: --{name}")
                    value = argv[i]
                    i += 1
                call.flags[name] = value
            else:
                if eq and value not in ("true", "false"):
                    raise Fail(f'invalid argument "{value}" for "--{name}" flag')
                call.flags[name] = value != "false" if eq else True
        elif token.startswith("-") and len(token) > 1:
            letter = token[1]
            if letter not in shorts:
                raise Fail(f"unknown shorthand flag: '{letter}' in {token}")
            name = shorts[letter]
            if spec[name][1]:
                value = token[2:] or (argv[i] if i < len(argv) else "")
                i += 0 if token[2:] else 1
                call.flags[name] = value
            else:
                call.flags[name] = True
        elif consumed < len(path):
            consumed += 1
        else:
            call.args.append(token)
    return call


# -- state --------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    if path.exists():
        state: dict[str, Any] = json.loads(path.read_text())
        return state
    return {"apps": {}, "deploys": [], "pg": {}, "calls": 0, "minvers": {}, "failed_once": []}


class Fly:
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

    def pg(self, name: str | None) -> dict[str, Any]:
        self.app(name)
        if name not in self.state["pg"]:
            raise Fail(f"app {name} is not a postgres app")  # postgres/users.go
        cluster: dict[str, Any] = self.state["pg"][name]
        return cluster

    def leader(self, app: dict[str, Any]) -> dict[str, Any]:
        # postgres.go pickLeader: the machine whose "role" check says primary
        for machine in app["machines"]:
            if machine.get("role") == "primary":
                return machine
        raise Fail("no active leader found")

    def update_secrets(self, name: str, values: dict[str, str | None]) -> None:
        """appsecrets.Update: set/unset (unsetting a missing one is no error), cache minvers."""
        sent = {k: v for k, v in values.items() if v is not None}
        if sent and os.environ.get("FAKE_FLY_ECHO_SECRETS") == "1":
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

    # -- commands --------------------------------------------------------------

    def deploy(self, a: Call) -> None:
        config = tomllib.loads(Path(a.need("config")).read_text())
        if config.get("app") != a.get("app"):
            raise Fail(f"app {a.get('app')} does not match fly.toml app {config.get('app')}")
        app = self.app(a.get("app"))
        # deploy/machines_launchinput.go: machines boot with MinSecretsVersion =
        # appsecrets.GetMinvers(app), the version flyctl cached locally (nil when it
        # never wrote or synced the app's secrets). Without it the fake boots the
        # oldest version flaps may serve: the one flyctl last knew, or none.
        booted = self.state["minvers"].get(a.get("app"), 0)
        app["booted_version"] = booted
        vm = config["vm"][0]
        guest = {
            "cpu_kind": vm["cpu_kind"],
            "cpus": vm["cpus"],
            "memory_mb": int(vm["memory"].removesuffix("mb")),
        }
        # What `fly scale count` launches a group's first machine from (scale/machine_defaults.go).
        app["launch"] = {
            "guest": guest,
            "image": a.get("image") or "",
            "primary_region": config["primary_region"],
        }
        ours = [m for m in app["machines"] if self._in_group(m, APP_GROUP)]
        if not ours:  # Fly's first deploy: two machines in the primary region
            for _ in range(2):
                self.new_machine(app, config["primary_region"], guest, image=a.get("image") or "")
        for machine in app["machines"]:
            if self._in_group(machine, APP_GROUP):  # deploy updates the app's own machines
                machine["secrets_version"] = booted
                machine["image"] = a.get("image")
        self.state["deploys"].append(
            {
                "app": a.get("app"),
                "image": a.get("image"),
                "strategy": a.get("strategy"),
                "secrets_version": booted,
            }
        )
        print(
            f"==> Verifying app config\nVisit your newly deployed app at https://{a.get('app')}.fly.dev/"
        )

    @staticmethod
    def _in_group(machine: dict[str, Any], group: str) -> bool:
        metadata = machine.get("metadata", launch_metadata())
        return fly_apps_machine(machine) and process_group(metadata) == group

    def scale_count(self, a: Call) -> None:
        """scale/count.go runScaleCount and count_machines.go runMachinesScaleCount: only
        the Fly Launch machines of the named process group (default "app") are counted,
        added or destroyed; one-offs, release command and console machines are not."""
        name = a.get("app")
        app = self.app(name)
        group = a.get("process-group") or APP_GROUP
        expected = _group_counts(a.args, group)
        unknown = sorted(g for g in expected if g != APP_GROUP)  # fly.toml has no [processes]
        if unknown:
            raise Fail(
                f"Attempting to scale unknown process groups [{' '.join(unknown)}] but valid "
                f"names are [{APP_GROUP}].\n Use `fly scale count COUNT --process-group=NAME` "
                "\n or multi group syntax `fly scale count NAME1=COUNT1 NAME2=COUNT2 ...`"
            )
        machines = [m for m in app["machines"] if fly_apps_machine(m)]
        if not any(d["app"] == name for d in self.state["deploys"]):
            raise Fail(
                "this app has no complete releases. Run `fly deploy` to create one and rerun "
                "this command"
            )
        regions = [r for r in (a.get("region") or "").split(",") if r]
        if not regions:
            regions = list(dict.fromkeys(m["region"] for m in machines))
        launch = app.get("launch") or {"guest": {}, "primary_region": ""}
        regions = regions or [launch["primary_region"]]
        max_per_region = int(a.get("max-per-region") or -1)
        actions: list[tuple[str, int, list[dict[str, Any]], dict[str, Any]]] = []
        for group_name, (absolute, relative) in expected.items():
            mine = [m for m in machines if self._in_group(m, group_name)]
            total = max(len(mine) + relative if relative else absolute, 0)
            current: dict[str, int] = {}
            for m in mine:
                current[m["region"]] = current.get(m["region"], 0) + 1
            template = {
                "guest": launch["guest"],
                "image": launch.get("image", ""),
                "metadata": launch_metadata(group_name),
            }
            if mine:
                template = {**mine[0], "metadata": mine[0].get("metadata", launch_metadata())}
            for region, delta in _converge(total, current, regions, max_per_region).items():
                here = [m for m in mine if m["region"] == region]
                actions.append((region, delta, here, template))
        if not actions:
            print("App already scaled to desired state. No need for changes")
            return
        print(f"App '{name}' is going to be scaled according to this plan:")
        for region, delta, _, template in actions:
            print(
                f"{delta:+4d} machines for group '{process_group(template['metadata'])}' on "
                f"region '{region}' of size '{vm_size(template['guest'])}'"
            )
        if not a.on("yes"):
            raise Fail("--yes flag must be specified when not running interactively")
        print("Executing scale plan")
        for region, delta, here, template in actions:
            for machine in here[: max(-delta, 0)]:  # count_machines.go: action.Machines[-i]
                app["machines"].remove(machine)
                print(f"  Destroyed {machine['id']} region:{region}")
            for _ in range(max(delta, 0)):
                made = self.new_machine(
                    app,
                    region,
                    template["guest"],
                    image=template.get("image", ""),
                    metadata=template["metadata"],
                )
                print(f"  Created {made['id']} region:{region}")

    def machines_list(self, a: Call) -> None:
        if a.get("app") is not None and a.get("app") not in self.state["apps"]:
            # No GraphQL lookup first: flyctl internal/command/machine/list.go asks flaps
            # List straight away, which wraps the Machines API's 404 body (fly-go
            # flaps/flaps_machines.go List "failed to list VMs: %w"; flaps.go
            # handleAPIError; flaps_apps_test.go: `{"error":"app not found"}`).
            raise Fail("failed to list VMs: app not found")
        app = self.app(a.get("app"))
        # fly-go machine_types.go Machine / MachineConfig / MachineCheckStatus JSON tags
        listed = []
        for m in app["machines"]:
            config: dict[str, Any] = {
                "guest": m["guest"],
                "image": m.get("image", ""),
                "env": m.get("env", {}),
                "metadata": m.get("metadata", launch_metadata()),
            }
            if m.get("volume"):
                config["mounts"] = [{"volume": m["volume"], "path": "/data"}]
            entry: dict[str, Any] = {
                "id": m["id"],
                "name": f"{a.get('app')}-{m['id'][-4:]}",
                # A machine stopped by hand (or by Fly's autostop) lists as "stopped".
                "state": m.get("state", "started"),
                "region": m["region"],
                "config": config,
                "host_status": "ok",
                "cordoned": False,
            }
            if m.get("role"):
                entry["checks"] = [{"name": "role", "status": "passing", "output": m["role"]}]
            listed.append(entry)
        print(json.dumps(listed, indent=2))

    def machine_clone(self, a: Call, half: bool = False) -> None:
        # machine/clone.go: a source with a volume gets a new empty volume (CreateVolume),
        # then the machine is launched (Launch): cut off in between, the volume stays,
        # attached to nothing. --attach-volume ID[:PATH] takes an existing one instead:
        # it must be in the clone's region and attached to nothing.
        app = self.app(a.get("app"))
        source = self._machine(app, a.args[0])
        region = a.get("region") or source["region"]
        attach = (a.get("attach-volume") or "").split(":")[0]
        volume_gb = None
        existing = None
        if attach:
            found = [v for v in app["volumes"] if v["id"] == attach]
            if not found:
                raise Fail("could not get existing volume: volume not found")
            existing = found[0]
            if existing["region"] != region:
                raise Fail(
                    f"specified region {region} but volume is in region {existing['region']}, "
                    "use the same region as the volume"
                )
            if existing.get("attached_machine_id"):
                raise Fail(f"volume {attach} is already attached to a machine")
            print(f"Attaching existing volume {attach}", file=sys.stderr)
        elif source.get("volume"):
            volume_gb = next(v for v in app["volumes"] if v["id"] == source["volume"])["size_gb"]
        if half:
            if volume_gb is not None:
                app["volumes"].append(
                    {
                        "id": f"vol_{self.next_id()}",
                        "size_gb": volume_gb,
                        "region": region,
                        "attached_machine_id": None,
                    }
                )
            raise Fail("failed to launch machine: 503 Service Unavailable")
        clone = self.new_machine(
            app,
            region,
            source["guest"],
            image=source.get("image", ""),
            volume_gb=volume_gb,
            env=source.get("env"),
            metadata=source.get("metadata"),
        )
        if existing is not None:
            existing["attached_machine_id"] = clone["id"]
            clone["volume"] = existing["id"]
        if source.get("role"):
            # postgres-flex elects primaries only in PRIMARY_REGION
            clone["role"] = "replica"
        print(f"Machine {clone['id']} has been created", file=sys.stderr)

    def machine_update(self, a: Call) -> None:
        if not a.on("yes"):
            raise Fail("yes flag must be specified when not running interactively")
        machine = self._machine(self.app(a.get("app")), a.args[0])
        machine["guest"] = {
            "cpu_kind": a.need("vm-cpu-kind"),
            "cpus": int(a.need("vm-cpus")),
            "memory_mb": int(a.need("vm-memory")),
        }

    def machine_destroy(self, a: Call) -> None:
        app = self.app(a.get("app"))
        machine = self._machine(app, a.args[0])
        if not a.on("force"):
            raise Fail(f"machine {machine['id']} is started; use --force")
        # machine/destroy.go never touches the machine's volume: it stays, detached.
        for volume in app["volumes"]:
            if volume["id"] == machine.get("volume"):
                volume["attached_machine_id"] = None
        app["machines"].remove(machine)
        print(f"{machine['id']} has been destroyed")

    def _machine(self, app: dict[str, Any], machine_id: str) -> dict[str, Any]:
        for machine in app["machines"]:
            if machine["id"] == machine_id:
                return machine
        raise Fail(f"failed to get machine {machine_id}: machine not found")

    def volumes_list(self, a: Call) -> None:
        app = self.app(a.get("app"))
        # fly-go volume_types.go Volume JSON tags
        listed = [
            {
                "id": v["id"],
                "name": "pg_data",
                "state": "created",
                "size_gb": v["size_gb"],
                "region": v["region"],
                "encrypted": True,
                "attached_machine_id": v.get("attached_machine_id"),
            }
            for v in app["volumes"]
        ]
        print(json.dumps(listed, indent=2))

    def volumes_destroy(self, a: Call) -> None:
        if not a.on("yes"):
            raise Fail("yes flag must be specified when not running interactively")
        app = self.app(a.get("app"))
        for volume_id in a.args:
            found = [v for v in app["volumes"] if v["id"] == volume_id]
            if not found:
                raise Fail(f"failed destroying volume: volume {volume_id} not found")
            if found[0].get("attached_machine_id"):
                raise Fail("failed destroying volume: volume is attached to a machine")
            app["volumes"].remove(found[0])
            print(f"Destroyed volume ID: {volume_id} name: pg_data")

    def volumes_extend(self, a: Call) -> None:
        app = self.app(a.get("app"))
        found = [v for v in app["volumes"] if v["id"] == a.args[0]]
        if not found:
            raise Fail(f"failed to extend volume: volume {a.args[0]} not found")
        size = int(a.need("size").lstrip("+"))
        if size <= found[0]["size_gb"]:
            raise Fail("failed to extend volume: new size must be larger than the current size")
        found[0]["size_gb"] = size
        print("Your Machine got its volume size extended without needing a restart")

    def apps_list(self, a: Call) -> None:
        # apps/list.go renders fly.App (fly-go types.go, no JSON tags: Go field names)
        org = a.get("org")
        listed = [
            {"ID": name, "Name": name, "Status": "deployed", "Organization": {"Slug": app["org"]}}
            for name, app in self.state["apps"].items()
            if org is None or app.get("org") == org
        ]
        print(json.dumps(listed, indent=2))

    def apps_destroy(self, a: Call) -> None:
        if not a.on("yes"):
            raise Fail("yes flag must be specified when not running interactively")
        self.app(a.args[0])
        del self.state["apps"][a.args[0]]
        cluster = self.state["pg"].pop(a.args[0], None)
        if cluster:  # its volumes go with it: so do its databases and users
            for name in cluster["databases"]:
                if name != "postgres":
                    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            roles = set(_admin_sql("SELECT rolname FROM pg_roles"))
            for name in cluster["users"]:
                if name in roles and name not in ("postgres", "flypgadmin", "repmgr"):
                    _admin_sql(f'DROP OWNED BY "{name}"; DROP ROLE "{name}"')
        self.state["minvers"].pop(a.args[0], None)  # apps/destroy.go DeleteMinvers
        print(f"Destroyed app {a.args[0]}")

    def secrets_list(self, a: Call) -> None:
        app = self.app(a.get("app"))
        # secrets/list.go buildSecretRows/computeSecretStatus: a secret is on a machine
        # when it was written no later than the machine's release (fly_release_version
        # metadata) was made; a machine without a known release has none. None of the
        # machines: Staged; all: Deployed; some: Partial. No machines at all: Staged.
        machines = [m for m in app["machines"] if fly_apps_machine(m)]
        releases = app.get("releases", {})
        listed = []
        for name in sorted(app["secrets"]):
            written = app.get("secret_versions", {}).get(name, 0)
            having = sum(
                1
                for m in machines
                if m.get("metadata", {}).get(RELEASE_VERSION) in releases
                and written <= releases[m["metadata"][RELEASE_VERSION]]
            )
            status = "Staged"
            if machines and having == len(machines):
                status = "Deployed"
            elif having:
                status = "Partial"
            # secrets/list.go SecretWithStatus JSON tags
            listed.append({"name": name, "digest": "0" * 16, "status": status})
        print(json.dumps(listed))

    def secrets_set(self, a: Call) -> None:
        values: dict[str, str | None] = {}
        for arg in a.args:  # cmdutil.ParseKVStringsToMap
            key, eq, value = arg.partition("=")
            if not eq:
                raise Fail(f"'{arg}': must be in the format NAME=VALUE")
            values[key] = value
        self.update_secrets(a.get("app") or "", values)
        self._secrets_deployed(a)

    def secrets_unset(self, a: Call) -> None:
        # appsecrets/secrets.go Update: "It is not an error to unset a secret that does not exist."
        self.update_secrets(a.get("app") or "", dict.fromkeys(a.args))
        self._secrets_deployed(a)

    def _secrets_deployed(self, a: Call) -> None:
        """secrets.go DeploySecrets after a set or unset: --stage stops there."""
        if a.on("stage"):
            print(
                "Secrets have been staged, but not set on VMs. Deploy or update machines in "
                "this app for the secrets to take effect."
            )
            return
        self._release(a.get("app") or "")

    def secrets_sync(self, a: Call) -> None:
        # appsecrets.Sync: unset a bogus name; the answer's version becomes the cached minvers
        self.update_secrets(a.get("app") or "", {f"BogusDummySecret_{secrets.token_hex(8)}": None})

    def secrets_deploy(self, a: Call) -> None:
        app = self.app(a.get("app"))
        if not [m for m in app["machines"] if fly_apps_machine(m)]:
            raise Fail("no machines available to deploy")  # secrets/deploy.go runDeploy
        self._release(a.get("app") or "")

    def _release(self, name: str) -> None:
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
            self._boot(name, machine)

    def _boot(self, name: str, machine: dict[str, Any]) -> None:
        """A Postgres Flex member starting: its monitor reads the barman settings once
        (postgres-flex cmd/monitor/main.go, only with S3_ARCHIVE_CONFIG in its
        environment; monitor_backup_schedule.go keeps them until the next start)."""
        cluster = self.state["pg"].get(name)
        if cluster is None:
            return
        archiving = BARMAN_SECRET in machine.get("env_secrets", [])
        machine["barman_in_force"] = dict(cluster["backup_config"]) if archiving else None

    def postgres_create(self, a: Call, half: bool) -> None:
        name = a.need("name")
        if name in self.state["apps"]:
            raise Fail("input:3: createApp Validation failed: Name has already been taken")
        app = self.new_app(name, a.get("org") or "personal")
        region = a.need("region")
        self.state["pg"][name] = {
            "org": a.get("org"),
            "users": {u: secrets.token_hex(8) for u in ("postgres", "flypgadmin", "repmgr")},
            "superusers": ["postgres", "flypgadmin", "repmgr"],
            "databases": ["postgres"],
            "attachments": [],
            "extensions": {},
            "max_connections": 300,
            "backup_config": {"recovery_window": "7d", "full_backup_frequency": "24h"},
        }
        # flypg/launcher.go: the operator password is kept in the app's own secrets
        app["secrets"]["OPERATOR_PASSWORD"] = self.state["pg"][name]["users"]["postgres"]
        if half:
            raise Fail("failed to launch machine: 503 Service Unavailable")
        guest = {
            "cpu_kind": a.need("vm-cpu-kind"),
            "cpus": int(a.need("vm-cpus")),
            "memory_mb": int(a.need("vm-memory")),
        }
        for i in range(int(a.need("initial-cluster-size"))):
            machine = self.new_machine(
                app,
                region,
                guest,
                image=a.get("image-ref") or "flyio/postgres-flex:16",
                volume_gb=int(a.need("volume-size")),
                env={"PRIMARY_REGION": region},
                metadata=POSTGRES_METADATA,
            )
            machine["role"] = "primary" if i == 0 else "replica"
        password = self.state["pg"][name]["users"]["postgres"]
        # flypg/launcher.go: the credentials block
        print(
            f"Postgres cluster {name} created\n  Username:    postgres\n"
            f"  Password:    {password}\n  Hostname:    {name}.internal\n"
            "  Flycast:     fdaa:2:7ab8:0:1::2\n  Proxy port:  5432\n  Postgres port:  5433\n"
            f"  Connection string: postgres://postgres:{password}@{name}.flycast:5432\n\n"
            "Save your credentials in a secure place -- you won't be able to see them again!"
        )

    def postgres_users_list(self, a: Call) -> None:
        cluster = self.pg(a.get("app"))
        self.leader(self.app(a.get("app")))
        # flypg/types.go PostgresUser has no JSON tags: Go field names
        users = [
            {
                "Username": u,
                "Superuser": u in cluster.get("superusers", []),
                "Databases": cluster["databases"],
            }
            for u in cluster["users"]
        ]
        print(json.dumps(users, indent=2) if users else "No users found")

    def postgres_attach(self, a: Call, half: bool) -> None:
        # postgres/attach.go runAttachCluster
        pg_name = a.args[0]
        cluster, app = self.pg(pg_name), self.app(a.get("app"))
        var = a.get("variable-name") or "DATABASE_URL"
        user = (a.get("database-user") or a.get("app") or "").replace("-", "_").lower()
        database = (a.get("database-name") or a.get("app") or "").replace("-", "_").lower()
        print("Checking for existing attachments")
        if var in app["secrets"]:
            raise Fail(f'consumer app "{a.get("app")}" already contains a secret named {var}')
        if database in cluster["databases"] and not a.on("yes"):
            raise Fail("prompt: non interactive")
        if user in cluster["users"]:
            raise Fail(
                f'database user "{user}" already exists. '
                "Please specify a new database user via --database-user"
            )
        print("Registering attachment")
        cluster["attachments"].append(
            {"app": a.get("app"), "database": database, "user": user, "var": var}
        )
        if database not in cluster["databases"]:
            print("Creating database")
            # postgres-flex internal/api/handle_databases.go handleCreateDatabase:
            # admin.CreateDatabase, then admin.GrantCreateOnPublic in the new database
            _admin_sql(f"CREATE DATABASE {database};")
            _admin_sql("GRANT CREATE on SCHEMA PUBLIC to PUBLIC;", database)
            cluster["databases"].append(database)
        print("Creating user")
        if half:
            raise Fail("failed executing create-user: 500 Internal Server Error")
        password = secrets.token_hex(8)
        # the --superuser flag defaults to true
        superuser = a.flags.get("superuser", True) is True
        # postgres-flex internal/api/handle_users.go handleCreateUser: admin.CreateUser,
        # then GrantSuperuser, or GrantAccess (pg_read_all_data, pg_write_all_data:
        # every table of every database) when not a superuser (flypg/admin/admin.go)
        _admin_sql(f"CREATE USER {user} WITH LOGIN PASSWORD '{password}'")
        if superuser:
            _admin_sql(f"ALTER USER {user} WITH SUPERUSER;")
        else:
            _admin_sql(f'GRANT pg_read_all_data, pg_write_all_data TO "{user}"')
        cluster["users"][user] = password
        if superuser:
            cluster.setdefault("superusers", []).append(user)
        url = f"postgres://{user}:{password}@{pg_name}.flycast:5432/{database}?sslmode=disable"
        self.update_secrets(a.get("app") or "", {var: url})
        print(f"\nPostgres cluster {pg_name} is now attached to {a.get('app')}")
        print(f"The following secret was added to {a.get('app')}:\n  {var}={url}")

    def postgres_detach(self, a: Call) -> None:
        # postgres/detach.go: lists the app's attachments and always asks which, on a terminal
        pg_name = a.args[0]
        cluster, app = self.pg(pg_name), self.app(a.get("app"))
        mine = [x for x in cluster["attachments"] if x["app"] == a.get("app")]
        if not mine:
            raise Fail("no attachments found")
        if not os.isatty(0):
            raise Fail("prompt: non interactive")
        options = [
            f"PG Database: {x['database']}, PG User: {x['user']}, Environment variable: {x['var']}"
            for x in mine
        ]
        # survey's Select: the question, then one option per line, in one render (one
        # write: survey/v2 select.go Prompt, RenderWithCursorOffset; flyctl's PageSize is
        # 15, internal/prompt/prompt.go); typing filters the options (case-insensitive
        # substring, survey/v2 DefaultFilterFn), Enter picks the first one shown, and
        # Enter with none shown keeps prompting (select.go OnChange); end of input ends it.
        lines = [
            "? Select the attachment that you would like to detach "
            "(Database will remain intact):  [type to filter]",
            *[("> " if i == 0 else "  ") + option for i, option in enumerate(options[:15])],
        ]
        print("\n".join(lines), flush=True)
        shown: list[dict[str, Any]] = []
        while not shown:
            line = sys.stdin.readline()
            if not line:
                raise Fail("EOF")
            typed = line.rstrip("\r\n")
            shown = [x for x, o in zip(mine, options, strict=True) if typed.lower() in o.lower()]
        target = shown[0]
        # flyctl deletes the user through postgres-flex (internal/api/handle_users.go
        # handleDeleteUser): in every database, REASSIGN OWNED BY it TO postgres and
        # DROP OWNED BY it, then DROP ROLE. Its databases and their data stay.
        if target["user"] in cluster["users"]:
            for name in _admin_sql("SELECT datname FROM pg_database WHERE NOT datistemplate"):
                _admin_sql(f"REASSIGN OWNED BY {target['user']} TO postgres;", name)
                _admin_sql(f"DROP OWNED BY {target['user']};", name)
            _admin_sql(f"DROP ROLE {target['user']}")
        cluster["users"].pop(target["user"], None)
        if target["user"] in cluster.get("superusers", []):
            cluster["superusers"].remove(target["user"])
        self.update_secrets(a.get("app") or "", {target["var"]: None})
        print(f'Secret "{target["var"]}" was scheduled to be removed from app {a.get("app")}')
        cluster["attachments"].remove(target)
        print("Detach completed successfully!")
        del app  # looked up only to fail as flyctl does when it is missing

    def postgres_connect(self, a: Call) -> None:
        self.pg(a.get("app"))
        # postgres/connect.go runs psql over `fly ssh` with a PTY: it needs a terminal
        if not os.isatty(0):
            raise Fail("ssh shell: the input device is not a TTY")

    def postgres_config_update(self, a: Call) -> None:
        cluster = self.pg(a.get("app"))
        if not a.on("yes"):
            raise Fail("auto-confirm flag must be specified when not running interactively")
        wanted = int(a.need("max-connections"))
        if wanted == cluster["max_connections"]:
            raise Fail("no changes to apply")  # postgres/config_update.go
        print(
            f"NAME            VALUE  TARGET VALUE  RESTART REQUIRED\nmax-connections "
            f"{cluster['max_connections']}    {wanted}           true"
        )
        cluster["max_connections"] = wanted
        print("Performing update...\nUpdate complete!")

    def postgres_restart(self, a: Call) -> None:
        """postgres/restart.go machinesRestart: every member restarted one by one,
        replicas first, then the leader (Postgres Flex: no failover first)."""
        name = a.get("app")
        self.pg(name)
        app = self.app(name)
        members = [m for m in app["machines"] if m.get("state", "started") != "destroyed"]
        leaders = [m for m in members if m.get("role") == "primary"]
        if not leaders and not a.on("force"):
            raise Fail("no active leader found")
        print("Identifying cluster role(s)")
        for machine in members:
            print(f"  Machine {machine['id']}: {machine.get('role', 'unknown')}")
        order = [m for m in members if m.get("role") != "primary"] + leaders
        for machine in order:
            # machine/restart.go: flaps Restart, then wait for the machine to be healthy
            self._boot(name or "", machine)
            self.state.setdefault("restarts", []).append(machine["id"])
            print(f"Restarting machine {machine['id']}")
        print("Postgres cluster has been successfully restarted!")

    def postgres_backup_enable(self, a: Call, half: bool) -> None:
        """postgres/backup.go runBackupEnable, then flypg/tigris.go CreateTigrisBucket
        through extensions/core/core.go ProvisionExtension."""
        name = a.get("app") or ""
        self.pg(name)
        app = self.app(name)
        if BARMAN_SECRET in app["secrets"]:
            raise Fail("backups are already enabled")
        leader = self.leader(app)
        if leader["guest"]["memory_mb"] < 512:
            raise Fail(
                "backup creation requires at least 512MB of memory. Use `fly m update "
                f"{leader['id']} --vm-memory 512` to scale up."
            )
        print("Creating Tigris bucket for backup storage")
        # core.go AgreeToProviderTos: AgreedToProviderTos is false unless the viewer is
        # a user who agreed; it prints the terms, then asks, and without --yes (which
        # `backup enable` does not define) and no terminal it fails: before any change.
        token = os.environ.get("FLY_API_TOKEN", "")
        agreed = not token.startswith("FlyV1 ") and not os.environ.get("FAKE_FLY_TOS_UNAGREED")
        if not agreed:
            print("\nBy provisioning a Tigris Storage bucket, you agree to Tigris's terms.\n")
            if not (os.isatty(0) and os.isatty(1)):
                raise Fail(
                    "To agree, the --yes flag must be specified when not running interactively"
                )
        # core.go: GetAppWithAddons -- one bucket per app
        addons = self.state.setdefault("addons", {})
        if name in addons:
            raise Fail(
                f"A Tigris Storage bucket named {addons[name]} already exists for app {name}"
            )
        bucket = f"{name}-postgres"
        addons[name] = bucket
        print(
            f"Your Tigris Storage bucket ({bucket}) is ready. See details and next steps with: "
            "https://fly.io/docs/reference/tigris/\n"
        )
        keys = {
            "AWS_ACCESS_KEY_ID": f"tid_{secrets.token_hex(8)}",
            "AWS_ENDPOINT_URL_S3": "https://fly.storage.tigris.dev",
            "AWS_REGION": "auto",
            "AWS_SECRET_ACCESS_KEY": f"tsec_{secrets.token_hex(16)}",
            "BUCKET_NAME": bucket,
        }
        # core.go setSecretsFromExtension: the values printed to stdout, then set
        print(f"Setting the following secrets on {name}:")
        for key, value in keys.items():
            print(f"{key}: {value}")
        print()
        self.update_secrets(name, dict(keys))
        if half:
            raise Fail("failed to set secrets: request returned non-2xx status: 502")
        self.update_secrets(
            name,
            {
                BARMAN_SECRET: (
                    f"https://{keys['AWS_ACCESS_KEY_ID']}:{keys['AWS_SECRET_ACCESS_KEY']}"
                    f"@fly.storage.tigris.dev/{bucket}/{name}"
                )
            },
        )
        print(
            f"Backups enabled. Run `fly secrets deploy -a {name}` to restart the cluster "
            "with the new configuration."
        )

    def _flexctl(self, a: Call) -> dict[str, Any] | None:
        """A `flexctl backup config ...` run on the leader (postgres.go ExecOnLeader);
        None when flexctl refused, having said so on stderr (flyctl still exits 0)."""
        name = a.get("app")
        cluster, app = self.pg(name), self.app(name)
        leader = self.leader(app)
        if BARMAN_SECRET not in app["secrets"]:  # backup.go isBackupEnabled
            raise Fail(
                f"backups are not enabled. Run `fly pg backup enable -a {name}` to enable them"
            )
        # flexctl backups.go backupsEnabled: S3_ARCHIVE_CONFIG in the leader's own
        # environment, i.e. deployed to it, not only set on the app.
        if BARMAN_SECRET not in leader.get("env_secrets", []):
            print("Error: backups are not enabled", file=sys.stderr)
            return None
        return cluster

    def postgres_backup_config_update(self, a: Call) -> None:
        cluster = self._flexctl(a)
        if cluster is None:
            return
        # backup.go runs `flexctl backup config update` with ExecOnLeader, which prints the
        # remote stdout/stderr and never looks at the remote exit code: flyctl exits 0.
        change = {
            "recovery_window": a.get("recovery-window"),
            "full_backup_frequency": a.get("full-backup-frequency"),
        }
        problem = _flex_validate(change)
        if problem or os.environ.get("FAKE_FLY_IGNORE_BACKUP_CONFIG"):
            print(f"Error: {problem or 'error updating configuration: timeout'}", file=sys.stderr)
            return
        # api/handle_admin.go handleUpdateBarmanSettings writes the user config file and
        # always answers restart_required; the running monitor keeps what it read.
        cluster["backup_config"].update({k: v for k, v in change.items() if v is not None})
        print("Updated")
        print(
            "A restart is required for these changes to take effect. Run "
            f"`fly pg restart -a {a.get('app')}` to restart.)"
        )

    def postgres_backup_config_show(self, a: Call) -> None:
        cluster = self._flexctl(a)
        if cluster is None:
            return
        # postgres-flex cmd/flexctl/backups.go newConfigShow over handleViewBarmanSettings:
        # the config files (barman_config.go CurrentConfig), not what the monitor runs with
        config = cluster["backup_config"]
        print(f"  ArchiveTimeout = 60s\n  RecoveryWindow = {config['recovery_window']}")
        print(f"  FullBackupFrequency = {config['full_backup_frequency']}\n  MinimumRedundancy = 3")

    def _archiving(self, name: str) -> dict[str, Any]:
        """The cluster, when backups are on and deployed to its leader (flyctl backup.go
        isBackupEnabled; flexctl backups.go backupsEnabled reads the leader's own env)."""
        cluster, app = self.pg(name), self.app(name)
        leader = self.leader(app)
        if BARMAN_SECRET not in app["secrets"]:
            raise Fail(
                f"backups are not enabled. Run `fly pg backup enable -a {name}` to enable them"
            )
        if BARMAN_SECRET not in leader.get("env_secrets", []):
            raise Fail("S3_ARCHIVE_CONFIG is unset")
        return cluster

    def postgres_backup_create(self, a: Call) -> None:
        """backup.go runBackupCreate: `flexctl backup create` on the leader, which runs
        barman-cloud-backup (postgres-flex cmd/flexctl/backups.go, flypg/barman.go
        Backup): a base backup of the data as it is now."""
        name = a.get("app") or ""
        cluster = self._archiving(name)
        now = _now()
        backup = {
            # barman's ids are the start time, YYYYMMDDTHHMMSS (barman-cloud-backup)
            "backup_id": now.strftime("%Y%m%dT%H%M%S") + f"{len(cluster.get('base_backups', []))}",
            "backup_name": a.get("name") or "",
            "status": "DONE",
            # barman-cloud-backup-list's layout (postgres-flex barman_restore.go parses
            # it with "Mon Jan 2 15:04:05 2006")
            "end_time": now.strftime("%a %b %-d %H:%M:%S %Y"),
            "end_at": now.isoformat(),
            "data": _data(cluster),
        }
        cluster.setdefault("base_backups", []).append(backup)
        print("Performing backup...\nBackup completed successfully!")

    def postgres_backup_list(self, a: Call) -> None:
        """backup.go runBackupList: `flexctl backup list` on a machine, its table."""
        cluster = self._archiving(a.get("app") or "")
        backups = cluster.get("base_backups", [])
        if not backups:
            print("No backups found")
            return
        print("ID/NAME | ALIAS | STATUS | END TIME | BEGIN WAL")
        for b in backups:
            print(f"{b['backup_id']} | {b['backup_name']} | {b['status']} | {b['end_time']} | -")

    def postgres_backup_restore(self, a: Call) -> None:
        """backup.go runBackupRestore: the source's leader, backups enabled, its
        S3_ARCHIVE_CONFIG read on the leader with the target appended, then one member
        launched like the leader with S3_ARCHIVE_REMOTE_RESTORE_CONFIG
        (flypg/launcher.go setSecrets). flyctl ignores what LaunchMachinesPostgres
        returns: a launch that fails still exits 0. On first boot postgres-flex restores
        (internal/flypg/node.go handleRemoteRestore, barman_restore.go): the base
        backup resolveBackupFromTime/FromName picks, then WAL replayed to the target
        (the newest archived point when there is none)."""
        if len(a.args) != 1:
            raise Fail(f"accepts 1 arg(s), received {len(a.args)}")
        if os.environ.get(PG_SOCKET_ENV):
            # One real server stands for every cluster here: a restored copy beside the
            # source cannot live on it. Said plainly rather than faked wrong.
            raise Fail("(fake) restores are modelled only without a real PostgreSQL server")
        source, dest = a.get("app") or "", a.args[0]
        app = self.app(source)
        if not app["machines"]:
            raise Fail("No active machines")
        leader = self.leader(app)
        cluster = self._archiving(source)
        target_time, target_name = a.get("restore-target-time"), a.get("restore-target-name")
        restore_config = app["secrets"][BARMAN_SECRET]
        if target_time:
            restore_config += f"?targetTime={target_time}"
        elif target_name:
            restore_config += f"?targetName={target_name}"
        if (target_time or target_name) and a.flags.get("restore-target-inclusive", True):
            restore_config += "&targetInclusive=true"
        if dest in self.state["apps"]:
            raise Fail("input:3: createApp Validation failed: Name has already been taken")
        new = self.new_app(dest, app["org"])
        restored = {
            "org": app["org"],
            "users": {u: secrets.token_hex(8) for u in ("postgres", "flypgadmin", "repmgr")},
            "superusers": ["postgres", "flypgadmin", "repmgr"],
            "databases": ["postgres"],
            "attachments": [],
            "extensions": {},
            "rows": {},
            "max_connections": cluster["max_connections"],
            "backup_config": {"recovery_window": "7d", "full_backup_frequency": "24h"},
            "restored_from": {"app": source, "config": restore_config},
        }
        self.state["pg"][dest] = restored
        new["secrets"].update(
            {
                "OPERATOR_PASSWORD": restored["users"]["postgres"],
                "S3_ARCHIVE_REMOTE_RESTORE_CONFIG": restore_config,
            }
        )
        volume = next((v for v in app["volumes"] if v["id"] == leader.get("volume")), None)
        member = self.new_machine(
            new,
            leader["region"],
            leader["guest"],
            image=a.get("image-ref") or leader["image"],
            volume_gb=volume["size_gb"] if volume else None,
            env={"PRIMARY_REGION": leader["region"]},
            metadata=POSTGRES_METADATA,
        )
        member["role"] = "primary"
        try:
            data = _restored_data(cluster, target_time, target_name)
        except Fail as failed:
            # The member's boot fails (postgres-flex exits); flyctl has returned already.
            # no role check passes on it (postgres-flex never gets to serve)
            member.pop("role")
            member["restore_error"] = str(failed)
            print(f"Machine {member['id']} is started")
            return
        # Roles come back with the data; postgres-flex resets only its own users
        # (barman_restore.go walReplayAndReset: node.setupCredentials), and drops the
        # old cluster's repmgr database.
        kept = {u: p for u, p in data["users"].items() if u not in restored["users"]}
        restored["users"].update(kept)
        restored["superusers"] += [u for u in data["superusers"] if u not in restored["superusers"]]
        restored["databases"] = list(data["databases"])
        restored["extensions"] = json.loads(json.dumps(data["extensions"]))
        restored["rows"] = json.loads(json.dumps(data["rows"]))
        password = restored["users"]["postgres"]
        # flypg/launcher.go: the credentials block, as `postgres create` prints it
        print(
            f"Postgres cluster {dest} created\n  Username:    postgres\n"
            f"  Password:    {password}\n  Hostname:    {dest}.internal\n"
            "  Flycast:     fdaa:2:7ab8:0:1::3\n  Proxy port:  5432\n  Postgres port:  5433\n"
            f"  Connection string: postgres://postgres:{password}@{dest}.flycast:5432\n\n"
            "Save your credentials in a secure place -- you won't be able to see them again!"
        )

    def ssh_console(self, a: Call) -> None:
        app = self.app(a.get("app"))
        command = a.get("command") or ""
        if (not command or a.on("pty")) and not os.isatty(0):
            raise Fail("ssh shell: the input device is not a TTY")
        machine_id = a.get("machine")
        machine = self._machine(app, machine_id) if machine_id else app["machines"][0]
        words = shlex.split(command)
        if len(words) == 2 and words[0] == "printenv":
            # An app's secrets are environment variables on its machines (superfly/docs
            # reference/secrets); postgres-flex's own scripts read the operator password
            # back so (fly-apps/postgres-flex scripts/test_scripts/config_check.sh:
            # `fly ssh console -C "printenv OPERATOR_PASSWORD"`). A machine booted by a
            # release has the secrets named in env_secrets; one made with the app's
            # first secrets (postgres create sets them before any machine) has them all.
            # printenv exits 1 for a name it does not have (coreutils), and flyctl
            # passes the status on (ssh/io.go).
            booted = machine.get("env_secrets", list(app["secrets"]))
            value = machine.get("env", {}).get(words[1])
            if value is None and words[1] in booted:
                value = app["secrets"].get(words[1])
            if value is None:
                raise Fail("ssh shell: Process exited with status 1")
            print(value)
            return
        if words[:4] == ["flexctl", "backup", "list", "--json"]:
            # postgres-flex cmd/flexctl/backups.go listBackups --json: barman's own JSON
            # (barman.go ListRawBackups, Backup's json tags)
            cluster = self._archiving(a.get("app") or "")
            fields = ("backup_id", "backup_name", "status", "end_time")
            listed = [{k: b[k] for k in fields} for b in cluster.get("base_backups", [])]
            print(json.dumps({"backups_list": listed}))
            return
        if not words or words[0] != "psql":
            raise Fail(f"ssh shell: Process exited with status 127 ({words[:1]} not modelled)")
        cluster = self.pg(a.get("app"))
        socket = os.environ.get(PG_SOCKET_ENV)
        if socket:
            status = _psql_on_server(socket, machine, words)
        else:
            database = words[words.index("-d") + 1] if "-d" in words else "postgres"
            status = _psql(cluster, machine, database, sys.stdin.read(), words)
        if status:
            # ssh/io.go: sess.Run's *ssh.ExitError is returned; flyctl exits 1
            raise Fail(f"ssh shell: Process exited with status {status}")


def _group_counts(args: list[str], group: str) -> dict[str, tuple[int, int]]:
    """scale/count.go parseGroupCounts: `3`, `+1`, `-1` for `group`, or `NAME=COUNT`
    pairs; group -> (absolute, relative)."""

    def parsed(text: str) -> tuple[int, int]:
        try:
            number = int(text)
        except ValueError:
            raise Fail(f'strconv.Atoi: parsing "{text}": invalid syntax') from None
        if text.startswith(("+", "-")):
            if number == 0:
                raise Fail(f"invalid relative scale count: {text}")
            return 0, number
        return number, 0

    if not args:
        raise Fail("requires at least 1 arg(s), only received 0")
    if len(args) == 1 and "=" not in args[0]:
        return {group: parsed(args[0])}
    counts = {}
    for arg in args:
        parts = arg.split("=")
        if len(parts) != 2:
            raise Fail(f"'{arg}' is not a valid process=count option")
        counts[parts[0]] = parsed(parts[1])
    return counts


def _converge(
    total: int, current: dict[str, int], regions: list[str], max_per_region: int
) -> dict[str, int]:
    """scale/count_machines.go convergeGroupCounts: the machines to add (+) or remove (-)
    per region so that `regions` hold `total`; regions not named are left alone."""
    regions = list(dict.fromkeys(regions or list(current)))
    diffs: dict[str, int] = {}
    if max_per_region >= 0:
        if len(regions) * max_per_region < total:
            raise Fail(
                "the number of regions by the maximum machines per region is fewer than the "
                "expected total"
            )
        for region in regions:
            if current.get(region, 0) > max_per_region:
                diffs[region] = max_per_region - current.get(region, 0)
    diff = total - sum(current.get(r, 0) + diffs.get(r, 0) for r in regions)
    i = 0
    while diff > 0:
        region = regions[i % len(regions)]
        if max_per_region < 0 or current.get(region, 0) + diffs.get(region, 0) < max_per_region:
            diffs[region] = diffs.get(region, 0) + 1
            diff -= 1
        i += 1
    i = -1
    while diff < 0:  # from the second region on (regions[-i % n]): the first is usually the primary
        region = regions[-i % len(regions)]
        if current.get(region, 0) + diffs.get(region, 0) > 0:
            diffs[region] = diffs.get(region, 0) - 1
            diff += 1
        i -= 1
    return {r: d for r, d in diffs.items() if d}


_GO_NS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1, "m": 60}


def _flex_validate(change: dict[str, str | None]) -> str | None:
    """postgres-flex internal/flypg/barman_config.go Validate, for the two keys used."""
    window = change.get("recovery_window")
    if window is not None:
        found = re.fullmatch(r"([0-9]+)([dwy])", window)
        if not found:
            return f"invalid value for recovery_window: {window}"
        if int(found.group(1)) < 1:
            return (
                "invalid value for recovery_window (expected to be >= 1, got "
                f"{int(found.group(1))})"
            )
    frequency = change.get("full_backup_frequency")
    if frequency is not None:
        # time.ParseDuration (sign, decimal numbers, units), then Hours() < 1
        units = {**_GO_NS, "h": 3600}
        body = frequency[1:] if frequency[:1] in ("+", "-") else frequency
        parts = re.findall(r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)", body)
        if body != "0" and (
            not parts
            or "".join(n + u for n, u in parts) != body
            or any(n in ("", ".") for n, _ in parts)
        ):
            return f"invalid value for full_backup_frequency: {frequency}"
        seconds = sum(float(n) * units[u] for n, u in parts)
        if frequency.startswith("-") or seconds < 3600:
            return (
                f"invalid value for full_backup_frequency (expected to be >= 1h, got {frequency})"
            )
    return None


def _psql(
    cluster: dict[str, Any], machine: dict[str, Any], database: str, script: str, argv: list[str]
) -> int:
    """psql reading statements from stdin: exits 0 after a failed statement unless
    ON_ERROR_STOP is set (then 3); with --single-transaction nothing is kept."""
    stop = "ON_ERROR_STOP=1" in argv
    single = "--single-transaction" in argv or "-1" in argv
    port = _psql_port(argv)
    if port != FLEX_PORT:
        print(_no_socket(port), file=sys.stderr)
        return 2  # psql: the connection failed
    if database not in cluster["databases"]:
        print(f'psql: error: FATAL:  database "{database}" does not exist', file=sys.stderr)
        return 2
    made = cluster["extensions"].setdefault(database, [])
    pending = list(made)
    tables = cluster.setdefault("rows", {}).setdefault(database, {})
    work = json.loads(json.dumps(tables))
    dropped: list[str] = []

    def commit() -> None:
        made[:] = pending
        tables.clear()
        tables.update(work)
        for role in dropped:
            cluster["users"].pop(role, None)
            if role in cluster.get("superusers", []):
                cluster["superusers"].remove(role)

    failing = os.environ.get("FAKE_FLY_REMOTE_FAIL")
    for statement in filter(None, (s.strip() for s in script.split(";"))):
        if machine.get("role") != "primary":
            print(
                "ERROR:  cannot execute CREATE EXTENSION in a read-only transaction",
                file=sys.stderr,
            )
            error = True
        elif failing and failing in statement:
            print(f"ERROR:  could not open extension control file ({failing})", file=sys.stderr)
            error = True
        else:
            error = not _modelled_statement(statement, cluster, work, pending, dropped)
        if error and stop:
            if not single:
                commit()
            return 3
    commit()
    return 0


def _modelled_statement(
    statement: str,
    cluster: dict[str, Any],
    tables: dict[str, list[str]],
    extensions: list[str],
    dropped: list[str],
) -> bool:
    """One statement of the few the scripts, the e2e and the drill send, on the model:
    extensions, a table of rows, the database list, dropping a role. Its output as
    psql prints it (-At: rows one a line; otherwise the command tag). False on error."""
    text = " ".join(statement.split())
    if found := re.fullmatch(r'CREATE EXTENSION IF NOT EXISTS "([^"]+)" CASCADE', text):
        if found.group(1) not in extensions:
            extensions.append(found.group(1))
    elif found := re.fullmatch(r"CREATE TABLE (IF NOT EXISTS )?(\w+) \(.*\)", text, re.I):
        if found.group(2) in tables and not found.group(1):
            print(f'ERROR:  relation "{found.group(2)}" already exists', file=sys.stderr)
            return False
        tables.setdefault(found.group(2), [])
    elif found := re.fullmatch(r"INSERT INTO (\w+) VALUES \((.*)\)", text, re.I):
        if found.group(1) not in tables:
            print(f'ERROR:  relation "{found.group(1)}" does not exist', file=sys.stderr)
            return False
        tables[found.group(1)].append(found.group(2).strip("'"))
        print("INSERT 0 1")
        return True
    elif found := re.fullmatch(r"SELECT (count\(\*\)|\*) FROM (\w+)", text, re.I):
        if found.group(2) not in tables:
            print(f'ERROR:  relation "{found.group(2)}" does not exist', file=sys.stderr)
            return False
        rows = tables[found.group(2)]
        print(len(rows) if found.group(1) != "*" else "\n".join(rows))
        return True
    elif re.fullmatch(r"SELECT datname FROM pg_database WHERE datallowconn", text, re.I):
        print("\n".join(cluster["databases"]))
        return True
    elif found := re.fullmatch(r'DROP ROLE "?(\w+)"?', text, re.I):
        if found.group(1) not in cluster["users"]:
            print(f'ERROR:  role "{found.group(1)}" does not exist', file=sys.stderr)
            return False
        dropped.append(found.group(1))
    elif text.upper() == "SELECT 1":
        print(1)
        return True
    print(" ".join(statement.split()[:2]).upper())
    return True


def _now() -> datetime:
    return datetime.now(UTC)


def _data(cluster: dict[str, Any]) -> dict[str, Any]:
    """What a base backup or WAL holds of a cluster: its databases, roles (but
    postgres-flex's own), extensions and rows."""
    own = ("postgres", "flypgadmin", "repmgr")
    copied: dict[str, Any] = json.loads(
        json.dumps(
            {
                "databases": cluster["databases"],
                "users": {u: p for u, p in cluster["users"].items() if u not in own},
                "superusers": [u for u in cluster.get("superusers", []) if u not in own],
                "extensions": cluster["extensions"],
                "rows": cluster.get("rows", {}),
            }
        )
    )
    return copied


def _restored_data(
    cluster: dict[str, Any], target_time: str | None, target_name: str | None
) -> dict[str, Any]:
    """postgres-flex barman_restore.go restoreFromBackup: a DONE base backup by
    name/id, or the newest ending before the target time (resolveBackupFromTime),
    then WAL replayed to the target time, or to the newest archived point."""
    done = [b for b in cluster.get("base_backups", []) if b["status"] == "DONE"]
    if not done:
        raise Fail("failed to restore base backup: no backups found")
    history = [(h["at"], h["data"]) for h in cluster.get("wal", [])]
    if target_name:
        base = next((b for b in done if target_name in (b["backup_id"], b["backup_name"])), None)
        if base is None:
            raise Fail(
                "failed to resolve backup target by id/name: "
                f"no backup found with id/name {target_name}"
            )
    elif target_time:
        wanted = datetime.fromisoformat(target_time)
        before = [b for b in done if datetime.fromisoformat(b["end_at"]) <= wanted]
        base = before[-1] if before else done[0]
        if datetime.fromisoformat(base["end_at"]) > wanted:
            raise Fail("requested recovery stop point is before consistent recovery point")
        history = [(at, d) for at, d in history if datetime.fromisoformat(at) <= wanted]
    else:
        base = done[-1]
    after = [(at, d) for at, d in history if at >= base["end_at"]]
    return after[-1][1] if after else dict(base["data"])


def _archive_wal(state: dict[str, Any]) -> None:
    """Archived WAL, as point-in-time states: after each call, a cluster whose leader
    archives (S3_ARCHIVE_CONFIG in its environment, postgres-flex archive_command)
    and whose data changed gets its new state recorded with the time."""
    for name, cluster in state.get("pg", {}).items():
        app = state["apps"].get(name)
        leaders = [m for m in (app or {}).get("machines", []) if m.get("role") == "primary"]
        if not leaders or BARMAN_SECRET not in leaders[0].get("env_secrets", []):
            continue
        data, wal = _data(cluster), cluster.setdefault("wal", [])
        if not wal or wal[-1]["data"] != data:
            wal.append({"at": _now().isoformat(), "data": data})


def _psql_port(argv: list[str]) -> int:
    """The port psql is told (-p N, -pN, --port N, --port=N), else its default."""
    for i, word in enumerate(argv):
        if word in ("-p", "--port") and i + 1 < len(argv):
            return int(argv[i + 1])
        if word.startswith("--port="):
            return int(word.partition("=")[2])
        if word.startswith("-p") and word[2:].isdigit():
            return int(word[2:])
    return PSQL_DEFAULT_PORT


def _no_socket(port: int) -> str:
    """psql's error when nothing listens on the socket it tries (libpq fe-connect.c)."""
    return (
        f'psql: error: connection to server on socket "{MEMBER_SOCKET_DIR}/.s.PGSQL.{port}" '
        "failed: No such file or directory\n\tIs the server running locally and accepting "
        "connections on that socket?"
    )


def _psql_on_server(socket: str, machine: dict[str, Any], argv: list[str]) -> int:
    """Run the psql command line on the real server, as on the member: the server's
    socket directory stands in for the member's default one (PGHOST), and psql keeps
    its own default port, so a command without `-p 5433` finds no socket, as there.
    A replica is a hot standby: every transaction on it is read-only."""
    env = {"PATH": os.environ["PATH"], "PGHOST": socket, "LC_ALL": "C"}
    if machine.get("role") != "primary":
        env["PGOPTIONS"] = "-c default_transaction_read_only=on"
    sys.stdout.flush()
    return subprocess.run(argv, env=env, check=False, timeout=120).returncode


def _admin_sql(sql: str, database: str = "postgres") -> list[str]:
    """What postgres-flex's admin API runs on the leader, as postgres (internal/api
    handler.go localConnection), on the real server when there is one: rows, one a
    line; an error fails the call as flyctl reports the API's 500."""
    socket = os.environ.get(PG_SOCKET_ENV)
    if not socket:
        return []
    done = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", database],
        input=sql,
        env={"PATH": os.environ["PATH"], "PGHOST": socket, "PGPORT": str(FLEX_PORT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode:
        raise Fail(f"500 Internal Server Error: {done.stderr.strip()}")
    return done.stdout.splitlines()


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_FLY_STATE"])
    with open(os.environ["FAKE_FLY_LOG"], "a") as log:
        env = sorted(k for k in os.environ if k.startswith(("FLY_", "WEBHOST_")))
        log.write(json.dumps({"argv": argv, "env": env}) + "\n")
    try:
        call = parse(argv)
    except Fail as exc:
        print(f"Error: {exc}", file=sys.stderr)  # cobra's error, printed by flyctl's cli.Run
        return 1
    if not os.environ.get("FLY_API_TOKEN"):
        print(
            "Error: no access token available. Please login with 'flyctl auth login'",
            file=sys.stderr,
        )
        return 1
    command = " ".join(call.path)
    _modelled_wait(command)
    # The real engine runs independent commands at once: one call's read-modify-write
    # of the state file must not interleave with another's (e2e, make e2e).
    lock = open(f"{state_path}.lock", "a")  # noqa: SIM115 - held until this call ends
    fcntl.flock(lock, fcntl.LOCK_EX)
    state = _load(state_path)
    try:
        failing = os.environ.get("FAKE_FLY_FAIL", "")
        if failing and command.startswith(failing):
            raise Fail(f"failed to {failing}: simulated failure (status 503)")
        once = os.environ.get("FAKE_FLY_FAIL_ONCE", "")
        if once and command.startswith(once) and once not in state["failed_once"]:
            state["failed_once"].append(once)
            raise Fail(f"failed to {once}: request returned non-2xx status: 502: bad gateway")
        nth_command, _, nth = os.environ.get("FAKE_FLY_FAIL_NTH", "").partition(":")
        if nth_command and command.startswith(nth_command):
            counts = state.setdefault("counts", {})
            counts[nth_command] = counts.get(nth_command, 0) + 1
            if counts[nth_command] == int(nth):
                raise Fail(f"failed to {nth_command}: simulated failure (status 503)")
        replaced, _, text = os.environ.get("FAKE_FLY_STDOUT", "").partition("=")
        if replaced and command.startswith(replaced):
            print(text)
            return 0
        half = bool(os.environ.get("FAKE_FLY_HALF")) and command.startswith(
            os.environ["FAKE_FLY_HALF"]
        )
        _dispatch(Fly(state), call, half)
    except Fail as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        _archive_wal(state)
        state_path.write_text(json.dumps(state))
    return 0


def _modelled_wait(command: str) -> None:
    """$FAKE_FLY_DURATIONS (JSON, subcommand prefix -> seconds): sleep that long before
    a matching command, the longest prefix winning, to model its real duration
    (bench/engine.py). Outside the state lock, so concurrent commands overlap."""
    raw = os.environ.get("FAKE_FLY_DURATIONS")
    if not raw:
        return
    if seconds := modelled_duration(command, json.loads(raw)):
        time.sleep(seconds)


def modelled_duration(command: str, durations: dict[str, float]) -> float:
    """The modelled seconds of `command` (its subcommand path): the longest matching
    prefix's, 0 when none matches."""
    matches = [p for p in durations if command == p or command.startswith(p + " ")]
    return float(durations[max(matches, key=len)]) if matches else 0.0


def _dispatch(fly: Fly, call: Call, half: bool) -> None:
    handlers = {
        ("apps", "list"): fly.apps_list,
        ("apps", "destroy"): fly.apps_destroy,
        ("deploy",): fly.deploy,
        ("scale", "count"): fly.scale_count,
        ("machine", "list"): fly.machines_list,
        ("machine", "update"): fly.machine_update,
        ("machine", "destroy"): fly.machine_destroy,
        ("volumes", "list"): fly.volumes_list,
        ("volumes", "destroy"): fly.volumes_destroy,
        ("volumes", "extend"): fly.volumes_extend,
        ("secrets", "list"): fly.secrets_list,
        ("secrets", "set"): fly.secrets_set,
        ("secrets", "unset"): fly.secrets_unset,
        ("secrets", "sync"): fly.secrets_sync,
        ("secrets", "deploy"): fly.secrets_deploy,
        ("postgres", "users", "list"): fly.postgres_users_list,
        ("postgres", "detach"): fly.postgres_detach,
        ("postgres", "connect"): fly.postgres_connect,
        ("postgres", "config", "update"): fly.postgres_config_update,
        ("postgres", "restart"): fly.postgres_restart,
        ("postgres", "backup", "config", "update"): fly.postgres_backup_config_update,
        ("postgres", "backup", "config", "show"): fly.postgres_backup_config_show,
        ("postgres", "backup", "create"): fly.postgres_backup_create,
        ("postgres", "backup", "list"): fly.postgres_backup_list,
        ("postgres", "backup", "restore"): fly.postgres_backup_restore,
        ("ssh", "console"): fly.ssh_console,
    }
    if call.path == ("postgres", "create"):
        fly.postgres_create(call, half)
    elif call.path == ("postgres", "attach"):
        fly.postgres_attach(call, half)
    elif call.path == ("machine", "clone"):
        fly.machine_clone(call, half)
    elif call.path == ("postgres", "backup", "enable"):
        fly.postgres_backup_enable(call, half)
    else:
        handlers[call.path](call)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
