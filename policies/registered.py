"""What the stack registers, as the engine receives it: the facts the policies judge.

The Platform's `spec` is what the stack declared; a Pulumi `transforms` option on
Platform (README.md, Platform) reaches every descendant after the config was
validated, and can change any input: machine counts, the rendered fly.toml, the
Postgres cluster's size. So safety is judged here, on the registered inputs, and
the spec is only context (names, the tier, the customers).

Resources are found by type and by the name the program gives them: a transform
returns new props and options, never a new type or name (pulumi sdk/python
lib/pulumi/resource.py ResourceTransformResult: props, opts).

A value the engine does not know yet in a preview raises pulumi_policy's
UnknownValueError on access (pulumi_policy proxy.py); the readers here turn that
into UNKNOWN, so one unknown skips only what depends on it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy.proxy import UnknownValueError

from policies import spec

APP_COMPONENT: Final = "webhost:fly:App"
MACHINE_COUNTS: Final = "pulumi-python:dynamic/fly:MachineCounts"
MONITORING: Final = "webhost:monitoring:Monitoring"


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


def get(props: Mapping[str, Any], key: str) -> Any:
    """props[key], None when absent, UNKNOWN when not known yet (a preview)."""
    try:
        return props.get(key)
    except UnknownValueError:
        return UNKNOWN


def plain(value: Any) -> Any:
    """A props value as plain data (dicts, lists, scalars); UNKNOWN when any part is
    unknown. Proxied mappings and lists raise on an unknown element when read."""
    try:
        if isinstance(value, Mapping):
            return {str(k): plain(value[k]) for k in value}
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            return [plain(value[i]) for i in range(len(value))]
    except UnknownValueError:
        return UNKNOWN
    return value


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def number(value: Any) -> float | None:
    """A registered number (the engine carries every number as a double, and the
    program's command environments carry them as strings); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def by_name_suffix(
    resources: Iterable[spec.Resource], parent_type: str, type_: str, suffix: str
) -> list[spec.Resource]:
    return [
        r
        for r in spec.children_of(resources, parent_type)
        if r.resource_type == type_ and r.name.endswith(suffix)
    ]


def environment(resource: spec.Resource) -> dict[str, Any]:
    """A Command's environment as plain data (UNKNOWN for a value not known yet)."""
    env = get(resource.props, "environment")
    if not isinstance(env, Mapping):
        return {}
    out: dict[str, Any] = {}
    for key in list(env):
        out[str(key)] = get(env, key)
    return out


# -- the app: machines and fly.toml -------------------------------------------------------


@dataclass(frozen=True)
class Machines:
    resource: spec.Resource
    counts: dict[str, int] | None  # None: not known yet, or not a region -> count map

    @property
    def total(self) -> int | None:
        return None if self.counts is None else sum(self.counts.values())


def machines(resources: Iterable[spec.Resource]) -> list[Machines]:
    """Every MachineCounts the stack registers, with its per-region counts."""
    found = []
    for r in resources:
        if r.resource_type != MACHINE_COUNTS:
            continue
        counts = plain(get(r.props, "counts"))
        parsed: dict[str, int] | None = None
        if isinstance(counts, dict) and not has_unknown(counts):
            numbers = {k: number(v) for k, v in counts.items()}
            if all(n is not None for n in numbers.values()):
                parsed = {k: int(n) for k, n in numbers.items() if n is not None}
        found.append(Machines(r, parsed))
    return found


@dataclass(frozen=True)
class Deploy:
    """The app's deploy command: its strategy flag and the fly.toml it applies."""

    resource: spec.Resource
    strategy: Any  # str, or UNKNOWN / None
    emergency: Any  # the declared emergency reason, when any
    fly_toml: dict[str, Any] | None  # None: not known yet
    problem: str | None  # the fly.toml is not TOML


def deploys(resources: Iterable[spec.Resource]) -> list[Deploy]:
    """Every `fly deploy` Command under the app component (components/fly/flyctl.py
    deploy: WEBHOST_STRATEGY is `--strategy`, which flyctl applies over fly.toml's
    [deploy] strategy, flyctl internal/command/deploy/machines.go
    determineAppConfigForMachines @ ad0172f)."""
    found = []
    for r in by_name_suffix(resources, APP_COMPONENT, spec.COMMAND, "-deploy"):
        env = environment(r)
        text = env.get("WEBHOST_FLY_TOML")
        document: dict[str, Any] | None = None
        problem = None
        if isinstance(text, str):
            try:
                document = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                problem = f"its fly.toml is not TOML ({exc})"
        elif text is not UNKNOWN:
            problem = "it applies no fly.toml (WEBHOST_FLY_TOML)"
        found.append(
            Deploy(r, env.get("WEBHOST_STRATEGY"), env.get("WEBHOST_EMERGENCY"), document, problem)
        )
    return found


def http_service(document: Mapping[str, Any]) -> dict[str, Any]:
    service = document.get("http_service")
    return service if isinstance(service, dict) else {}


def check_count(document: Mapping[str, Any]) -> int:
    """Health checks the fly.toml defines: `http_service.checks` and top-level
    `[checks]` (flyctl appconfig, internal/appconfig/config.go @ ad0172f), the ones a
    deploy waits for."""
    service_checks = http_service(document).get("checks")
    top = document.get("checks")
    count = len(service_checks) if isinstance(service_checks, list) else 0
    return count + (len(top) if isinstance(top, dict) else 0)


# -- the data tier --------------------------------------------------------------------------


def postgres_commands(resources: Iterable[spec.Resource], suffix: str) -> list[spec.Resource]:
    return by_name_suffix(resources, spec.POSTGRES, spec.COMMAND, suffix)


def postgres_replicas(resources: Iterable[spec.Resource]) -> list[spec.Resource]:
    return [
        r
        for r in spec.children_of(resources, spec.POSTGRES)
        if r.resource_type == spec.COMMAND and "-db-replica-" in r.name
    ]
