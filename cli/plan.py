"""The offline plan's two formats: a resource tree for people, JSON for tools."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from pulumi_policy import EnforcementLevel

from cli.checks import PackRun
from cli.engine import Evaluation, Registration, render

MAX_VALUE = 72
DISABLED = EnforcementLevel.DISABLED


def _policies(pack: PackRun | None) -> list[dict[str, str]]:
    if pack is None:
        return []
    return [{"name": name, "enforcementLevel": level.value} for name, level in pack.levels.items()]


def as_json(evaluation: Evaluation, pack: PackRun | None = None) -> str:
    violations = pack.violations if pack is not None else ()
    resources = []
    for r in evaluation.resources:
        inputs, secret_inputs = r.rendered_inputs()
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "dependencies": list(r.dependencies),
                "protect": r.protect,
                "inputs": inputs,
                "secretInputs": secret_inputs,
            }
        )
    document = {
        "project": evaluation.project,
        "stack": evaluation.stack,
        "resources": resources,
        "outputs": evaluation.rendered_outputs(),
        "invokes": [
            {"token": i.token, "args": render(dict(i.args))[0]} for i in evaluation.invokes
        ],
        "policyConfig": pack.source if pack is not None else None,
        "policies": _policies(pack),
        "policyViolations": [
            {
                "policy": v.policy,
                "enforcementLevel": v.level.value,
                "message": v.message,
                "urn": v.urn,
            }
            for v in violations
        ],
    }
    return json.dumps(document, indent=2, sort_keys=False)


def _short(value: Any) -> str:
    if isinstance(value, str) and "\n" in value.strip():
        return f"<{len(value.strip().splitlines())} lines>"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _line(r: Registration) -> str:
    inputs, _ = r.rendered_inputs()
    shown = " ".join(f"{k}={_short(v)}" for k, v in inputs.items())
    flags = (" [protected]" if r.protect else "") + (" [retained]" if r.retain_on_delete else "")
    return f"{r.type}  {r.name}{flags}" + (f"\n{shown}" if shown else "")


def as_text(evaluation: Evaluation, pack: PackRun | None = None) -> str:
    violations = pack.violations if pack is not None else ()
    children: dict[str | None, list[Registration]] = defaultdict(list)
    for r in evaluation.resources:
        children[r.parent].append(r)
    lines = [
        f"Offline plan of {evaluation.project}/{evaluation.stack} "
        "(no credentials; [computed] is known only after `pulumi up`)",
        "",
    ]

    def walk(r: Registration, prefix: str, last: bool, root: bool) -> None:
        head, *rest = _line(r).split("\n")
        branch = "" if root else ("└─ " if last else "├─ ")
        lines.append(f" +  {prefix}{branch}{head}")
        inner = prefix + ("" if root else ("   " if last else "│  "))
        kids = children.get(r.urn, [])
        for detail in rest:
            lines.append(f"    {inner}{'│  ' if kids else '   '}  {detail}")
        for i, kid in enumerate(kids):
            walk(kid, inner, i == len(kids) - 1, False)

    for root in children.get(None, []):
        walk(root, "", True, True)
    if evaluation.invokes:
        lines += ["", "Reads (answered by providers at `pulumi preview`; [computed] here):"]
        lines += [f"    {i.token}  {_short(render(dict(i.args))[0])}" for i in evaluation.invokes]
    lines += ["", "Outputs:"]
    lines += [f"    {k}: {_short(v)}" for k, v in evaluation.rendered_outputs().items()]
    lines += ["", "Policies:"]
    if pack is not None:
        # Which rules ran, and at which level, is part of what was checked: a
        # stack planned under another stack's pack config shows here.
        ran = [f"{n} [{lvl.value}]" for n, lvl in pack.levels.items() if lvl != DISABLED]
        off = [n for n, lvl in pack.levels.items() if lvl == DISABLED]
        lines.append(f"    config: {pack.source}")
        lines.append(f"    ran: {', '.join(ran) or 'none'}")
        lines.append(f"    disabled: {', '.join(off) or 'none'}")
    lines += [f"    [{v.level.value}] {v.policy}: {v.message}" for v in violations] or [
        "    no violations"
    ]
    custom = sum(r.custom for r in evaluation.resources)
    lines += ["", f"Resources: {len(evaluation.resources)} to create ({custom} custom)"]
    return "\n".join(lines)
