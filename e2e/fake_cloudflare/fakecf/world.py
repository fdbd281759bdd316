"""The fake Cloudflare's DNS as the rest of the world resolves it, for the other fakes.

The e2e's fake Fly (tests/fakes/fly_api/, its `Dns` protocol) validates certificates
against the records that exist here: it reads the same state file the plugin processes
write (FAKE_CLOUDFLARE_STATE), under the same lock (fakeprovider/store.py), so it sees
each record as soon as the provider's Create or Update has landed and never a half
written file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fakecf import api
from fakecf.store import Store


class ZoneRecords:
    """The records at a name, across the zones the state file holds."""

    def __init__(self, state: Path, zones: Mapping[str, str] | None = None) -> None:
        # `zones` ({name: id}) are seeded as the plugin seeds FAKE_CLOUDFLARE_ZONES; a
        # reader alone needs none (a record's zone exists once the record does).
        self.store = Store(state, zones)

    def records(self, name: str) -> list[dict[str, Any]]:
        """Every record whose full name is `name` (case and the root's dot aside):
        `type`, `content` and `proxied` as the API holds them."""
        wanted = name.rstrip(".").lower()
        return [
            {
                "type": record["type"],
                "content": record.get("content"),
                "proxied": bool(record.get("proxied")),
            }
            for record in self.store.snapshot()["dnsRecords"].values()
            if record.get("_fqdn") == wanted
        ]

    def add(self, zone_name: str, **inputs: Any) -> str:
        """Make a record as the provider's Create does (a test's or a driver's hand)."""
        with self.store.transaction() as state:
            zone_id = next(
                (z["id"] for z in state["zones"].values() if z["name"] == zone_name), None
            )
            if zone_id is None:
                raise KeyError(f"no zone {zone_name} in {self.store.path}")
            record_id, _ = api.create_record(state, {"zoneId": zone_id, "ttl": 1, **inputs})
        return record_id
