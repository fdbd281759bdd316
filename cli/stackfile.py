"""Read a project and stack file the way the Pulumi CLI hands config to a program.

The program receives every config value as text: scalars as their YAML text,
objects and lists as JSON. A `secure:` value is ciphertext that only the stack's
secrets provider can open; offline it is never decrypted, it becomes the
placeholder `[secret]` and its key is marked secret, as the engine would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config import SECRET_PLACEHOLDER


class StackFileError(Exception):
    """A project or stack file that cannot be read; the message is one line."""


@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    program: Path
    config: dict[str, str]
    secret_keys: frozenset[str]


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise StackFileError(f"{path}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise StackFileError(f"{path}{where}: {problem}") from None


def _masked(value: Any) -> tuple[Any, bool]:
    """`value` with every `{secure: ...}` replaced by the placeholder, and whether any was."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        pairs = {k: _masked(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_masked(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
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
    for key, spec in (project_doc.get("config") or {}).items():
        if isinstance(spec, dict) and ("default" in spec or "value" in spec):
            raw[_full_key(project, key)] = spec.get("value", spec.get("default"))
        elif not isinstance(spec, dict):
            raw[_full_key(project, key)] = spec

    stack_doc = _load_yaml(stack_file) or {}
    if not isinstance(stack_doc, dict):
        raise StackFileError(f"{stack_file}: a stack file is a mapping with a `config:` key")
    stack_config = stack_doc.get("config") or {}
    if not isinstance(stack_config, dict):
        raise StackFileError(f"{stack_file}: `config:` must be a mapping of keys to values")
    raw.update({_full_key(project, str(k)): v for k, v in stack_config.items()})

    config: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in raw.items():
        masked, secret = _masked(value)
        config[key] = _as_text(masked)
        if secret:
            secret_keys.add(key)
    main = project_doc.get("main")
    program = project_file.parent / (main if isinstance(main, str) else "")
    if program.is_dir():
        program = program / "__main__.py"
    return StackFile(project, stack, program, config, frozenset(secret_keys))
