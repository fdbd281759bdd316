"""Read a project and stack file the way the Pulumi CLI hands config to a program.

The program receives every config value as text: scalars as their YAML text,
objects and lists as JSON. A `secure:` value is ciphertext that only the stack's
secrets provider can open; offline it is never decrypted, it becomes the
placeholder `[secret]` and its key is marked secret, as the engine would.

A file of any shape gets one line per problem and never a traceback: it must be
UTF-8 without a byte-order mark, plain YAML (no duplicate keys, no anchors or
aliases, no tags beyond the standard scalars), a mapping with a `config:` mapping
of string keys to strings, numbers, booleans, lists and maps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config import SECRET_PLACEHOLDER, SecurePath

# Stack files are a few kilobytes; anything near this is not one, and reading it
# whole would only slow the answer down.
MAX_BYTES = 1 << 20
# Config values are at most a few levels deep; deeper is hostile or a mistake, and
# Python's own recursion limit is not where we want to find out.
MAX_DEPTH = 32


class StackFileError(Exception):
    """A project or stack file that cannot be read; the message is one line per problem."""


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    program: Path
    config: dict[str, str]
    secret_keys: frozenset[str]
    # Where each secure value sits: the full key, then the path inside its value.
    secure_paths: frozenset[SecurePath] = field(default_factory=frozenset)


class _Strict:
    """What both loaders refuse as Pulumi does: go-yaml v3, which reads stack files,
    refuses a duplicate key ("mapping key ... already defined")."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        loader: Any = self
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_shown(key)}", key_node.start_mark
                )
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)  # type: ignore[misc]
        return mapping


class _StrictLoader(_Strict, yaml.SafeLoader):
    """SafeLoader without the YAML features Pulumi refuses or that can explode: aliases
    are refused outright, since a few of them nest into billions of nodes ("billion
    laughs"), and anchors with them. Pure Python: it names every problem in its words."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a stack file", event.start_mark
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) are not allowed in a stack file", event.start_mark
            )
        return super().compose_node(parent, index)


class _FastLoader(_Strict, yaml.CSafeLoader):
    """The same loader over libyaml's scanner, parser and composer (PyYAML's C binding):
    about ten times faster, for a file _plain has found free of what only the pure
    loader refuses (issue 22: every plan and most tests read a stack file)."""


class _LongNumber(str):
    """An integer too long for Python to read (past 4300 digits): kept to name its key."""


def _construct_int(loader: _StrictLoader, node: Any) -> Any:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        return _LongNumber(node.value)


# go-yaml v3 leaves an unquoted date as text when the target is untyped (as Pulumi's
# config is), so a date is a string here too, never a datetime.
_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _loader in (_StrictLoader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _loader.yaml_implicit_resolvers = _RESOLVERS
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _shown(key: Any) -> str:
    text = str(key)
    return text if text.isprintable() and len(text) <= 80 else json.dumps(text[:80])


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise StackFileError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise StackFileError(f"{path}: larger than {MAX_BYTES} bytes; not a stack file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (data[:1] == b"\0" or data[1:2] == b"\0"):
        raise StackFileError(f"{path}: UTF-16 text; save it as UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):
        raise StackFileError(f"{path}: starts with a byte-order mark; save it as UTF-8 without one")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise StackFileError(
            f"{path}:{line}: not UTF-8 (byte {exc.start}); save it as UTF-8"
        ) from None


def _plain(text: str) -> bool:
    """Whether libyaml reads `text` as the pure loader would: no character PyYAML's reader
    refuses, no anchor or alias, valid YAML, and nesting no deeper than a stack file's.
    Anything else goes to the pure loader, whose error lines stay the project's."""
    if yaml.reader.Reader.NON_PRINTABLE.search(text):
        return False
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                return False
            depth += isinstance(event, _OPEN) - isinstance(event, _CLOSE)
            if depth > MAX_DEPTH + 2:
                return False
    except yaml.YAMLError:
        return False
    return True


def _load_yaml(path: Path) -> Any:
    text = _read_text(path)
    try:
        if _plain(text):
            try:
                return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a CSafeLoader subclass
            except (yaml.YAMLError, ValueError, RecursionError):
                pass  # the pure loader below names the problem in its words
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "not valid YAML").split())
        raise StackFileError(f"{path}{where}: {problem}") from None
    except yaml.reader.ReaderError as exc:
        raise StackFileError(
            f"{path}: character {exc.character!r} at offset {exc.position} is not allowed in YAML"
        ) from None
    except yaml.YAMLError as exc:
        raise StackFileError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    except ValueError:
        # PyYAML turns a huge integer into int(), which Python refuses past 4300 digits.
        raise StackFileError(f"{path}: a number too long to read") from None
    except RecursionError:
        raise StackFileError(f"{path}: nested too deeply to be a stack file") from None


def _is_secure(value: Any) -> bool:
    # Pulumi's config: a map of exactly one `secure` key holding a string
    # (pulumi/pulumi sdk/go/common/resource/config/object.go, isSecureValue).
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _problems(value: Any, path: tuple[str, ...], depth: int = 0) -> Iterator[str]:
    """What in a config value Pulumi could not pass a program as text or JSON."""
    where = ".".join(_shown(p) for p in path)
    if depth > MAX_DEPTH:
        yield f"{where}: nested more than {MAX_DEPTH} levels deep"
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                yield f"{where}.{_shown(key)}: a key must be a string, not {_kind(key)}"
            elif isinstance(key, str) and not key.isprintable():
                yield f"{where}.{_shown(key)}: a key with control characters"
            else:
                yield from _problems(item, (*path, str(key)), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, (*path, str(index)), depth + 1)
    elif isinstance(value, _LongNumber):
        yield f"{where}: a number of {len(value)} digits, beyond any sane range"
    elif isinstance(value, float) and not math.isfinite(value):
        yield f"{where}: {value} is not a number a config value can hold"
    elif not isinstance(value, str | int | float | bool) and value is not None:
        yield f"{where}: {_kind(value)} is not a config value (text, number, boolean, list, map)"


def _kind(value: Any) -> str:
    names = {bytes: "binary data", set: "a set", bool: "a boolean", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _masked(value: Any, path: SecurePath) -> tuple[Any, list[SecurePath]]:
    """`value` with every secure value replaced by the placeholder, and where each was."""
    if _is_secure(value):
        return SECRET_PLACEHOLDER, [path]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        found: list[SecurePath] = []
        for k, v in value.items():
            out[str(k)], inner = _masked(v, (*path, str(k)))
            found += inner
        return out, found
    if isinstance(value, list):
        items = [_masked(v, (*path, i)) for i, v in enumerate(value)]
        return [v for v, _ in items], [p for _, inner in items for p in inner]
    return value, []


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""  # an empty value, as Pulumi passes `key:` with nothing after it
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def load(stack_file: Path, project_file: Path | None = None) -> StackFile:
    """Load `Pulumi.<stack>.yaml` with the `Pulumi.yaml` beside it (or `project_file`)."""
    project_file = project_file or stack_file.parent / "Pulumi.yaml"
    project_doc = _load_yaml(project_file)
    if not isinstance(project_doc, dict) or not isinstance(project_doc.get("name"), str):
        raise StackFileError(f"{project_file}: a project file needs a `name`")
    project: str = project_doc["name"]
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml").removesuffix(".yml")

    raw: dict[str, Any] = {}
    # Project-level config: `key: value` or `key: {default: value, ...}`.
    project_config = project_doc.get("config") or {}
    if not isinstance(project_config, dict):
        raise StackFileError(f"{project_file}: `config:` must be a mapping of keys to values")
    for key, spec in project_config.items():
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            raw[_full_key(project, str(key))] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            raw[_full_key(project, str(key))] = spec

    stack_doc = _load_yaml(stack_file)
    if not isinstance(stack_doc, dict) or "config" not in stack_doc:
        raise StackFileError(f"{stack_file}: a stack file is a mapping with a `config:` key")
    stack_config = stack_doc["config"]
    if stack_config is None:
        stack_config = {}
    if not isinstance(stack_config, dict):
        raise StackFileError(f"{stack_file}: `config:` must be a mapping of keys to values")
    problems = [f"{stack_file}: {line}" for line in _problems(stack_config, ("config",))]
    if problems:
        raise StackFileError("\n".join(problems))
    raw.update({_full_key(project, str(k)): v for k, v in stack_config.items()})

    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    secure_paths: set[SecurePath] = set()
    for key, value in raw.items():
        masked, where = _masked(value, (key,))
        config[key] = _as_text(masked)
        if where:
            secret_keys.add(key)
            secure_paths.update(where)
    main = project_doc.get("main")
    program = project_file.parent / (main if isinstance(main, str) else "")
    if program.is_dir():
        program = program / "__main__.py"
    return StackFile(
        project, stack, program, config, frozenset(secret_keys), frozenset(secure_paths)
    )
