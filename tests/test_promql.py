"""Every PromQL query the program builds parses, and names only Fly's documented metrics.

The queries are collected from what the program registers (each alert rule's query
stage and each dashboard target), not from a list kept by hand, so a new query is
checked the day it is added.
"""

from __future__ import annotations

import json
import re

import promql_parser
import pytest

from cli import engine
from components.monitoring import queries
from tests.test_monitoring import DASHBOARD, RULE_GROUP

METRIC = re.compile(r"\b((?:fly|pg)_[a-z0-9_]+)\b")
# Fly's built-in metrics (superfly/docs monitoring/metrics.html.md @ 5c22c8c), each as
# queries.py names it with the page's section beside it.
DOCUMENTED = {
    queries.EDGE_RESPONSES,
    queries.EDGE_LATENCY_BUCKETS,
    queries.INSTANCE_CPU,
    queries.MEM_AVAILABLE,
    queries.MEM_TOTAL,
    queries.EXIT_OOM,
    queries.EXIT_CODE,
    queries.INSTANCE_UP,
    queries.PG_REPLICATION_LAG,
    queries.PG_CONNECTIONS,
    queries.PG_ARCHIVE_FAILED,
}


@pytest.fixture
def built(prod_monitored: engine.Evaluation) -> list[str]:
    """The queries of prod after `up` (tests/conftest.py prod_monitored: with Grafana's
    answers, tests/test_monitoring.py GrafanaMocks)."""
    return collect(prod_monitored)


def collect(found: engine.Evaluation) -> list[str]:
    exprs = [
        json.loads(data["model"])["expr"]
        for group in found.by_type(RULE_GROUP)
        for rule in group.inputs["rules"]
        for data in rule["datas"]
        if "expr" in json.loads(data["model"])
    ]
    for board in found.by_type(DASHBOARD):
        model = json.loads(board.inputs["configJson"])
        exprs += [t["expr"] for p in model["panels"] for t in p["targets"]]
    return exprs


def test_the_program_builds_queries_for_rules_and_panels(built: list[str]) -> None:
    assert len(built) >= 20  # 8 rules and 12 panels in prod


def test_every_query_parses_as_promql(built: list[str]) -> None:
    for expr in built:
        promql_parser.parse(expr)  # raises on anything PromQL refuses


def test_the_parser_refuses_a_broken_query() -> None:
    with pytest.raises(Exception):  # noqa: B017 - the parser's error type is internal
        promql_parser.parse('sum(rate(fly_edge_http_responses_count{app="a"}[5m])')


def test_queries_name_only_documented_metrics(built: list[str]) -> None:
    used = {name for expr in built for name in METRIC.findall(expr)}
    assert used and used <= DOCUMENTED
