"""The dashboard, generated from the same query builders as the alerts.

Grafana's dashboard JSON model (schemaVersion 39): timeseries panels on a 24-column
grid, each target a PromQL `expr` against the Fly data source by uid.
"""

from __future__ import annotations

import json
from typing import Any

from components.config import Monitoring, StackConfig
from components.monitoring import queries

PROMETHEUS = "prometheus"
WIDTH = 12  # two panels a row on Grafana's 24-column grid
HEIGHT = 8


def _panel(
    index: int, title: str, expr: str, unit: str, ds_uid: str, *, legend: str = ""
) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "gridPos": {"x": (index % 2) * WIDTH, "y": (index // 2) * HEIGHT, "w": WIDTH, "h": HEIGHT},
        "datasource": {"type": PROMETHEUS, "uid": ds_uid},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {
                "refId": "A",
                "expr": expr,
                "legendFormat": legend,
                "datasource": {"type": PROMETHEUS, "uid": ds_uid},
            }
        ],
    }


def panels(config: StackConfig, monitoring: Monitoring, ds_uid: str) -> list[dict[str, Any]]:
    app = config.app_name
    specs: list[tuple[str, str, str, str]] = [
        ("Requests per second by region", queries.request_rate(app), "reqps", "{{region}}"),
        ("5xx ratio by region", queries.error_ratio_by_region(app), "percentunit", "{{region}}"),
        (
            f"p95 latency by region (target {monitoring.latency_p95_ms} ms)",
            queries.latency_p95_by_region(app),
            "s",
            "{{region}}",
        ),
        ("Error ratio over 1h (SLO bad events)", queries.error_ratio(app, "1h"), "percentunit", ""),
        ("Machine CPU busy", queries.cpu_busy(app), "percentunit", "{{region}} {{instance}}"),
        ("Machine memory used", queries.memory_used(app), "percentunit", "{{region}} {{instance}}"),
        ("Instance exits (15m)", queries.exits(app), "short", "{{region}}"),
        ("OOM kills (10m)", queries.oom_kills(app), "short", "{{region}} {{instance}}"),
    ]
    if config.postgres_active is not None:  # the cluster the app uses
        db = config.postgres_active
        specs += [
            ("Postgres members reporting", queries.members_up(db), "short", "members"),
            ("Postgres replication lag", queries.replication_lag(db), "s", "{{region}}"),
            ("Postgres connections", queries.connections(db), "short", "{{instance}}"),
            ("Postgres WAL archive failures (1h)", queries.archive_failures(db), "short", ""),
        ]
    return [
        _panel(i, title, expr, unit, ds_uid, legend=legend)
        for i, (title, expr, unit, legend) in enumerate(specs)
    ]


def model(config: StackConfig, monitoring: Monitoring, uid: str, ds_uid: str) -> str:
    """The dashboard's JSON (config_json), stable for the same inputs."""
    return json.dumps(
        {
            "uid": uid,
            "title": f"WebHost {config.app_name}",
            "tags": ["webhost", config.app_name],
            "timezone": "utc",
            "schemaVersion": 39,
            "refresh": "1m",
            "time": {"from": "now-6h", "to": "now"},
            "panels": panels(config, monitoring, ds_uid),
        },
        sort_keys=True,
    )
