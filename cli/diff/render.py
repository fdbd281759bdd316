"""The diff as text (a terminal), markdown (a pull request comment) or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cli.diff.compare import Diff
from cli.diff.resources import ResourceChange
from cli.diff.sides import Cost, Finding

OFFLINE_NOTE = (
    "Offline: compared with the program at the base ref, not with the live stack; "
    "drift and values only providers know show at `pulumi preview` and `webhost-infra drift`."
)


SIGN = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _delta(value: float) -> str:
    sign = "+" if value >= 0 else "-"
    return f"{sign}${abs(value):,.0f}" if round(value) == value else f"{sign}${abs(value):,.2f}"


def _pct(margin: float | None) -> str:
    return "n/a" if margin is None else f"{margin:.0%}"


def _margin_word(diff: Diff) -> str:
    """`margin`, or `margin at most` while the head leaves usage-based items out (its
    margin is then a ceiling, components/cost.py)."""
    inexact = diff.head_cost is not None and bool(diff.head_cost.unestimated)
    return "margin at most" if inexact else "margin"


def summary(diff: Diff) -> str:
    """`+2 ~1 -0, cost +$31/month, margin 88% -> 87%` (replacements count as ~)."""
    counts = f"+{diff.count('create')} ~{diff.count('update', 'replace')} -{diff.count('delete')}"
    before = diff.base_cost.total if diff.base_cost else 0.0
    after = diff.head_cost.total if diff.head_cost else 0.0
    margins = (
        f"{_margin_word(diff)} {_pct(diff.base_cost.margin if diff.base_cost else None)} -> "
        f"{_pct(diff.head_cost.margin if diff.head_cost else None)}"
    )
    return f"{counts}, cost {_delta(after - before)}/month, {margins}"


@dataclass(frozen=True)
class CostRow:
    name: str
    before: float
    after: float
    margin_points: float | None  # the delta as a share of revenue, in margin points

    @property
    def delta(self) -> float:
        return self.after - self.before


def cost_rows(diff: Diff) -> list[CostRow]:
    before = {line.name: line.monthly for line in (diff.base_cost.lines if diff.base_cost else ())}
    after = {line.name: line.monthly for line in (diff.head_cost.lines if diff.head_cost else ())}
    revenue = diff.head_cost.revenue if diff.head_cost else 0.0
    rows = []
    for name in [*after, *(n for n in before if n not in after)]:
        old, new = before.get(name, 0.0), after.get(name, 0.0)
        points = (old - new) / revenue * 100 + 0.0 if revenue else None  # no "-0.0"
        rows.append(CostRow(name, old, new, points))
    return rows


def _resource_lines(change: ResourceChange) -> list[str]:
    flag = " [protected: `pulumi up` refuses until unprotected]" if change.protected else ""
    head = f"{SIGN[change.op]:>2} {change.op:<7} {change.type}  {change.name}{flag}"
    lines = [head]
    if change.replace_because:
        lines.append(f"      replaced because {', '.join(change.replace_because)} changed")
    lines += [f"      {c.describe()}" for c in change.changes]
    return lines


def as_text(diff: Diff) -> str:
    lines = [f"Diff of stack {diff.stack}: {diff.base_ref} -> working tree", OFFLINE_NOTE, ""]
    lines.append(f"Summary: {summary(diff)}")
    lines.append("")
    lines.append("Resources:")
    if not diff.resources:
        lines.append("    no changes")
    for change in diff.resources:
        lines += [f"  {line}" for line in _resource_lines(change)]
    if diff.secrets_changed:
        lines += ["", "Secure config set again (values never shown):"]
        lines += [f"    {where}: changed" for where in diff.secrets_changed]
    lines += ["", "Policy findings:"]
    lines += [f"  + [{f.level}] {f.policy}: {f.message}" for f in diff.findings_added]
    lines += [f"  - [{f.level}] {f.policy}: {f.message}" for f in diff.findings_removed]
    if not diff.findings_added and not diff.findings_removed:
        lines.append("    none appear or go away")
    lines += ["", "Monthly cost:"]
    lines.append(f"  {'item':<52} {'before':>10} {'after':>10} {'delta':>10} {'margin':>8}")
    for row in cost_rows(diff):
        points = "" if row.margin_points is None else f"{row.margin_points:+.1f}pt"
        lines.append(
            f"  {row.name:<52} {row.before:>10.2f} {row.after:>10.2f} "
            f"{_delta(row.delta):>10} {points:>8}"
        )
    lines += _totals(diff, "  ")
    return "\n".join(lines)


def _totals(diff: Diff, indent: str) -> list[str]:
    before = diff.base_cost.total if diff.base_cost else 0.0
    after = diff.head_cost.total if diff.head_cost else 0.0
    out = [
        f"{indent}cost {_money(before)} -> {_money(after)} ({_delta(after - before)}/month); "
        f"{_margin_word(diff)} {_pct(diff.base_cost.margin if diff.base_cost else None)} -> "
        f"{_pct(diff.head_cost.margin if diff.head_cost else None)}"
    ]
    unestimated = diff.head_cost.unestimated if diff.head_cost else ()
    if unestimated:
        out.append(f"{indent}not estimated (usage-based): {', '.join(unestimated)}")
    return out


def marker(stack: str) -> str:
    """The hidden first line the workflow finds its comment by, to edit it in place."""
    return f"<!-- webhost-infra diff: {stack} -->"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(diff: Diff) -> str:
    lines = [
        marker(diff.stack),
        f"**{diff.stack}**: {summary(diff)}",
        "",
        f"<details><summary>{diff.stack}: {diff.base_ref} -> this pull request</summary>",
        "",
        f"_{OFFLINE_NOTE}_",
        "",
    ]
    if diff.resources:
        lines += ["| | resource | what changes |", "|---|---|---|"]
        for change in diff.resources:
            what = [f"replaced because {', '.join(change.replace_because)} changed"] * bool(
                change.replace_because
            )
            what += [c.describe() for c in change.changes]
            if change.protected:
                what.append("protected: `pulumi up` refuses until unprotected")
            cell = "<br>".join(f"`{_md(w)}`" for w in what) or change.op
            lines.append(f"| {SIGN[change.op]} {change.op} | `{change.name}` | {cell} |")
    else:
        lines.append("No resource changes.")
    lines += ["", "**Policy findings**", ""]
    lines += [f"- appears: [{f.level}] {f.policy}: {_md(f.message)}" for f in diff.findings_added]
    lines += [
        f"- goes away: [{f.level}] {f.policy}: {_md(f.message)}" for f in diff.findings_removed
    ]
    if not diff.findings_added and not diff.findings_removed:
        lines.append("None appear or go away.")
    lines += [
        "",
        "**Monthly cost**",
        "",
        "| item | before | after | delta | margin |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in cost_rows(diff):
        points = "" if row.margin_points is None else f"{row.margin_points:+.1f} pt"
        lines.append(
            f"| {_md(row.name)} | {row.before:.2f} | {row.after:.2f} | {_delta(row.delta)} "
            f"| {points} |"
        )
    lines += ["", *_totals(diff, ""), "", "</details>"]
    return "\n".join(lines)


def as_json(diff: Diff) -> str:
    def cost(c: Cost | None) -> dict[str, Any] | None:
        if c is None:
            return None
        return {
            "items": [{"name": line.name, "monthly": line.monthly} for line in c.lines],
            "total": c.total,
            "revenue": c.revenue,
            "margin": c.margin,
            "unestimated": list(c.unestimated),
        }

    def finding(f: Finding) -> dict[str, Any]:
        return {"policy": f.policy, "enforcementLevel": f.level, "message": f.message, "urn": f.urn}

    document = {
        "stack": diff.stack,
        "base": diff.base_ref,
        "note": OFFLINE_NOTE,
        "summary": {
            "create": diff.count("create"),
            "update": diff.count("update"),
            "replace": diff.count("replace"),
            "delete": diff.count("delete"),
            "text": summary(diff),
        },
        "resources": [
            {
                "op": r.op,
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "protected": r.protected,
                "replaceBecause": list(r.replace_because),
                "changes": [
                    {"path": c.path, "secret": c.secret}
                    | ({} if c.secret else {"old": c.old, "new": c.new})
                    for c in r.changes
                ],
            }
            for r in diff.resources
        ],
        "policyFindings": {
            "added": [finding(f) for f in diff.findings_added],
            "removed": [finding(f) for f in diff.findings_removed],
        },
        "cost": {
            "before": cost(diff.base_cost),
            "after": cost(diff.head_cost),
            "rows": [
                {
                    "name": row.name,
                    "before": row.before,
                    "after": row.after,
                    "delta": row.delta,
                    "marginPoints": row.margin_points,
                }
                for row in cost_rows(diff)
            ],
        },
        "mandatoryViolations": list(diff.head_blocking),
        "secureConfigChanged": list(diff.secrets_changed),
    }
    return json.dumps(document, indent=2)


RENDER = {"text": as_text, "markdown": as_markdown, "json": as_json}
