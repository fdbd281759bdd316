"""`fly postgres users list`: flyctl internal/command/postgres/users.go."""

from __future__ import annotations

import json

from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def postgres_users_list(fly: Fly, a: Call) -> None:
    cluster = fly.pg(a.get("app"))
    fly.leader(fly.app(a.get("app")))
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


HANDLERS = {
    ("postgres", "users", "list"): postgres_users_list,
}
