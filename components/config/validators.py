"""The rules every section shares: the model base, regions, names, sizes, durations,
and the one-line error each problem becomes (key path, value, rule).

The sections (app, edge, data, monitoring, secrets) build on these; the package's
`__init__` puts them together into StackConfig.
"""

from __future__ import annotations

import ast
import difflib
import functools
import inspect
import itertools
import json
import re
import textwrap
import types
import typing
from collections.abc import Collection, Mapping
from fractions import Fraction
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel

from components import catalog

NAMESPACE = "webhost"
SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 - a mask, not a credential


class Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
        # Not use_attribute_docstrings: it reads each class's source while the class is
        # made, a third of this package's import on every plan and `pulumi up` (issue 22).
        # Only the config reference reads the docstrings: field_docs, on demand.
    )

    @field_validator("*", mode="before")
    @classmethod
    def _plain_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads `true` as 1 for an integer field: `cpus: true` is
        # a mistake, never one CPU. And past 2**53 a number no longer survives Pulumi's
        # wire format, where every number is a double (pulumi/pulumi
        # sdk/python/lib/pulumi/runtime/rpc.py serializes into google.protobuf.Struct).
        field = cls.model_fields.get(info.field_name or "")
        if field is None or not _is_int(field.annotation):
            return value
        if isinstance(value, bool):
            raise ValueError("a number, not a boolean")
        if isinstance(value, int) and abs(value) > NUMBER_MAX:
            raise ValueError(f"beyond any sane range (at most {NUMBER_MAX})")
        return value


NUMBER_MAX = 2**53


@functools.cache
def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """Each field's attribute docstring (the string under it), by field name: the
    descriptions `webhost-infra config-reference` prints."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if not issubclass(cls, Model) or cls is Model:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
        body = tree.body if isinstance(tree, ast.ClassDef) else []
        for field, after in itertools.pairwise(body):
            if (
                isinstance(field, ast.AnnAssign)
                and isinstance(field.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin in (typing.Union, types.UnionType):
        return any(_is_int(a) for a in typing.get_args(annotation))
    return False


def _region(code: str) -> str:
    if code not in catalog.REGIONS:
        hint = difflib.get_close_matches(code, catalog.REGIONS, n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else ""
        raise ValueError(
            f"not a Fly region{suggestion}; regions: {', '.join(sorted(catalog.REGIONS))}"
        )
    return code


def matches(pattern: str, rule: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(rule)
        return value

    check.rule = rule  # type: ignore[attr-defined]  # read by cli/reference.py
    return AfterValidator(check)


Region = Annotated[str, AfterValidator(_region)]
# Our bound: Fly derives org slugs from names; none is longer than a DNS label.
Slug = Annotated[
    str, matches(r"[a-z0-9][a-z0-9-]{0,62}", "1..63 lowercase letters, digits and dashes")
]
AppName = Annotated[
    str,
    matches(
        r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?",
        "1..63 lowercase letters, digits and dashes, not starting or ending with a dash",
    ),
]
ImageRef = Annotated[
    str,
    matches(
        # distribution/reference: a name is at most 255 characters, a tag 128.
        r"(?=[^@]{1,384}(?:@|$))[a-z0-9][a-z0-9._/:-]*(?:@sha256:[0-9a-f]{64})?",
        "an image reference such as registry.fly.io/webhost:v1.2.3 or ...@sha256:<digest>",
    ),
]
# fly.toml's check durations are read by fly-go's Duration (superfly/fly-go duration.go
# @ 22d6e518f42d), which hands strings to Go's time.ParseDuration: decimal numbers with
# the units ns, us (or µs, μs), ms, s, m, h, summed ("1m30s"), and an error past
# 1<<63-1 nanoseconds (go/src/time/format.go, "invalid duration"): about 2562047h.
_GO_UNIT_NS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_GO_MAX_NS = (1 << 63) - 1
_GO_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_DURATION_RULE = "a duration such as 15s, 1m30s or 500ms (units ns, us, ms, s, m, h)"


def duration_ns(text: str) -> Fraction:
    """Nanoseconds in a Go duration; ValueError naming the rule when Go would refuse it."""
    # Go's parser overflows long before 64 characters; the cap keeps int() cheap.
    if len(text) > 64 or not text:
        raise ValueError(_DURATION_RULE)
    total, at = Fraction(0), 0
    while at < len(text):
        part = _GO_PART.match(text, at)
        if part is None:
            raise ValueError(_DURATION_RULE)
        total += Fraction(part.group(1)) * _GO_UNIT_NS[part.group(2)]
        at = part.end()
    if total > _GO_MAX_NS:
        raise ValueError(
            "longer than Go's time.ParseDuration takes (2562047h47m16.854775807s), "
            "so flyctl would refuse the fly.toml"
        )
    if total <= 0:
        raise ValueError("must be longer than zero")
    return total


def go_duration(text: str) -> str:
    duration_ns(text)
    return text


Duration = Annotated[str, AfterValidator(go_duration)]

UrlPath = Annotated[str, matches(r"/[A-Za-z0-9._~/-]*", "an absolute URL path such as /health")]
EnvName = Annotated[
    str, matches(r"[A-Z_][A-Z0-9_]*", "an environment name such as PHX_HOST (A-Z, 0-9, _)")
]
Port = Annotated[int, Field(ge=1, le=65535)]


def seconds(duration: str) -> Fraction:
    return duration_ns(duration) / 1_000_000_000


def timeout_below_interval(timeout: str, info: ValidationInfo) -> str:
    """A check's timeout shorter than its interval (declared above it, so checked first)."""
    interval = info.data.get("interval")
    if interval is not None and seconds(timeout) >= seconds(interval):
        raise ValueError(f"must be shorter than interval ({interval})")
    return timeout


class VmSpec(Model):
    """One machine's size. Field order matters: each check reads the ones above."""

    cpu_kind: catalog.CpuKind
    """CPU class of the machines."""
    cpus: PositiveInt
    """CPUs per machine: a count Fly offers for the kind."""
    memory_mb: PositiveInt
    """Memory per machine in MB: 256 MB steps (shared) or 1024 (performance), per-CPU range."""

    @field_validator("cpus")
    @classmethod
    def _cpus_offered(cls, cpus: int, info: ValidationInfo) -> int:
        kind = info.data.get("cpu_kind")
        if kind is not None and (problem := catalog.cpu_count_problem(kind, cpus)):
            raise ValueError(problem)
        return cpus

    @field_validator("memory_mb")
    @classmethod
    def _memory_fits(cls, memory_mb: int, info: ValidationInfo) -> int:
        kind, cpus = info.data.get("cpu_kind"), info.data.get("cpus")
        if (
            kind is not None
            and cpus is not None
            and (problem := catalog.memory_problem(kind, cpus, memory_mb))
        ):
            raise ValueError(problem)
        return memory_mb


# Sanity bounds of our own (no Fly limit is this low): past them a value is a typo,
# and the numbers would otherwise flow unchecked into fly.toml and flyctl's argv.
LOAD_LIMIT_MAX = 1_000_000
CUSTOMERS_MAX = 10_000_000
MACHINES_PER_REGION_MAX = 1_000


def unique_regions(regions: list[str]) -> list[str]:
    if duplicated := sorted({r for r in regions if regions.count(r) > 1}):
        raise ValueError(f"{', '.join(duplicated)} listed twice")
    return regions


def allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys valid at `loc` (the path of an unknown key's parent)."""
    for part in loc:
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        annotation = field.annotation if field else None
        # An optional section (`Domain | None`) is the model inside.
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            annotation = members[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [f.alias or n for n, f in model.model_fields.items()]


_SCALAR_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|true|false")
_SUBPATH = re.compile(r"@([A-Za-z0-9.]+): ")
_SHOWN_MAX = 120  # one line stays one line, whatever was pasted into a value


def _render_value(value: Any) -> str:
    if isinstance(value, str) and _SCALAR_TEXT.fullmatch(value) and len(value) <= _SHOWN_MAX:
        return value  # a number or boolean as Pulumi passes it: text, shown as written
    try:
        shown = json.dumps(value, sort_keys=True, default=str)
    except (ValueError, RecursionError):
        return "(a value too large to show)"
    return shown if len(shown) <= _SHOWN_MAX else f"{shown[: _SHOWN_MAX - 3]}..."


def _key_text(part: int | str) -> str:
    """A key as it can be printed: control characters and the like escaped, never raw."""
    text = str(part)
    return text if text.isprintable() else json.dumps(text)


def key_path(loc: Collection[int | str]) -> str:
    return f"{NAMESPACE}:{'.'.join(_key_text(p) for p in loc)}"


def _leaves(value: Any) -> list[str]:
    """Every scalar under `value` as text: what must not appear in a secret key's line."""
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None else [str(value)]


def value_at(root: Any, loc: Collection[int | str]) -> Any:
    """The value at a key path inside parsed config (maps by key, lists by index), or
    None where the path leads nowhere."""
    value = root
    for part in loc:
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            value = None
    return value


def problem_line(
    model: type[BaseModel],
    error: Mapping[str, Any],
    raw: Mapping[str, Any],
    secret_tops: Collection[str],
) -> str:
    """One pydantic error as the line a person reads: key path, value (masked under a
    secret key) and rule, with a close key suggested for an unknown one."""
    loc = tuple(part for part in error["loc"] if part != "[key]")
    path = key_path(loc)
    kind = error["type"]
    if kind == "missing":
        return f"{path}: required, not set"
    value = value_at(raw, loc)
    is_key = error["loc"][-1:] == ("[key]",)
    if is_key:
        value = loc[-1]
    # A check across the whole model (loc empty) names its key with `@key: ` below.
    secret = bool(loc) and str(loc[0]) in secret_tops
    # A key's name is never a secret; everything under a secret key is.
    shown = _render_value(value) if is_key or not secret else SECRET_PLACEHOLDER
    if kind == "extra_forbidden":
        hint = difflib.get_close_matches(str(loc[-1]), allowed_keys(model, loc[:-1]), n=1)
        rule = f"unknown key (did you mean {hint[0]}?)" if hint else "unknown key"
        return f"{path} = {shown}: {rule}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not is_key and (sub := _SUBPATH.match(message)):
        # A check across fields raised on the section names the key inside it at fault.
        for part in sub.group(1).split("."):
            loc, value = (*loc, part), value.get(part) if isinstance(value, Mapping) else None
        path, message = key_path(loc), message[sub.end() :]
        shown = _render_value(value) if not secret else SECRET_PLACEHOLDER
    if secret and any(leaf and leaf in message for leaf in _leaves(raw.get(str(loc[0])))):
        # A rule that quotes its input (a hint, a name) would quote the secret.
        message = "not valid (the rule quotes the value, which is secret)"
    return f"{path} = {shown}: {message}"
