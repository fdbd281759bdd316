"""Postgres (`webhost:data:Postgres`): a Postgres Flex cluster, replicas, attach, backups.

Replaces the runbook's "Database Setup", "Read Replicas Setup", "Database
Scaling" and "Backup and Recovery" steps. Unmanaged Postgres Flex, because
TimescaleDB and cross-region read replicas rule out Fly Managed Postgres; flyctl
orchestrates it (repmgr, volumes, users), so every step is a flyctl script.

The graph: cluster -> each replica (in parallel); cluster -> attach (needs the
app) -> setup (extensions and the app user's privileges in the app's database,
max_connections); cluster -> backups. The attach's URL becomes DATABASE_URL;
DATABASE_READ_URL is the same user on the nearest member's direct port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pulumi
from pulumi_command import local

from components import catalog
from components.config import Restore, StackConfig
from components.fly import flyctl
from components.fly.providers.postgres_shape import PostgresShape

_ATTACH_LINE = re.compile(rf"^\s*{flyctl.ATTACH_VARIABLE}=(\S+)\s*$", re.MULTILINE)
_OPERATOR_LINE = re.compile(r"^\s*Connection string:\s*(\S+)\s*$", re.MULTILINE)


def attached_url(stdout: str) -> str:
    """The URL `fly postgres attach` printed for the new user (never echoed in errors)."""
    found = _ATTACH_LINE.search(stdout)
    if found is None:
        raise ValueError(
            f"`fly postgres attach` printed no {flyctl.ATTACH_VARIABLE}=... line; "
            "see the command's stderr for what flyctl said"
        )
    return found.group(1)


def operator_url(stdout: str) -> str | None:
    """The operator connection string in the cluster command's stdout: printed by `fly
    postgres create`, handed on by an update, or read back (scripts/postgres_cluster.sh)."""
    found = _OPERATOR_LINE.search(stdout)
    return found.group(1) if found else None


def read_url(write_url: str, cluster: str) -> str:
    """The same user and database on the nearest member's Postgres port (reads)."""
    parts = urlsplit(write_url)
    credentials = parts.netloc.rpartition("@")[0]
    host = f"top1.nearest.of.{cluster}.internal:{catalog.POSTGRES_READ_PORT}"
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


@dataclass(frozen=True)
class PostgresArgs:
    config: StackConfig
    app: pulumi.Input[str]  # the consuming Fly app's name, as an output of the app


class Postgres(pulumi.ComponentResource):
    """The app's database: cluster, read replicas, its own user, extensions, backups."""

    cluster: pulumi.Output[str]
    database_url: pulumi.Output[str]
    read_url: pulumi.Output[str]
    operator_url: pulumi.Output[str | None]
    attach: local.Command

    def __init__(
        self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        config = args.config
        pg, active, database = config.postgres, config.postgres_active, config.database_name
        if pg is None or active is None or database is None:
            raise ValueError(f"Postgres {name}: the stack config has no webhost:postgres")
        super().__init__("webhost:data:Postgres", name, None, opts)
        sources = {r.name: r for r in pg.restores}
        previous: local.Command | None = None
        clusters: dict[str, _Cluster] = {}
        # Every cluster side by side, each its own resources: the first under the
        # names this component always gave it (so existing stacks keep their URNs),
        # a restore under names of its own. A new cluster is never a replacement of
        # the old one, so `protect` holds throughout; only the active one's URL
        # reaches the app.
        for i, cluster in enumerate(config.postgres_clusters):
            built = _Cluster(
                self,
                f"{name}-db" if i == 0 else f"{name}-db-{cluster}",
                config=config,
                cluster=cluster,
                database=database,
                app=args.app,
                restore=sources.get(cluster),
                retired=cluster in pg.retired,
                after=previous,
            )
            clusters[cluster] = built
            previous = built.attach
        chosen = clusters[active]
        self.attach = chosen.attach
        self.cluster = pulumi.Output.from_input(active)
        self.database_url = pulumi.Output.secret(self.attach.stdout.apply(attached_url))
        self.read_url = pulumi.Output.secret(
            self.database_url.apply(lambda url: read_url(url, active))
        )
        self.operator_url = pulumi.Output.secret(chosen.members.stdout.apply(operator_url))
        self.register_outputs(
            {
                "cluster": self.cluster,
                "database_url": self.database_url,
                "read_url": self.read_url,
                "operator_url": self.operator_url,
            }
        )


class _Cluster:
    """One cluster's resources: shape, members, replicas, attach, setup, backups."""

    def __init__(
        self,
        parent: pulumi.Resource,
        name: str,
        *,
        config: StackConfig,
        cluster: str,
        database: str,
        app: pulumi.Input[str],
        restore: Restore | None,
        retired: bool,
        after: local.Command | None,
    ) -> None:
        pg = config.postgres
        assert pg is not None  # Postgres checked it
        # A retired cluster is let go on purpose: unprotected, so a later change can
        # drop it from the stack, and retained, so dropping it deletes nothing on Fly
        # (its data stays for a human to destroy with `fly apps destroy`).
        protect = config.protect and not retired
        kept = pulumi.ResourceOptions(
            parent=parent, protect=protect, retain_on_delete=True if retired else None
        )
        base = {"WEBHOST_PG_APP": cluster}
        # Scripts that may destroy something ask whether the stack is protected.
        guarded = {
            **base,
            "WEBHOST_ORG": config.org,
            "WEBHOST_PROTECTED": str(config.protect).lower(),
        }

        # What the cluster script cannot change after creation (a smaller cluster or
        # volume, another image or primary region) fails the plan here, before any
        # script runs (components/fly/providers/postgres_shape.py).
        shape = PostgresShape(
            f"{name}-shape",
            name=cluster,
            primary_region=config.primary_region,
            image=pg.image,
            cluster_size=pg.cluster_size,
            volume_gb=pg.volume_gb,
            opts=kept,
        )

        # A restore is made by flyctl's own path, `fly postgres backup restore`, the
        # first time only (postgres_cluster.sh); its inputs are new keys, so the first
        # cluster's environment (and so its state) is what it always was.
        restored: dict[str, pulumi.Input[str]] = {}
        if restore is not None:
            restored = {
                "WEBHOST_RESTORE_SOURCE": restore.source,
                "WEBHOST_RESTORE_TARGET_TIME": restore.target_time or "",
                "WEBHOST_RESTORE_TARGET_NAME": restore.target_name or "",
            }
        # The cluster outlives this program in prod: deleting the resource (or the
        # stack) leaves the database to a human.
        self.members = flyctl.command(
            name,
            create=flyctl.POSTGRES_CLUSTER_SCRIPT,
            delete=flyctl.POSTGRES_CLUSTER_DELETE,
            environment={
                **guarded,
                "WEBHOST_REGION": config.primary_region,
                "WEBHOST_IMAGE": pg.image,
                "WEBHOST_CLUSTER_SIZE": str(pg.cluster_size),
                "WEBHOST_VM_CPU_KIND": pg.vm.cpu_kind,
                "WEBHOST_VM_CPUS": str(pg.vm.cpus),
                "WEBHOST_VM_MEMORY": str(pg.vm.memory_mb),
                "WEBHOST_VOLUME_GB": str(pg.volume_gb),
                **restored,
            },
            secret_stdout=True,
            # An update (the create script again) prints the credentials of the create
            # once more, from its last stdout: operator_url survives every update.
            previous_output=True,
            opts=pulumi.ResourceOptions.merge(
                kept,
                pulumi.ResourceOptions(
                    retain_on_delete=config.protect or retired, depends_on=[shape]
                ),
            ),
        )
        after_cluster = pulumi.ResourceOptions.merge(
            kept, pulumi.ResourceOptions(depends_on=[self.members])
        )

        def after_the_cluster(
            suffix: str, scripts: tuple[str, str], environment: dict[str, pulumi.Input[str]]
        ) -> None:
            """A script run (create, delete) once the cluster is there."""
            create, delete = scripts
            flyctl.command(
                f"{name}-{suffix}",
                create=create,
                delete=delete,
                environment=environment,
                opts=after_cluster,
            )

        replica = (flyctl.POSTGRES_REPLICA_SCRIPT, flyctl.POSTGRES_REPLICA_DELETE)
        for region in pg.replica_regions:
            where = {"WEBHOST_PRIMARY_REGION": config.primary_region, "WEBHOST_REGION": region}
            after_the_cluster(f"replica-{region}", replica, {**base, **where})

        # Another database, user or app is another attachment: replace it (the old
        # one detached first), never re-run the attach in place. Any other change
        # runs the update script, which prints again the URL the create recorded.
        # No new environment key on the first cluster's: it would replace (and so
        # re-create) the attachment of every existing stack. A restored cluster holds
        # the source's copy of the app's user, whose password this stack does not
        # know: WEBHOST_RESTORED lets its attach drop that copy to attach afresh.
        attach_inputs: dict[str, pulumi.Input[str]] = {
            **base,
            "WEBHOST_APP": app,
            "WEBHOST_DB_NAME": database,
            "WEBHOST_DB_USER": database,
        }
        if restore is not None:
            attach_inputs["WEBHOST_RESTORED"] = "true"
        # Attaches share the app's scratch secret: one at a time.
        serial = pulumi.ResourceOptions(depends_on=[after]) if after is not None else None
        self.attach = flyctl.command(
            f"{name}-attach",
            create=flyctl.POSTGRES_ATTACH_SCRIPT,
            update=flyctl.POSTGRES_ATTACH_UPDATE,
            delete=flyctl.POSTGRES_DETACH_SCRIPT,
            environment=attach_inputs,
            secret_stdout=True,
            previous_output=True,
            opts=pulumi.ResourceOptions.merge(
                pulumi.ResourceOptions.merge(after_cluster, serial),
                pulumi.ResourceOptions(
                    replace_on_changes=["environment"], delete_before_replace=True
                ),
            ),
        )

        # Extensions, and the attach's user cut down to its own database (the attach
        # grants it every database's tables). A replaced attach is a new user with
        # those grants again: its new id (pulumi-command commandController.go Create,
        # a unique hex) replaces the setup, so the setup runs again after it.
        flyctl.command(
            f"{name}-setup",
            create=flyctl.POSTGRES_SETUP_SCRIPT,
            environment={
                **base,
                "WEBHOST_DB_NAME": database,
                "WEBHOST_DB_USER": database,
                "WEBHOST_EXTENSIONS": " ".join(pg.extensions),
                "WEBHOST_MAX_CONNECTIONS": str(pg.max_connections),
            },
            triggers=[self.attach.id],
            opts=pulumi.ResourceOptions.merge(
                kept, pulumi.ResourceOptions(depends_on=[self.attach])
            ),
        )

        if pg.backups.enabled:
            backups = (flyctl.POSTGRES_BACKUPS_SCRIPT, flyctl.POSTGRES_BACKUPS_DELETE)
            schedule = {
                "WEBHOST_BACKUP_SECRET": catalog.BACKUP_SECRET,
                "WEBHOST_BACKUP_RESTART_MARKER": catalog.BACKUP_RESTART_MARKER,
                "WEBHOST_RECOVERY_WINDOW": pg.backups.recovery_window,
                "WEBHOST_FULL_BACKUP_FREQUENCY": pg.backups.full_backup_frequency,
            }
            after_the_cluster("backups", backups, {**guarded, **schedule})
