"""The GitHub workflows' structure: who runs what, with which permissions and secrets.

Read as YAML (PyYAML reads the bare `on:` key as the boolean True, as YAML 1.1 says).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import diff
from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
# What `make e2e` runs: the engine tools/build-engine.sh records building.
ENGINE_VERSION = "3.274.1"
FLYCTL_VERSION = "0.4.87"
WRITE_ENVIRONMENTS = {"staging", "production"}


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return doc


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    on: dict[str, Any] = doc.get("on", doc.get(True))
    return on


def secrets_of(job: dict[str, Any]) -> set[str]:
    return set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


INFRA = load("infrastructure.yml")
JOBS: dict[str, dict[str, Any]] = INFRA["jobs"]
ALL = {name: load(name) for name in ("infrastructure.yml", "pr-comment.yml", "drift.yml")}


def test_pull_requests_run_as_pull_request_never_pull_request_target() -> None:
    for name, doc in ALL.items():
        assert "pull_request_target" not in triggers(doc), name
    assert "pull_request" in triggers(INFRA)


@pytest.mark.parametrize("name", ALL)
def test_no_default_permissions_and_each_job_states_its_own(name: str) -> None:
    doc = ALL[name]
    assert doc["permissions"] == {}
    for job_name, job in doc["jobs"].items():
        assert "permissions" in job, f"{name}:{job_name}"


def test_no_secret_at_workflow_level() -> None:
    for name, doc in ALL.items():
        assert not re.findall(r"secrets\.", yaml.safe_dump(doc.get("env", {}))), name


def test_the_test_and_diff_jobs_see_no_secret_and_cannot_write() -> None:
    for job_name in ("test", "diff"):
        job = JOBS[job_name]
        assert secrets_of(job) == set(), job_name
        assert "environment" not in job
        assert job["permissions"] == {"contents": "read"}
        for checkout in steps_using(job, "actions/checkout"):
            assert checkout["with"]["persist-credentials"] is False


def test_the_diff_job_runs_on_every_pull_request_and_the_comment_is_posted_apart() -> None:
    job = JOBS["diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert "webhost-infra diff" in script and "--format markdown" in script
    assert '--base "$BASE_SHA"' in script
    assert steps_using(job, "actions/upload-artifact")
    comment = ALL["pr-comment.yml"]
    assert triggers(comment)["workflow_run"]["workflows"] == [INFRA["name"]]
    [poster] = comment["jobs"].values()
    assert poster["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert secrets_of(poster) == set()
    # it never checks out (let alone runs) the pull request's code
    assert not steps_using(poster, "actions/checkout")
    script = steps_using(poster, "actions/github-script")[0]["with"]["script"]
    assert "updateComment" in script and "createComment" in script
    assert "<!-- webhost-infra diff: ${stack} -->" in script
    assert diff.marker("prod") == "<!-- webhost-infra diff: prod -->"


def test_previews_run_only_for_this_repositorys_branches_with_read_only_environments() -> None:
    job = JOBS["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["environment"] == "${{ matrix.stack }}-preview"
    assert job["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    [action] = steps_using(job, "pulumi/actions@")
    inputs = action["with"]
    assert inputs["command"] == "preview"
    assert inputs["comment-on-pr"] is True and inputs["edit-pr-comment"] is True
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"


def test_write_environments_only_on_pushes_to_main() -> None:
    assert triggers(INFRA)["push"]["branches"] == ["main"]
    for job_name, job in JOBS.items():
        if job.get("environment") in WRITE_ENVIRONMENTS:
            assert job["if"] == "github.event_name == 'push'", job_name
    # no job of a pull request has a write environment
    for job_name, job in JOBS.items():
        if "pull_request" in str(job.get("if", "")):
            env = job.get("environment", "-preview")
            assert env.endswith("-preview"), job_name


def test_staging_then_a_saved_prod_plan_then_prod_applies_that_plan() -> None:
    assert JOBS["apply-staging"]["needs"] == "test"
    assert JOBS["plan-prod"]["needs"] == "apply-staging"
    assert JOBS["apply-prod"]["needs"] == "plan-prod"
    assert JOBS["apply-staging"]["environment"] == "staging"
    assert JOBS["plan-prod"]["environment"] == "prod-preview"
    assert JOBS["apply-prod"]["environment"] == "production"
    [preview] = steps_using(JOBS["plan-prod"], "pulumi/actions@")
    [up] = steps_using(JOBS["apply-prod"], "pulumi/actions@")
    assert preview["with"]["command"] == "preview" and up["with"]["command"] == "up"
    assert preview["with"]["plan"] == up["with"]["plan"] == "prod-plan.json"
    assert steps_using(JOBS["apply-prod"], "actions/download-artifact")
    # one apply at a time per stack
    assert JOBS["apply-staging"]["concurrency"]["group"] == "apply-staging"
    assert JOBS["plan-prod"]["concurrency"] == JOBS["apply-prod"]["concurrency"]
    assert JOBS["apply-prod"]["concurrency"]["cancel-in-progress"] is False


@pytest.mark.parametrize("name", ALL)
def test_versions_are_pinned(name: str) -> None:
    doc = ALL[name]
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is None:
                continue
            ref = uses.rsplit("@", 1)[1]
            assert re.fullmatch(r"v\d+(\.\d+)*|[0-9a-f]{40}", ref), uses
            if uses.startswith("pulumi/actions@"):
                assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"
            if "setup-flyctl" in uses:
                assert step["with"]["version"] == "${{ env.FLYCTL_VERSION }}"
    if "PULUMI_VERSION" in doc.get("env", {}):
        assert doc["env"]["PULUMI_VERSION"] == ENGINE_VERSION
        assert doc["env"]["FLYCTL_VERSION"] == FLYCTL_VERSION


def test_the_pinned_engine_is_what_make_e2e_builds() -> None:
    recorded = ROOT / ".tools" / "engine-version"
    if not recorded.exists():
        pytest.skip(f"{recorded} is absent: `make e2e` has not built the engine here")
    assert recorded.read_text().strip().lstrip("v") == ENGINE_VERSION


def test_every_pulumi_run_carries_the_stacks_policy_pack() -> None:
    for job_name, job in JOBS.items():
        for action in steps_using(job, "pulumi/actions@"):
            stack = action["with"]["stack-name"]
            assert action["with"]["policyPacks"] == "policies", job_name
            assert action["with"]["policyPackConfigs"] == f"policies/config/{stack}.json"
    for stack in ("staging", "prod"):
        assert (ROOT / "policies" / "config" / f"{stack}.json").exists()


def test_ci_runs_the_suite() -> None:
    [run] = [s["run"] for s in JOBS["test"]["steps"] if "run" in s]
    assert run == "bash .ci/run"


def test_nightly_drift_runs_all_three_checks_per_stack_and_manages_one_issue() -> None:
    doc = ALL["drift.yml"]
    on = triggers(doc)
    assert "schedule" in on and "workflow_dispatch" in on
    [job] = doc["jobs"].values()
    assert job["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    assert job["environment"] == "${{ matrix.stack }}-preview"
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    steps = {s.get("id"): s for s in job["steps"] if "id" in s}
    assert "--preview-only --expect-no-changes" in steps["refresh"]["run"]
    assert "webhost-infra drift" in steps["drift"]["run"]
    assert "webhost-infra backups check" in steps["backups"]["run"]
    for check in ("refresh", "drift", "backups"):
        assert steps[check]["continue-on-error"] is True
        assert "set -o pipefail" in steps[check]["run"]
    script = steps_using(job, "actions/github-script")[0]["with"]["script"]
    for call in ("issues.create", "issues.createComment", "state: 'closed'", "setFailed"):
        assert call in script
    # the backup bucket's credentials reach only the backup check
    for check in ("refresh", "drift"):
        assert "BACKUP_" not in yaml.safe_dump(steps[check])


def test_the_state_and_platform_tokens_only_come_from_environments() -> None:
    for name, doc in ALL.items():
        for job_name, job in doc["jobs"].items():
            if secrets_of(job):
                assert "environment" in job, f"{name}:{job_name}"


def test_workflow_files_are_the_ones_tested() -> None:
    assert {p.name for p in Path(WORKFLOWS).glob("*.yml")} == set(ALL)
