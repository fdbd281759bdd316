"""One side of a diff: the program at a git ref (its own code, imported under the same
package names while the working tree's modules are set aside) or the working tree,
evaluated offline with its policy pack and its cost."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from cli import checks, program, stackfile
from cli.engine import Evaluation
from components import catalog

# The program's own packages: imported afresh from the base's tree for its side.
PACKAGES = ("components", "policies")


class DiffInputError(Exception):
    """Bad input on either side; the message is one line."""


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
        loaded, parsed, evaluation = program.evaluate(root, stack_path, config_module)
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
            # A path into maps and lists (stackfile.SecurePath); a step that leads
            # nowhere leaves no value (and what is not a map is no secure value).
            try:
                value = value[step]
            except (KeyError, IndexError, TypeError):
                value = None
        if isinstance(value, dict) and isinstance(value.get("secure"), str):
            where = ".".join([str(key), *map(str, inner)])
            out[where] = hashlib.sha256(value["secure"].encode()).hexdigest()
    return out


def secret_env(where: str) -> str | None:
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
