"""`fly machine`: flyctl internal/command/machine/."""

from __future__ import annotations

import json
import sys

from tests.fakes.fly_cli.errors import LAUNCH_FAILED, YES_REQUIRED, Fail
from tests.fakes.fly_cli.machine_types import launch_metadata
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def machines_list(fly: Fly, a: Call) -> None:
    if a.get("app") is not None and a.get("app") not in fly.state["apps"]:
        # No GraphQL lookup first: flyctl internal/command/machine/list.go asks flaps
        # List straight away, which wraps the Machines API's 404 body (fly-go
        # flaps/flaps_machines.go List "failed to list VMs: %w"; flaps.go
        # handleAPIError; flaps_apps_test.go: `{"error":"app not found"}`).
        raise Fail("failed to list VMs: app not found")
    app = fly.app(a.get("app"))
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


def machine_clone(fly: Fly, a: Call) -> None:
    # machine/clone.go: a source with a volume gets a new empty volume (CreateVolume),
    # then the machine is launched (Launch): cut off in between, the volume stays,
    # attached to nothing. --attach-volume ID[:PATH] takes an existing one instead:
    # it must be in the clone's region and attached to nothing.
    app = fly.app(a.get("app"))
    source = fly.machine(app, a.args[0])
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
    if a.half:
        if volume_gb is not None:
            app["volumes"].append(
                {
                    "id": f"vol_{fly.next_id()}",
                    "size_gb": volume_gb,
                    "region": region,
                    "attached_machine_id": None,
                }
            )
        raise Fail(LAUNCH_FAILED)
    clone = fly.new_machine(
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


def machine_update(fly: Fly, a: Call) -> None:
    if not a.on("yes"):
        raise Fail(YES_REQUIRED)
    machine = fly.machine(fly.app(a.get("app")), a.args[0])
    machine["guest"] = {
        "cpu_kind": a.need("vm-cpu-kind"),
        "cpus": int(a.need("vm-cpus")),
        "memory_mb": int(a.need("vm-memory")),
    }


def machine_destroy(fly: Fly, a: Call) -> None:
    app = fly.app(a.get("app"))
    machine = fly.machine(app, a.args[0])
    if not a.on("force"):
        raise Fail(f"machine {machine['id']} is started; use --force")
    # machine/destroy.go never touches the machine's volume: it stays, detached.
    for volume in app["volumes"]:
        if volume["id"] == machine.get("volume"):
            volume["attached_machine_id"] = None
    app["machines"].remove(machine)
    print(f"{machine['id']} has been destroyed")


HANDLERS = {
    ("machine", "list"): machines_list,
    ("machine", "clone"): machine_clone,
    ("machine", "update"): machine_update,
    ("machine", "destroy"): machine_destroy,
}
