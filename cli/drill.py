"""`webhost-infra restore-drill`: restore the newest backup into a scratch cluster.

A scheduled proof that the backups restore (.github/workflows/restore-drill.yml):

1. the stack's active cluster's base backups, as postgres-flex lists them (`flexctl
   backup list --json` over `fly ssh console`: barman's own JSON, postgres-flex
   cmd/flexctl/backups.go listBackups, internal/flypg/barman.go Backup): the
   recovery point is the age of the newest completed one;
2. a scratch cluster that did not exist before (a complete `fly apps list` of the
   org without it) restored by flyctl's own path, `fly postgres backup restore
   SCRATCH --app CLUSTER` (flyctl internal/command/postgres/backup.go
   runBackupRestore), which returns once the member is launched, and whose launch
   errors it ignores: the restore counts as done only when the smoke queries pass;
3. smoke queries on the scratch leader over `fly ssh console` (psql on 5433, as
   postgres): the server answers, the app's database is there and takes a query;
   the recovery time is from the restore's start to the first passing smoke query;
4. the scratch cluster destroyed, and only it: only a name this run computed, that
   is no cluster, app or Redis of the stack, that the org did not hold before, and
   that the restore made. A cluster that could not be destroyed is reported by name.

Figures go to stdout, to $GITHUB_STEP_SUMMARY when set, and as JSON to `--figures`
(FIGURES_FILE by default). Exit 0 when every step passed within
postgres.backups.recoveryPointObjective and recoveryTimeObjective; 1 otherwise; 2
on bad input.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from components.config import StackConfig
from components.fly import machines as fly_machines

FIGURES_FILE = "restore-drill.json"
# barman-cloud-backup-list's end_time layout, as postgres-flex parses it
# (internal/flypg/barman_restore.go resolveBackupFromTime: "Mon Jan 2 15:04:05 2006").
BARMAN_TIME = "%a %b %d %H:%M:%S %Y"
# Postgres Flex's Postgres listens on 5433 (postgres-flex internal/flypg/node.go).
FLEX_PORT = 5433
RESTORE_TIMEOUT_S = 3 * 3600.0  # flyctl waits on the launch; bounded here


class DrillInputError(Exception):
    """The stack cannot be drilled (no Postgres, no backups, a bad scratch name)."""


@dataclass
class Report:
    stack: str
    source: str
    scratch: str
    started_at: str
    recovery_point_seconds: float | None = None
    recovery_time_seconds: float | None = None
    recovery_point_objective_seconds: float = 0.0
    recovery_time_objective_seconds: float = 0.0
    newest_backup: str | None = None
    steps: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    scratch_left: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures

    def config_commands(self) -> list[str]:
        """What records a passed drill for the `backups` policy: the stack keys
        `postgres.backups.lastDrill.*` (components/config/data.py RestoreDrill), in whole
        minutes rounded up, so a figure never reads better than it was measured."""
        if not self.passed or None in (self.recovery_point_seconds, self.recovery_time_seconds):
            return []
        key = "webhost:postgres.backups.lastDrill"
        point = math.ceil((self.recovery_point_seconds or 0.0) / 60)
        restore = math.ceil((self.recovery_time_seconds or 0.0) / 60)
        return [
            f"pulumi config set --stack {self.stack} --path '{key}.date' {self.started_at[:10]}",
            f"pulumi config set --stack {self.stack} --path '{key}.recoveryPointMinutes' {point}",
            f"pulumi config set --stack {self.stack} --path '{key}.restoreMinutes' {restore}",
        ]

    def markdown(self) -> str:
        def figure(seconds: float | None) -> str:
            return "not measured" if seconds is None else f"{seconds / 60:.1f} min"

        lines = [
            f"### Restore drill: stack {self.stack} ({'passed' if self.passed else 'FAILED'})",
            "",
            "| figure | value | target |",
            "|---|---|---|",
            f"| recovery point (age of the newest base backup) | "
            f"{figure(self.recovery_point_seconds)} | "
            f"{figure(self.recovery_point_objective_seconds)} |",
            f"| recovery time (restore until the smoke queries pass) | "
            f"{figure(self.recovery_time_seconds)} | "
            f"{figure(self.recovery_time_objective_seconds)} |",
            "",
            f"Restored `{self.source}` (newest backup {self.newest_backup or 'none'}) into "
            f"the scratch cluster `{self.scratch}`.",
            "",
            *(f"- {step}: {outcome}" for step, outcome in self.steps.items()),
        ]
        if self.failures:
            lines += ["", "Failures:", *(f"- {f}" for f in self.failures)]
        if self.config_commands():
            lines += [
                "",
                "Record it for the `backups` policy (commit the stack file):",
                "```sh",
                *self.config_commands(),
                "```",
            ]
        return "\n".join(lines) + "\n"


# -- flyctl --------------------------------------------------------------------------------
def _fly(*args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
    """flyctl's stdout; FlyctlError with its stderr when it fails."""
    done = fly_machines.fly(*args, timeout=timeout, stdin=stdin)
    if done.returncode != 0:
        raise fly_machines.failed(args, done)
    return done.stdout


def app_present(app: str, org: str) -> bool:
    """Whether the org holds the app, from a complete `fly apps list` (flyctl
    internal/command/apps/list.go; fly-go types.go App: Go field names). Raises
    FlyctlError when flyctl could not answer: absence is concluded from nothing less."""
    listed = fly_machines.listing("apps", "list", "--org", org)
    return any(a.get("Name") == app for a in listed)


def leader(app: str) -> str:
    """The primary, as flyctl picks it (internal/command/postgres/postgres.go
    pickLeader: the machine whose "role" check passes with output "primary")."""
    for machine in fly_machines.listing("machines", "list", "--app", app):
        for check in machine.get("checks") or []:
            if (
                check.get("name") == "role"
                and check.get("status") == "passing"
                and check.get("output") == "primary"
            ):
                return str(machine["id"])
    raise fly_machines.FlyctlError(f"postgres app {app} has no passing primary")


def newest_backup(cluster: str) -> tuple[str, datetime]:
    """The newest completed base backup: id and end time (barman's JSON over ssh)."""
    out = _fly("ssh", "console", "--app", cluster, "--command", "flexctl backup list --json")
    try:
        listed = json.loads(out)["backups_list"]
        done = [
            (str(b["backup_id"]), datetime.strptime(b["end_time"], BARMAN_TIME).replace(tzinfo=UTC))
            for b in listed
            if b.get("status") == "DONE"
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise fly_machines.FlyctlError(
            f"`flexctl backup list --json` on {cluster} printed no backup list ({exc})"
        ) from None
    if not done:
        raise fly_machines.FlyctlError(f"no completed base backup of {cluster}")
    return max(done, key=lambda b: (b[1], b[0]))


def psql(app: str, machine: str, database: str, sql: str) -> list[str]:
    """Rows of `sql` run on the member as postgres (-At: one row a line)."""
    out = _fly(
        "ssh",
        "console",
        "--app",
        app,
        "--machine",
        machine,
        "--command",
        f"psql -X -q -At -v ON_ERROR_STOP=1 -p {FLEX_PORT} -U postgres -d {database}",
        stdin=sql,
    )
    return out.splitlines()


def smoke(app: str, database: str) -> None:
    """The restored cluster answers: a primary, its database list holds the app's
    database, and a query runs there. Raises FlyctlError naming what failed."""
    member = leader(app)
    databases = psql(
        app, member, "postgres", "SELECT datname FROM pg_database WHERE datallowconn;\n"
    )
    if database not in databases:
        raise fly_machines.FlyctlError(f"the restored cluster has no database {database}")
    if psql(app, member, database, "SELECT 1;\n") != ["1"]:
        raise fly_machines.FlyctlError(f"SELECT 1 in {database} did not answer 1")


# -- the drill -----------------------------------------------------------------------------
def scratch_name(source: str, now: datetime) -> str:
    """A name no stack uses: the source's, `-drill-`, and the minute (a Fly app name
    is a DNS label of at most 63 characters)."""
    suffix = f"-drill-{now:%Y%m%d%H%M}"
    return f"{source[: 63 - len(suffix)]}{suffix}"


def ours(config: StackConfig) -> set[str]:
    """Every Fly app the stack holds: never a scratch cluster."""
    names = {config.app_name, *config.postgres_clusters}
    if config.redis_name:
        names.add(config.redis_name)
    return names


def run(
    config: StackConfig,
    stack: str,
    *,
    scratch: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 15.0,
) -> Report:
    pg, source, database = config.postgres, config.postgres_active, config.database_name
    if pg is None or source is None or database is None or not pg.backups.enabled:
        raise DrillInputError(f"stack {stack} has no webhost:postgres with backups")
    started = now()
    name = scratch or scratch_name(source, started)
    if name in ours(config):
        raise DrillInputError(f"scratch name {name} is one of the stack's own apps")
    if "-drill-" not in name:
        raise DrillInputError(f"scratch name {name} must contain -drill-: it marks a drill's")
    report = Report(
        stack,
        source,
        name,
        started.isoformat(timespec="seconds"),
        recovery_point_objective_seconds=pg.backups.objective.total_seconds(),
        recovery_time_objective_seconds=pg.backups.time_objective.total_seconds(),
    )

    # 1. the recovery point; the drill goes on without it (a restore is still a proof)
    _recovery_point(report, source, started, pg.backups.recovery_point_objective)

    # 2. the scratch cluster must not exist: what the drill destroys is only what it made
    try:
        if app_present(name, config.org):
            return _failed(report, "restore", f"{name} already exists; nothing was restored")
    except fly_machines.FlyctlError as exc:
        return _failed(report, "restore", f"could not list the org's apps, so no restore ({exc})")

    made = False
    try:
        begin = clock()
        try:
            _fly("postgres", "backup", "restore", name, "--app", source, timeout=RESTORE_TIMEOUT_S)
            report.steps["restore"] = "launched"
        except fly_machines.FlyctlError as exc:
            _failed(report, "restore", str(exc))
        try:
            made = app_present(name, config.org)
        except fly_machines.FlyctlError as exc:
            # Never destroyed on no answer: reported for a human.
            report.scratch_left = True
            return _failed(report, "destroy", f"could not tell whether {name} was made ({exc})")
        if made and report.steps.get("restore") == "launched":
            # 3. smoke queries, until they pass or the time objective is spent
            _smoke_until(
                report,
                name,
                database,
                begin=begin,
                clock=clock,
                sleep=sleep,
                poll_seconds=poll_seconds,
            )
    finally:
        if made:
            _destroy(name, config, report)
    return report


def _failed(report: Report, step: str, why: str) -> Report:
    report.steps[step] = "failed"
    report.failures.append(f"{step}: {why}")
    return report


def _recovery_point(report: Report, source: str, started: datetime, objective: str) -> None:
    try:
        backup_id, ended = newest_backup(source)
    except fly_machines.FlyctlError as exc:
        _failed(report, "recovery point", str(exc))
        return
    report.newest_backup = backup_id
    report.recovery_point_seconds = max(0.0, (started - ended).total_seconds())
    report.steps["recovery point"] = "measured"
    if report.recovery_point_seconds > report.recovery_point_objective_seconds:
        hours = report.recovery_point_seconds / 3600
        report.failures.append(
            f"recovery point: the newest base backup is {hours:.1f}h old, "
            f"over the {objective} objective"
        )


def _smoke_until(
    report: Report,
    name: str,
    database: str,
    *,
    begin: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    poll_seconds: float,
) -> None:
    deadline = begin + report.recovery_time_objective_seconds
    while True:
        try:
            smoke(name, database)
        except fly_machines.FlyctlError as exc:
            if clock() + poll_seconds > deadline:
                _failed(report, "smoke queries", f"{exc} (gave up at the recovery time objective)")
                return
            sleep(poll_seconds)
            continue
        report.recovery_time_seconds = clock() - begin
        report.steps["smoke queries"] = "passed"
        return


def _destroy(name: str, config: StackConfig, report: Report) -> None:
    """`fly apps destroy` of the scratch cluster, and only of it; then checked gone."""
    if name in ours(config) or "-drill-" not in name:  # the guard, once more
        report.scratch_left = True
        report.failures.append(f"destroy: refused to destroy {name}")
        return
    try:
        _fly("apps", "destroy", name, "--yes")
        left = "is still listed" if app_present(name, config.org) else None
    except fly_machines.FlyctlError as exc:
        left = f"is left behind ({exc})"
    if left is not None:
        report.scratch_left = True
        fix = f"destroy it with `fly apps destroy {name}`"
        _failed(report, "destroy", f"the scratch cluster {name} {left}; {fix}")
        return
    report.steps["destroy"] = "destroyed"


def write(report: Report, figures: Path) -> None:
    """The figures as JSON (FIGURES_FILE), and the summary for GitHub when it asks."""
    document = asdict(report) | {"passed": report.passed}
    figures.write_text(json.dumps(document, indent=2) + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(report.markdown())
