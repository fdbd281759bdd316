"""`fly volumes`: flyctl internal/command/volumes/."""

from __future__ import annotations

import json

from tests.fakes.fly_cli.errors import YES_REQUIRED, Fail
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def volumes_list(fly: Fly, a: Call) -> None:
    app = fly.app(a.get("app"))
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


def volumes_destroy(fly: Fly, a: Call) -> None:
    if not a.on("yes"):
        raise Fail(YES_REQUIRED)
    app = fly.app(a.get("app"))
    for volume_id in a.args:
        found = [v for v in app["volumes"] if v["id"] == volume_id]
        if not found:
            raise Fail(f"failed destroying volume: volume {volume_id} not found")
        if found[0].get("attached_machine_id"):
            raise Fail("failed destroying volume: volume is attached to a machine")
        app["volumes"].remove(found[0])
        print(f"Destroyed volume ID: {volume_id} name: pg_data")


def volumes_extend(fly: Fly, a: Call) -> None:
    app = fly.app(a.get("app"))
    found = [v for v in app["volumes"] if v["id"] == a.args[0]]
    if not found:
        raise Fail(f"failed to extend volume: volume {a.args[0]} not found")
    size = int(a.need("size").lstrip("+"))
    if size <= found[0]["size_gb"]:
        raise Fail("failed to extend volume: new size must be larger than the current size")
    found[0]["size_gb"] = size
    print("Your Machine got its volume size extended without needing a restart")


HANDLERS = {
    ("volumes", "list"): volumes_list,
    ("volumes", "destroy"): volumes_destroy,
    ("volumes", "extend"): volumes_extend,
}
