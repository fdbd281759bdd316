"""The whole diff: the resources' steps, the policy findings that appear or go away,
the cost on each side, and the secure config values set again."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from cli.diff.resources import Op, ResourceChange, resource_changes
from cli.diff.sides import Cost, Finding, Side, secret_env
from cli.diff.values import InputChange
from cli.engine import SECRET, Evaluation

# The app's secrets resource (components/fly/resources.py AppSecrets, a dynamic provider).
SECRETS_TYPE = "pulumi-python:dynamic/fly:AppSecrets"


@dataclass(frozen=True)
class Diff:
    stack: str
    base_ref: str
    resources: tuple[ResourceChange, ...]
    findings_added: tuple[Finding, ...]
    findings_removed: tuple[Finding, ...]
    base_cost: Cost | None
    head_cost: Cost | None
    head_blocking: tuple[str, ...]
    secrets_changed: tuple[str, ...] = ()  # config keys whose secure value was set again

    def count(self, *ops: Op) -> int:
        return sum(r.op in ops for r in self.resources)


def compute(base: Side, head: Side, stack: str, base_ref: str) -> Diff:
    empty = Evaluation("", stack)
    changes = resource_changes(base.evaluation or empty, head.evaluation or empty)
    before, after = set(base.findings), set(head.findings)
    secrets = tuple(
        where
        for where in sorted(set(base.secure) | set(head.secure))
        if base.evaluation is not None and base.secure.get(where) != head.secure.get(where)
    )
    return Diff(
        stack,
        base_ref,
        tuple(_with_secrets(changes, head, secrets)),
        tuple(f for f in head.findings if f not in before),
        tuple(f for f in base.findings if f not in after),
        base.cost,
        head.cost,
        head.blocking,
        secrets,
    )


def _with_secrets(
    changes: list[ResourceChange], head: Side, secrets: Sequence[str]
) -> list[ResourceChange]:
    """The app's secrets resource updated for each secure value set again: offline
    both values are the same placeholder, but the ciphertexts say they differ."""
    names = sorted({env for where in secrets if (env := secret_env(where)) is not None})
    if not names or head.evaluation is None:
        return changes
    out = list(changes)
    for r in head.evaluation.resources:
        if r.type != SECRETS_TYPE:
            continue
        extra = [InputChange(f"values.{name}", SECRET, SECRET, True) for name in names]
        at = next((i for i, c in enumerate(out) if c.urn == r.urn), None)
        if at is None:
            out.append(ResourceChange("update", r.urn, r.type, r.name, tuple(extra)))
        elif out[at].op != "create":
            known = {c.path for c in out[at].changes}
            merged = out[at].changes + tuple(c for c in extra if c.path not in known)
            out[at] = dataclasses.replace(out[at], changes=merged)
    return out
