"""Backups policy: production's backups give a real recovery point and window.

Judged on the registered backups command (components/postgres.py: the schedule
postgres-flex's barman runs, WEBHOST_RECOVERY_WINDOW and
WEBHOST_FULL_BACKUP_FREQUENCY), never on `backups.enabled` alone. The recovery
point is how old the newest base backup may be (the declared
`recoveryPointObjective`, which `webhost-infra backups check` enforces) and, when
a restore drill has run, what the drill measured (`postgres.backups.lastDrill`):
measured figures win over declared ones.

Minimums are pack config, with defaults a business would sign: a daily base
backup (maxFullBackupHours 24), a day and two hours of tolerated loss
(maxRecoveryPointHours 26: one cycle plus the backup's own run), a week of
point-in-time restore (minRecoveryWindowDays 7), a restore within four hours
(maxRestoreMinutes 240), and a drill no older than a quarter (maxDrillAgeDays 92).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pulumi_policy import (
    ReportViolation,
    StackValidationArgs,
)

from components import config as model
from components.config import StackConfig
from policies import registered, spec

DEFAULTS = {
    "minRecoveryWindowDays": 7,
    "maxFullBackupHours": 24,
    "maxRecoveryPointHours": 26,
    "maxRestoreMinutes": 240,
    "maxDrillAgeDays": 92,
}
# barman's retention grammar as postgres-flex passes it (components/config/data.py
# _recovery_window): days or weeks.
_WINDOW = re.compile(r"([0-9]{1,20})([dw])")


def today() -> datetime:
    """The policy's clock (a function, so a test can fix it)."""
    return datetime.now(UTC)


def window_days(text: object) -> int | None:
    found = _WINDOW.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        return None
    return int(found.group(1)) * (7 if found.group(2) == "w" else 1)


def frequency_hours(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return float(model.duration_ns(text) / 3_600_000_000_000)
    except ValueError:
        return None


@spec.on_config
def backups(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """Production's registered backups meet the recovery point and window
    minimums; a restore drill's measured figures, when present, meet them too."""
    limits = {**DEFAULTS, **{k: int(v) for k, v in args.get_config().items()}}
    pg = config.postgres
    name = f"postgres {config.postgres_name or config.app_name}"
    if not any(r.resource_type == spec.POSTGRES for r in args.resources):
        report(f"app {config.app_name}: no Postgres cluster, so nothing is backed up", urn)
        return
    commands = registered.postgres_commands(args.resources, "-db-backups")
    if not commands:
        report(f"{name}: no backups are registered (WAL archiving and base backups off)", urn)
    for command in commands:
        env = registered.environment(command)
        raw_window, raw_frequency = (
            env.get("WEBHOST_RECOVERY_WINDOW"),
            env.get("WEBHOST_FULL_BACKUP_FREQUENCY"),
        )
        days = window_days(raw_window)
        hours = frequency_hours(raw_frequency)
        if raw_window is not registered.UNKNOWN and (
            days is None or days < limits["minRecoveryWindowDays"]
        ):
            report(
                f"{name}: recovery window {raw_window!r} restores less than the "
                f"{limits['minRecoveryWindowDays']} days production keeps "
                "(postgres.backups.recoveryWindow)",
                command.urn,
            )
        if raw_frequency is not registered.UNKNOWN and (
            hours is None or hours > limits["maxFullBackupHours"]
        ):
            report(
                f"{name}: a base backup every {raw_frequency!r}, less often than every "
                f"{limits['maxFullBackupHours']}h (postgres.backups.fullBackupFrequency)",
                command.urn,
            )
        if days is not None and hours is not None and days * 24 < hours:
            report(
                f"{name}: the {raw_window} recovery window is shorter than one "
                f"{raw_frequency} base-backup cycle, so it may hold no base backup to "
                "restore from",
                command.urn,
            )
        drill = pg.backups.last_drill if pg is not None else None
        if drill is None and pg is not None and hours is not None:
            # Declared, not measured: the freshness check's objective must cover a
            # cycle of the registered schedule and stay within the business's limit.
            objective = pg.backups.objective.total_seconds() / 3600
            if objective > limits["maxRecoveryPointHours"] or objective < hours:
                report(
                    f"{name}: recovery point objective {pg.backups.recovery_point_objective} "
                    f"with a base backup every {raw_frequency}: production tolerates at "
                    f"most {limits['maxRecoveryPointHours']}h of loss, and the objective "
                    "must cover one cycle",
                    command.urn,
                )
    drill = pg.backups.last_drill if pg is not None else None
    if drill is not None:
        _drill(name, drill, limits, urn, report)


def _drill(
    name: str,
    drill: model.RestoreDrill,
    limits: dict[str, int],
    urn: str,
    report: ReportViolation,
) -> None:
    """The restore drill's measured figures, which the policy reads over the declared."""
    where = f"{name}: the restore drill of {drill.date.isoformat()}"
    if drill.recovery_point_minutes > limits["maxRecoveryPointHours"] * 60:
        report(
            f"{where} lost {drill.recovery_point_minutes} minutes of data, past the "
            f"{limits['maxRecoveryPointHours']}h production tolerates",
            urn,
        )
    if drill.restore_minutes > limits["maxRestoreMinutes"]:
        report(
            f"{where} took {drill.restore_minutes} minutes to restore, past the "
            f"{limits['maxRestoreMinutes']} production allows",
            urn,
        )
    age = (today().date() - drill.date).days
    if age > limits["maxDrillAgeDays"]:
        report(
            f"{where} is {age} days old, past the {limits['maxDrillAgeDays']} days its "
            "figures count for; run the drill again",
            urn,
        )


# The most each limit takes in the pack's config (each at least 1; JSON schema, which
# the engine checks before the policy runs); None: no maximum.
MAXIMA = {
    "minRecoveryWindowDays": None,
    "maxFullBackupHours": 168,
    "maxRecoveryPointHours": 168,
    "maxRestoreMinutes": 2880,
    "maxDrillAgeDays": 366,
}

POLICIES = [
    spec.stack_policy(
        "backups", backups, **{k: spec.bounded(DEFAULTS[k], 1, top) for k, top in MAXIMA.items()}
    ),
]
