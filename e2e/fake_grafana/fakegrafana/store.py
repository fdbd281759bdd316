"""The fake's "Grafana": one JSON file (e2e/fakeprovider/store.py does the locking), and
the call log. Layout (what the driver asserts on and may edit between commands):

    {"dataSources":   {"<uid>": {<the data source's properties, wire names>}},
     "folders":       {"<uid>": {...}},
     "dashboards":    {"<uid>": {...}},
     "ruleGroups":    {"<folder uid>;<group name>": {...}},
     "contactPoints": {"<name>": {...}},
     "notificationPolicy": {...}            (absent until one is set: one per org),
     "checks":        {"<id>": {...}},
     "checkAlerts":   {"<check id>": {"checkId": <id>, "alerts": [...]}},
     "probes":        {"<probe name>": <id>},  Grafana's public probes, always present
     "nextId":        <the next numeric id>}

A data source's HTTP header values are never held in the file: Grafana keeps them in
secureJsonData and never returns them (the Terraform provider's datasourceConfigToState
reads back header names only), so the fake keeps each value's SHA-256, enough to tell
a changed header from the same one without writing the secret down.
"""

from __future__ import annotations

from typing import Any

from fakeprovider.store import CallLog as SharedCallLog
from fakeprovider.store import JsonStore

STATE_ENV = "FAKE_GRAFANA_STATE"
LOG_ENV = "FAKE_GRAFANA_LOG"

# Grafana synthetic monitoring's public probes: the four the SDK's own examples name
# (pulumiverse_grafana 2.44.0 syntheticmonitoring/check.py: probes["ohio"],
# ["frankfurt"], ["london"], ["mumbai"]; components/catalog.py DEFAULT_PROBES) and a
# few more regions. The ids are the fake's own: the real ones are Grafana's.
PUBLIC_PROBES: dict[str, int] = {
    "Amsterdam": 1,
    "Atlanta": 2,
    "Bangalore": 3,
    "Frankfurt": 4,
    "London": 5,
    "Mumbai": 6,
    "NewYork": 7,
    "Ohio": 8,
    "Oregon": 9,
    "SaoPaulo": 10,
    "Singapore": 11,
    "Sydney": 12,
    "Tokyo": 13,
}


def empty_state() -> dict[str, Any]:
    return {
        "dataSources": {},
        "folders": {},
        "dashboards": {},
        "ruleGroups": {},
        "contactPoints": {},
        "checks": {},
        "checkAlerts": {},
        "probes": dict(PUBLIC_PROBES),
        "nextId": 1,
    }


class Store(JsonStore):
    def __init__(self, path: Any) -> None:
        super().__init__(path, empty_state)

    @classmethod
    def from_env(cls) -> Store:
        return cls(JsonStore.path_from_env(STATE_ENV, "Grafana"))


class CallLog(SharedCallLog):
    """The shared call log (names only, never a value), its file from FAKE_GRAFANA_LOG."""

    @classmethod
    def from_env(cls) -> CallLog:
        return cls(SharedCallLog.path_from_env(LOG_ENV))
