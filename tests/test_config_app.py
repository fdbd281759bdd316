"""The app's keys (`webhost:http.*`, `webhost:releaseCommand`): every rule, with its line."""

from __future__ import annotations

import json

import pytest

from components import config
from tests.configcase import base, only, text


def test_min_machines_running_fits_the_primary_region() -> None:
    line = only(http={"minMachinesRunning": 4})
    assert line == (
        "webhost:http.minMachinesRunning = 4: exceeds the 3 machine(s) in the primary region iad"
    )


def test_hard_limit_at_least_soft_limit() -> None:
    line = only(http={"concurrency": {"softLimit": 900, "hardLimit": 800}})
    assert line == "webhost:http.concurrency.hardLimit = 800: must be at least softLimit (900)"


def test_health_check_timeout_below_interval() -> None:
    line = only(http={"healthCheck": {"interval": "5s", "timeout": "10s"}})
    assert line == 'webhost:http.healthCheck.timeout = "10s": must be shorter than interval (5s)'


def test_health_check_duration_format() -> None:
    line = only(http={"healthCheck": {"interval": "fifteen"}})
    assert line == (
        'webhost:http.healthCheck.interval = "fifteen": '
        "a duration such as 15s, 1m30s or 500ms (units ns, us, ms, s, m, h)"
    )


@pytest.mark.parametrize("interval", ["1m30s", "1.5m", "15000ms", "2562047h", "1h500\u00b5s"])
def test_a_check_takes_what_gos_parser_takes(interval: str) -> None:
    # The deep check's interval: the one duration with no upper bound of Fly's.
    raw = base() | {"webhost:http": text({"deepCheck": {"interval": interval}})}
    assert config.parse(raw).http.deep_check.interval == interval


def test_health_check_duration_beyond_gos_range_is_refused() -> None:
    # Go's time.ParseDuration overflows past 1<<63-1 ns (2562047h47m16.854775807s).
    line = only(http={"healthCheck": {"gracePeriod": "2562048h"}})
    assert line.startswith('webhost:http.healthCheck.gracePeriod = "2562048h": longer than Go')


def test_health_check_path_is_absolute() -> None:
    line = only(http={"healthCheck": {"path": "api/health"}})
    assert line.endswith("an absolute URL path such as /health")


def test_port_range() -> None:
    line = only(http={"internalPort": 70000})
    assert line == "webhost:http.internalPort = 70000: Input should be less than or equal to 65535"


def test_auto_stop_accepts_the_legacy_boolean() -> None:
    raw = base()
    raw["webhost:http"] = json.dumps({"autoStopMachines": True, "minMachinesRunning": 1})
    assert config.parse(raw).http.auto_stop_machines == "stop"


# -- what Fly, Cloudflare or Grafana would refuse (or quietly change) at `up` -------------
# Each rule cites its source beside it in components/config/ and components/catalog.py.


@pytest.mark.parametrize(
    ("check", "key", "value"),
    [
        ({"interval": "900ms"}, "interval", "900ms"),
        ({"interval": "61s"}, "interval", "61s"),
        ({"interval": "2m"}, "interval", "2m"),
        ({"timeout": "999ms"}, "timeout", "999ms"),
        ({"interval": "60s", "timeout": "1m0.5s"}, "timeout", "1m0.5s"),
        ({"gracePeriod": "0.5s"}, "gracePeriod", "0.5s"),
        ({"gracePeriod": "5m"}, "gracePeriod", "5m"),
        ({"gracePeriod": "1m1ns"}, "gracePeriod", "1m1ns"),
    ],
)
def test_a_routing_check_duration_fly_would_move_is_refused(
    check: dict[str, str], key: str, value: str
) -> None:
    # flyctl appconfig validation.go: a service check's durations below 1s are raised to
    # 1s, above 1m lowered to 1m; the check Fly runs would not be the configured one.
    assert only(http={"healthCheck": check}) == (
        f'webhost:http.healthCheck.{key} = "{value}": Fly runs a service check\'s durations '
        "within 1s..60s and moves one outside to the nearer bound (flyctl appconfig validation.go)"
    )


@pytest.mark.parametrize("check", [{"interval": "1.5s", "timeout": "1s"}, {"interval": "60s"}])
def test_a_routing_check_at_flys_bounds_is_taken(check: dict[str, str]) -> None:
    raw = base() | {"webhost:http": text({"healthCheck": check})}
    assert config.parse(raw).http.health_check.interval == check["interval"]


@pytest.mark.parametrize("interval", ["1s", "1999ms", "1.5s", "500ms"])
def test_a_deep_check_interval_under_two_seconds_is_refused(interval: str) -> None:
    line = only(http={"deepCheck": {"interval": interval, "timeout": "100ms"}})
    assert line.startswith(f'webhost:http.deepCheck.interval = "{interval}": at least 2s: flyctl')


@pytest.mark.parametrize("timeout", ["61s", "1m0.001s", "2m", "1h"])
def test_a_deep_check_timeout_over_a_minute_is_refused(timeout: str) -> None:
    line = only(http={"deepCheck": {"interval": "2h", "timeout": timeout}})
    assert line.startswith(f'webhost:http.deepCheck.timeout = "{timeout}": at most 60s: flyctl')


@pytest.mark.parametrize(
    "command", ['/app/bin/migrate "x', "/app/bin/migrate 'a b", "/app/bin/migrate \\", "'"]
)
def test_a_release_command_flyctl_cannot_split_is_refused(command: str) -> None:
    line = only(releaseCommand=command)
    assert line == (
        f"webhost:releaseCommand = {json.dumps(command)}: flyctl cannot split it into words "
        "(an unclosed quote or a trailing backslash)"
    )


def test_a_quoted_release_command_is_taken() -> None:
    raw = base() | {"webhost:releaseCommand": "/app/bin/migrate 'a b' \"c d\" e\\ f"}
    assert config.parse(raw).release_command.startswith("/app/bin/migrate")
