"""The GitHub workflows' structure: who runs what, with which permissions and secrets.

Read as YAML (PyYAML reads the bare `on:` key as the boolean True, as YAML 1.1 says).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import diff
from components import catalog
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
ALL = {
    name: load(name)
    for name in (
        "infrastructure.yml",
        "pr-comment.yml",
        "drift.yml",
        "restore-drill.yml",
        "rollback.yml",
    )
}


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


def run_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if "run" in s]


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in run_steps(job) if re.search(r"\bpulumi (preview|up|refresh)\b", s["run"])]


# What the program reads from the environment under `pulumi preview/up/refresh`: the
# platform tokens (components/fly/api/, the Cloudflare provider), the state backend's
# credentials and passphrase, and, for a stack with webhost:monitoring (prod), Grafana's
# and the Fly data source's tokens (components/monitoring).
ENGINE_ENV = {
    "FLY_API_TOKEN",
    "CLOUDFLARE_API_TOKEN",
    "PULUMI_CONFIG_PASSPHRASE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}
# WEBHOST_PAGER_URL: Pulumi.prod.yaml's contact point takes its URL from it (fromEnv).
MONITORING_ENV = {
    "GRAFANA_AUTH",
    "GRAFANA_SM_ACCESS_TOKEN",
    catalog.FLY_METRICS_TOKEN_ENV,
    "WEBHOST_PAGER_URL",
}
PROD_ENVIRONMENTS = {"prod-preview", "production"}


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
    # the artifact carries the PR's number and head commit, for pr-comment.yml to check
    assert "out/pr-number" in script and "out/head-sha" in script
    assert steps_using(job, "actions/upload-artifact")
    comment = ALL["pr-comment.yml"]
    assert triggers(comment)["workflow_run"]["workflows"] == [INFRA["name"]]
    [poster] = comment["jobs"].values()
    assert poster["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert secrets_of(poster) == set()
    # it never checks out (let alone runs) the pull request's code
    assert not steps_using(poster, "actions/checkout")
    assert diff.marker("prod") == "<!-- webhost-infra diff: prod -->"


def test_the_comment_targets_the_pull_request_github_vouches_for() -> None:
    [poster] = ALL["pr-comment.yml"]["jobs"].values()
    [step] = steps_using(poster, "actions/github-script")
    env = step["env"]
    # what GitHub reports of the triggering run, never the artifact
    assert env["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    assert env["HEAD_REPO"] == "${{ github.event.workflow_run.head_repository.full_name }}"
    script = step["with"]["script"]
    assert "p.head.sha === env.HEAD_SHA" in script
    assert "p.head.repo?.full_name === env.HEAD_REPO" in script
    assert "rejected" in script  # an artifact naming another PR or commit
    assert "c.user?.login === BOT" in script  # only our bot's comment is edited
    assert "65536" in script and "<!-- stale -->" in script
    # the artifact is unpacked outside the workspace
    [download] = steps_using(poster, "actions/download-artifact")
    assert download["with"]["path"].startswith("${{ runner.temp }}")


def test_branch_previews_reach_staging_only() -> None:
    job = JOBS["preview-staging"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["environment"] == "staging-preview"
    assert job["permissions"] == {"contents": "read"}
    [step] = pulumi_steps(job)
    assert "pulumi preview --stack staging" in step["run"]
    assert "--policy-pack policies --policy-pack-config policies/config/staging.json" in step["run"]


def test_no_code_that_has_not_passed_review_reaches_a_prod_environment() -> None:
    for name, doc in ALL.items():
        pr_triggered = "pull_request" in triggers(doc)
        for job_name, job in doc["jobs"].items():
            environment = str(job.get("environment", ""))
            if environment in WRITE_ENVIRONMENTS | PROD_ENVIRONMENTS:
                assert pr_triggered is False or job["if"] == "github.event_name == 'push'", (
                    f"{name}:{job_name}"
                )
            if "pull_request" in str(job.get("if", "")):
                assert environment in ("", "staging-preview"), f"{name}:{job_name}"
                assert "prod" not in yaml.safe_dump(pulumi_steps(job)), f"{name}:{job_name}"
    assert triggers(INFRA)["push"]["branches"] == ["main"]
    # drift's matrix reaches prod-preview from the default branch (schedule) alone; the
    # environment's branch rule refuses a dispatch from any other (README).
    assert set(triggers(ALL["drift.yml"])) == {"schedule", "workflow_dispatch"}
    # the rollback is dispatched by hand; prod's runs in `production` (main only, reviewers)
    assert set(triggers(ALL["rollback.yml"])) == {"workflow_dispatch"}


def test_secrets_are_set_on_the_steps_that_need_them_only() -> None:
    for name, doc in ALL.items():
        for job_name, job in doc["jobs"].items():
            where = f"{name}:{job_name}"
            assert "secrets." not in yaml.safe_dump(job.get("env", {})), where
            for step in job.get("steps", []):
                if "uses" in step:
                    # an action gets no secret (the artifact download its run's token)
                    assert not re.findall(r"secrets\.", yaml.safe_dump(step)), where
                elif re.search(r"secrets\.", yaml.safe_dump(step)):
                    assert re.search(
                        r"pulumi |webhost-infra (drift|backups|restore-drill|rollback)", step["run"]
                    ), where


def test_every_credential_the_program_reads_is_wired_per_environment() -> None:
    for name, doc in ALL.items():
        if any(pulumi_steps(job) for job in doc["jobs"].values()):
            assert {"PULUMI_BACKEND_URL", "AWS_REGION"} <= set(doc["env"]), name
        for job_name, job in doc["jobs"].items():
            for step in pulumi_steps(job):
                env = set(step.get("env", {}))
                assert env >= ENGINE_ENV, f"{name}:{job_name}: {ENGINE_ENV - env}"
                stacks = "prod" if "prod" in str(job.get("environment")) else "staging"
                if "matrix" in str(job.get("environment")) or stacks == "prod":
                    assert env >= MONITORING_ENV, f"{name}:{job_name}: {MONITORING_ENV - env}"


def test_the_readme_lists_every_secret_and_variable_the_workflows_read() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Continuous delivery") :]
    section = section[: section.index("\n## ", 1)]
    for name, doc in ALL.items():
        text = yaml.safe_dump(doc)
        for kind, found in (("secret", r"secrets\.(\w+)"), ("variable", r"vars\.(\w+)")):
            for value in set(re.findall(found, text)):
                assert f"`{value}`" in section, f"{name}: {kind} {value} is not in the README"


def test_staging_then_a_saved_prod_plan_then_prod_applies_that_plan() -> None:
    assert JOBS["apply-staging"]["needs"] == "test"
    assert JOBS["plan-prod"]["needs"] == "apply-staging"
    assert JOBS["apply-prod"]["needs"] == "plan-prod"
    assert JOBS["apply-staging"]["environment"] == "staging"
    assert JOBS["plan-prod"]["environment"] == "prod-preview"
    assert JOBS["apply-prod"]["environment"] == "production"
    [preview] = pulumi_steps(JOBS["plan-prod"])
    [up] = pulumi_steps(JOBS["apply-prod"])
    assert "pulumi preview --stack prod" in preview["run"]
    assert "--save-plan plan/prod-plan.json" in preview["run"]
    assert "GITHUB_STEP_SUMMARY" in preview["run"]  # the approvers read the plan
    assert "pulumi up --stack prod" in up["run"] and "--plan plan/prod-plan.json" in up["run"]
    [upload] = steps_using(JOBS["plan-prod"], "actions/upload-artifact")
    [download] = steps_using(JOBS["apply-prod"], "actions/download-artifact")
    assert upload["with"]["name"] == download["with"]["name"] == "prod-plan"
    # kept as long as the production approval may wait (30 days)
    assert upload["with"]["retention-days"] == 30


def test_applies_queue_and_are_never_cancelled() -> None:
    for job_name in ("apply-staging", "apply-prod"):
        concurrency = JOBS[job_name]["concurrency"]
        assert concurrency == {"group": job_name, "cancel-in-progress": False}
    # the plan is read-only and is not queued behind an apply waiting for approval
    assert "concurrency" not in JOBS["plan-prod"]
    assert "concurrency" not in INFRA


@pytest.mark.parametrize("name", ALL)
def test_actions_are_pinned_by_commit_with_their_version(name: str) -> None:
    doc = ALL[name]
    lines = (WORKFLOWS / name).read_text().splitlines()
    uses_lines = [line for line in lines if re.match(r"\s*(- )?uses: ", line)]
    assert uses_lines
    for line in uses_lines:
        assert re.search(r"@[0-9a-f]{40}  # v\d+(\.\d+)*$", line), line
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            uses = str(step.get("uses", ""))
            if uses.startswith("pulumi/actions@"):
                # installs the CLI only: the workflow's own commands run it
                assert step["with"] == {"pulumi-version": "${{ env.PULUMI_VERSION }}"}
            if "setup-flyctl" in uses:
                assert step["with"]["version"] == "${{ env.FLYCTL_VERSION }}"
    if "PULUMI_VERSION" in doc.get("env", {}):
        assert doc["env"]["PULUMI_VERSION"] == ENGINE_VERSION
        assert doc["env"]["FLYCTL_VERSION"] == FLYCTL_VERSION


def test_renovate_proposes_updates_of_actions_and_the_lock() -> None:
    config = json.loads((ROOT / ".github" / "renovate.json").read_text())
    assert "helpers:pinGitHubActionDigests" in config["extends"]
    [pattern] = config["pip-compile"]["managerFilePatterns"]
    assert re.search(pattern.strip("/"), "requirements.lock")


def test_every_pulumi_run_carries_the_stacks_policy_pack() -> None:
    for name, doc in ALL.items():
        for job_name, job in doc["jobs"].items():
            for step in pulumi_steps(job):
                if "pulumi refresh" in step["run"]:
                    continue  # refresh runs no policy
                [stack] = sorted(set(re.findall(r"--stack (\w+)", step["run"])))
                pack = f"--policy-pack policies --policy-pack-config policies/config/{stack}.json"
                assert pack in step["run"], f"{name}:{job_name}"
    for stack in ("staging", "prod"):
        assert (ROOT / "policies" / "config" / f"{stack}.json").exists()


def test_ci_builds_or_restores_the_engine_at_the_locks_version_then_runs_the_suite() -> None:
    job = JOBS["test"]
    [run] = [s["run"] for s in run_steps(job)]
    assert run == "bash .ci/run"
    [go] = steps_using(job, "actions/setup-go")
    assert go["with"]["go-version"] == "${{ env.GO_VERSION }}"
    [cache] = steps_using(job, "actions/cache")
    assert cache["with"]["path"] == ".tools"
    for read in ("requirements.lock", "tools/build-engine.sh", "tools/build-actionlint.sh"):
        assert read in cache["with"]["key"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: .*\bworkflow-lint\b", makefile, re.M)


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
    [report] = steps_using(job, "actions/github-script")
    assert report["if"] == "always()"  # a failed set-up opens the issue too
    script = report["with"]["script"]
    for call in ("issues.create", "issues.createComment", "state: 'closed'", "setFailed"):
        assert call in script
    # the backup bucket's credentials reach only the backup check
    for check in ("refresh", "drift"):
        assert "BACKUP_" not in yaml.safe_dump(steps[check])


def test_the_restore_drill_runs_per_stack_keeps_its_figures_and_manages_one_issue() -> None:
    doc = ALL["restore-drill.yml"]
    assert set(triggers(doc)) == {"schedule", "workflow_dispatch"}
    [job] = doc["jobs"].values()
    assert job["strategy"]["matrix"]["stack"] == ["staging", "prod"]
    # a token that can create and destroy an app: never a preview environment's
    assert job["environment"] == "${{ matrix.stack }}-drill"
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert job["concurrency"]["cancel-in-progress"] is False
    steps = {s.get("id"): s for s in job["steps"] if "id" in s}
    drill = steps["drill"]
    assert '.venv/bin/webhost-infra restore-drill --stack "$STACK"' in drill["run"]
    assert "--figures restore-drill.json" in drill["run"]
    assert drill["continue-on-error"] is True and "set -o pipefail" in drill["run"]
    assert drill["env"] == {"FLY_API_TOKEN": "${{ secrets.FLY_API_TOKEN }}"}
    [keep] = steps_using(job, "actions/upload-artifact")
    assert keep["if"] == "always()" and keep["with"]["path"] == "restore-drill.json"
    [report] = steps_using(job, "actions/github-script")
    assert report["if"] == "always()"
    script = report["with"]["script"]
    for call in ("issues.create", "issues.createComment", "state: 'closed'", "setFailed"):
        assert call in script
    assert "labels: ['restore-drill']" in script


def test_the_state_and_platform_tokens_only_come_from_environments() -> None:
    for name, doc in ALL.items():
        for job_name, job in doc["jobs"].items():
            if secrets_of(job):
                assert "environment" in job, f"{name}:{job_name}"


def test_workflow_files_are_the_ones_tested() -> None:
    assert {p.name for p in Path(WORKFLOWS).glob("*.yml")} == set(ALL)


@pytest.mark.parametrize(
    ("on_path", "expected"),
    [
        (None, "BUILD"),  # nothing on PATH: built
        ("v3.200.0", "BUILD"),  # GitHub's image ships its own: not the lock's, built
        ("lock", "tools: using"),  # the lock's own version: used as it is
    ],
)
def test_make_tools_takes_a_pulumi_on_path_only_at_the_locks_version(
    tmp_path: Path, on_path: str | None, expected: str
) -> None:
    lock = (ROOT / "requirements.lock").read_text()
    [version] = re.findall(r"^pulumi==(\S+) ", lock, re.M)
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    # the build script is the boundary here: a stand-in that says it ran
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "build-engine.sh").write_text("#!/bin/sh\necho BUILD\n")
    (tmp_path / "tools" / "build-engine.sh").chmod(0o755)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".installed").touch()  # newer than the lock: no install
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if on_path is not None:
        shown = f"v{version}" if on_path == "lock" else on_path
        (bin_dir / "pulumi").write_text(f"#!/bin/sh\necho {shown}\n")
        (bin_dir / "pulumi").chmod(0o755)
    done = subprocess.run(
        ["make", "--no-print-directory", "tools"],
        cwd=tmp_path,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert expected in done.stdout


def test_the_rollback_is_one_command_behind_the_production_approval_with_checked_inputs() -> None:
    doc = ALL["rollback.yml"]
    inputs = triggers(doc)["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["type"] == "choice" and inputs["stack"]["options"] == ["prod", "staging"]
    assert inputs["image"]["type"] == "string" and inputs["image"]["required"] is True
    [job] = doc["jobs"].values()
    # prod -> production (required reviewers, main only); anything else -> staging
    assert job["environment"] == "${{ inputs.stack == 'prod' && 'production' || 'staging' }}"
    assert job["permissions"] == {"contents": "read"}
    assert job["concurrency"] == {"group": "rollback-${{ inputs.stack }}",
                                  "cancel-in-progress": False}  # fmt: skip
    # No engine build, no test run: the released CLI at the pinned version.
    assert not steps_using(job, "actions/setup-go") and not steps_using(job, "actions/cache")
    [install] = steps_using(job, "pulumi/actions")
    assert install["with"] == {"pulumi-version": "${{ env.PULUMI_VERSION }}"}
    runs = run_steps(job)
    # An input reaches a script through env only, never `${{ }}` inside `run:`.
    for step in runs:
        assert "${{" not in step["run"], step["run"]
        assert "inputs." not in step["run"]
    [command] = [s for s in runs if "webhost-infra rollback" in s["run"]]
    assert command["env"]["ROLLBACK_IMAGE"] == "${{ inputs.image }}"
    assert job["env"]["STACK"] == "${{ inputs.stack }}"
    assert '--stack="$STACK" --image="$ROLLBACK_IMAGE"' in command["run"]
    assert set(command["env"]) >= ENGINE_ENV | MONITORING_ENV
    # the stack name never reaches make's command line (make would hand it to a shell)
    assert all("STACK" not in s["run"] for s in runs if "make " in s["run"])


def test_the_next_up_from_main_first_checks_for_a_rollback() -> None:
    for job_name, stack in (("apply-staging", "staging"), ("plan-prod", "prod")):
        [step] = pulumi_steps(JOBS[job_name])
        first = step["run"].splitlines()[0]
        assert first == f".venv/bin/webhost-infra rollback --stack {stack} --check", job_name
