"""`fly postgres restart`: flyctl internal/command/postgres/restart.go."""

from __future__ import annotations

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def postgres_restart(fly: Fly, a: Call) -> None:
    """postgres/restart.go machinesRestart: every member restarted one by one,
    replicas first, then the leader (Postgres Flex: no failover first)."""
    name = a.get("app")
    fly.pg(name)
    app = fly.app(name)
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
        fly.boot(name or "", machine)
        fly.state.setdefault("restarts", []).append(machine["id"])
        print(f"Restarting machine {machine['id']}")
    print("Postgres cluster has been successfully restarted!")


HANDLERS = {
    ("postgres", "restart"): postgres_restart,
}
