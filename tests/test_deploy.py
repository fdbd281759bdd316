"""The deploy command the program declares, run for real against a fake `fly` on PATH."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from tests.conftest import FakeFly, run, run_command, stack_doc
from tests.known import COMMAND, KnownMocks


def deploy_inputs(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    evaluation = run(
        stack_doc("prod") | overrides, tmp_path, stack="prod", preview=False, mocks=KnownMocks()
    )
    inputs = dict(evaluation.one(COMMAND, "webhost-deploy").inputs)
    assert not any(rpc.is_rpc_secret(v) for v in inputs.values())
    return inputs


def commands(fly: FakeFly) -> list[list[str]]:
    return [call["argv"] for call in fly.calls()]


APP = "webhost-prod"


@pytest.fixture
def fake_fly(fake_fly: FakeFly) -> FakeFly:
    """The app as `pulumi up` made it before the deploy: its Secrets resource wrote
    version 7 through the Machines API, which flyctl's local cache never saw."""
    fake_fly.seed_app(APP)
    state = fake_fly.snapshot()
    state["apps"][APP]["secrets_version"] = 7
    fake_fly.state.write_text(json.dumps(state))
    return fake_fly


def deploy_calls(fly: FakeFly) -> list[list[str]]:
    return [argv for argv in commands(fly) if argv[0] == "deploy"]


def test_deploys_the_image_with_the_rendered_config_and_strategy(
    tmp_path: Path, fake_fly: FakeFly
) -> None:
    done = run_command(deploy_inputs(tmp_path), fake_fly, tmp_path)
    assert done.returncode == 0, done.stderr
    deploy = deploy_calls(fake_fly)[0]
    flags = dict(zip(deploy[1::2], deploy[2::2], strict=False))
    assert flags["--app"] == "webhost-prod"
    assert flags["--image"] == "registry.fly.io/webhost:1.0.0"
    assert flags["--strategy"] == "rolling"
    assert "--no-public-ips" in deploy
    assert [{k: d[k] for k in ("app", "image", "strategy")} for d in fake_fly.deploys()] == [
        {"app": "webhost-prod", "image": "registry.fly.io/webhost:1.0.0", "strategy": "rolling"}
    ]


def test_the_deploy_scales_nothing(tmp_path: Path, fake_fly: FakeFly) -> None:
    # The machine count per region is MachineCounts' (tests/test_machines.py).
    inputs = deploy_inputs(tmp_path)
    assert not any("REGION" in key for key in inputs["environment"])
    assert run_command(inputs, fake_fly, tmp_path).returncode == 0
    assert [argv[0] for argv in commands(fake_fly)] == ["secrets", "deploy"]
    assert fake_fly.machines(APP) == {"iad": 2}  # what Fly's first deploy launches


def test_no_secret_in_argv_and_the_token_comes_from_the_environment(
    tmp_path: Path, fake_fly: FakeFly
) -> None:
    run_command(deploy_inputs(tmp_path), fake_fly, tmp_path)
    calls = fake_fly.calls()
    assert calls
    for call in calls:
        assert "fly-token-that-must-not-leak" not in " ".join(call["argv"])
        assert "FLY_API_TOKEN" in call["env"]


def test_rerun_after_success_converges(tmp_path: Path, fake_fly: FakeFly) -> None:
    inputs = deploy_inputs(tmp_path)
    assert run_command(inputs, fake_fly, tmp_path).returncode == 0
    first = fake_fly.machines("webhost-prod")
    assert run_command(inputs, fake_fly, tmp_path).returncode == 0
    assert fake_fly.machines("webhost-prod") == first
    assert len(fake_fly.deploys()) == 2  # a second rolling deploy of the same image is harmless


def test_deploy_failure_surfaces_flyctls_error_and_stops(tmp_path: Path, fake_fly: FakeFly) -> None:
    done = run_command(deploy_inputs(tmp_path), fake_fly, tmp_path, FAKE_FLY_FAIL="deploy")
    assert done.returncode != 0
    assert "Error: failed to deploy: simulated failure (status 503)" in done.stderr
    assert [argv[0] for argv in commands(fake_fly)] == ["secrets", "deploy"]


def test_missing_token_fails_with_flyctls_message(tmp_path: Path, fake_fly: FakeFly) -> None:
    done = run_command(deploy_inputs(tmp_path), fake_fly, tmp_path, FLY_API_TOKEN="")
    assert done.returncode != 0
    assert "no access token available" in done.stderr


def test_rendered_config_file_is_removed(tmp_path: Path, fake_fly: FakeFly) -> None:
    run_command(deploy_inputs(tmp_path), fake_fly, tmp_path)
    deploy = deploy_calls(fake_fly)[0]
    config = Path(deploy[deploy.index("--config") + 1])
    assert config.parent.parent == tmp_path / "scratch"  # the script's private directory
    assert not config.parent.exists()


@pytest.mark.parametrize("strategy", ["bluegreen", "canary", "immediate"])
def test_strategy_from_config(tmp_path: Path, fake_fly: FakeFly, strategy: str) -> None:
    inputs = deploy_inputs(tmp_path, **{"webhost:deployStrategy": strategy})
    run_command(inputs, fake_fly, tmp_path)
    assert fake_fly.deploys()[0]["strategy"] == strategy
    assert inputs["environment"]["WEBHOST_STRATEGY"] == strategy


def test_machines_boot_with_the_secrets_version_the_secrets_resource_wrote(
    tmp_path: Path, fake_fly: FakeFly
) -> None:
    inputs = deploy_inputs(tmp_path)
    assert run_command(inputs, fake_fly, tmp_path).returncode == 0
    # flyctl's deploy boots with its locally cached min version; the sync made it 7+
    assert fake_fly.deploys()[0]["secrets_version"] >= 7
    sync = commands(fake_fly).index(["secrets", "sync", "--app", APP])
    assert sync < commands(fake_fly).index(deploy_calls(fake_fly)[0])
