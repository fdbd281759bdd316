"""The config reference table, generated from the config model itself.

Every key the stack file takes, nested ones included (`domain.*`, `postgres.*`,
`redis.*`, `monitoring.*`, list items as `key[].field`), with its type, default,
the constraints the model enforces (bounds, lengths, patterns) and its description.
README.md carries its output between markers; a test keeps the two in step, so
the reference cannot drift from what the program accepts.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import annotated_types
from pydantic import AfterValidator, BaseModel, SecretStr, Strict
from pydantic.fields import FieldInfo

from components.config import NAMESPACE, StackConfig
from components.config.validators import field_docs

START = "<!-- config-reference:start (generated: webhost-infra config-reference) -->"
END = "<!-- config-reference:end -->"


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under `Annotated[...]` layers, and their metadata."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata += extra
    return annotation, metadata


def _options(annotation: Any) -> list[Any]:
    """The members of a union without None; the annotation alone otherwise."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _type(annotation: Any) -> str:
    annotation, _ = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(a) for a in _options(annotation))
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {_type(key)} to {_type(value)}"
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of {_type(item)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        SecretStr: "secret string",
    }
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _rule(item: Any) -> str | None:
    """One constraint the model enforces, as the reference states it."""
    bounds = (
        (annotated_types.Ge, "ge", ">="),
        (annotated_types.Gt, "gt", ">"),
        (annotated_types.Le, "le", "<="),
        (annotated_types.Lt, "lt", "<"),
    )
    for kind, attr, sign in bounds:
        if isinstance(item, kind):
            return f"{sign} {getattr(item, attr)}"
    if isinstance(item, annotated_types.MinLen):
        return f"length >= {item.min_length}"
    if isinstance(item, annotated_types.MaxLen):
        return f"length <= {item.max_length}"
    if isinstance(item, Strict) and item.strict:
        return "strict type (no conversion)"
    if isinstance(item, AfterValidator) and (rule := getattr(item.func, "rule", None)):
        return str(rule)
    return None


def _constraints(field: FieldInfo) -> str:
    rules = [r for r in map(_rule, field.metadata) if r]
    # The rules of a list's or a map's items (`list[HostName]`), and of an optional value.
    for option in _options(_strip(field.annotation)[0]):
        args = typing.get_args(option) if typing.get_origin(option) in (list, dict) else ()
        if not args and typing.get_origin(option) is typing.Annotated:
            rules += [r for r in map(_rule, _strip(option)[1]) if r]
        for arg in args[-1:]:
            rules += [f"each: {r}" for r in map(_rule, _strip(arg)[1]) if r]
    return "; ".join(rules)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if isinstance(field.default, BaseModel):
        return "see below"
    if field.default is None:
        return "unset"
    return f"`{json.dumps(field.default, default=str)}`"


def _nested(annotation: Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """The models under a field, with the key suffix that reaches them: an object
    (optional or not), a list's items (`[]`), a map's values (`.<name>`)."""
    for member in _options(_strip(annotation)[0]):
        option = _strip(member)[0]
        origin = typing.get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel):
            yield "", option
        elif origin is list:
            item = _strip(typing.get_args(option)[0])[0]
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield "[]", item
        elif origin is dict:
            value = _strip(typing.get_args(option)[1])[0]
            if isinstance(value, type) and issubclass(value, BaseModel):
                yield ".<name>", value


def _description(model: type[BaseModel], name: str) -> str:
    return " ".join(field_docs(model).get(name, "").split()).replace("|", "\\|")


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        rows.append(
            f"| `{key}` | {_type(field.annotation)} | {_default(field)} | "
            f"{_constraints(field)} | {_description(model, name)} |"
        )
        for suffix, nested in _nested(field.annotation):
            rows += _rows(nested, f"{key}{suffix}.")
    return rows


def keys() -> list[str]:
    """Every key path the table documents, in its order."""
    return [row.split("`")[1] for row in _rows(StackConfig, f"{NAMESPACE}:")]


def table() -> str:
    header = [
        "| key | type | default | constraints | meaning |",
        "|---|---|---|---|---|",
    ]
    return "\n".join(header + _rows(StackConfig, f"{NAMESPACE}:"))


def block() -> str:
    return f"{START}\n{table()}\n{END}"
