"""`webhost-infra diff`: what a change does to a stack, computed offline.

Both sides are evaluated in this process under the mock engine: the base from a git
ref (its own program, stack file, policy pack and catalog, extracted to a temporary
directory and imported under the same package names, with the working tree's
modules set aside meanwhile), the head from the working tree. Resources are matched
by URN and their inputs compared; whether a change updates or replaces comes from
what the program declares: `replace_on_changes` options, the dynamic providers' own
`diff`, pulumi-command's `triggers`, and the providers' immutable inputs below.

Offline there is no state: the base stands in for what is deployed, and values only
a provider knows are unknown on both sides. Secret values are compared in memory
(sealed by a digest that is never printed) and shown only as changed or unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import difflib
import hashlib
import importlib
import importlib.util
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, TextIO

import dill  # type: ignore[import-untyped]
import yaml
from pulumi.dynamic import ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime import rpc

from cli import checks, engine, stackfile
from cli.engine import COMPUTED, PROVIDER_KEY, SECRET, Evaluation, Registration
from components import catalog

Op = Literal["create", "update", "replace", "delete"]
OFFLINE_NOTE = (
    "Offline: compared with the program at the base ref, not with the live stack; "
    "drift and values only providers know show at `pulumi preview` and `webhost-infra drift`."
)
# The program's own packages: imported afresh from the base's tree for its side.
PACKAGES = ("components", "policies")
COMMAND_TYPE = "command:local:Command"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
SECRETS_TYPE = "pulumi-python:dynamic/fly:AppSecrets"
# pulumi-command declares `triggers` replace-on-change (provider/pkg/provider/common/
# inputs.go @ 010bd8e: `provider:"replaceOnChanges"`): any change re-creates the command.
COMMAND_REPLACE_KEYS = ("triggers",)
# Inputs the bridged providers replace on (RequiresReplace in the Terraform schemas
# they wrap: cloudflare/terraform-provider-cloudflare @ a2efdc5 internal/services/
# dns_record, zone_setting, ruleset schema.go; terraform-provider-random's password
# resource replaces on every argument). The provider has the last word at preview.
IMMUTABLE_INPUTS: Mapping[str, tuple[str, ...]] = {
    "cloudflare:index/dnsRecord:DnsRecord": ("zoneId", "type"),
    "cloudflare:index/zoneSetting:ZoneSetting": ("zoneId", "settingId"),
    "cloudflare:index/ruleset:Ruleset": ("accountId", "zoneId", "kind", "name", "phase"),
    "random:index/randomPassword:RandomPassword": ("*",),
}


class DiffInputError(Exception):
    """Bad input on either side; the message is one line."""


# -- values: comparable without printing secrets --------------------------------------


@dataclass(frozen=True)
class Sealed:
    """A secret value: equal to another exactly when the values are equal. The digest
    never leaves the process (not in repr, not in any output)."""

    digest: str = field(repr=False)

    def __repr__(self) -> str:
        return SECRET


class _Computed:
    def __repr__(self) -> str:
        return COMPUTED


UNKNOWN = _Computed()


def _plain(value: Any) -> Any:
    """The value with secrets unwrapped and unknowns marked: hashed, never shown."""
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Unknown):
        return COMPUTED
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return engine._scalar(value, COMPUTED)


def _seal(value: Any) -> Any:
    """A secret's leaves sealed; a map keeps its keys (names, not values)."""
    if rpc.is_rpc_secret(value):
        return _seal(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _seal(v) for k, v in value.items()}
    text = json.dumps(_plain(value), sort_keys=True, default=str)
    return Sealed(hashlib.sha256(text.encode()).hexdigest())


def comparable(value: Any) -> Any:
    """Secrets sealed, unknowns as UNKNOWN, numbers as the engine carries them."""
    if rpc.is_rpc_secret(value):
        return _seal(value)
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    return engine._scalar(value, UNKNOWN)


def _leaves(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, inner in sorted(value.items()):
            out.update(_leaves(inner, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: value}


def _shown(value: Any) -> Any:
    if isinstance(value, Sealed):
        return SECRET
    if value is UNKNOWN:
        return COMPUTED
    if isinstance(value, list):
        return [_shown(v) for v in value]
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class InputChange:
    path: str
    old: Any  # shown form: never a secret's value
    new: Any
    secret: bool

    def describe(self) -> str:
        if self.secret:
            return f"{self.path}: secret changed"
        if _multiline(self.old) and _multiline(self.new):
            return f"{self.path}: {_lines_changed(self.old, self.new)}"
        return f"{self.path}: {_text(self.old)} -> {_text(self.new)}"


def _multiline(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value.strip()


def _lines_changed(old: str, new: str) -> str:
    """A text input (a rendered fly.toml) by the lines that differ, the first few shown."""
    before, after = old.strip().splitlines(), new.strip().splitlines()
    removed: list[str] = []
    added: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed += before[i1:i2]
            added += after[j1:j2]
    shown = [f"-{_text(line.strip())}" for line in removed[:2]]
    shown += [f"+{_text(line.strip())}" for line in added[:2]]
    more = len(removed) + len(added) - len(shown)
    return (
        f"{len(removed)} line(s) out, {len(added)} in: "
        + " ".join(shown)
        + (f" (+{more} more)" if more > 0 else "")
    )


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str) and "\n" in value.strip():
        return f"<{len(value.strip().splitlines())} lines>"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 72 else text[:71] + "…"


def input_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore: Sequence[str] = ()
) -> list[InputChange]:
    """Leaf paths whose value differs. Unknown on both sides is not a change offline."""
    olds = _leaves({k: v for k, v in old.items() if k != PROVIDER_KEY}, "")
    news = _leaves({k: v for k, v in new.items() if k != PROVIDER_KEY}, "")
    changes = []
    for path in sorted(set(olds) | set(news)):
        before, after = olds.get(path), news.get(path)
        if before == after or _matches(path, ignore):
            continue
        secret = isinstance(before, Sealed) or isinstance(after, Sealed)
        changes.append(InputChange(path, _shown(before), _shown(after), secret))
    return changes


def _matches(path: str, patterns: Sequence[str]) -> bool:
    """A property path under one of `patterns` (Pulumi's `a.b`, `*` for everything)."""
    return any(p in ("*", path) or path.startswith(f"{p}.") for p in patterns)


# -- resources ---------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceChange:
    op: Op
    urn: str
    type: str
    name: str
    changes: tuple[InputChange, ...] = ()
    replace_because: tuple[str, ...] = ()
    protected: bool = False


def _provider(r: Registration) -> ResourceProvider | None:
    # As the engine's dynamic provider host does (pulumi sdk/python/lib/pulumi/dynamic/
    # __main__.py get_provider): the pickled provider of the new inputs, by reference to
    # its class, so the working tree's diff rules decide.
    text = r.inputs.get(PROVIDER_KEY)
    if not isinstance(text, str):
        return None
    # Pickled by this process from the working tree's own provider objects.
    provider = dill.loads(base64.b64decode(text))  # noqa: S301
    return provider if isinstance(provider, ResourceProvider) else None


def _dynamic_diff(old: Registration, new: Registration) -> tuple[bool, list[str]] | None:
    provider = _provider(new)
    if provider is None:
        return None
    olds = {k: comparable(v) for k, v in old.inputs.items() if k != PROVIDER_KEY}
    news = {k: comparable(v) for k, v in new.inputs.items() if k != PROVIDER_KEY}
    result = provider.diff("", olds, news)
    return bool(result.changes), list(result.replaces or [])


def classify(old: Registration, new: Registration) -> ResourceChange | None:
    """The step the change takes, or None when nothing changes."""
    olds = {k: comparable(v) for k, v in old.inputs.items()}
    news = {k: comparable(v) for k, v in new.inputs.items()}
    changes = input_changes(olds, news, new.ignore_changes)
    if not changes:
        return None
    paths = [c.path for c in changes]
    replace = [p for p in paths if _matches(p, new.replace_on_changes)]
    if new.type.startswith(DYNAMIC_PREFIX):
        decided = _dynamic_diff(old, new)
        if decided is not None:
            changed, keys = decided
            if not changed and not replace:
                return None
            replace += [p for p in paths if _matches(p, keys)]
    elif new.type == COMMAND_TYPE:
        replace += [p for p in paths if _matches(p, COMMAND_REPLACE_KEYS)]
    else:
        replace += [p for p in paths if _matches(p, IMMUTABLE_INPUTS.get(new.type, ()))]
    op: Op = "replace" if replace else "update"
    return ResourceChange(
        op,
        new.urn,
        new.type,
        new.name,
        tuple(changes),
        tuple(dict.fromkeys(replace)),
        protected=op == "replace" and old.protect,
    )


def resource_changes(base: Evaluation, head: Evaluation) -> list[ResourceChange]:
    """Every custom resource's step, in the head's registration order, deletes last.

    Components are groupings: their inputs (the Platform's spec) change with the
    stack but nothing on the platform does, so they are left out, as is the stack.
    """
    olds = {r.urn: r for r in base.resources if r.custom}
    news = {r.urn: r for r in head.resources if r.custom}
    out: list[ResourceChange] = []
    for urn, new in news.items():
        old = olds.get(urn)
        if old is None:
            out.append(ResourceChange("create", urn, new.type, new.name))
        elif (change := classify(old, new)) is not None:
            out.append(change)
    out += [
        ResourceChange("delete", urn, old.type, old.name, protected=old.protect)
        for urn, old in olds.items()
        if urn not in news
    ]
    return out


# -- one side: evaluation, policies, cost -----------------------------------------


@dataclass(frozen=True)
class CostLine:
    name: str
    monthly: float


@dataclass(frozen=True)
class Cost:
    lines: tuple[CostLine, ...]
    total: float
    revenue: float
    margin: float | None
    unestimated: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    message: str
    urn: str | None


@dataclass
class Side:
    label: str
    evaluation: Evaluation | None  # None: the stack does not exist on this side
    findings: tuple[Finding, ...] = ()
    blocking: tuple[str, ...] = ()
    cost: Cost | None = None
    # Each secure config value's place (`webhost:secrets.NAME`) and a digest of its
    # ciphertext: offline no value is decrypted, but a value set again shows here.
    secure: Mapping[str, str] = field(default_factory=dict)


def _cost(estimate: Any) -> Cost:
    return Cost(
        tuple(CostLine(i.name, float(i.monthly)) for i in estimate.items),
        float(estimate.cost),
        float(estimate.revenue),
        estimate.margin,
        tuple(u.name for u in getattr(estimate, "unestimated", ())),
    )


def _one_line(problems: Sequence[str]) -> str:
    return "; ".join(p.strip() for p in problems if p.strip())


def evaluate_side(
    root: Path, stack: str, label: str, checks_module: ModuleType, policy_config: Path | None
) -> Side:
    """Evaluate the program under `root` with the modules now importable as its own."""
    stack_path = root / f"Pulumi.{stack}.yaml"
    if not stack_path.exists():
        return Side(label, None)
    config_module = importlib.import_module("components.config")
    cost_module = importlib.import_module("components.cost")
    config_error: type[Exception] = config_module.ConfigError
    try:
        loaded = stackfile.load(stack_path, project_file=root / "Pulumi.yaml")
        parsed = config_module.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)
        evaluation = engine.evaluate(
            root / "__main__.py",
            project=loaded.project,
            stack=loaded.stack,
            config=loaded.config,
            secret_keys=sorted(loaded.secret_keys),
        )
    except stackfile.StackFileError as exc:
        raise DiffInputError(f"{label}: {_one_line(str(exc).splitlines())}") from None
    except config_error as exc:
        problems = getattr(exc, "problems", [str(exc)])
        raise DiffInputError(
            f"{label}: invalid config in {stack_path.name}: {_one_line(problems)}"
        ) from None
    pack_config = policy_config or root / "policies" / "config" / f"{stack}.json"
    policy_error: type[Exception] = checks_module.PolicyConfigError
    try:
        loaded_pack = checks_module.load_config(pack_config, required=policy_config is not None)
        pack = checks_module.run(evaluation, loaded_pack, pack_config.name)
    except policy_error as exc:
        raise DiffInputError(f"{label}: {_one_line(getattr(exc, 'problems', []))}") from None
    findings = tuple(Finding(v.policy, v.level.value, v.message, v.urn) for v in pack.violations)
    return Side(
        label,
        evaluation,
        findings,
        tuple(pack.blocking),
        _cost(cost_module.estimate(parsed)),
        _secure(stack_path, loaded),
    )


def _secure(path: Path, loaded: stackfile.StackFile) -> dict[str, str]:
    """Where each `secure:` value sits, with a digest of its ciphertext (never shown)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw = {
        (k if ":" in str(k) else f"{loaded.project}:{k}"): v
        for k, v in (doc.get("config") or {}).items()
    }
    out: dict[str, str] = {}
    for key, *inner in sorted(loaded.secure_paths, key=str):
        value: Any = raw.get(str(key))
        for step in inner:
            if isinstance(value, dict):
                value = value.get(step)
            elif isinstance(value, list) and isinstance(step, int) and step < len(value):
                value = value[step]
            else:
                value = None
        if isinstance(value, dict) and isinstance(value.get("secure"), str):
            where = ".".join([str(key), *map(str, inner)])
            out[where] = hashlib.sha256(value["secure"].encode()).hexdigest()
    return out


def _secret_env(where: str) -> str | None:
    """The app secret a secure config value becomes (catalog.OPERATOR_SECRETS, or
    `webhost:secrets.NAME` -> NAME)."""
    key = where.split(":", 1)[-1]
    if key.startswith("secrets."):
        return key.split(".", 1)[1]
    return catalog.OPERATOR_SECRETS.get(key)


@contextlib.contextmanager
def program_from(root: Path) -> Iterator[None]:
    """Import `components` and `policies` from `root` while inside; the working
    tree's modules are set aside and put back after, untouched."""

    def ours(name: str) -> bool:
        return name.split(".", 1)[0] in PACKAGES

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        importlib.invalidate_caches()


def _fresh_checks() -> ModuleType:
    """The pack runner bound to the `policies` importable now (the base's own pack)."""
    spec = importlib.util.spec_from_file_location("webhost_base_checks", checks.__file__)
    if spec is None or spec.loader is None:  # pragma: no cover - our own file
        raise RuntimeError("cannot load cli/checks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def evaluate_base(repo: Path, ref: str, stack: str) -> Side:
    label = f"base {ref}"
    if ref.startswith("-"):
        raise DiffInputError(f"--base {ref}: not a git ref")
    found = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise DiffInputError(f"--base {ref}: no such commit in {repo}")
    commit = found.stdout.decode().strip()
    archive = _git(repo, "archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise DiffInputError(
            f"--base {ref}: git archive failed: {_one_line(archive.stderr.decode().splitlines())}"
        )
    with tempfile.TemporaryDirectory(prefix="webhost-diff-") as tmp:
        root = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            try:
                tar.extractall(root, filter="data")
            except tarfile.FilterError as exc:
                # A link (or path) that leads out of the tree: not extracted, and said.
                raise DiffInputError(
                    f"{label}: its tree cannot be unpacked safely ({exc})"
                ) from None
        with program_from(root):
            try:
                runner = _fresh_checks()
            except ImportError as exc:
                raise DiffInputError(f"{label}: its policy pack does not load ({exc})") from None
            return evaluate_side(root, stack, label, runner, None)


# -- the whole diff ------------------------------------------------------------------


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
    names = sorted({env for where in secrets if (env := _secret_env(where)) is not None})
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


# -- rendering ---------------------------------------------------------------------

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
EXIT_OK, EXIT_INVALID, EXIT_POLICY = 0, 2, 3


def run(repo: Path, base_ref: str, stack: str, fmt: str, *, out: TextIO, err: TextIO) -> int:
    """The command: the base at `base_ref`, the head in `repo`'s working tree, whose
    modules are the ones this process imported (the working tree's own)."""
    try:
        base = evaluate_base(repo, base_ref, stack)
        head = evaluate_side(repo, stack, "working tree", checks, None)
    except DiffInputError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INVALID
    if head.evaluation is None:
        print(f"error: no stack file Pulumi.{stack}.yaml in the working tree", file=err)
        return EXIT_INVALID
    result = compute(base, head, stack, base_ref)
    print(RENDER[fmt](result), file=out)
    if result.head_blocking:
        print(f"error: mandatory policies violated: {', '.join(result.head_blocking)}", file=err)
        return EXIT_POLICY
    return EXIT_OK
