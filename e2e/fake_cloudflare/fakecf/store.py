"""The fake's "Cloudflare": one JSON file shared by every plugin process, and a call log.

The engine may start several instances of a provider plugin in one run (one per
provider reference, a fresh one per command), so every read-modify-write holds an
exclusive `flock` on a lock file beside the state, and writes land with an atomic
rename: a reader (the e2e driver) never sees half a file. That machinery is shared
with the other fakes (e2e/fakeprovider/store.py); this module holds the layout.

Layout (what the driver asserts on and seeds):
    {"zones": {"<zone id>": {"id", "name", "status", "nameServers",
                             "settings": {"<setting id>": {"value", "modifiedOn"}}}},
     "dnsRecords": {"<record id>": {<the record's properties, wire names>}},
     "rulesets": {"<ruleset id>": {<the ruleset's properties, wire names>}}}
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fakeprovider.store import CallLog as SharedCallLog
from fakeprovider.store import JsonStore

STATE_ENV = "FAKE_CLOUDFLARE_STATE"
LOG_ENV = "FAKE_CLOUDFLARE_LOG"
ZONES_ENV = "FAKE_CLOUDFLARE_ZONES"


def now() -> str:
    """RFC 3339 with microseconds and Z, the shape Cloudflare's API returns."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def zone_id_for(name: str) -> str:
    """A stable 32-hex id for a seeded zone; Cloudflare ids are 32 lowercase hex characters
    (the ruleset schema's zone_id RegexMatches ^[0-9a-f]{32}$)."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def parse_zones(spec: str) -> dict[str, str]:
    """`name[=id],...` from FAKE_CLOUDFLARE_ZONES into {name: id}."""
    zones: dict[str, str] = {}
    for part in spec.split(","):
        item = part.strip()
        if not item:
            continue
        name, _, given = item.partition("=")
        zones[name.strip().rstrip(".").lower()] = given.strip() or zone_id_for(name.strip())
    return zones


def new_zone(name: str, zone_id: str) -> dict[str, Any]:
    return {
        "id": zone_id,
        "name": name,
        "status": "active",
        "nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "createdOn": now(),
        "settings": {},
    }


def empty_state() -> dict[str, Any]:
    return {"zones": {}, "dnsRecords": {}, "rulesets": {}}


class Store(JsonStore):
    """The state file (e2e/fakeprovider/store.py), with the seeded zones always present."""

    def __init__(self, path: Path, seed_zones: Mapping[str, str] | None = None) -> None:
        super().__init__(path, empty_state)
        self.seed_zones = dict(seed_zones or {})

    @classmethod
    def from_env(cls) -> Store:
        path = JsonStore.path_from_env(STATE_ENV, "Cloudflare")
        return cls(path, parse_zones(os.environ.get(ZONES_ENV, "")))

    def _seed(self, state: dict[str, Any]) -> None:
        zones: dict[str, Any] = state["zones"]
        known = {z["name"] for z in zones.values()}
        for name, zone_id in self.seed_zones.items():
            if name not in known:
                zones[zone_id] = new_zone(name, zone_id)


class CallLog(SharedCallLog):
    """The shared call log (names only, never a value), its file from FAKE_CLOUDFLARE_LOG."""

    @classmethod
    def from_env(cls) -> CallLog:
        return cls(SharedCallLog.path_from_env(LOG_ENV))
