"""A fake's input rules as a table of `Field`s, and the walk that checks inputs against it.

What the fakes share: the table's shape, filling schema defaults, the walk through
objects, lists and maps with each failure's Pulumi path and Terraform path, the type
check, the bridge's "Examine values at '<resource>.<pulumi path>'." suffix
(pulumi/pulumi-terraform-bridge pf/tests/provider_checkconfig_test.go, "validators"
case), and `input_view` for Diff. What differs between the Terraform providers they
stand in for (a missing attribute's wording, a string's or a number's validators, how
a list element's Terraform path is written) each fake's `Checker` subclass says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakeprovider.values import is_unknown


@dataclass(frozen=True)
class Field:
    """One attribute: its wire name's Terraform twin, its kind and the schema's rules.

    A kind is one the fake's `Checker` knows (every checker: bool, object, list, map,
    dynamic; each fake adds its scalars). A rule a fake's provider does not have is
    left at its default.
    """

    tf: str
    kind: str
    required: bool = False
    enum: tuple[str, ...] = ()
    one_of: tuple[float, ...] = ()
    between: tuple[float, float] | None = None
    at_least: float | None = None
    min_length: int | None = None
    min_items: int | None = None
    pattern: tuple[re.Pattern[str], str] | None = None  # a regex and its message
    default: Any = None
    replace: bool = False  # RequiresReplace / ForceNew
    computed: bool = False  # Optional+Computed: the provider fills it when absent
    output_only: bool = False  # Computed only: never an input
    fields: Mapping[str, Field] = field(default_factory=dict)  # object / list of object
    item: str | None = None  # element kind of a list or map of scalars


Table = Mapping[str, Field]


def string(tf: str, **kw: Any) -> Field:
    return Field(tf, "string", **kw)


@dataclass(frozen=True)
class Failure:
    """One problem, as the provider reports it: the Pulumi path and the reason."""

    path: str  # Pulumi property path, e.g. rules[0].actionParameters.edgeTtl.mode
    reason: str


def go_quote_list(values: tuple[str, ...]) -> str:
    # Go's %q of a []string, which both SDKs' validators print: ["a" "b"].
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def present(inputs: Mapping[str, Any], key: str) -> bool:
    return inputs.get(key) is not None


Kind = Callable[[Any, Field, str, str], Any]


class Checker:
    """Checks one resource's (or function's) inputs against a table, collecting failures.

    Subclasses say how their provider words a missing attribute (`missing`), add the
    scalar kinds (`kinds`) and may change how a list element's Terraform path reads.
    """

    def __init__(self, resource_name: str) -> None:
        self.resource_name = resource_name
        self.failures: list[Failure] = []

    # A type failure's summary line, where the provider's framework words one
    # (terraform-plugin-framework does, terraform-plugin-sdk/v2 does not).
    type_summary = ""

    def fail(self, path: str, message: str, *, summary: str = "") -> None:
        """One failure: the provider's message (after its summary, if it has one) and
        the bridge's suffix."""
        suffix = f"Examine values at '{self.resource_name}.{path}'."
        head = f"{summary}. " if summary else ""
        self.failures.append(Failure(path, f"{head}{message}. {suffix}"))

    def missing(self, path: str, tf_path: str) -> None:
        raise NotImplementedError

    def wrong_type(self, path: str, tf_path: str, wanted: str) -> None:
        # Terraform core's wording for a value of the wrong type.
        message = f'Inappropriate value for attribute "{tf_path}": {wanted} required'
        self.fail(path, message, summary=self.type_summary)

    def typed(self, value: Any, path: str, tf_path: str, wanted: str, *types: type) -> bool:
        """Whether `value` is one of `types` (a bool is a number only where `bool` is
        named); if not, the failure says `wanted`."""
        ok = isinstance(value, types) and (bool in types or not isinstance(value, bool))
        if not ok:
            self.wrong_type(path, tf_path, wanted)
        return ok

    def element_tf_path(self, tf_path: str, index: int) -> str:
        return f"{tf_path}[{index}]"

    def kinds(self) -> dict[str, Kind]:
        """Each kind's check: it returns the value (defaults filled in an object)."""
        return {
            "dynamic": lambda value, spec, path, tf: value,
            "bool": self._bool,
            "object": self._object,
            "list": self._list,
            "map": self._map,
        }

    def object(
        self, value: Mapping[str, Any], fields: Table, path: str, tf_path: str
    ) -> dict[str, Any]:
        """Check one object's fields; return it with the schema's defaults filled in."""
        out = dict(value)
        for key, spec in fields.items():
            sub = f"{path}.{key}" if path else key
            tf_sub = f"{tf_path}.{spec.tf}" if tf_path else spec.tf
            if spec.output_only:
                continue
            if not present(value, key):
                if spec.required:
                    self.missing(sub, tf_sub)
                elif spec.default is not None:
                    out[key] = spec.default
                continue
            out[key] = self.value(value[key], spec, sub, tf_sub)
        return out

    def value(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if is_unknown(value):
            return value
        return self.kinds()[spec.kind](value, spec, path, tf_path)

    def _bool(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        self.typed(value, path, tf_path, "bool", bool)
        return value

    def _object(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not self.typed(value, path, tf_path, "object", Mapping):
            return value
        return self.object(value, spec.fields, path, tf_path)

    def _map(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not self.typed(value, path, tf_path, "map", Mapping):
            return value
        for k, v in value.items():
            self.value(v, Field(tf_path, spec.item or "dynamic"), f"{path}.{k}", f"{tf_path}.{k}")
        return value

    def too_few_items(self, count: int, spec: Field, path: str, tf_path: str) -> None:
        """A list shorter than the schema's MinItems: a fake whose tables set
        `min_items` words it."""
        raise NotImplementedError

    def _list(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not self.typed(value, path, tf_path, "list", list, tuple):
            return value
        if spec.min_items is not None and len(value) < spec.min_items:
            self.too_few_items(len(value), spec, path, tf_path)
        out: list[Any] = []
        for i, item in enumerate(value):
            sub, tf_sub = f"{path}[{i}]", self.element_tf_path(tf_path, i)
            if not spec.fields:
                out.append(self.value(item, Field(spec.tf, spec.item or "dynamic"), sub, tf_sub))
            elif isinstance(item, Mapping):
                out.append(self.object(item, spec.fields, sub, tf_sub))
            else:
                if not is_unknown(item):
                    self.wrong_type(sub, tf_sub, "object")
                out.append(item)
        return out


def input_view(value: Any, fields: Table, news: Any) -> Any:
    """What of a stored object the program controls, shaped like the new inputs.

    Drops output-only fields, and Optional+Computed fields the new inputs leave out,
    so a provider-filled value (a CAA record's content, a rule's id, a uid) is not a
    change.
    """
    if not isinstance(value, Mapping):
        return value
    news_map: Mapping[str, Any] = news if isinstance(news, Mapping) else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        spec = fields.get(key)
        if spec is None:
            out[key] = item
            continue
        if spec.output_only or (spec.computed and news_map.get(key) is None):
            continue
        new_item = news_map.get(key)
        if spec.kind == "object" and spec.fields:
            out[key] = input_view(item, spec.fields, new_item)
        elif spec.kind == "list" and spec.fields and isinstance(item, (list, tuple)):
            new_list = new_item if isinstance(new_item, (list, tuple)) else []
            out[key] = [
                input_view(x, spec.fields, new_list[i] if i < len(new_list) else None)
                for i, x in enumerate(item)
            ]
        else:
            out[key] = item
    return out
