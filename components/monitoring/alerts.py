"""The alert rules: what each watches, its PromQL, its threshold, how long it must hold.

Each rule is two stages as Grafana's unified alerting evaluates them (the SDK's
RuleGroup example, pulumiverse_grafana 2.44.0 alerting/rule_group.py): stage A an
instant PromQL query on the Fly data source, stage B a threshold expression on A
(datasource uid "-100", the expression engine, as the same example and the
`datasource_uid` docstring name it). The rule fires while B holds for `for_`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components import catalog
from components.config import Monitoring, StackConfig
from components.monitoring import queries

# Names the availability and latency rules carry: the prod policy looks for them.
AVAILABILITY = "availability-burn-rate"
LATENCY = "latency-p95"

# What the probes see, alerted on by Synthetic Monitoring itself: a per-check alert
# (pulumiverse_grafana 2.44.0 syntheticmonitoring/check_alerts.py CheckAlerts, bridged
# from grafana/terraform-provider-grafana internal/resources/syntheticmonitoring/
# resource_check_alerts.go @ 3f9621f: PUT /check/<id>/alerts, the alert names and the
# periods below). Grafana's app defines the alert (grafana/synthetic-monitoring-app
# src/components/CheckForm/AlertsPerCheck/AlertsPerCheck.constants.tsx @ b12d206): it
# fires while the check's failed executions over `period`, summed over its probes, are
# >= `threshold`; src/schemas/general/CheckAlerts.ts: the threshold is a whole number
# >= 1 and at most the executions in the period (checkUsageCalc.ts
# getTotalChecksPerPeriod: floor(period / frequency) x probes, "same logic as
# backend"), and the period at least the check's frequency.
PROBE_FAILED = "ProbeFailedExecutionsTooHigh"
PROBE_PERIODS = ("5m", "10m", "15m", "20m", "30m", "1h")
# Page when a quarter of the executions in the period failed: Grafana's legacy
# LowSensitivity alert's share (grafana.com docs, synthetic-monitoring configure-alerts
# "Configure legacy alerts": 25% of a check's probes failing for 5 minutes). Our choice
# of the three, so one flaky probe region alone does not wake anyone.
PROBE_FAILED_SHARE = 0.25


@dataclass(frozen=True)
class Rule:
    name: str
    expr: str
    op: str  # the threshold's evaluator: gt or lt
    threshold: float
    lookback_s: int  # how far back stage A's relative time range reaches
    for_: str
    severity: str  # page: wake someone; ticket: look in working hours
    summary: str
    no_data: str = "OK"  # no series means nothing is wrong (the query filters)


def _seconds(window: str) -> int:
    unit = {"m": 60, "h": 3600, "d": 86400}[window[-1]]
    return int(window[:-1]) * unit


def probe_executions(period: str, frequency_ms: int, probes: int) -> int:
    """A check's executions in `period`, all probes together (getTotalChecksPerPeriod)."""
    return _seconds(period) * 1000 // frequency_ms * probes


@dataclass(frozen=True)
class ProbeAlert:
    period: str
    threshold: int


def probe_alert(monitoring: Monitoring) -> ProbeAlert:
    """The failed-executions alert of each synthetic check: the shortest period that
    holds an execution (never shorter than the check's frequency), and a threshold a
    quarter of its executions, at least one."""
    frequency = monitoring.probe_frequency_ms
    period = next(p for p in PROBE_PERIODS if _seconds(p) * 1000 >= frequency)
    executions = probe_executions(period, frequency, len(monitoring.probes))
    return ProbeAlert(period, max(1, math.ceil(executions * PROBE_FAILED_SHARE)))


def app_rules(config: StackConfig, monitoring: Monitoring) -> list[Rule]:
    app, target, p95 = config.app_name, monitoring.availability_target, monitoring.latency_p95_ms
    budget = 1 - target
    # One builder for every rule: the burn-rate pair from the SRE workbook's windows
    # (the short window already debounces: they fire at once), then a row a rule.
    # Rule's fields in order: name, PromQL, op, threshold, lookback (s), for, severity,
    # summary[, no data].
    # fmt: off
    return [
        *(
            Rule(f"{AVAILABILITY}-{factor:g}x-{long}",
                 queries.burn_rate_alert(app, budget, factor, long, short), "gt",
                 round(factor * budget, 9), _seconds(long), "0s", "page",
                 f"{app}: 5xx share over {long} and {short} burns the {target:.4%} / "
                 f"{monitoring.slo_window_days}d error budget {factor:g} times too fast")
            for factor, long, short in catalog.BURN_RATE_WINDOWS
        ),
        Rule(LATENCY, queries.latency_p95_by_region(app), "gt", p95 / 1000, 600, "10m", "page",
             f"{app}: p95 at Fly's edge above {p95} ms in a region"),
        Rule("oom-killed", queries.oom_kills(app), "gt", 0, 600, "0s", "ticket",
             f"{app}: a machine was killed for running out of memory"),
        Rule("restarting", queries.exits(app), "gt", 2, 900, "0s", "page",
             f"{app}: more than 2 instances exited in 15 minutes in a region"),
    ]
    # fmt: on


def postgres_rules(config: StackConfig) -> list[Rule]:
    if config.postgres is None or config.postgres_active is None:
        return []
    pg, db = config.postgres, config.postgres_active  # the cluster the app uses
    members = pg.cluster_size + len(pg.replica_regions)
    # fmt: off
    return [
        # No member reporting at all is the worst case: no data fires.
        Rule("postgres-members-down", queries.members_up(db), "lt", members, 300, "5m", "page",
             f"{db}: fewer than its {members} members (cluster and replicas) report",
             "Alerting"),
        Rule("postgres-replication-lag", queries.replication_lag(db), "gt", 30, 300, "5m",
             "page", f"{db}: a replica is more than 30 s behind the primary"),
        Rule("postgres-wal-archiving-failing", queries.archive_failures(db), "gt", 0, 3600,
             "0s", "ticket",
             f"{db}: WAL segments failed to archive to the backup bucket in the last hour"),
    ]
    # fmt: on


def rules(config: StackConfig, monitoring: Monitoring) -> list[Rule]:
    return [*app_rules(config, monitoring), *postgres_rules(config)]
