"""`webhost-infra diff`: a base commit against a working tree, both evaluated offline.

Each test builds a small git repository from this project's program and stack
files, commits it as the base, edits the working tree, and runs the diff.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import diff, main
from components import catalog
from tests.conftest import ROOT

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The program and stack files committed once; each test edits its own copy."""
    where = tmp_path_factory.mktemp("diff") / "repo"
    where.mkdir()
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, where / name)
    for package in ("components", "policies"):
        shutil.copytree(
            ROOT / package, where / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run([*GIT, "init", "-q", str(where)], check=True)
    subprocess.run([*GIT, "-C", str(where), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(where), "commit", "-q", "-m", "base"], check=True)
    return where


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    where = tmp_path / "repo"
    shutil.copytree(template, where, symlinks=True)
    return where


def edit(repo: Path, stack: str, change: dict[str, Any]) -> None:
    path = repo / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"].update(change)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def stack_config(stack: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return config


def run(repo: Path, stack: str, fmt: str = "json", base: str = "HEAD") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = diff.run(repo, base, stack, fmt, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def as_doc(repo: Path, stack: str) -> dict[str, Any]:
    code, out, err = run(repo, stack)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def test_an_image_bump_is_one_update_the_deploy_and_nothing_in_the_other_stack(
    repo: Path,
) -> None:
    edit(repo, "prod", {"webhost:image": "registry.fly.io/webhost:1.1.0"})
    prod = as_doc(repo, "prod")
    assert prod["summary"]["text"].startswith("+0 ~1 -0, cost +$0/month")
    [change] = prod["resources"]
    assert (change["op"], change["name"]) == ("update", "webhost-deploy")
    assert {
        "path": "environment.WEBHOST_IMAGE",
        "secret": False,
        "old": "registry.fly.io/webhost:1.0.0",
        "new": "registry.fly.io/webhost:1.1.0",
    } in (change["changes"])
    staging = as_doc(repo, "staging")
    assert staging["summary"]["text"].startswith("+0 ~0 -0")
    assert staging["resources"] == []


def test_an_added_region_shows_its_machines_at_the_regional_price(repo: Path) -> None:
    config = stack_config("prod")
    edit(repo, "prod", {"webhost:regions": {**config["webhost:regions"], "sjc": 1}})
    pack = repo / "policies" / "config" / "prod.json"
    pack_config = json.loads(pack.read_text())
    pack_config["regions"]["allowedRegions"].append("sjc")
    pack.write_text(json.dumps(pack_config))
    computed = diff.between(repo, "HEAD", "prod")
    prod = json.loads(diff.RENDER["json"](computed))
    per_machine = catalog.machine_price("performance", 2, 4096)
    regional = per_machine * catalog.REGION_PRICE_MARKUP["sjc"]
    assert regional > per_machine  # Fly prices sjc above list
    rows = {row["name"]: row for row in prod["cost"]["rows"]}
    row = rows["app machines (performance-2x 4096 MB) in sjc"]
    assert (row["before"], row["after"]) == (0.0, pytest.approx(regional))
    assert prod["summary"]["text"].startswith(f"+0 ~2 -0, cost +${regional:,.2f}/month")
    text = diff.RENDER["text"](computed)
    # the rendered fly.toml's change shown by the line that differs
    assert 'environment.WEBHOST_FLY_TOML: 1 line(s) out, 1 in: -REGIONS = "iad,fra,sin" ' in text
    before, after = prod["cost"]["before"]["margin"], prod["cost"]["after"]["margin"]
    assert after < before
    assert row["marginPoints"] == pytest.approx(-regional / prod["cost"]["after"]["revenue"] * 100)


def test_a_new_replica_region_is_a_create_with_its_cost(repo: Path) -> None:
    postgres = stack_config("prod")["webhost:postgres"]
    edit(repo, "prod", {"webhost:postgres": {**postgres, "replicaRegions": ["fra", "sin", "ams"]}})
    prod = as_doc(repo, "prod")
    created = [r["name"] for r in prod["resources"] if r["op"] == "create"]
    assert created == ["webhost-db-replica-ams"]
    rows = {row["name"]: row for row in prod["cost"]["rows"]}
    assert rows["postgres volumes"]["after"] - rows["postgres volumes"]["before"] == pytest.approx(
        postgres["volumeGb"] * catalog.VOLUME_PRICE_USD_PER_GB
    )


def test_a_renamed_app_is_replaced_because_of_its_name_and_flagged_protected(repo: Path) -> None:
    edit(repo, "prod", {"webhost:appName": "webhost-prod-2"})
    prod = as_doc(repo, "prod")
    by_name = {r["name"]: r for r in prod["resources"]}
    app = by_name["webhost-app"]
    # the App provider's own diff: name and org are immutable
    assert (app["op"], app["replaceBecause"], app["protected"]) == ("replace", ["name"], True)
    # the IPs' provider replaces on `app`; the deploy's command only updates
    assert by_name["webhost-v6"]["replaceBecause"] == ["app"]
    assert by_name["webhost-deploy"]["op"] == "update"


def test_replace_on_changes_declared_by_the_program_replaces_the_attach(repo: Path) -> None:
    postgres = stack_config("prod")["webhost:postgres"]
    edit(repo, "prod", {"webhost:postgres": {**postgres, "database": "webhost_two"}})
    prod = as_doc(repo, "prod")
    attach = next(r for r in prod["resources"] if r["name"] == "webhost-db-attach")
    assert attach["op"] == "replace"
    assert attach["replaceBecause"] == [
        "environment.WEBHOST_DB_NAME",
        "environment.WEBHOST_DB_USER",
    ]


def test_a_secret_set_again_shows_changed_and_never_its_value(repo: Path) -> None:
    edit(repo, "prod", {"webhost:stripeSecretKey": {"secure": "v1:OLDCIPHERTEXT"}})
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "with a secret"], check=True)
    edit(repo, "prod", {"webhost:stripeSecretKey": {"secure": "v1:NEWCIPHERTEXT"}})
    computed = diff.between(repo, "HEAD", "prod")
    for render in diff.RENDER.values():
        assert "CIPHERTEXT" not in render(computed)
    prod = json.loads(diff.RENDER["json"](computed))
    assert prod["secureConfigChanged"] == ["webhost:stripeSecretKey"]
    secrets = next(r for r in prod["resources"] if r["name"] == "webhost-secrets")
    assert secrets["op"] == "update"
    assert {"path": "values.STRIPE_SECRET_KEY", "secret": True} in secrets["changes"]


def test_an_unchanged_secret_is_not_reported(repo: Path) -> None:
    edit(repo, "prod", {"webhost:stripeSecretKey": {"secure": "v1:SAMECIPHERTEXT"}})
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "with a secret"], check=True)
    prod = as_doc(repo, "prod")
    assert prod["secureConfigChanged"] == []
    assert prod["resources"] == []


def test_markdown_has_the_summary_line_and_collapsed_details(repo: Path) -> None:
    edit(repo, "prod", {"webhost:image": "registry.fly.io/webhost:1.1.0"})
    code, out, _ = run(repo, "prod", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == diff.marker("prod")
    assert lines[1].startswith("**prod**: +0 ~1 -0, cost +$0/month, margin ")
    assert "<details>" in out and out.rstrip().endswith("</details>")
    assert out.count(diff.OFFLINE_NOTE) == 1


def test_a_base_ref_that_does_not_exist_exits_2_with_one_line(repo: Path) -> None:
    code, out, err = run(repo, "prod", base="no-such-branch")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "no-such-branch" in err


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside"])
def test_a_base_holding_a_link_out_of_its_tree_exits_2_with_one_line(
    repo: Path, target: str
) -> None:
    # git archive keeps symlinks; extracting one that points out of the tree is refused
    # (tarfile's data filter), and said so, never a traceback.
    (repo / "escape").symlink_to(target)
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "link"], check=True)
    code, out, err = run(repo, "prod")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "escape" in err and "Traceback" not in err


def test_both_sides_are_offline_and_need_no_metrics_token(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The base runs its own modules: the offline marker must reach them too (prod
    # declares monitoring, which pulumi up refuses without FLY_METRICS_TOKEN).
    monkeypatch.delenv("FLY_METRICS_TOKEN", raising=False)
    edit(repo, "prod", {"webhost:image": "registry.fly.io/webhost:9.9.9"})
    doc = as_doc(repo, "prod")
    assert [(c["op"], c["name"]) for c in doc["resources"]] == [("update", "webhost-deploy")]


def test_the_offline_marker_alone_is_not_offline_outside_a_mock_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from components import config

    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    assert config.offline() is False  # no mock monitor: as under the real engine


def test_a_base_whose_stack_file_is_invalid_exits_2_with_one_line(repo: Path) -> None:
    edit(repo, "prod", {"webhost:vm": {"cpuKind": "performance", "cpus": 2, "memoryMb": 1024}})
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "broken"], check=True)
    shutil.copy(ROOT / "Pulumi.prod.yaml", repo / "Pulumi.prod.yaml")
    code, out, err = run(repo, "prod")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "base HEAD" in err and "webhost:vm.memoryMb = 1024" in err


def test_an_invalid_working_tree_exits_2(repo: Path) -> None:
    edit(repo, "prod", {"webhost:tier": "platinum"})
    code, out, err = run(repo, "prod")
    assert (code, out) == (2, "")
    assert "webhost:tier" in err


def test_a_mandatory_violation_in_the_working_tree_exits_3_after_printing(repo: Path) -> None:
    edit(repo, "prod", {"webhost:protect": False})
    code, out, err = run(repo, "prod")
    assert code == 3
    doc = json.loads(out)
    assert "production-safety" in doc["mandatoryViolations"]
    assert any(f["policy"] == "production-safety" for f in doc["policyFindings"]["added"])
    assert "mandatory policies violated" in err


def test_the_base_is_evaluated_with_its_own_code_and_the_working_trees_modules_come_back(
    repo: Path,
) -> None:
    import components.cost

    before = components.cost
    # The base's catalog prices volumes at ten times the price: its own code is used.
    catalog_py = repo / "components" / "catalog.py"
    text = catalog_py.read_text()
    catalog_py.write_text(
        text.replace(
            "VOLUME_PRICE_USD_PER_GB: Final = 0.15", "VOLUME_PRICE_USD_PER_GB: Final = 1.5"
        )
    )
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "dearer volumes"], check=True)
    catalog_py.write_text(text)
    prod = as_doc(repo, "prod")
    rows = {row["name"]: row for row in prod["cost"]["rows"]}
    assert rows["postgres volumes"]["before"] == pytest.approx(
        10 * rows["postgres volumes"]["after"]
    )
    import components.cost as again

    assert again is before


def test_the_cli_refuses_a_missing_base_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["diff", "--stack", "prod", "--base", "refs/heads/no-such-branch-x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
