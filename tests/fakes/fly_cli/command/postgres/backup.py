"""`fly postgres backup`: flyctl internal/command/postgres/backup.go, over flexctl on the leader."""

from __future__ import annotations

import json
import os
import sys

from tests.fakes.fly_cli.command.postgres.create import print_credentials
from tests.fakes.fly_cli.errors import NAME_TAKEN, Fail, backups_not_enabled
from tests.fakes.fly_cli.flex import barman_validate, now, restored_data, snapshot
from tests.fakes.fly_cli.machine_types import BARMAN_SECRET, PG_SOCKET_ENV, POSTGRES_METADATA
from tests.fakes.fly_cli.models import Fly, token_hex
from tests.fakes.fly_cli.root import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def postgres_backup_enable(fly: Fly, a: Call) -> None:
    """postgres/backup.go runBackupEnable, then flypg/tigris.go CreateTigrisBucket
    through extensions/core/core.go ProvisionExtension."""
    name = a.get("app") or ""
    fly.pg(name)
    app = fly.app(name)
    if BARMAN_SECRET in app["secrets"]:
        raise Fail("backups are already enabled")
    leader = fly.leader(app)
    if leader["guest"]["memory_mb"] < 512:
        raise Fail(
            "backup creation requires at least 512MB of memory. Use `fly m update "
            f"{leader['id']} --vm-memory 512` to scale up."
        )
    print("Creating Tigris bucket for backup storage")
    # core.go AgreeToProviderTos: AgreedToProviderTos is false unless the viewer is
    # a user who agreed; it prints the terms, then asks, and without --yes (which
    # `backup enable` does not define) and no terminal it fails: before any change.
    token = os.environ.get("FLY_API_TOKEN", "")
    agreed = not token.startswith("FlyV1 ") and not os.environ.get("FAKE_FLY_TOS_UNAGREED")
    if not agreed:
        print("\nBy provisioning a Tigris Storage bucket, you agree to Tigris's terms.\n")
        if not (os.isatty(0) and os.isatty(1)):
            raise Fail("To agree, the --yes flag must be specified when not running interactively")
    # core.go: GetAppWithAddons -- one bucket per app
    addons = fly.state.setdefault("addons", {})
    if name in addons:
        raise Fail(f"A Tigris Storage bucket named {addons[name]} already exists for app {name}")
    bucket = f"{name}-postgres"
    addons[name] = bucket
    print(
        f"Your Tigris Storage bucket ({bucket}) is ready. See details and next steps with: "
        "https://fly.io/docs/reference/tigris/\n"
    )
    keys = {
        "AWS_ACCESS_KEY_ID": f"tid_{token_hex(8)}",
        "AWS_ENDPOINT_URL_S3": "https://fly.storage.tigris.dev",
        "AWS_REGION": "auto",
        "AWS_SECRET_ACCESS_KEY": f"tsec_{token_hex(16)}",
        "BUCKET_NAME": bucket,
    }
    # core.go setSecretsFromExtension: the values printed to stdout, then set
    print(f"Setting the following secrets on {name}:")
    for key, value in keys.items():
        print(f"{key}: {value}")
    print()
    fly.update_secrets(name, dict(keys))
    if a.half:
        raise Fail("failed to set secrets: request returned non-2xx status: 502")
    fly.update_secrets(
        name,
        {
            BARMAN_SECRET: (
                f"https://{keys['AWS_ACCESS_KEY_ID']}:{keys['AWS_SECRET_ACCESS_KEY']}"
                f"@fly.storage.tigris.dev/{bucket}/{name}"
            )
        },
    )
    print(
        f"Backups enabled. Run `fly secrets deploy -a {name}` to restart the cluster "
        "with the new configuration."
    )


def _flexctl(fly: Fly, a: Call) -> dict[str, Any] | None:
    """A `flexctl backup config ...` run on the leader (postgres.go ExecOnLeader);
    None when flexctl refused, having said so on stderr (flyctl still exits 0)."""
    name = a.get("app")
    cluster, app = fly.pg(name), fly.app(name)
    leader = fly.leader(app)
    if BARMAN_SECRET not in app["secrets"]:  # backup.go isBackupEnabled
        raise Fail(backups_not_enabled(name))
    # flexctl backups.go backupsEnabled: S3_ARCHIVE_CONFIG in the leader's own
    # environment, i.e. deployed to it, not only set on the app.
    if BARMAN_SECRET not in leader.get("env_secrets", []):
        print("Error: backups are not enabled", file=sys.stderr)
        return None
    return cluster


def postgres_backup_config_update(fly: Fly, a: Call) -> None:
    cluster = _flexctl(fly, a)
    if cluster is None:
        return
    # backup.go runs `flexctl backup config update` with ExecOnLeader, which prints the
    # remote stdout/stderr and never looks at the remote exit code: flyctl exits 0.
    change = {
        "recovery_window": a.get("recovery-window"),
        "full_backup_frequency": a.get("full-backup-frequency"),
    }
    problem = barman_validate(change)
    if problem or os.environ.get("FAKE_FLY_IGNORE_BACKUP_CONFIG"):
        print(f"Error: {problem or 'error updating configuration: timeout'}", file=sys.stderr)
        return
    # api/handle_admin.go handleUpdateBarmanSettings writes the user config file and
    # always answers restart_required; the running monitor keeps what it read.
    cluster["backup_config"].update({k: v for k, v in change.items() if v is not None})
    print("Updated")
    print(
        "A restart is required for these changes to take effect. Run "
        f"`fly pg restart -a {a.get('app')}` to restart.)"
    )


def postgres_backup_config_show(fly: Fly, a: Call) -> None:
    cluster = _flexctl(fly, a)
    if cluster is None:
        return
    # postgres-flex cmd/flexctl/backups.go newConfigShow over handleViewBarmanSettings:
    # the config files (barman_config.go CurrentConfig), not what the monitor runs with
    config = cluster["backup_config"]
    print(f"  ArchiveTimeout = 60s\n  RecoveryWindow = {config['recovery_window']}")
    print(f"  FullBackupFrequency = {config['full_backup_frequency']}\n  MinimumRedundancy = 3")


def archiving(fly: Fly, name: str) -> dict[str, Any]:
    """The cluster, when backups are on and deployed to its leader (flyctl backup.go
    isBackupEnabled; flexctl backups.go backupsEnabled reads the leader's own env)."""
    cluster, app = fly.pg(name), fly.app(name)
    leader = fly.leader(app)
    if BARMAN_SECRET not in app["secrets"]:
        raise Fail(backups_not_enabled(name))
    if BARMAN_SECRET not in leader.get("env_secrets", []):
        raise Fail("S3_ARCHIVE_CONFIG is unset")
    return cluster


def postgres_backup_create(fly: Fly, a: Call) -> None:
    """backup.go runBackupCreate: `flexctl backup create` on the leader, which runs
    barman-cloud-backup (postgres-flex cmd/flexctl/backups.go, flypg/barman.go
    Backup): a base backup of the data as it is now."""
    name = a.get("app") or ""
    cluster = archiving(fly, name)
    at = now()
    backup = {
        # barman's ids are the start time, YYYYMMDDTHHMMSS (barman-cloud-backup)
        "backup_id": at.strftime("%Y%m%dT%H%M%S") + f"{len(cluster.get('base_backups', []))}",
        "backup_name": a.get("name") or "",
        "status": "DONE",
        # barman-cloud-backup-list's layout (postgres-flex barman_restore.go parses
        # it with "Mon Jan 2 15:04:05 2006")
        "end_time": at.strftime("%a %b %-d %H:%M:%S %Y"),
        "end_at": at.isoformat(),
        "data": snapshot(cluster),
    }
    cluster.setdefault("base_backups", []).append(backup)
    print("Performing backup...\nBackup completed successfully!")


def postgres_backup_list(fly: Fly, a: Call) -> None:
    """backup.go runBackupList: `flexctl backup list` on a machine, its table."""
    cluster = archiving(fly, a.get("app") or "")
    backups = cluster.get("base_backups", [])
    if not backups:
        print("No backups found")
        return
    print("ID/NAME | ALIAS | STATUS | END TIME | BEGIN WAL")
    for b in backups:
        print(f"{b['backup_id']} | {b['backup_name']} | {b['status']} | {b['end_time']} | -")


def postgres_backup_restore(fly: Fly, a: Call) -> None:
    """backup.go runBackupRestore: the source's leader, backups enabled, its
    S3_ARCHIVE_CONFIG read on the leader with the target appended, then one member
    launched like the leader with S3_ARCHIVE_REMOTE_RESTORE_CONFIG
    (flypg/launcher.go setSecrets). flyctl ignores what LaunchMachinesPostgres
    returns: a launch that fails still exits 0. On first boot postgres-flex restores
    (internal/flypg/node.go handleRemoteRestore, barman_restore.go): the base
    backup resolveBackupFromTime/FromName picks, then WAL replayed to the target
    (the newest archived point when there is none)."""
    if len(a.args) != 1:
        raise Fail(f"accepts 1 arg(s), received {len(a.args)}")
    if os.environ.get(PG_SOCKET_ENV):
        # One real server stands for every cluster here: a restored copy beside the
        # source cannot live on it. Said plainly rather than faked wrong.
        raise Fail("(fake) restores are modelled only without a real PostgreSQL server")
    source, dest = a.get("app") or "", a.args[0]
    app = fly.app(source)
    if not app["machines"]:
        raise Fail("No active machines")
    leader = fly.leader(app)
    cluster = archiving(fly, source)
    target_time, target_name = a.get("restore-target-time"), a.get("restore-target-name")
    restore_config = app["secrets"][BARMAN_SECRET]
    if target_time:
        restore_config += f"?targetTime={target_time}"
    elif target_name:
        restore_config += f"?targetName={target_name}"
    if (target_time or target_name) and a.flags.get("restore-target-inclusive", True):
        restore_config += "&targetInclusive=true"
    if dest in fly.state["apps"]:
        raise Fail(NAME_TAKEN)
    new = fly.new_app(dest, app["org"])
    restored = fly.new_cluster(
        dest,
        app["org"],
        rows={},
        max_connections=cluster["max_connections"],
        restored_from={"app": source, "config": restore_config},
    )
    new["secrets"].update(
        {
            "OPERATOR_PASSWORD": restored["users"]["postgres"],
            "S3_ARCHIVE_REMOTE_RESTORE_CONFIG": restore_config,
        }
    )
    volume = next((v for v in app["volumes"] if v["id"] == leader.get("volume")), None)
    member = fly.new_machine(
        new,
        leader["region"],
        leader["guest"],
        image=a.get("image-ref") or leader["image"],
        volume_gb=volume["size_gb"] if volume else None,
        env={"PRIMARY_REGION": leader["region"]},
        metadata=POSTGRES_METADATA,
    )
    member["role"] = "primary"
    try:
        data = restored_data(cluster, target_time, target_name)
    except Fail as failed:
        # The member's boot fails (postgres-flex exits); flyctl has returned already.
        # no role check passes on it (postgres-flex never gets to serve)
        member.pop("role")
        member["restore_error"] = str(failed)
        print(f"Machine {member['id']} is started")
        return
    # Roles come back with the data; postgres-flex resets only its own users
    # (barman_restore.go walReplayAndReset: node.setupCredentials), and drops the
    # old cluster's repmgr database.
    kept = {u: p for u, p in data["users"].items() if u not in restored["users"]}
    restored["users"].update(kept)
    restored["superusers"] += [u for u in data["superusers"] if u not in restored["superusers"]]
    restored["databases"] = list(data["databases"])
    restored["extensions"] = json.loads(json.dumps(data["extensions"]))
    restored["rows"] = json.loads(json.dumps(data["rows"]))
    # the credentials block, as `postgres create` prints it
    print_credentials(dest, restored["users"]["postgres"], "fdaa:2:7ab8:0:1::3")


HANDLERS = {
    ("postgres", "backup", "enable"): postgres_backup_enable,
    ("postgres", "backup", "config", "update"): postgres_backup_config_update,
    ("postgres", "backup", "config", "show"): postgres_backup_config_show,
    ("postgres", "backup", "create"): postgres_backup_create,
    ("postgres", "backup", "list"): postgres_backup_list,
    ("postgres", "backup", "restore"): postgres_backup_restore,
}
