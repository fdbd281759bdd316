"""The PromQL the dashboard and the alert rules run against Fly's managed Prometheus.

Every metric name and label comes from Fly's list of built-in metrics (superfly/docs
monitoring/metrics.html.md @ 5c22c8c, "Built-in metrics"): the standard labels `app`,
`region`, `instance` on every series; `fly_edge_*` ("Edge", the Fly proxy nearest the
user, so latency there is what a user sees); `fly_instance_*` ("Instance series",
from /proc of each machine); `pg_*` ("Postgres", postgres_exporter on Fly's Postgres
apps). Fly's Prometheus runs MetricsQL, a superset of PromQL: these stay plain PromQL
so a PromQL parser can check them (tests/test_promql.py).
"""

from __future__ import annotations

import json

# superfly/docs monitoring/metrics.html.md "Edge - fly_edge_": a counter with `status`.
EDGE_RESPONSES = "fly_edge_http_responses_count"
# ... and a histogram of response time, in seconds, with `status`.
EDGE_LATENCY_BUCKETS = "fly_edge_http_response_time_seconds_bucket"
# "Instance Load and CPU": a counter per `cpu_id` and `mode`, in centiseconds.
INSTANCE_CPU = "fly_instance_cpu"
# "Instance memory": bytes, from /proc/meminfo.
MEM_AVAILABLE = "fly_instance_memory_mem_available"
MEM_TOTAL = "fly_instance_memory_mem_total"
# "Instance exit": 1 when the instance was killed for running out of memory; the
# main process's exit code when an instance terminates.
EXIT_OOM = "fly_instance_exit_oom"
EXIT_CODE = "fly_instance_exit_code"
# "Instance series": 1 while the VM reports.
INSTANCE_UP = "fly_instance_up"
# "Postgres - pg_": replication lag (seconds, postgres_exporter's default query),
# connections, WAL archiving failures.
PG_REPLICATION_LAG = "pg_replication_lag"
PG_CONNECTIONS = "pg_stat_activity_count"
PG_ARCHIVE_FAILED = "pg_stat_archiver_failed_count"


SERVER_ERRORS = '=~"5.."'  # the `status` label holds the HTTP status code
IDLE = '="idle"'


def _selector(app: str, **matchers: str) -> str:
    # json.dumps quotes a label value as PromQL's double-quoted strings want it.
    parts = [f"app={json.dumps(app)}"] + [f"{k}{v}" for k, v in matchers.items()]
    return "{" + ",".join(parts) + "}"


def request_rate(app: str) -> str:
    """Requests per second answered at Fly's edge, per region."""
    return f"sum by (region) (rate({EDGE_RESPONSES}{_selector(app)}[5m]))"


def error_ratio(app: str, window: str) -> str:
    """Share of requests answered with a 5xx over `window` (the SLO's bad events)."""
    bad = f"sum(rate({EDGE_RESPONSES}{_selector(app, status=SERVER_ERRORS)}[{window}]))"
    total = f"sum(rate({EDGE_RESPONSES}{_selector(app)}[{window}]))"
    return f"{bad} / {total}"


def error_ratio_by_region(app: str) -> str:
    bad = f"sum by (region) (rate({EDGE_RESPONSES}{_selector(app, status=SERVER_ERRORS)}[5m]))"
    return f"{bad} / sum by (region) (rate({EDGE_RESPONSES}{_selector(app)}[5m]))"


def burn_rate_alert(app: str, budget: float, factor: float, long: str, short: str) -> str:
    """Both windows burning the error budget `factor` times too fast (SRE workbook).

    The long window's ratio is the value; the `and` keeps it only while the short
    window burns too, so the alert stops soon after the burn does.
    """
    bound = f"{factor * budget:.6g}"
    return f"({error_ratio(app, long)}) > {bound} and ({error_ratio(app, short)}) > {bound}"


def latency_p95_by_region(app: str, window: str = "5m") -> str:
    """p95 response time at the edge, in seconds, per region."""
    buckets = f"rate({EDGE_LATENCY_BUCKETS}{_selector(app)}[{window}])"
    return f"histogram_quantile(0.95, sum by (le, region) ({buckets}))"


def cpu_busy(app: str) -> str:
    """Share of CPU time not idle, per machine."""
    idle = f"sum by (instance, region) (rate({INSTANCE_CPU}{_selector(app, mode=IDLE)}[5m]))"
    total = f"sum by (instance, region) (rate({INSTANCE_CPU}{_selector(app)}[5m]))"
    return f"1 - ({idle} / {total})"


def memory_used(app: str) -> str:
    """Share of memory not available, per machine."""
    return f"1 - ({MEM_AVAILABLE}{_selector(app)} / {MEM_TOTAL}{_selector(app)})"


def oom_kills(app: str, window: str = "10m") -> str:
    """Machines killed for running out of memory within `window` (1 each)."""
    return f"max by (instance, region) (max_over_time({EXIT_OOM}{_selector(app)}[{window}]))"


def exits(app: str, window: str = "15m") -> str:
    """Instances that exited within `window`, per region (a restart is an exit)."""
    return f"count by (region) (max_over_time({EXIT_CODE}{_selector(app)}[{window}]))"


def members_up(app: str) -> str:
    """Machines of `app` reporting (1 each)."""
    return f"sum({INSTANCE_UP}{_selector(app)})"


def replication_lag(app: str) -> str:
    """Seconds each Postgres replica is behind."""
    return f"max by (instance, region) ({PG_REPLICATION_LAG}{_selector(app)})"


def connections(app: str) -> str:
    return f"sum by (instance) ({PG_CONNECTIONS}{_selector(app)})"


def archive_failures(app: str, window: str = "1h") -> str:
    """WAL segments Postgres failed to archive (to the backup bucket) within `window`."""
    return f"sum(increase({PG_ARCHIVE_FAILED}{_selector(app)}[{window}]))"
