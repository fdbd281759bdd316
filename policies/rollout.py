"""Rollout policies: a production deploy keeps serving while it replaces machines.

Judged on the registered deploy (its `--strategy` and the fly.toml it applies) and
the registered MachineCounts, never on the declared spec alone (policies/registered.py).

- Health checks: a fly.toml with no `http_service.checks` and no top-level
  `[checks]` gives a deploy nothing to wait for and Fly's proxy nothing to route on.
- `immediate` replaces every machine at once without waiting for health checks,
  for emergencies (superfly/docs reference/configuration.html.markerb @ 5c22c8c,
  [deploy] `strategy`). Allowed only with `webhost:deploy.emergency` (a reason), which the
  deploy command carries as an input and `emergency-deploy` reports on every plan.
- `max_unavailable`: flyctl replaces started machines in batches of
  `int(mu)` when mu >= 1, else `ceil(machines * mu)`, per process group over every
  region at once (flyctl internal/command/deploy/machines_deploymachinesapp.go
  getPoolSize and updateUsingRollingStrategy @ ad0172f); a batch as large as the app takes
  every machine down at once.
"""

from __future__ import annotations

import math

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
)

from components.config import MAX_UNAVAILABLE, StackConfig
from policies import registered, spec

# flyctl strategies that replace machines in batches, and so read max_unavailable
# (flyctl internal/command/deploy/deploy.go @ ad0172f warns and ignores it elsewhere).
BATCHED = ("rolling", "canary")


def pool_size(max_unavailable: float, machines: int) -> int:
    """Machines flyctl takes down at once (machines_deploymachinesapp.go getPoolSize)."""
    if max_unavailable >= 1:
        return int(max_unavailable)
    return math.ceil(machines * max_unavailable)


def _strategy(deploy: registered.Deploy) -> object:
    # The `--strategy` flag wins over fly.toml's [deploy] strategy (flyctl
    # machines.go determineAppConfigForMachines); a flag not known yet falls back.
    if isinstance(deploy.strategy, str):
        return deploy.strategy
    section = (deploy.fly_toml or {}).get("deploy")
    return section.get("strategy") if isinstance(section, dict) else None


def _emergency(deploy: registered.Deploy) -> str | None:
    reason = deploy.emergency
    return reason.strip() if isinstance(reason, str) and reason.strip() else None


@spec.on_config
def rollout_safety(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """Deploys keep serving: health checks on, no immediate strategy without a
    declared emergency, and maxUnavailable below every machine."""
    app = f"app {config.app_name}"
    deploys = registered.deploys(args.resources)
    if not deploys:
        report(f"{app}: no fly deploy is registered to check its rollout", urn)
    totals = [m.total for m in registered.machines(args.resources) if m.total is not None]
    machines = max(totals) if totals else None
    for deploy in deploys:
        where = deploy.resource.urn
        document = deploy.fly_toml
        if document is not None and registered.check_count(document) == 0:
            report(
                f"{app}: every health check is off (the fly.toml has no http_service.checks "
                "and no [checks]): a deploy waits for nothing and Fly's proxy routes to "
                "machines that do not answer; enable http.healthCheck or http.deepCheck",
                where,
            )
        strategy = _strategy(deploy)
        if strategy == "immediate" and _emergency(deploy) is None:
            report(
                f"{app}: the immediate strategy replaces every machine at once without "
                "waiting for health checks (Fly: for emergencies); deploy rolling, canary "
                "or bluegreen, or set webhost:deploy.emergency to the reason",
                where,
            )
        if strategy not in BATCHED or document is None or machines is None:
            continue
        section = document.get("deploy")
        given = section.get("max_unavailable") if isinstance(section, dict) else None
        mu = registered.number(given) if given is not None else MAX_UNAVAILABLE
        if mu is None or mu <= 0:
            report(f"{app}: deploy.max_unavailable {given!r} is not a positive number", where)
            continue
        batch = pool_size(mu, machines)
        if batch >= machines:
            report(
                f"{app}: deploy.maxUnavailable {mu:g} takes {batch} of its {machines} "
                f"machine(s) down at once ({strategy}: flyctl replaces "
                f"{'int(n)' if mu >= 1 else 'ceil(machines x n)'} at a time), so nothing "
                "serves during a deploy; use a fraction below "
                f"{(machines - 1) / machines:.2f} or a count below {machines}",
                where,
            )


def emergency_deploy(args: StackValidationArgs, report: ReportViolation) -> None:
    """A declared emergency deploy (webhost:deploy.emergency) is shown on every
    plan and preview.

    Shows the emergency path on every plan and preview while it is declared."""
    deploys = registered.deploys(args.resources)
    if not deploys:
        args.not_applicable("no fly deploy in this stack")
        return
    for deploy in deploys:
        if (reason := _emergency(deploy)) is not None:
            report(
                f"{deploy.resource.name}: emergency deploy ({reason!r}, webhost:deploy."
                f"emergency) with the {_strategy(deploy)} strategy: every machine is "
                "replaced at once, without waiting for health checks; unset it once done",
                deploy.resource.urn,
            )


POLICIES = [
    spec.stack_policy("rollout-safety", rollout_safety),
    spec.stack_policy("emergency-deploy", emergency_deploy, EnforcementLevel.ADVISORY),
]
