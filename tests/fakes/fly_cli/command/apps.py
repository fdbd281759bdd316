"""`fly apps`: flyctl internal/command/apps/."""

from __future__ import annotations

import json

from tests.fakes.fly_cli.errors import YES_REQUIRED, Fail
from tests.fakes.fly_cli.flex import admin_sql
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def apps_list(fly: Fly, a: Call) -> None:
    # apps/list.go renders fly.App (fly-go types.go, no JSON tags: Go field names)
    org = a.get("org")
    listed = [
        {"ID": name, "Name": name, "Status": "deployed", "Organization": {"Slug": app["org"]}}
        for name, app in fly.state["apps"].items()
        if org is None or app.get("org") == org
    ]
    print(json.dumps(listed, indent=2))


def apps_destroy(fly: Fly, a: Call) -> None:
    if not a.on("yes"):
        raise Fail(YES_REQUIRED)
    fly.app(a.args[0])
    del fly.state["apps"][a.args[0]]
    cluster = fly.state["pg"].pop(a.args[0], None)
    if cluster:  # its volumes go with it: so do its databases and users
        for name in cluster["databases"]:
            if name != "postgres":
                admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        roles = set(admin_sql("SELECT rolname FROM pg_roles"))
        for name in cluster["users"]:
            if name in roles and name not in ("postgres", "flypgadmin", "repmgr"):
                admin_sql(f'DROP OWNED BY "{name}"; DROP ROLE "{name}"')
    fly.state["minvers"].pop(a.args[0], None)  # apps/destroy.go DeleteMinvers
    print(f"Destroyed app {a.args[0]}")


HANDLERS = {
    ("apps", "list"): apps_list,
    ("apps", "destroy"): apps_destroy,
}
