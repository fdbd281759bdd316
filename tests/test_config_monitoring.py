"""The monitoring keys (`webhost:monitoring.*`): what Grafana's synthetic monitoring
would refuse, refused with its line."""

from __future__ import annotations

import json

import pytest

from components import config
from tests.configcase import base, only, text


@pytest.mark.parametrize("latency", [12_001, 20_000, 60_000])
def test_a_p95_whose_probe_timeout_is_past_grafanas_minute_is_refused(latency: int) -> None:
    monitoring = json.loads(base()["webhost:monitoring"])
    line = only(monitoring={**monitoring, "latencyP95Ms": latency, "probeFrequencyMs": 3_600_000})
    assert line == (
        f"webhost:monitoring.latencyP95Ms = {latency}: the probes time out at 5x it, "
        f"{5 * latency} ms, over the 60000 ms Grafana's synthetic monitoring takes for an "
        "HTTP check; at most 12000 (or synthetic: false)"
    )


@pytest.mark.parametrize(
    ("latency", "frequency"), [(250, 1_249), (300, 1_000), (1_000, 4_999), (12_000, 59_999)]
)
def test_a_probe_frequency_shorter_than_its_timeout_is_refused(
    latency: int, frequency: int
) -> None:
    monitoring = json.loads(base()["webhost:monitoring"])
    timeout = 5 * latency
    line = only(monitoring={**monitoring, "latencyP95Ms": latency, "probeFrequencyMs": frequency})
    assert line == (
        f"webhost:monitoring.probeFrequencyMs = {frequency}: shorter than the probes' timeout, "
        f"{timeout} ms (5x latencyP95Ms); Grafana's synthetic monitoring refuses a check that "
        "times out after its next run is due"
    )


def test_probes_off_take_any_p95() -> None:
    monitoring = json.loads(base()["webhost:monitoring"])
    raw = base() | {
        "webhost:monitoring": text({**monitoring, "latencyP95Ms": 60_000, "synthetic": False})
    }
    assert config.parse(raw).monitoring is not None
