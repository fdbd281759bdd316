"""`webhost-infra plan`: formats, exit codes, and what never appears in its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from tests.conftest import ROOT, stack_doc, write_stack

SECRET_STRIPE = {"secure": "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}


def plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = plan(capsys, *argv, "--format", "json")
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def test_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    document = plan_json(capsys, "--stack", "prod")
    assert (document["project"], document["stack"]) == ("webhost", "prod")
    keys = {
        "urn",
        "type",
        "name",
        "parent",
        "custom",
        "dependencies",
        "protect",
        "inputs",
        "secretInputs",
    }
    assert all(set(r) == keys for r in document["resources"])
    urns = {r["urn"] for r in document["resources"]}
    for r in document["resources"]:
        assert r["parent"] is None or r["parent"] in urns
        assert set(r["dependencies"]) <= urns
    assert set(document["outputs"]) == {"appName", "url", "flyToml", "secretNames", "edge"}
    assert set(document) == {
        "project",
        "stack",
        "resources",
        "outputs",
        "invokes",
        "policyConfig",
        "policies",
        "policyViolations",
    }
    # The stack file's placeholder image is a tag: the advisory image-digest policy says
    # so; the margin is unchecked while usage-based items are unpriced (advisory too);
    # nothing mandatory fails.
    violations = document["policyViolations"]
    assert [(v["policy"], v["enforcementLevel"]) for v in violations] == [
        ("margin", "advisory"),
        ("image-digest", "advisory"),
    ]


def test_json_prod_shows_app_secrets_passwords_and_deploy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    everything = plan_json(capsys, "--stack", "prod")["resources"]
    resources = {r["name"]: r for r in everything if r["custom"]}
    app, secrets, deploy = (
        resources["webhost-app"],
        resources["webhost-secrets"],
        resources["webhost-deploy"],
    )
    component = next(r for r in everything if r["type"] == "webhost:fly:App")
    for child in (app, secrets, deploy, resources["webhost-secret-key-base"]):
        assert child["parent"] == component["urn"]
    assert set(deploy["dependencies"]) == {
        app["urn"],
        secrets["urn"],
        resources["webhost-v6"]["urn"],
        resources["webhost-v4"]["urn"],  # proxied A records: a shared IPv4 (edge)
        resources["webhost-db-attach"]["urn"],
        resources["webhost-redis"]["urn"],
    }
    assert app["protect"] is True
    assert secrets["inputs"]["values"] == "[secret]"
    assert secrets["secretInputs"] == ["values"]


def test_secure_values_are_never_decrypted_or_shown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = stack_doc("prod") | {"webhost:stripeSecretKey": SECRET_STRIPE}
    path = write_stack(tmp_path, doc, "prod")
    code, out, err = plan(capsys, "--stack-file", str(path), "--format", "json")
    assert code == 0, err
    assert "v1:AAAA" not in out
    document = json.loads(out)
    assert "STRIPE_SECRET_KEY" in document["outputs"]["secretNames"]


def test_computed_values_are_marked_computed(capsys: pytest.CaptureFixture[str]) -> None:
    document = plan_json(capsys, "--stack", "staging")
    assert document["outputs"]["url"] == "https://staging.webhost.example"
    assert document["outputs"]["edge"] == "[computed]"  # certificate status comes from Fly
    deploy = next(r for r in document["resources"] if r["name"] == "webhost-deploy")
    assert deploy["inputs"]["environment"]["WEBHOST_SECRETS_VERSION"] == "[computed]"


def test_text_is_a_resource_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = plan(capsys)  # staging is the default
    assert code == 0
    assert out.startswith("Offline plan of webhost/staging")
    assert " +  pulumi:pulumi:Stack  webhost-staging" in out
    assert "└─ webhost:index:Platform  webhost" in out
    assert "pulumi-python:dynamic/fly:App  webhost-app" in out
    assert "values=[secret]" in out
    assert "edge: [computed]" in out
    assert "cloudflare:index/getZone:getZone" in out
    # The summary counts the tree: every "+" line, and of those the ones that are not
    # components (the stack, webhost:* components) are custom.
    created = [line.split()[-2] for line in out.splitlines() if line.startswith(" + ")]
    custom = [t for t in created if t != "pulumi:pulumi:Stack" and not t.startswith("webhost:")]
    assert f"Resources: {len(created)} to create ({len(custom)} custom)" in out
    assert len(custom) > 20


def test_text_marks_protected_resources(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = plan(capsys, "--stack", "prod")
    assert "pulumi-python:dynamic/fly:App  webhost-app [protected]" in out


def test_runbook_sizing_exits_2_naming_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = stack_doc("prod") | {
        "webhost:vm": {"cpuKind": "performance", "cpus": 4, "memoryMb": 4096}
    }
    code, out, err = plan(capsys, "--stack-file", str(write_stack(tmp_path, doc)))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("error: invalid config in ")
    assert lines[1].startswith("  webhost:vm.memoryMb = 4096: performance VMs take 2048..8192 MB")
    assert "Traceback" not in err


def test_every_problem_one_line_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = stack_doc("staging") | {"webhost:primaryRegion": "xyz", "webhost:tier": "gold"}
    code, _, err = plan(capsys, "--stack-file", str(write_stack(tmp_path, doc)))
    assert code == 2
    problems = err.splitlines()[1:]
    assert [p.split()[0] for p in problems] == ["webhost:primaryRegion", "webhost:tier"]


def test_missing_stack_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = plan(capsys, "--stack-file", str(tmp_path / "Pulumi.nope.yaml"))
    assert code == 2
    assert err.strip() == f"error: {tmp_path / 'Pulumi.nope.yaml'}: no such file"


def test_broken_yaml_exits_2_with_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config:\n  webhost:org: [unclosed\n")
    code, _, err = plan(capsys, "--stack-file", str(path))
    assert code == 2
    assert err.startswith(f"error: {path}:3:")
    assert "Traceback" not in err


def test_unknown_stack_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = plan(capsys, "--stack", "qa")
    assert code == 2
    assert "Pulumi.qa.yaml: no such file" in err


def test_console_script_runs_in_a_fresh_process_importing_only_what_plan_needs() -> None:
    # One fresh process for both: the console script works from anywhere, and (issue
    # 22) a fresh `plan` pays for neither boto3 (backups), the diff, nor drift, nor what
    # only the dynamic providers' operations use (httpx, cryptography): the program
    # itself needs dill, which pickles them. -X importtime
    # names every module the process imports, on stderr.
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "webhost-infra"),
            "plan",
            "--stack",
            "prod",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd="/",
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stack"] == "prod"
    timings = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert [line for line in done.stderr.splitlines() if line not in timings] == []
    imported = {line.rsplit("|", 1)[-1].strip() for line in timings}
    assert "cli.main" in imported and "pulumi" in imported  # the probe sees imports
    heavy = (
        "boto3",
        "botocore",
        "cli.diff",
        "cli.drift",
        "cli.backups",
        "cli.runrate",
        "httpx",
        "cryptography",
    )
    assert sorted(imported & set(heavy)) == []


def test_stack_files_hold_no_plain_secrets() -> None:
    for stack in ("staging", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        assert "sk_live" not in text.replace("sk_live_...", "")
        assert "whsec_" not in text.replace("whsec_...", "")


def test_diff_formats_are_the_diffs_renderers() -> None:
    from cli import diff
    from cli.main import DIFF_FORMATS

    assert set(DIFF_FORMATS) == set(diff.RENDER)
