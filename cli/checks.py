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

import jsonschema
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
    """An unreadable or invalid pack config; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# The engine's enforcement levels, case-sensitive (pulumi sdk/go/common/apitype
# EnforcementLevel.IsValid, used by pkg/resource/analyzer/config.go
# extractEnforcementLevel @ 1b59498).
LEVELS = tuple(level.value for level in EnforcementLevel)
ALL_POLICIES = "all"  # a key that sets every policy's level (config.go applyConfig)


@dataclass(frozen=True)
class Violation:
    policy: str
    level: EnforcementLevel
    message: str
    urn: str | None

    @property
    def blocking(self) -> bool:
        return self.level in {EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE}


@dataclass(frozen=True)
class PackRun:
    """What the pack did for a stack: each policy's level (disabled ones included),
    where that came from, and what it found."""

    source: str  # the config file, or a note that the pack's defaults applied
    levels: Mapping[str, EnforcementLevel]
    violations: tuple[Violation, ...]

    @property
    def blocking(self) -> list[str]:
        return sorted({v.policy for v in self.violations if v.blocking})


class _NotJson(Exception):
    """What Python's json reads but JSON (and the engine's Go decoder) does not."""


def _not_json(constant: str) -> float:
    # NaN and Infinity are no JSON values (RFC 8259 §6); Go's encoding/json refuses the
    # file, so the engine never runs the pack with them (a NaN margin floor would pass
    # every stack).
    raise _NotJson(f"{constant} is not a JSON number")


def _finite_float(text: str) -> float:
    # A number past float64 (1e400): Go's encoding/json refuses to decode it.
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJson(f"{text} is out of a 64-bit float's range")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Go's encoding/json keeps the last of a repeated key without a word, so the
    # engine would run whichever level came last: a file that says a policy's level
    # twice is refused here instead (stricter than the engine, as for unknown keys).
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _NotJson(f"key {json.dumps(key)} is given twice in one object")
        seen.add(key)
    return dict(pairs)


def load_config(path: Path, *, required: bool = False) -> dict[str, Any]:
    """A `--policy-pack-config` file. Absent: an error when it was asked for by
    name, else the pack's defaults (a stack with no file of its own)."""
    if not path.exists():
        if required:
            raise PolicyConfigError([f"{path}: no such policy config file"])
        return {}
    try:
        loaded = json.loads(
            path.read_text(),
            parse_constant=_not_json,
            parse_float=_finite_float,
            object_pairs_hook=_no_duplicates,
        )
    except _NotJson as exc:
        raise PolicyConfigError([f"{path}: not a policy config ({exc})"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyConfigError([f"{path}: not a policy config ({exc})"]) from None
    except (ValueError, RecursionError):
        # An integer past Python's 4300 digits, or nesting past its recursion limit.
        raise PolicyConfigError([f"{path}: not a policy config (too large or deep)"]) from None
    if not isinstance(loaded, dict):
        kind = type(loaded).__name__
        raise PolicyConfigError(
            [f"{path}: a policy config is a JSON object keyed by policy name, not a {kind}"]
        )
    problems = validate(loaded)
    if problems:
        raise PolicyConfigError([f"{path}: {problem}" for problem in problems])
    return loaded


def _schema(policy: Policy) -> dict[str, Any]:
    # As the engine builds it from the policy's PolicyInfo (config.go convertSchema):
    # an object with the policy's properties and required keys.
    schema: dict[str, Any] = {"type": "object"}
    if policy.config_schema is not None:
        if policy.config_schema.properties:
            schema["properties"] = policy.config_schema.properties
        if policy.config_schema.required:
            schema["required"] = policy.config_schema.required
    return schema


def _where(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f".{path}" if path else ""


def validate(pack_config: Mapping[str, Any]) -> list[str]:
    """Every problem in a pack config, one line each naming the policy and the key.

    What the engine refuses (pkg/resource/analyzer/config.go @ 1b59498: a value
    neither a level nor an object, a level it does not know, properties that fail
    the policy's JSON schema), and, stricter than the engine, a policy or key the
    pack does not have: a misspelt name there would otherwise change nothing.
    """
    policies = {p.name: p for p in ALL}
    problems: list[str] = []
    for name, value in pack_config.items():
        if name != ALL_POLICIES and name not in policies:
            problems.append(f"{name}: not a policy of this pack ({', '.join(policies)})")
            continue
        given = {"enforcementLevel": value} if isinstance(value, str) else value
        if not isinstance(given, dict):
            problems.append(f"{name} = {json.dumps(given)}: must be an enforcement level or object")
            continue
        level = given.get("enforcementLevel")
        # Present means a string level, null included (config.go extractEnforcementLevel).
        if "enforcementLevel" in given and level not in LEVELS:
            problems.append(
                f"{name}.enforcementLevel = {json.dumps(level)}: not an enforcement level "
                f"({', '.join(LEVELS)}; case-sensitive)"
            )
        if name == ALL_POLICIES:
            problems += [
                f"{name}.{key}: only enforcementLevel applies to every policy"
                for key in given
                if key != "enforcementLevel"
            ]
            continue
        policy = policies[name]
        schema = _schema(policy)
        known = set(schema.get("properties", {}))
        props = {k: v for k, v in given.items() if k != "enforcementLevel"}
        problems += [
            f"{name}.{key}: not a setting of {name}"
            + (f" ({', '.join(sorted(known))})" if known else " (it takes none)")
            for key in props
            if key not in known
        ]
        validator = jsonschema.Draft7Validator(schema)
        told: set[str] = set()
        for error in sorted(validator.iter_errors(props), key=lambda e: list(e.absolute_path)):
            key = _where(error)
            if (key and error.absolute_path[0] not in known) or key in told:
                continue  # reported above, or this key's first problem already is
            told.add(key)
            problems.append(f"{name}{key} = {json.dumps(error.instance)}: {error.message}")
    return problems


def settings(
    policy: Policy, pack_config: Mapping[str, Any]
) -> tuple[EnforcementLevel, dict[str, Any]]:
    """The policy's enforcement level and config, reconciled as the engine does
    (config.go ReconcilePolicyPackConfig): schema defaults and the policy's own
    level, then `all`'s level, then the policy's entry (its level, its keys)."""
    defaults = {
        key: prop["default"]
        for key, prop in (policy.config_schema.properties if policy.config_schema else {}).items()
        if "default" in prop
    }
    level = policy.enforcement_level or PACK_DEFAULT
    every = pack_config.get(ALL_POLICIES)
    every_level = every if isinstance(every, str) else (every or {}).get("enforcementLevel")
    if every_level is not None:
        level = EnforcementLevel(every_level)
    given = pack_config.get(policy.name)
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


def run(
    evaluation: Evaluation, pack_config: Mapping[str, Any], source: str = "the pack's defaults"
) -> PackRun:
    """Every violation the pack reports for this evaluation, in policy order, and
    the level each policy ran at. Raises PolicyConfigError on an invalid config."""
    if problems := validate(pack_config):
        raise PolicyConfigError([f"{source}: {problem}" for problem in problems])
    everything = resources(evaluation)
    violations: list[Violation] = []
    levels: dict[str, EnforcementLevel] = {}
    for policy in ALL:
        level, config = settings(policy, pack_config)
        levels[policy.name] = level
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
    return PackRun(source, levels, tuple(violations))
