"""The pack offline: `webhost-infra plan` runs it per stack, exits 3 on a mandatory violation;
`webhost-infra cost` prints the estimate the margin policy uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from tests.conftest import stack_doc, write_stack


def plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def prod_with(tmp_path: Path, **changes: Any) -> Path:
    doc = stack_doc("prod") | {f"webhost:{k}": v for k, v in changes.items()}
    return write_stack(tmp_path, doc, "prod")  # named prod: policies/config/prod.json applies


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_real_stacks_pass_every_policy(capsys: pytest.CaptureFixture[str], stack: str) -> None:
    code, out, err = plan(capsys, "--stack", stack, "--format", "json")
    assert code == 0, err
    # Only advisory findings: the margin, unchecked while usage-based items are unpriced
    # (components/cost.py), and the image-digest one on prod's placeholder tag.
    violations = json.loads(out)["policyViolations"]
    found = [(v["policy"], v["enforcementLevel"]) for v in violations]
    unchecked = [v["message"] for v in violations if v["policy"] == "margin"]
    assert found == [("margin", "advisory")] + (
        [("image-digest", "advisory")] if stack == "prod" else []
    )
    assert unchecked[0].startswith(f"app webhost-{stack}: margin not checked: at most ")


@pytest.mark.parametrize(
    ("changes", "policy", "message"),
    [
        (
            {"vm": {"cpuKind": "shared", "cpus": 2, "memoryMb": 4096}},
            "tier-sizing",
            "professional runs on performance CPUs, not shared",
        ),
        ({"customers": 1000}, "capacity", "6 machines host 600 professional customers"),
        (
            {"regions": {"iad": 1, "fra": 2, "sin": 1}, "http": {"minMachinesRunning": 1}},
            "production-safety",
            "1 machine(s) in the primary region iad",
        ),
        ({"regions": {"iad": 3, "fra": 2, "gru": 1}}, "regions", "region(s) gru outside"),
    ],
)
def test_a_mandatory_violation_exits_3_naming_the_policy(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    changes: dict[str, Any],
    policy: str,
    message: str,
) -> None:
    code, out, err = plan(capsys, "--stack-file", str(prod_with(tmp_path, **changes)))
    assert code == 3
    assert err.strip() == f"error: mandatory policies violated: {policy}"
    assert f"[mandatory] {policy}: " in out
    assert message in out


def test_production_safety_is_off_for_staging(capsys: pytest.CaptureFixture[str]) -> None:
    # one machine in the primary region: fine for staging, whose config disables the policy
    code, _, err = plan(capsys, "--stack", "staging")
    assert code == 0, err


def test_an_advisory_violation_is_reported_without_failing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = plan(
        capsys, "--stack-file", str(prod_with(tmp_path, customers=4)), "--format", "json"
    )
    assert code == 0
    violations = json.loads(out)["policyViolations"]
    found = [(v["policy"], v["enforcementLevel"]) for v in violations]
    assert [f for f in found if f[0] != "image-digest"] == [("margin", "advisory")]
    assert violations[0]["urn"].endswith("webhost:index:Platform::webhost")


def test_policy_config_decides_enforcement(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "strict.json"
    config.write_text(
        json.dumps({"margin": {"enforcementLevel": "mandatory", "minimumMargin": 0.95}})
    )
    code, out, err = plan(capsys, "--stack", "prod", "--policy-config", str(config))
    assert code == 3
    assert "[mandatory] margin: app webhost-prod: margin at most 91.0%" in out
    assert err.strip() == "error: mandatory policies violated: margin"


def test_cost_prints_the_breakdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--stack", "prod"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == [
        "app",
        "machines",
        "(performance-2x",
        "4096",
        "MB)",
        "6",
        "machine",
        "62.00",
        "372.00",
    ]
    assert out[-3].split()[-1] == "667.20"
    assert out[-3].startswith("cost, without 4 usage-based items")
    assert out[-2].split()[-1] == "7450.00"
    assert out[-1].startswith("margin, at most (not exact: 4 items not estimated)")
    assert out[-1].split()[-1] == "91.0%"


def test_cost_rejects_invalid_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = prod_with(tmp_path, tier="gold")
    assert main(["cost", "--stack-file", str(path)]) == 2
    assert 'webhost:tier = "gold"' in capsys.readouterr().err
