"""e2e/workflows.py, the runner `make e2e` runs the workflows' jobs with: each job sees only
what it declares. Driven with small workflows of its own (bash is the boundary)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import workflows
from e2e.workflows import Runner, WorkflowError, evaluate

PUSH = {"event_name": "push", "repository": "o/r"}


def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any]) -> Runner:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "w.yml").write_text(yaml.safe_dump(doc))
    monkeypatch.setattr(workflows, "WORKFLOWS", folder)
    work = tmp_path / "work"
    work.mkdir()
    base = {
        "PATH": "/usr/bin:/bin",
        # what the harness's own environment may hold must not reach a job undeclared
        "FLY_API_TOKEN": "harness-token",
        "PULUMI_CONFIG_PASSPHRASE": "harness-passphrase",
        "FAKE_FLY_STATE": "/tmp/state.json",
    }
    return Runner(
        work, base, {"FLY_API_TOKEN": "fake-token"}, {"URL": "file:///x"}, "v3.274.1", tmp_path
    )


def job(*steps: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "env": {"TOP": "${{ vars.URL }}"},
        "jobs": {"j": {"env": env or {}, "steps": list(steps)}},
    }


def test_a_step_sees_what_its_workflow_job_and_step_declare_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = "TOP JOB FLY_API_TOKEN OTHER PULUMI_CONFIG_PASSPHRASE FAKE_FLY_STATE"
    show = f'for n in {names}; do echo "$n=${{!n-absent}}"; done'
    doc = job(
        {"name": "bare", "run": show},
        {
            "name": "declared",
            "env": {
                "FLY_API_TOKEN": "${{ secrets.FLY_API_TOKEN }}",
                "OTHER": "${{ secrets.OTHER }}",
            },
            "run": show,
        },
        env={"JOB": "${{ matrix.stack }}"},
    )
    result = runner(tmp_path, monkeypatch, doc).run(
        "w.yml", "j", matrix={"stack": "prod"}, github=PUSH
    )
    assert result.output["bare"].split() == [
        "TOP=file:///x", "JOB=prod", "FLY_API_TOKEN=absent", "OTHER=absent",
        "PULUMI_CONFIG_PASSPHRASE=absent", "FAKE_FLY_STATE=/tmp/state.json",
    ]  # fmt: skip
    lines = result.output["declared"].split()
    assert "FLY_API_TOKEN=fake-token" in lines
    assert "OTHER=e2e-throwaway-other" in lines  # any other secret: a throwaway of its own


def test_a_dropped_declaration_is_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = job({"name": "s", "env": {"T": "${{ secrets.FLY_API_TOKEN }}"}, "run": 'test -n "${T-}"'})
    run = runner(tmp_path, monkeypatch, doc)
    assert not run.run("w.yml", "j", github=PUSH).failed
    assert run.run("w.yml", "j", github=PUSH, drop=["T"]).failed


def test_failures_continue_on_error_and_always_behave_as_on_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = job(
        {"name": "tolerated", "id": "t", "continue-on-error": True, "run": "false"},
        {"name": "pipefail", "run": "false | true"},
        {"name": "after", "run": "echo never"},
        {
            "name": "always",
            "if": "always()",
            "env": {"O": "${{ steps.t.outcome }}"},
            "run": 'echo "$O"',
        },
    )
    result = runner(tmp_path, monkeypatch, doc).run("w.yml", "j", github=PUSH)
    assert result.failed
    assert result.outcomes == {
        "tolerated": "failure", "pipefail": "failure", "after": "skipped", "always": "success",
    }  # fmt: skip
    assert result.output["always"].strip() == "failure"


def test_github_env_and_the_step_summary_are_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = job(
        {
            "name": "a",
            "run": 'echo "status=3" >> "$GITHUB_ENV"; echo "# hi" >> "$GITHUB_STEP_SUMMARY"',
        },
        {"name": "b", "run": 'echo "$status"'},
    )
    result = runner(tmp_path, monkeypatch, doc).run("w.yml", "j", github=PUSH)
    assert result.output["b"].strip() == "3"
    assert result.summary == "# hi\n"


def test_artifacts_go_from_one_job_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = {"uses": "actions/upload-artifact@" + "0" * 40, "with": {"name": "p", "path": "out/"}}
    down = {"uses": "actions/download-artifact@" + "0" * 40, "with": {"name": "p", "path": "in"}}
    doc = {
        "jobs": {
            "make": {"steps": [{"run": "mkdir out && echo plan > out/f"}, up]},
            "use": {"steps": [{"run": "rm -rf out"}, down, {"name": "cat", "run": "cat in/f"}]},
        }
    }
    run = runner(tmp_path, monkeypatch, doc)
    run.run("w.yml", "make", github=PUSH)
    assert run.run("w.yml", "use", github=PUSH).output["cat"] == "plan\n"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"uses": "someone/else@" + "0" * 40}, "not modelled"),
        ({"if": "success() && github.ref == 'x'", "run": "true"}, "unsupported if"),
        ({"run": "echo ${{ github.event.pull_request.number }}"}, "not modelled"),
        ({"run": "echo ${{ toJSON(github) }}"}, "unsupported expression"),
        ({"uses": "pulumi/actions@" + "0" * 40, "with": {"pulumi-version": "3.200.0"}}, "e2e runs"),
        (
            {
                "uses": "pulumi/actions@" + "0" * 40,
                "with": {"pulumi-version": "3.274.1", "command": "up"},
            },
            "more than install",
        ),
    ],
)
def test_what_the_runner_does_not_model_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: dict[str, Any], message: str
) -> None:
    with pytest.raises(WorkflowError, match=message):
        runner(tmp_path, monkeypatch, job(step)).run("w.yml", "j", github=PUSH)


def test_unset_secrets_and_variables_are_empty_as_on_github() -> None:
    context = {"secrets": {}, "vars": {"A": "1"}, "env": {}}
    assert evaluate("${{ secrets.NOPE }}|${{ vars.A }}|${{vars.B}}", context) == "|1|"
    with pytest.raises(WorkflowError, match="unknown context"):
        evaluate("${{ inputs.x }}", context)
