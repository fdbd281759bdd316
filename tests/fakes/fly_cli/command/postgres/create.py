"""`fly postgres create`: flyctl internal/command/postgres/create.go over flypg/launcher.go."""

from __future__ import annotations

from tests.fakes.fly_cli.errors import LAUNCH_FAILED, NAME_TAKEN, Fail
from tests.fakes.fly_cli.machine_types import POSTGRES_METADATA
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def postgres_create(fly: Fly, a: Call) -> None:
    name = a.need("name")
    if name in fly.state["apps"]:
        raise Fail(NAME_TAKEN)
    app = fly.new_app(name, a.get("org") or "personal")
    region = a.need("region")
    cluster = fly.new_cluster(name, a.get("org"))
    # flypg/launcher.go: the operator password is kept in the app's own secrets
    app["secrets"]["OPERATOR_PASSWORD"] = cluster["users"]["postgres"]
    if a.half:
        raise Fail(LAUNCH_FAILED)
    guest = {
        "cpu_kind": a.need("vm-cpu-kind"),
        "cpus": int(a.need("vm-cpus")),
        "memory_mb": int(a.need("vm-memory")),
    }
    for i in range(int(a.need("initial-cluster-size"))):
        machine = fly.new_machine(
            app,
            region,
            guest,
            image=a.get("image-ref") or "flyio/postgres-flex:16",
            volume_gb=int(a.need("volume-size")),
            env={"PRIMARY_REGION": region},
            metadata=POSTGRES_METADATA,
        )
        machine["role"] = "primary" if i == 0 else "replica"
    print_credentials(name, cluster["users"]["postgres"], "fdaa:2:7ab8:0:1::2")


def print_credentials(name: str, password: str, flycast: str) -> None:
    """flypg/launcher.go: the credentials block a new cluster's creation prints."""
    print(
        f"Postgres cluster {name} created\n  Username:    postgres\n"
        f"  Password:    {password}\n  Hostname:    {name}.internal\n"
        f"  Flycast:     {flycast}\n  Proxy port:  5432\n  Postgres port:  5433\n"
        f"  Connection string: postgres://postgres:{password}@{name}.flycast:5432\n\n"
        "Save your credentials in a secure place -- you won't be able to see them again!"
    )


HANDLERS = {
    ("postgres", "create"): postgres_create,
}
