"""Each resource's step from the base to the head: create, update, replace (and why),
delete, decided by what the program declares."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import dill  # type: ignore[import-untyped]
from pulumi.dynamic import ResourceProvider

from cli.diff.values import InputChange, comparable, input_changes, matches
from cli.engine import PROVIDER_KEY, Evaluation, Registration

Op = Literal["create", "update", "replace", "delete"]
COMMAND_TYPE = "command:local:Command"
DYNAMIC_PREFIX = "pulumi-python:dynamic"
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
    replace = [p for p in paths if matches(p, new.replace_on_changes)]
    if new.type.startswith(DYNAMIC_PREFIX):
        decided = _dynamic_diff(old, new)
        if decided is not None:
            changed, keys = decided
            if not changed and not replace:
                return None
            replace += [p for p in paths if matches(p, keys)]
    elif new.type == COMMAND_TYPE:
        replace += [p for p in paths if matches(p, COMMAND_REPLACE_KEYS)]
    else:
        replace += [p for p in paths if matches(p, IMMUTABLE_INPUTS.get(new.type, ()))]
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
