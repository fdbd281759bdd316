"""`fly postgres config update`: flyctl internal/command/postgres/config_update.go."""

from __future__ import annotations

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def postgres_config_update(fly: Fly, a: Call) -> None:
    cluster = fly.pg(a.get("app"))
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


HANDLERS = {
    ("postgres", "config", "update"): postgres_config_update,
}
