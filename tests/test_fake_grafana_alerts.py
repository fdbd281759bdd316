"""The fake Grafana's synthetic check alerts (syntheticMonitoring.CheckAlerts), each rule
from the real provider: grafana/terraform-provider-grafana internal/resources/
syntheticmonitoring/resource_check_alerts.go @ 3f9621f and the API client it calls
(grafana/synthetic-monitoring-api-go-client smapi.go @ 009cdd1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakeprovider_client import plain, state_paths, stored
from tests.test_fake_grafana import MONITORING, FakeGrafana, GrafanaError, configured

CHECK = "grafana:syntheticMonitoring/check:Check"
ALERTS = "grafana:syntheticMonitoring/checkAlerts:CheckAlerts"
FAILED = "ProbeFailedExecutionsTooHigh"


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return state_paths(tmp_path, "grafana")


@pytest.fixture
def fake(paths: tuple[Path, Path]) -> FakeGrafana:
    return configured(paths)


def check(fake: FakeGrafana, name: str, inputs: dict[str, Any]) -> Any:
    return MONITORING.check(fake, ALERTS, name, inputs)


def a_check(fake: FakeGrafana) -> str:
    made = MONITORING.create(
        fake,
        CHECK,
        "probe",
        {
            "job": "webhost health",
            "target": "https://webhost.example/health",
            "probes": [8],
            "settings": {"http": {"method": "GET"}},
            "timeout": 1000,
        },
    )
    return str(made.resource_id)


def alerts(check_id: str, *items: dict[str, Any]) -> dict[str, Any]:
    given = items or ({"name": FAILED, "threshold": 5, "period": "5m", "runbookUrl": ""},)
    return {"checkId": int(check_id), "alerts": list(given)}


def test_alerts_are_the_checks_keyed_by_its_id_and_read_back_unchanged(
    fake: FakeGrafana, paths: tuple[Path, Path]
) -> None:
    check_id = a_check(fake)
    inputs = alerts(check_id)
    made = MONITORING.create(fake, ALERTS, "a", inputs)
    # SetId(strconv.FormatInt(checkID)): the alerts' id is the check's.
    assert made.resource_id == check_id
    assert stored(paths)["checkAlerts"][check_id]["alerts"][0]["name"] == FAILED
    read = MONITORING.read(fake, ALERTS, "a", check_id, made.properties)
    assert plain(read.properties) == plain(made.properties)
    # `alerts` is a set: the same alerts in another order are no change.
    other = {"name": "TLSTargetCertificateCloseToExpiring", "threshold": 14}
    both = MONITORING.create(fake, ALERTS, "b", alerts(check_id, other, inputs["alerts"][0]))
    swapped = check(fake, "b", alerts(check_id, inputs["alerts"][0], other)).inputs
    assert not MONITORING.diff(fake, ALERTS, "b", check_id, both.properties, swapped).changes


def test_a_new_check_id_replaces_the_alerts(fake: FakeGrafana) -> None:
    check_id = a_check(fake)
    made = MONITORING.create(fake, ALERTS, "a", alerts(check_id))
    news = check(fake, "a", {**alerts(check_id), "checkId": int(check_id) + 1}).inputs
    answer = MONITORING.diff(fake, ALERTS, "a", check_id, made.properties, news)
    assert answer.replaces == ["checkId"]


@pytest.mark.parametrize(
    ("alert", "reason"),
    [
        ({"name": "ProbeDown", "threshold": 1}, "expected alerts.0.name to be one of"),
        ({"name": FAILED, "threshold": 1, "period": "2m"}, "expected alerts.0.period to be one"),
        ({"name": FAILED, "threshold": "1"}, "threshold"),
        ({"name": FAILED}, '"alerts.0.threshold" is required'),
    ],
    ids=["name", "period", "threshold-type", "no-threshold"],
)
def test_the_schema_refuses_what_the_provider_refuses(
    fake: FakeGrafana, alert: dict[str, Any], reason: str
) -> None:
    failures = check(fake, "a", alerts("1", alert)).failures
    assert any(reason in f.reason for f in failures), [f.reason for f in failures]


def test_alerts_of_a_check_that_is_not_there_are_refused_and_fail_a_read(
    fake: FakeGrafana,
) -> None:
    with pytest.raises(GrafanaError, match="check 4242 not found"):
        MONITORING.create(fake, ALERTS, "a", alerts("4242"))
    check_id = a_check(fake)
    made = MONITORING.create(fake, ALERTS, "a", alerts(check_id))
    MONITORING.delete(fake, CHECK, "probe", check_id, {})
    # The provider's Read takes no answer for "gone" (resourceCheckAlertRead).
    with pytest.raises(GrafanaError, match="not found"):
        MONITORING.read(fake, ALERTS, "a", check_id, made.properties)


def test_alerts_need_the_synthetic_monitoring_token(paths: tuple[Path, Path]) -> None:
    bare = configured(paths, smAccessToken="")
    with pytest.raises(GrafanaError, match="Synthetic Monitoring client is not configured"):
        MONITORING.create(bare, ALERTS, "a", alerts("1"))
