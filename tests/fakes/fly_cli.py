"""A fake `fly` executable: the flyctl subcommands the scripts use, with Fly's behaviour.

State (apps, machines, secrets, Postgres users and attachments) lives in
$FAKE_FLY_STATE, a JSON file, so a script can be re-run against what an earlier
run left. Every call is appended to $FAKE_FLY_LOG as JSON: argv, and which
FLY_* / WEBHOST_* names were in the environment (names only).

Failures, the way flyctl reports them (a message on stderr, exit status 1):
- $FAKE_FLY_FAIL="<subcommand>" makes that subcommand fail before doing anything;
- $FAKE_FLY_HALF="<subcommand>" makes it fail half-way (postgres create: the app
  exists, no member yet; postgres attach: the user exists, nothing else).

Output formats follow flyctl's source: `postgres create` and `postgres attach`
print credentials as flyctl does; `--json` listings are JSON arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import tomllib
from pathlib import Path
from typing import Any


class Fail(Exception):
    pass


def _load(path: Path) -> dict[str, Any]:
    if path.exists():
        state: dict[str, Any] = json.loads(path.read_text())
        return state
    return {"apps": {}, "deploys": [], "pg": {}, "calls": 0}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fly", add_help=False)
    p.add_argument("words", nargs="*")
    for flag in (
        "--app",
        "--config",
        "--image",
        "--strategy",
        "--region",
        "--name",
        "--org",
        "--image-ref",
        "--initial-cluster-size",
        "--vm-cpu-kind",
        "--vm-cpus",
        "--vm-memory",
        "--volume-size",
        "--database",
        "--database-name",
        "--database-user",
        "--variable-name",
        "--max-connections",
        "--recovery-window",
        "--full-backup-frequency",
    ):
        p.add_argument(flag)
    for flag in ("--json", "--no-public-ips", "--yes", "--stage", "--force"):
        p.add_argument(flag, action="store_true")
    return p


class Fly:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    # -- helpers ---------------------------------------------------------------

    def app(self, name: str) -> dict[str, Any]:
        if name not in self.state["apps"]:
            raise Fail(f'Could not find App "{name}"')
        app: dict[str, Any] = self.state["apps"][name]
        return app

    def new_app(self, name: str) -> dict[str, Any]:
        app = {"machines": [], "secrets": {}}
        self.state["apps"][name] = app
        return app

    def new_machine(self, app: dict[str, Any], region: str, guest: dict[str, Any]) -> None:
        self.state["calls"] = self.state.get("calls", 0) + 1
        app["machines"].append(
            {"id": f"{self.state['calls']:014x}", "region": region, "guest": dict(guest)}
        )

    def pg(self, name: str) -> dict[str, Any]:
        self.app(name)
        cluster: dict[str, Any] = self.state["pg"][name]
        return cluster

    # -- commands --------------------------------------------------------------

    def deploy(self, a: argparse.Namespace) -> None:
        config = tomllib.loads(Path(a.config).read_text())
        if config.get("app") != a.app:
            raise Fail(f"app {a.app} does not match fly.toml app {config.get('app')}")
        app = self.state["apps"].get(a.app) or self.new_app(a.app)
        if not app["machines"]:  # Fly's first deploy: two machines in the primary region
            vm = config["vm"][0]
            guest = {
                "cpu_kind": vm["cpu_kind"],
                "cpus": vm["cpus"],
                "memory_mb": int(vm["memory"].removesuffix("mb")),
            }
            for _ in range(2):
                self.new_machine(app, config["primary_region"], guest)
        self.state["deploys"].append({"app": a.app, "image": a.image, "strategy": a.strategy})
        print(
            f"==> Verifying app config\nVisit your newly deployed app at https://{a.app}.fly.dev/"
        )

    def scale_count(self, a: argparse.Namespace) -> None:
        if not a.yes:
            raise Fail("yes flag must be specified when not running interactively")
        if "," in (a.region or ""):
            raise Fail("the fake takes one region per call")
        app = self.app(a.app)
        count = int(a.words[2])
        here = [m for m in app["machines"] if m["region"] == a.region]
        others = [m for m in app["machines"] if m["region"] != a.region]
        guest = (here or app["machines"] or [{"guest": {}}])[0]["guest"]
        app["machines"] = others + here[:count]
        for _ in range(count - len(here)):
            self.new_machine(app, a.region, guest)
        print(f"App '{a.app}' is going to be scaled according to this plan:")
        print(f"  {count} machines in {a.region}")

    def machines_list(self, a: argparse.Namespace) -> None:
        listed = [
            {
                "id": m["id"],
                "name": f"{a.app}-{m['id'][-4:]}",
                "state": "started",
                "region": m["region"],
                "config": {"guest": m["guest"], "metadata": {"fly_process_group": "app"}},
            }
            for m in self.app(a.app)["machines"]
        ]
        print(json.dumps(listed, indent=2))

    def machine(self, a: argparse.Namespace) -> None:
        verb, machine_id = a.words[1], a.words[2]
        app = self.app(a.app)
        found = [m for m in app["machines"] if m["id"] == machine_id]
        if not found:
            raise Fail(f"machine {machine_id} not found")
        if verb == "clone":
            self.new_machine(app, a.region, found[0]["guest"])
            print(f"Machine {app['machines'][-1]['id']} has been created", file=sys.stderr)
        elif verb == "update":
            if not a.yes:
                raise Fail("yes flag must be specified when not running interactively")
            found[0]["guest"] = {
                "cpu_kind": a.vm_cpu_kind,
                "cpus": int(a.vm_cpus),
                "memory_mb": int(a.vm_memory),
            }
        elif verb == "destroy":
            if not a.force:
                raise Fail(f"machine {machine_id} is started; use --force")
            app["machines"].remove(found[0])

    def status(self, a: argparse.Namespace) -> None:
        print(f"App\n  Name     = {self.app(a.app) and a.app}")

    def apps_destroy(self, a: argparse.Namespace) -> None:
        if not a.yes:
            raise Fail("yes flag must be specified when not running interactively")
        self.app(a.words[2])
        del self.state["apps"][a.words[2]]
        self.state["pg"].pop(a.words[2], None)
        print(f"Destroyed app {a.words[2]}")

    def secrets_list(self, a: argparse.Namespace) -> None:
        names = sorted(self.app(a.app)["secrets"])
        print(
            json.dumps([{"name": n, "digest": "0" * 16, "created_at": "2026-11-25"} for n in names])
        )

    def secrets_unset(self, a: argparse.Namespace) -> None:
        app = self.app(a.app)
        for name in a.words[2:]:
            if name not in app["secrets"]:
                raise Fail(f"secret {name} not found")
            del app["secrets"][name]
        print(f"Unset {' '.join(a.words[2:])}", file=sys.stderr)

    def secrets_deploy(self, a: argparse.Namespace) -> None:
        self.app(a.app)
        print(f"Updating existing machines in '{a.app}'")

    def postgres_create(self, a: argparse.Namespace, half: bool) -> None:
        if a.name in self.state["apps"]:
            raise Fail("input:3: createApp Validation failed: Name has already been taken")
        app = self.new_app(a.name)
        self.state["pg"][a.name] = {
            "org": a.org,
            "image": a.image_ref,
            "volume_gb": int(a.volume_size),
            "users": {u: secrets.token_hex(8) for u in ("postgres", "flypgadmin", "repmgr")},
            "databases": ["postgres"],
            "attachments": [],
            "extensions": {},
            "max_connections": 300,
            "backup_config": None,
        }
        if half:
            raise Fail("failed to launch machine: 503 Service Unavailable")
        guest = {"cpu_kind": a.vm_cpu_kind, "cpus": int(a.vm_cpus), "memory_mb": int(a.vm_memory)}
        for _ in range(int(a.initial_cluster_size)):
            self.new_machine(app, a.region, guest)
        password = self.state["pg"][a.name]["users"]["postgres"]
        print(
            f"Postgres cluster {a.name} created\n  Username:    postgres\n"
            f"  Password:    {password}\n  Hostname:    {a.name}.internal\n"
            "  Flycast:     fdaa:2:7ab8:0:1::2\n  Proxy port:  5432\n  Postgres port:  5433\n"
            f"  Connection string: postgres://postgres:{password}@{a.name}.flycast:5432\n\n"
            "Save your credentials in a secure place -- you won't be able to see them again!"
        )

    def postgres_users_list(self, a: argparse.Namespace) -> None:
        cluster = self.pg(a.app)
        users = [
            {"username": u, "superuser": u == "postgres", "databases": cluster["databases"]}
            for u in cluster["users"]
        ]
        print(json.dumps(users))

    def postgres_attach(self, a: argparse.Namespace, half: bool) -> None:
        pg_name = a.words[2]
        cluster, app = self.pg(pg_name), self.app(a.app)
        var = a.variable_name or "DATABASE_URL"
        if var in app["secrets"]:
            raise Fail(f'consumer app "{a.app}" already contains a secret named {var}')
        user, database = a.database_user, a.database_name
        if user in cluster["users"]:
            raise Fail(
                f'database user "{user}" already exists. '
                "Please specify a new database user via --database-user"
            )
        password = secrets.token_hex(8)
        cluster["users"][user] = password
        if half:
            raise Fail("failed executing create-user: 500 Internal Server Error")
        if database not in cluster["databases"]:
            cluster["databases"].append(database)
        cluster["attachments"].append(
            {"app": a.app, "database": database, "user": user, "var": var}
        )
        url = f"postgres://{user}:{password}@{pg_name}.flycast:5432/{database}?sslmode=disable"
        app["secrets"][var] = url
        print("Checking for existing attachments\nRegistering attachment\nCreating database")
        print(f"Creating user\n\nPostgres cluster {pg_name} is now attached to {a.app}")
        print(f"The following secret was added to {a.app}:\n  {var}={url}")

    def postgres_detach(self, a: argparse.Namespace) -> None:
        pg_name = a.words[2]
        cluster, app = self.pg(pg_name), self.app(a.app)
        mine = [x for x in cluster["attachments"] if x["app"] == a.app]
        if not mine:
            raise Fail("no attachments found")
        if not os.isatty(0):
            raise Fail("prompt: non interactive")
        options = ", ".join(
            f"PG Database: {x['database']}, PG User: {x['user']}, Environment variable: {x['var']}"
            for x in mine
        )
        print(
            "? Select the attachment that you would like to detach "
            f"(Database will remain intact): {options}",
            flush=True,
        )
        sys.stdin.readline()
        target = mine[0]
        cluster["users"].pop(target["user"], None)
        cluster["attachments"].remove(target)
        if target["var"] in app["secrets"]:
            del app["secrets"][target["var"]]
            print(f'Secret "{target["var"]}" was scheduled to be removed from app {a.app}')
        else:
            print(f"secret {target['var']} not found")
        print("Detach completed successfully!")

    def postgres_connect(self, a: argparse.Namespace) -> None:
        cluster = self.pg(a.app)
        if a.database not in cluster["databases"]:
            raise Fail(f'database "{a.database}" does not exist')
        made = cluster["extensions"].setdefault(a.database, [])
        for name in re.findall(
            r'CREATE EXTENSION IF NOT EXISTS "([^"]+)" CASCADE;', sys.stdin.read()
        ):
            if name not in made:
                made.append(name)
                print("CREATE EXTENSION")

    def postgres_config_update(self, a: argparse.Namespace) -> None:
        cluster = self.pg(a.app)
        if not a.yes:
            raise Fail("auto-confirm flag must be specified when not running interactively")
        if int(a.max_connections) == cluster["max_connections"]:
            raise Fail("no changes to apply")
        print(
            f"NAME            VALUE  TARGET VALUE  RESTART REQUIRED\nmax-connections "
            f"{cluster['max_connections']}    {a.max_connections}           true"
        )
        cluster["max_connections"] = int(a.max_connections)
        print("Performing update...\nUpdate complete!")

    def postgres_backup(self, a: argparse.Namespace) -> None:
        cluster, app = self.pg(a.app), self.app(a.app)
        enabled = "S3_ARCHIVE_CONFIG" in app["secrets"]
        if a.words[2] == "enable":
            if enabled:
                raise Fail("backups are already enabled")
            app["secrets"]["S3_ARCHIVE_CONFIG"] = (
                f"https://tid_{secrets.token_hex(4)}:tsec_{secrets.token_hex(8)}"
                f"@fly.storage.tigris.dev/{a.app}-postgres/{a.app}"
            )
            print(
                f"Backups enabled. Run `fly secrets deploy -a {a.app}` to restart the cluster "
                "with the new configuration."
            )
        elif a.words[2:4] == ["config", "update"]:
            if not enabled:
                raise Fail(
                    f"backups are not enabled. Run `fly pg backup enable -a {a.app}` to enable them"
                )
            cluster["backup_config"] = {
                "recovery_window": a.recovery_window,
                "full_backup_frequency": a.full_backup_frequency,
            }


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_FLY_STATE"])
    with open(os.environ["FAKE_FLY_LOG"], "a") as log:
        env = sorted(k for k in os.environ if k.startswith(("FLY_", "WEBHOST_")))
        log.write(json.dumps({"argv": argv, "env": env}) + "\n")
    if not os.environ.get("FLY_API_TOKEN"):
        print(
            "Error: no access token available. Please login with 'flyctl auth login'",
            file=sys.stderr,
        )
        return 1
    args = _parser().parse_args(argv)
    command = " ".join(args.words[:3])
    try:
        failing = os.environ.get("FAKE_FLY_FAIL", "")
        if failing and command.startswith(failing):
            raise Fail(f"failed to {failing}: simulated failure (status 503)")
        half = bool(os.environ.get("FAKE_FLY_HALF")) and command.startswith(
            os.environ["FAKE_FLY_HALF"]
        )
        state = _load(state_path)
        fly = Fly(state)
        try:
            _dispatch(fly, args, half)
        finally:
            state_path.write_text(json.dumps(state))
    except Fail as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


def _dispatch(fly: Fly, a: argparse.Namespace, half: bool) -> None:
    w = a.words
    table = {
        ("deploy",): fly.deploy,
        ("scale", "count"): fly.scale_count,
        ("machines", "list"): fly.machines_list,
        ("status",): fly.status,
        ("apps", "destroy"): fly.apps_destroy,
        ("secrets", "list"): fly.secrets_list,
        ("secrets", "unset"): fly.secrets_unset,
        ("secrets", "deploy"): fly.secrets_deploy,
        ("postgres", "users"): fly.postgres_users_list,
        ("postgres", "detach"): fly.postgres_detach,
        ("postgres", "connect"): fly.postgres_connect,
        ("postgres", "config"): fly.postgres_config_update,
        ("postgres", "backup"): fly.postgres_backup,
    }
    if w[:2] == ["postgres", "create"]:
        fly.postgres_create(a, half)
    elif w[:2] == ["postgres", "attach"]:
        fly.postgres_attach(a, half)
    elif w[:1] == ["machine"] and len(w) == 3:
        fly.machine(a)
    elif (handler := table.get(tuple(w[:2])) or table.get(tuple(w[:1]))) is not None:
        handler(a)
    else:
        raise Fail(f"unknown command {' '.join(w)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
