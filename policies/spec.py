"""What the policies read: the Platform's declared spec and the resources around it.

The Platform component registers the stack's parsed config as `spec` (inputs
and outputs alike), so a stack policy reads the same model the program was
built from and checks it with the same catalog functions the config uses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pydantic import ValidationError

from components.config import StackConfig

PLATFORM = "webhost:index:Platform"
POSTGRES = "webhost:data:Postgres"
REDIS = "webhost:data:Redis"
COMMAND = "command:local:Command"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ACME_PREFIX = "_acme-challenge."


class Options(Protocol):
    @property
    def protect(self) -> bool: ...
    @property
    def parent(self) -> str | None: ...


class Resource(Protocol):
    """What pulumi_policy's PolicyResource gives (and the offline plan builds)."""

    @property
    def resource_type(self) -> str: ...
    @property
    def props(self) -> Mapping[str, Any]: ...
    @property
    def urn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def opts(self) -> Options: ...


class SpecError(Exception):
    pass


def platform(resources: Iterable[Resource]) -> Resource | None:
    return next((r for r in resources if r.resource_type == PLATFORM), None)


def stack_config(resource: Resource) -> StackConfig:
    """The Platform's spec as the config model; SpecError when it is not one."""
    spec = resource.props.get("spec")
    if not isinstance(spec, Mapping):
        raise SpecError(f"{resource.name} declares no spec")
    try:
        return StackConfig.model_validate(_integral(spec))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(
            f"{resource.name} spec is not valid config: {where}: {first['msg']}"
        ) from None


def _integral(value: Any) -> Any:
    """`value` with every whole float made an int again.

    The engine carries every number as a double (pulumi proto/pulumi/provider.proto
    properties are a google.protobuf.Struct, whose numbers are number_value), so a
    count the program declared as 1 reaches a policy pack as 1.0, which the
    config's strict integers refuse.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def parent_urn(resource: Resource) -> str | None:
    # A stack policy's resource links its parent; a resource policy has the URN in opts.
    parent = getattr(resource, "parent", None)
    return getattr(parent, "urn", None) or resource.opts.parent


def children_of(resources: Iterable[Resource], parent_type: str) -> list[Resource]:
    """Resources whose parent is a component of `parent_type`."""
    resources = list(resources)
    parents = {r.urn for r in resources if r.resource_type == parent_type}
    return [r for r in resources if parent_urn(r) in parents]


def declared(args: Any, report: Any) -> tuple[StackConfig, str] | None:
    """The stack's config and the Platform's URN; reports a spec that is not config.

    Marks the policy not applicable to a stack without a Platform.
    """
    found = platform(args.resources)
    if found is None:
        args.not_applicable("no webhost:index:Platform in this stack")
        return None
    try:
        return stack_config(found), found.urn
    except SpecError as exc:
        report(str(exc), found.urn)
        return None


Validate = Callable[[StackValidationArgs, ReportViolation], None]
Judge = Callable[[StackValidationArgs, ReportViolation, StackConfig, str], None]


def on_config(judge: Judge) -> Validate:
    """A stack policy's validate that hands `judge` the declared config and the
    Platform's URN (`declared`: not applicable without a Platform, a spec that is not
    config reported)."""

    @functools.wraps(judge)
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        found = declared(args, report)
        if found is not None:
            judge(args, report, *found)

    return validate


def stack_policy(
    name: str,  # positional only: a config property may have any name
    validate: Validate,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    /,
    **config: dict[str, Any],
) -> StackValidationPolicy:
    """A stack policy described by the first paragraph of `validate`'s docstring, with
    `config` as its config schema's properties (JSON schema, which the engine checks)."""
    summary = (validate.__doc__ or "").split("\n\n", 1)[0]
    return StackValidationPolicy(
        name=name,
        description=" ".join(summary.split()),
        validate=validate,
        enforcement_level=level,
        config_schema=PolicyConfigSchema(properties=config) if config else None,
    )


def bounded(
    default: Any, minimum: float | None = None, maximum: float | None = None, kind: str = "integer"
) -> dict[str, Any]:
    """A number in a policy's config schema: its JSON type, default and bounds."""
    bounds = {"minimum": minimum, "maximum": maximum}
    return {"type": kind, **{k: v for k, v in bounds.items() if v is not None}, "default": default}
