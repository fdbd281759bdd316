"""`fly deploy`: flyctl internal/command/deploy/."""

from __future__ import annotations

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.machine_types import APP_GROUP
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def deploy(fly: Fly, a: Call) -> None:
    import tomllib

    with open(a.need("config"), "rb") as file:
        config = tomllib.load(file)
    if config.get("app") != a.get("app"):
        raise Fail(f"app {a.get('app')} does not match fly.toml app {config.get('app')}")
    app = fly.app(a.get("app"))
    # deploy/machines_launchinput.go: machines boot with MinSecretsVersion =
    # appsecrets.GetMinvers(app), the version flyctl cached locally (nil when it
    # never wrote or synced the app's secrets). Without it the fake boots the
    # oldest version flaps may serve: the one flyctl last knew, or none.
    booted = fly.state["minvers"].get(a.get("app"), 0)
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
    ours = [m for m in app["machines"] if fly.in_group(m, APP_GROUP)]
    if not ours:  # Fly's first deploy: two machines in the primary region
        for _ in range(2):
            fly.new_machine(app, config["primary_region"], guest, image=a.get("image") or "")
    for machine in app["machines"]:
        if fly.in_group(machine, APP_GROUP):  # deploy updates the app's own machines
            machine["secrets_version"] = booted
            machine["image"] = a.get("image")
    fly.state["deploys"].append(
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


HANDLERS = {
    ("deploy",): deploy,
}
