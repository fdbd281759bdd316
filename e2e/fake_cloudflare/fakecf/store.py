"""The fake's "Cloudflare": one JSON file shared by every plugin process, and a call log.

The engine may start several instances of a provider plugin in one run (one per
provider reference, a fresh one per command), so every read-modify-write holds an
exclusive `flock` on a lock file beside the state, and writes land with an atomic
rename: a reader (the e2e driver) never sees half a file.

Layout (what the driver asserts on and seeds):
    {"zones": {"<zone id>": {"id", "name", "status", "nameServers",
                             "settings": {"<setting id>": {"value", "modifiedOn"}}}},
     "dnsRecords": {"<record id>": {<the record's properties, wire names>}},
     "rulesets": {"<ruleset id>": {<the ruleset's properties, wire names>}}}
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


class Store:
    """The state file, read and written only under its lock."""

    def __init__(self, path: Path, seed_zones: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.seed_zones = dict(seed_zones or {})

    @classmethod
    def from_env(cls) -> Store:
        raw = os.environ.get(STATE_ENV)
        if not raw:
            raise SystemExit(f"{STATE_ENV} is not set: the fake Cloudflare needs a state file")
        return cls(Path(raw).resolve(), parse_zones(os.environ.get(ZONES_ENV, "")))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict[str, Any]:
        state = empty_state()
        if self.path.exists():
            text = self.path.read_text()
            if text.strip():
                state.update(json.loads(text))
        zones: dict[str, Any] = state["zones"]
        known = {z["name"] for z in zones.values()}
        for name, zone_id in self.seed_zones.items():
            if name not in known:
                zones[zone_id] = new_zone(name, zone_id)
        return state

    def _save(self, state: Mapping[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2, sort_keys=True)
            out.write("\n")
        Path(tmp).replace(self.path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """The whole state, to change in place; saved when the block ends without error."""
        with self._locked():
            state = self._load()
            yield state
            self._save(state)

    def snapshot(self) -> dict[str, Any]:
        """The state as it is now (seeded zones included), for reads."""
        with self._locked():
            state = self._load()
            if not self.path.exists():
                self._save(state)
            return state


class CallLog:
    """JSON lines, one per provider call: the method, what it touched, whether it wrote.

    Only names, ids and property *names* are logged, never a value: the engine may send
    secrets (provider config such as an API token, secret inputs).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @classmethod
    def from_env(cls) -> CallLog:
        raw = os.environ.get(LOG_ENV)
        return cls(Path(raw).resolve() if raw else None)

    def write(self, method: str, *, wrote: bool, **fields: Any) -> None:
        if self.path is None:
            return
        entry = {"time": time.time(), "pid": os.getpid(), "method": method, "wrote": wrote}
        entry.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(entry, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            try:
                out.write(line)
            finally:
                fcntl.flock(out, fcntl.LOCK_UN)

    def entries(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]
