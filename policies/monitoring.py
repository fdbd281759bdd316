"""Monitoring policy: a stack watched by at least the availability and latency alerts.

Mandatory on prod, disabled on staging (policies/config/<stack>.json): production
must not run unwatched. The policy reads both the declared config (`webhost:monitoring`
set) and what the program built (a Grafana rule group under the Monitoring component
with the availability burn-rate and the p95 latency rules), so a refactor that drops a
rule is caught even when the config still says monitoring is on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.monitoring.alerts import AVAILABILITY, LATENCY
from policies import spec

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


def monitored(args: StackValidationArgs, report: ReportViolation) -> None:
    found = spec.declared(args, report)
    if found is None:
        return
    config, urn = found
    if config.monitoring is None:
        report(
            f"app {config.app_name}: webhost:monitoring is not set, so nothing watches the "
            "runbook's targets; declare it (README.md, Monitoring)",
            urn,
        )
        return
    names = _rule_names(args.resources)
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


POLICIES = [
    StackValidationPolicy(
        name="monitoring",
        description="The stack declares webhost:monitoring with at least the availability "
        "(burn rate) and p95 latency alert rules.",
        validate=monitored,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]
