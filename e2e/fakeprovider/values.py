"""PropertyValues (pulumi 3.272.0 pulumi/provider/experimental/property_value.py) to plain
Python and back: what a fake's rules and state work on."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.property_value import (
    Computed,
    PropertyValue,
    ResourceReference,
)

# The engine sends a value it cannot know yet (preview) as this string
# (pulumi/pulumi sdk/python/lib/pulumi/runtime/rpc.py, UNKNOWN).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def sdk_version(package: str) -> str:
    """The version a Pulumi Python SDK asks the engine for: its pulumi-plugin.json,
    read without importing the SDK."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed beside the fake provider")
    manifest = Path(next(iter(spec.submodule_search_locations))) / "pulumi-plugin.json"
    version: str = json.loads(manifest.read_text())["version"]
    return version


def to_plain(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, ResourceReference):
        return inner.urn
    if isinstance(inner, Mapping):
        return {k: to_plain(v) for k, v in inner.items()}
    if isinstance(inner, Sequence) and not isinstance(inner, str):
        return [to_plain(v) for v in inner]
    return inner


def plain_map(values: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: to_plain(v) for k, v in values.items()}


def from_plain(value: Any, secret: bool = False) -> PropertyValue:
    if isinstance(value, Mapping):
        inner: Any = {str(k): from_plain(v) for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        inner = [from_plain(v) for v in value]
    elif isinstance(value, int) and not isinstance(value, bool):
        inner = float(value)  # PropertyValue numbers are floats
    else:
        inner = value
    return PropertyValue(inner, is_secret=secret)


def secret_keys(values: Mapping[str, PropertyValue]) -> set[str]:
    return {k for k, v in values.items() if v.contains_secret()}


def wrap(values: Mapping[str, Any], secrets: set[str]) -> dict[str, PropertyValue]:
    """Plain values back into PropertyValues, a secret input's output kept secret."""
    return {k: from_plain(v, k in secrets) for k, v in values.items() if v is not None}


def type_token(qualified_type: str) -> str:
    """A URN's type is qualified by its parents' types (`webhost:edge:Edge$cloudflare:...`);
    the resource's own token is the last part (pulumi/pulumi sdk/go/common/resource/urn.go)."""
    return qualified_type.rsplit("$", 1)[-1]
