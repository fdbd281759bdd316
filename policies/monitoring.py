"""Monitoring policy: a stack watched by at least the availability and latency alerts.

Mandatory on prod, disabled on staging (policies/config/<stack>.json): production
must not run unwatched. The policy reads both the declared config (`webhost:monitoring`
set) and what the program built (a Grafana rule group under the Monitoring component
with the availability burn-rate and the p95 latency rules), so a refactor that drops a
rule is caught even when the config still says monitoring is on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
)

from components import catalog
from components.config import StackConfig
from components.monitoring.alerts import (
    AVAILABILITY,
    LATENCY,
    PROBE_FAILED,
    PROBE_PERIODS,
    probe_executions,
)
from policies import registered, spec

MONITORING = "webhost:monitoring:Monitoring"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
REQUIRED = {"availability": AVAILABILITY, "latency": LATENCY}


def _rule_names(resources: Iterable[spec.Resource]) -> set[str]:
    names: set[str] = set()
    for group in spec.children_of(resources, MONITORING):
        if group.resource_type != RULE_GROUP:
            continue
        for rule in group.props.get("rules") or []:
            if isinstance(rule, Mapping) and isinstance(rule.get("name"), str):
                names.add(rule["name"])
    return names


CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
NOTIFICATION_POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
CHECK = "grafana:syntheticMonitoring/check:Check"
CHECK_ALERTS = "grafana:syntheticMonitoring/checkAlerts:CheckAlerts"
# The contact point Grafana provisions and routes to when no policy is set: an
# email integration with the placeholder `<example@email.com>` (grafana/grafana's
# default alertmanager configuration: its route's receiver is this name).
GRAFANA_DEFAULT = "grafana-default-email"
# An error ratio never exceeds 1, so `ratio > t` with t >= 1 never holds.
RATIO_RULES = (AVAILABILITY,)


def placeholder(target: str) -> bool:
    return catalog.placeholder_target(target)


def _threshold(rule: Mapping[str, Any]) -> tuple[str | None, float | None, bool]:
    """The condition stage's evaluator (type, first param), and whether the rule's
    condition names a threshold stage at all."""
    condition = registered.get(rule, "condition")
    for data in registered.plain(registered.get(rule, "datas")) or []:
        if not isinstance(data, dict) or data.get("refId") != condition:
            continue
        model = data.get("model")
        try:
            parsed = json.loads(model) if isinstance(model, str) else None
        except json.JSONDecodeError:
            return None, None, True
        conditions = parsed.get("conditions") if isinstance(parsed, dict) else None
        if not isinstance(conditions, list) or not conditions:
            return None, None, True
        evaluator = conditions[0].get("evaluator", {}) if isinstance(conditions[0], dict) else {}
        params = evaluator.get("params") or [None]
        return evaluator.get("type"), registered.number(params[0]), True
    return None, None, condition is registered.UNKNOWN


def _rules_fire(resources: Sequence[spec.Resource], app: str, report: ReportViolation) -> None:
    """Every registered rule can fire: not paused, its condition a stage it has, and
    a ratio's threshold below 1 (the SRE workbook's burn rate x budget: 14.4 x 10%
    is 1.44, which a 5xx share never reaches)."""
    for group in spec.children_of(resources, MONITORING):
        if group.resource_type != RULE_GROUP:
            continue
        for rule in registered.plain(registered.get(group.props, "rules")) or []:
            if not isinstance(rule, dict):
                continue
            name = str(rule.get("name"))
            if rule.get("isPaused") is True:
                report(f"app {app}: alert rule {name} is paused, so it never fires", group.urn)
            kind, threshold, found = _threshold(rule)
            if not found:
                report(
                    f"app {app}: alert rule {name}'s condition {rule.get('condition')!r} "
                    "names no stage of the rule, so it never fires",
                    group.urn,
                )
            elif (
                name.startswith(RATIO_RULES)
                and threshold is not None
                and ((kind == "gt" and threshold >= 1) or (kind == "lt" and threshold <= 0))
            ):
                report(
                    f"app {app}: alert rule {name} fires when the 5xx share is {kind} "
                    f"{threshold:g}, which a share between 0 and 1 never is; raise "
                    "monitoring.availabilityTarget or lower the burn-rate factor",
                    group.urn,
                )


def _routing(
    resources: Sequence[spec.Resource], app: str, report: ReportViolation, urn: str
) -> None:
    """Alerts reach a person: the notification policy routes to a registered contact
    point that is not Grafana's default, and each has a target that is no placeholder."""
    watched = spec.children_of(resources, MONITORING)
    points = {
        registered.get(p.props, "name"): p for p in watched if p.resource_type == CONTACT_POINT
    }
    for name, point in points.items():
        targets: list[Any] = []
        for key, field in (("webhooks", "url"), ("emails", "addresses")):
            given = registered.plain(registered.get(point.props, key))
            if not isinstance(given, list):
                # A secret (hidden from the offline pack) or a value not known yet:
                # there is a target, which only the engine reads.
                targets += [] if given is None else [given]
                continue
            for integration in given:
                value = integration.get(field) if isinstance(integration, dict) else integration
                targets += value if isinstance(value, list) else [value]
        targets = [t for t in targets if t is not None]
        if not targets:
            report(f"app {app}: contact point {name} sends to no one", point.urn)
        for target in targets:
            if isinstance(target, str) and placeholder(target):
                report(
                    f"app {app}: contact point {name} sends to a placeholder ({target}), "
                    "which no one receives",
                    point.urn,
                )
    routes = [p for p in watched if p.resource_type == NOTIFICATION_POLICY]
    if not routes:
        # No policy of the stack's: Grafana routes every alert to its default
        # receiver, whose address is a placeholder no one reads.
        report(
            f"app {app}: alerts go to Grafana's default receiver ({GRAFANA_DEFAULT}, a "
            "placeholder address), the probes' included, so no one is paged; declare "
            "webhost:monitoring.contactPoints (README.md, Monitoring)",
            urn,
        )
    for route in routes:
        named = [registered.get(route.props, "contactPoint")]
        nested = registered.plain(registered.get(route.props, "policies")) or []
        named += [n.get("contactPoint") for n in nested if isinstance(n, dict)]
        for target in named:
            if target is registered.UNKNOWN:
                continue
            if target == GRAFANA_DEFAULT or target not in points:
                report(
                    f"app {app}: the notification policy routes alerts to {target!r}, not a "
                    "contact point this stack declares (webhost:monitoring.contactPoints)",
                    route.urn,
                )


def _probes(
    resources: Sequence[spec.Resource], config: StackConfig, report: ReportViolation, urn: str
) -> None:
    """The public URL watched from outside: an enabled synthetic check of the health path,
    each alerting on what its probes see."""
    checks = [r for r in spec.children_of(resources, MONITORING) if r.resource_type == CHECK]
    enabled = [c for c in checks if registered.get(c.props, "enabled") is not False]
    for check in checks:
        if check not in enabled:
            report(f"app {config.app_name}: probe {check.name} is disabled", check.urn)
        else:
            _probe_alerts(resources, check, config, report)
    if not enabled:
        report(
            f"app {config.app_name}: nothing watches the public URL from outside (no enabled "
            "synthetic check; webhost:monitoring.synthetic)",
            urn,
        )


def _probe_alerts(
    resources: Sequence[spec.Resource],
    check: spec.Resource,
    config: StackConfig,
    report: ReportViolation,
) -> None:
    """An enabled check pages on failed executions: a CheckAlerts of the check (named
    `<check>-alerts`, components/monitoring `_probes`; a transform changes no name) with
    PROBE_FAILED at a threshold its probes can reach (components/monitoring/alerts.py:
    fires at failures >= threshold, a whole number from 1 to the executions in the
    period). Where it goes is `_routing`'s: Synthetic Monitoring's rules take the
    default policy tree."""
    app = config.app_name
    lists = [
        registered.plain(registered.get(held.props, "alerts"))
        for held in spec.children_of(resources, MONITORING)
        if held.resource_type == CHECK_ALERTS and held.name == f"{check.name}-alerts"
    ]
    if any(registered.has_unknown(given) for given in lists):
        return  # not known yet (a preview): judged when it is
    found = [
        alert
        for given in lists
        for alert in (given if isinstance(given, list) else [])
        if isinstance(alert, dict) and alert.get("name") == PROBE_FAILED
    ]
    if not found:
        report(
            f"app {app}: probe {check.name} raises no {PROBE_FAILED} alert, so a failing "
            "public URL pages no one",
            check.urn,
        )
        return
    frequency = registered.number(registered.get(check.props, "frequency"))
    probes = registered.plain(registered.get(check.props, "probes"))
    if not isinstance(probes, list) and config.monitoring is not None:
        # The ids come from getProbes, unknown in an offline preview: one per probe the
        # stack names (components/monitoring probe_ids, which refuses a missing name).
        probes = config.monitoring.probes
    for alert in found:
        threshold, period = registered.number(alert.get("threshold")), alert.get("period")
        if threshold is None or period is registered.UNKNOWN:
            continue  # not known yet (a preview): judged at `up`
        most = (
            probe_executions(period, int(frequency), len(probes))
            if period in PROBE_PERIODS and frequency and isinstance(probes, list) and probes
            else None
        )
        if period not in PROBE_PERIODS:
            why = f"its period {period!r} is none of {', '.join(PROBE_PERIODS)}"
        elif threshold < 1 or threshold != int(threshold):
            why = f"its threshold {threshold:g} is not a whole number of failures from 1"
        elif most is not None and threshold > most:
            why = (
                f"its threshold {threshold:g} is more failures than the {most} executions "
                f"its probes make in {period}"
            )
        else:
            continue
        report(
            f"app {app}: probe {check.name}'s {PROBE_FAILED} alert cannot page on failures: {why}",
            check.urn,
        )


@spec.on_config
def monitored(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """The stack declares webhost:monitoring with at least the availability (burn
    rate) and p95 latency alert rules."""
    if config.monitoring is None:
        report(
            f"app {config.app_name}: webhost:monitoring is not set, so nothing watches the "
            "runbook's targets; declare it (README.md, Monitoring)",
            urn,
        )
        return
    resources = list(args.resources)
    names = _rule_names(resources)
    missing = [
        kind
        for kind, prefix in REQUIRED.items()
        if not any(name.startswith(prefix) for name in names)
    ]
    if missing:
        report(
            f"app {config.app_name}: no {' and no '.join(missing)} alert rule in the "
            f"stack's Grafana rule group ({RULE_GROUP} under {MONITORING})",
            urn,
        )
    _rules_fire(resources, config.app_name, report)
    _routing(resources, config.app_name, report, urn)
    _probes(resources, config, report, urn)


POLICIES = [spec.stack_policy("monitoring", monitored, EnforcementLevel.ADVISORY)]
