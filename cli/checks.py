"""The policy pack, run offline against an evaluation's registrations.

The same policy objects `pulumi preview --policy-pack policies` loads, called
with the arguments pulumi_policy builds: each resource's inputs as props, its
options, and the per-stack pack config (`policies/config/<stack>.json`, the
file given to `--policy-pack-config`), merged over each policy's defaults.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # what `not_applicable()` raises

from cli.engine import PROVIDER_KEY, Evaluation, render
from policies import ALL

PACK_DEFAULT = EnforcementLevel.MANDATORY  # as policies/__main__.py builds the pack


class PolicyConfigError(Exception):
    """An unreadable pack config file; the message is one line."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: EnforcementLevel
    message: str
    urn: str | None

    @property
    def blocking(self) -> bool:
        return self.level in {EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE}


def load_config(path: Path) -> dict[str, Any]:
    """A `--policy-pack-config` file; none at the path means the pack's defaults."""
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyConfigError(f"{path}: not a policy config ({exc})") from None
    if not isinstance(loaded, dict):
        raise PolicyConfigError(f"{path}: a policy config is an object keyed by policy name")
    return loaded


def settings(
    policy: Policy, pack_config: Mapping[str, Any]
) -> tuple[EnforcementLevel, dict[str, Any]]:
    """The policy's enforcement level and config: schema defaults, then the file."""
    defaults = {
        key: prop["default"]
        for key, prop in (policy.config_schema.properties if policy.config_schema else {}).items()
        if "default" in prop
    }
    level = policy.enforcement_level or PACK_DEFAULT
    given = pack_config.get(policy.name, pack_config.get("all"))
    if isinstance(given, str):
        return EnforcementLevel(given), defaults
    if isinstance(given, Mapping):
        level = EnforcementLevel(given.get("enforcementLevel", level.value))
        return level, {**defaults, **{k: v for k, v in given.items() if k != "enforcementLevel"}}
    return level, defaults


def resources(evaluation: Evaluation) -> list[PolicyResource]:
    by_urn: dict[str, PolicyResource] = {}
    for r in evaluation.resources:
        options = PolicyResourceOptions(
            protect=r.protect,
            ignore_changes=[],
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
            additional_secret_outputs=[],
            parent=r.parent,
        )
        # What a policy sees in a preview: secrets stay hidden, unknowns are absent.
        props = {k: render(v, None)[0] for k, v in r.inputs.items() if k != PROVIDER_KEY}
        by_urn[r.urn] = PolicyResource(r.type, props, r.urn, r.name, options, None, None, [], {})
    for r in evaluation.resources:
        resource = by_urn[r.urn]
        resource.parent = by_urn.get(r.parent or "")
        resource.dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
    return list(by_urn.values())


def _settle(result: Any) -> None:
    if inspect.isawaitable(result):
        asyncio.run(_await(result))


async def _await(result: Any) -> None:
    await result


def run(evaluation: Evaluation, pack_config: Mapping[str, Any]) -> list[Violation]:
    """Every violation the pack reports for this evaluation, in policy order."""
    everything = resources(evaluation)
    violations: list[Violation] = []
    for policy in ALL:
        level, config = settings(policy, pack_config)
        if level == EnforcementLevel.DISABLED:
            continue

        def reporter(
            about: str | None, name: str = policy.name, at: EnforcementLevel = level
        ) -> Any:
            # A resource policy's violations are about its resource, whatever it passes.
            def report(message: str, urn: str | None = None) -> None:
                violations.append(Violation(name, at, message, about or urn))

            return report

        try:
            if isinstance(policy, StackValidationPolicy):
                stack_args = StackValidationArgs(everything, config)
                _settle(policy.validate(stack_args, reporter(None)))
            elif isinstance(policy, ResourceValidationPolicy):
                for r in everything:
                    resource_args = ResourceValidationArgs(
                        r.resource_type, r.props, r.urn, r.name, r.opts, None, config
                    )
                    _settle(policy.validate(resource_args, reporter(r.urn)))
        except _NotApplicableError:
            continue
    return violations
