"""Input values made comparable without printing a secret, and their changes by path."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

from cli import engine
from cli.engine import COMPUTED, PROVIDER_KEY, SECRET


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


def _walk(
    value: Any,
    again: Callable[[Any], Any],
    secret: Callable[[Any], Any],
    unknown: Any,
    leaf: Callable[[Any], Any],
    *,
    lists: bool = True,
) -> Any:
    """`value` with a secret's inside given to `secret`, an unknown as `unknown`, maps
    (and lists, when `lists`) walked with `again`, and anything else given to `leaf`."""
    if rpc.is_rpc_secret(value):
        return secret(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Unknown):
        return unknown
    if isinstance(value, Mapping):
        return {str(k): again(v) for k, v in value.items()}
    if lists and isinstance(value, list | tuple):
        return [again(v) for v in value]
    return leaf(value)


def _plain(value: Any) -> Any:
    """The value with secrets unwrapped and unknowns marked: hashed, never shown."""
    return _walk(value, _plain, _plain, COMPUTED, lambda v: engine._scalar(v, COMPUTED))


def _sealed(value: Any) -> Sealed:
    text = json.dumps(_plain(value), sort_keys=True, default=str)
    return Sealed(hashlib.sha256(text.encode()).hexdigest())


def _seal(value: Any) -> Any:
    """A secret's leaves sealed; a map keeps its keys (names, not values)."""
    return _walk(value, _seal, _seal, UNKNOWN, _sealed, lists=False)


def comparable(value: Any) -> Any:
    """Secrets sealed, unknowns as UNKNOWN, numbers as the engine carries them."""
    return _walk(value, comparable, _seal, UNKNOWN, lambda v: engine._scalar(v, UNKNOWN))


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
        if before == after or matches(path, ignore):
            continue
        secret = isinstance(before, Sealed) or isinstance(after, Sealed)
        changes.append(InputChange(path, _shown(before), _shown(after), secret))
    return changes


def matches(path: str, patterns: Sequence[str]) -> bool:
    """A property path under one of `patterns` (Pulumi's `a.b`, `*` for everything)."""
    return any(p in ("*", path) or path.startswith(f"{p}.") for p in patterns)
