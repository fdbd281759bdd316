"""fly-go's machine types as far as the fake reads them (fly-go machine_types.go,
flaps/flaps_machines.go), flyctl's labels on the machines it launches, and where a
Postgres Flex member's Postgres listens (postgres-flex)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
