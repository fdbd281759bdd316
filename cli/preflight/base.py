"""What the preflight checks share: the report, the stack's own objects, the timeout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

# Seconds a call may take: read at each call (the tests shorten it for the hangs).
TIMEOUT = 15.0
DNS_RECORD_TYPE: Final = "cloudflare:index/dnsRecord:DnsRecord"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def problem(self, line: str) -> None:
        self.problems.append(line)

    def ok(self, line: str) -> None:
        self.passed.append(line)


@dataclass(frozen=True)
class Owned:
    """What the stack's state holds: every string value, and the DNS records' ids."""

    values: frozenset[str] = frozenset()
    records: frozenset[str] = frozenset()
    given: bool = False


def owned_from_export(text: str) -> Owned:
    """`pulumi stack export`'s JSON (deployment.resources[]), or ValueError."""
    try:
        doc = json.loads(text)
        resources = doc["deployment"].get("resources") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError("not the JSON `pulumi stack export` prints") from None
    values: set[str] = set()
    records: set[str] = set()
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        if resource.get("type") == DNS_RECORD_TYPE and isinstance(resource.get("id"), str):
            records.add(resource["id"])
        for part in ("inputs", "outputs"):
            values.update(_leaves(resource.get(part)))
        if isinstance(resource.get("id"), str):
            values.add(resource["id"])
    return Owned(frozenset(values), frozenset(records), True)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
