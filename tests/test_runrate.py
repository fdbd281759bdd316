"""The run rate against the cost estimate (cli/runrate.py), read through the fake `fly`.

The platform is test_drift's prod platform (fake Fly API and fake `fly`), seeded as
`pulumi up` leaves it; each test changes what runs the way a hand-run command would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli import drift as drift_module
from cli import runrate
from components import catalog, cost
from tests.conftest import FakeFly
from tests.test_drift import (  # noqa: F401 - platform is a fixture
    _app_machines,
    change_fly,
    drift,
    parsed,
    platform,
)


def rate() -> runrate.RunRate:
    config = parsed()
    return runrate.run_rate(config, runrate.read_fleets(config, drift_module._fly))


@pytest.mark.usefixtures("platform")
def test_what_runs_as_declared_costs_what_the_estimate_says(fake_fly: FakeFly) -> None:
    config = parsed()
    found = rate()
    assert found.live.cost == pytest.approx(cost.estimate(config).cost)
    assert found.delta == pytest.approx(0)
    assert runrate.differences(config, found) == []
    assert runrate.margin_finding(config, found) is None


@pytest.mark.usefixtures("platform")
def test_a_stopped_machine_is_not_billed_for_cpu_and_ram(fake_fly: FakeFly) -> None:
    config = parsed()

    def stop_one(state: dict[str, Any]) -> None:
        _app_machines(state)[0]["state"] = "stopped"

    change_fly(fake_fly, stop_one)
    found = rate()
    vm = config.vm
    one = catalog.machine_price(vm.cpu_kind, vm.cpus, vm.memory_mb)
    assert found.delta < 0
    assert -found.delta == pytest.approx(one, rel=0.25)  # list price, or a region's markup
    [(key, text)] = runrate.differences(config, found)
    assert key == "webhost:regions" and "the estimate assumed" in text


def _grow(state: dict[str, Any], guest: dict[str, Any], count: int) -> None:
    machines = _app_machines(state)
    template = machines[0]
    for i in range(count):
        machines.append({**template, "id": f"extra{i}", "guest": dict(guest)})


@pytest.mark.usefixtures("platform")
def test_machines_scaled_up_by_hand_that_break_the_margin_are_a_drift_finding(
    fake_fly: FakeFly, capsys: pytest.CaptureFixture[str]
) -> None:
    config = parsed()
    big = {"cpu_kind": "performance", "cpus": 8, "memory_mb": 16384}
    change_fly(fake_fly, lambda state: _grow(state, big, 4))
    found = rate()
    assert found.live.margin is not None and found.live.margin < catalog.MIN_MARGIN
    key, message = runrate.margin_finding(config, found) or ("", "")
    assert key == "webhost:regions"
    assert f"under the {catalog.MIN_MARGIN:.0%} floor" in message
    assert "performance 8x 16384 MB" in message

    code, out, _ = drift(capsys)
    assert code == 1
    assert any(
        line.startswith("drift: webhost:regions: monthly run rate") for line in out.splitlines()
    ), out


@pytest.mark.usefixtures("platform")
def test_a_small_excess_is_reported_by_drift_but_not_as_a_margin_break(
    fake_fly: FakeFly, capsys: pytest.CaptureFixture[str]
) -> None:
    config = parsed()
    vm = config.vm
    guest = {"cpu_kind": vm.cpu_kind, "cpus": vm.cpus, "memory_mb": vm.memory_mb}
    change_fly(fake_fly, lambda state: _grow(state, guest, 1))
    found = rate()
    assert found.delta > 0
    assert runrate.margin_finding(config, found) is None
    code, out, _ = drift(capsys)
    assert code == 1
    assert "monthly run rate" not in out


def test_a_machine_of_an_unpriced_kind_is_an_error_not_a_guess() -> None:
    machines = [
        {
            "state": "started",
            "region": "fra",
            "config": {"guest": {"cpu_kind": "gpu", "cpus": 1, "memory_mb": 1024}},
        }
    ]
    with pytest.raises(ValueError, match="gpu"):
        runrate.run_rate(parsed(), {"app": runrate.fleet(machines)})


def test_fleet_counts_only_started_machines_of_the_group() -> None:
    guest = {"cpu_kind": "shared", "cpus": 1, "memory_mb": 512}
    listed = json.loads(
        json.dumps(
            [
                {"state": "started", "region": "fra", "config": {"guest": guest}},
                {"state": "stopped", "region": "fra", "config": {"guest": guest}},
                {
                    "state": "started",
                    "region": "fra",
                    "config": {"guest": guest, "metadata": {"fly_process_group": "worker"}},
                },
            ]
        )
    )
    assert runrate.fleet(listed, group="app") == {(("shared", 1, 512), "fra"): 1}
