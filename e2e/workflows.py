"""The GitHub workflows' own commands, run by `make e2e` in each job's environment.

A job runs as a GitHub runner would run it, against the fakes: its `run:` steps in
order, each under `bash --noprofile --norc -eo pipefail` (GitHub's default shell on
Linux, docs "Workflow syntax": jobs.<job_id>.steps[*].shell), with an environment of
the harness's own (PATH with the engine and the fake `fly`, the fakes' addresses,
PULUMI_HOME: what the set-up actions and the machine provide, never a credential)
plus only what the workflow, the job and the step declare in `env:`. `${{ secrets.X }}`
and `${{ vars.X }}` take the e2e's throwaway values (the fakes' tokens, the e2e
passphrase and file backend); a secret or variable the job does not declare is simply
absent, so a command that needs one fails the e2e. `$GITHUB_ENV`, `$GITHUB_OUTPUT` and
`$GITHUB_STEP_SUMMARY` are files, as on GitHub; `continue-on-error` and `if: always()`
behave as GitHub documents; any other `if:` or an action this module does not model is
refused, so a new step cannot pass unseen.

The actions: checkout, setup-python, setup-flyctl and pulumi/actions (install only)
are the harness's set-up (the copy, the venv, the fake `fly`, the engine on PATH; the
Pulumi version they ask for must be the engine's); upload/download-artifact copy a
folder; github-script (GitHub's API) is not run here (tests/test_workflows.py runs the
comment script against a fake API).

`phase_workflows` (wired into e2e/run.py) runs, per stack: the `diff` job; staging's
`preview-staging` (its `webhost-infra preflight` must say ready, as plan-prod's and
apply-prod's must); prod's `plan-prod`, then `apply-prod` of a plan made stale (refused
with no write to any fake), then of the fresh plan; plan-prod with its passphrase
taken away (must fail); and the nightly `drift` job; for prod, restore-drill.yml's
drill (the scratch cluster made, smoke-tested and destroyed, nothing else touched).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from e2e.harness import (
    CLOUDFLARE_TOKEN,
    GRAFANA_TOKENS,
    PAGER,
    PASSPHRASE,
    Failure,
    Stack,
    expect,
    is_api_write,
    is_fly_write,
)
from tests.fakes.fly_api import TOKEN

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
REFERENCE = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")
# The harness's environment carries none of these: they come from a job's declarations.
DECLARED_ONLY = re.compile(
    r"PULUMI_BACKEND_URL|PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN|PULUMI_SKIP_CONFIRMATIONS"
    r"|FLY_API_TOKEN"
    r"|FLY_METRICS_TOKEN|WEBHOST_PAGER_URL|CLOUDFLARE_(?!BASE_URL$).*|GRAFANA_.*|AWS_.*|BUCKET_NAME|STACK"
)  # CLOUDFLARE_BASE_URL is an address (the fake's), not a credential
# Actions that set the machine up: here the harness already has (see the docstring).
SETUP_ACTIONS = (
    "actions/checkout@",
    "actions/setup-python@",
    "superfly/flyctl-actions/setup-flyctl@",
)
NEW_IMAGES = ("registry.fly.io/webhost:1.0.2", "registry.fly.io/webhost:1.0.3")


class WorkflowError(Exception):
    """The workflow asks for something this runner does not model, or a job failed."""


def load(workflow: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return doc


def evaluate(text: str, context: Mapping[str, Any]) -> str:
    """`${{ a.b.c }}` references replaced from `context`; anything else is refused.

    As on GitHub, an unset secret or variable is the empty string; any other unknown
    reference is an error (the harness would be guessing at GitHub's context)."""

    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        if not REFERENCE.fullmatch(expression):
            raise WorkflowError(f"unsupported expression ${{{{ {expression} }}}}")
        head, *rest = expression.split(".")
        if head not in context:
            raise WorkflowError(f"unknown context {head!r} in ${{{{ {expression} }}}}")
        value: Any = context[head]
        for part in rest:
            if head in ("secrets", "vars") and isinstance(value, Mapping):
                value = value.get(part, "")
            elif isinstance(value, Mapping) and part in value:
                value = value[part]
            else:
                raise WorkflowError(f"${{{{ {expression} }}}}: {part!r} is not modelled")
        if isinstance(value, Mapping | list):
            raise WorkflowError(f"${{{{ {expression} }}}} is not a value")
        return "" if value is None else str(value)

    return EXPRESSION.sub(one, text)


@dataclass
class JobResult:
    outcomes: dict[str, str] = field(default_factory=dict)  # step name -> success/failure
    output: dict[str, str] = field(default_factory=dict)  # step name -> stdout + stderr
    summary: str = ""
    failed: bool = False

    def tail(self, lines: int = 40) -> str:
        text = "\n".join(f"--- {name}\n{out}" for name, out in self.output.items())
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Runner:
    """Runs jobs of the workflows in `work` (the project copy) against the fakes."""

    work: Path
    base_env: Mapping[str, str]  # the machine's: PATH, HOME, the fakes' addresses
    secrets: Mapping[str, str]  # throwaway values; any other secret gets its own
    variables: Mapping[str, str]
    engine_version: str  # what `pulumi version` prints, e.g. v3.274.1
    artifacts: Path

    def secret_values(self, names: Iterable[str]) -> dict[str, str]:
        return {n: self.secrets.get(n, f"e2e-throwaway-{n.lower()}") for n in names}

    def run(
        self,
        workflow: str,
        job_name: str,
        *,
        matrix: Mapping[str, str] | None = None,
        github: Mapping[str, Any],
        drop: Iterable[str] = (),
        inputs: Mapping[str, str] | None = None,
    ) -> JobResult:
        """Runs the job's steps; `drop` removes declared names (to prove they are needed);
        `inputs`: a workflow_dispatch's inputs (the `inputs` context, docs "Contexts")."""
        doc = load(workflow)
        job: dict[str, Any] = doc["jobs"][job_name]
        dropped = set(drop)
        text = yaml.safe_dump(job) + yaml.safe_dump(doc.get("env", {}))
        context: dict[str, Any] = {
            "github": github,
            "matrix": dict(matrix or {}),
            "inputs": dict(inputs or {}),
            "secrets": self.secret_values(re.findall(r"secrets\.(\w+)", text)),
            "vars": dict(self.variables),
            "runner": {"os": "Linux", "temp": str(self.artifacts / "runner-temp")},
            "env": {},
            "steps": {},
        }
        (self.artifacts / "runner-temp").mkdir(parents=True, exist_ok=True)

        def declared(block: Mapping[str, Any] | None) -> dict[str, str]:
            values = {k: evaluate(str(v), context) for k, v in (block or {}).items()}
            return {k: v for k, v in values.items() if k not in dropped}

        context["env"] = declared(doc.get("env"))
        context["env"] |= declared(job.get("env"))
        files = tempfile.mkdtemp(prefix="job-", dir=self.artifacts)
        summary = Path(files) / "summary.md"
        github_env = Path(files) / "env"
        result = JobResult()
        for index, step in enumerate(job["steps"]):
            name = str(step.get("name") or step.get("id") or step.get("uses") or f"step {index}")
            condition = step.get("if")
            if condition not in (None, "always()"):
                raise WorkflowError(f"{job_name}: step {name}: unsupported if: {condition}")
            if result.failed and condition is None:
                result.outcomes[name] = "skipped"
                continue
            if "uses" in step:
                self._action(job_name, step, context)
                outcome, output = "success", ""
            else:
                env = {k: v for k, v in self.base_env.items() if not DECLARED_ONLY.fullmatch(k)}
                env |= context["env"]
                env |= _env_file(github_env)
                env |= declared(step.get("env"))
                env |= {
                    "CI": "true",
                    "GITHUB_ACTIONS": "true",
                    "GITHUB_WORKSPACE": str(self.work),
                    "GITHUB_ENV": str(github_env),
                    "GITHUB_OUTPUT": str(Path(files) / "output"),
                    "GITHUB_STEP_SUMMARY": str(summary),
                    "RUNNER_TEMP": context["runner"]["temp"],
                }
                script = Path(files) / f"step-{index}.sh"
                script.write_text(evaluate(str(step["run"]), context))
                done = subprocess.run(
                    ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                    cwd=self.work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    check=False,
                )
                outcome = "success" if done.returncode == 0 else "failure"
                output = done.stdout + done.stderr
            result.outcomes[name] = outcome
            result.output[name] = output
            if "id" in step:
                context["steps"][step["id"]] = {"outcome": outcome}
            if outcome == "failure" and step.get("continue-on-error") is not True:
                result.failed = True
        result.summary = summary.read_text() if summary.exists() else ""
        return result

    def _action(self, job_name: str, step: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        uses = str(step["uses"])
        inputs = {k: evaluate(str(v), context) for k, v in (step.get("with") or {}).items()}
        if uses.startswith(SETUP_ACTIONS):
            return
        if uses.startswith("pulumi/actions@"):
            # Install only: the workflow's own commands run the engine on PATH.
            if set(inputs) != {"pulumi-version"}:
                raise WorkflowError(f"{job_name}: pulumi/actions does more than install")
            wanted = f"v{inputs['pulumi-version']}"
            if wanted != self.engine_version:
                raise WorkflowError(
                    f"{job_name}: asks for pulumi {wanted}, e2e runs {self.engine_version}"
                )
            return
        if uses.startswith("actions/upload-artifact@"):
            target = self.artifacts / "store" / inputs["name"]
            shutil.rmtree(target, ignore_errors=True)
            source = self.work / inputs["path"]
            if not source.exists():
                raise WorkflowError(f"{job_name}: upload-artifact: {inputs['path']} is missing")
            if source.is_file():  # a single file is uploaded under its own name
                target.mkdir(parents=True)
                shutil.copy2(source, target / source.name)
                return
            shutil.copytree(source, target)
            return
        if uses.startswith("actions/download-artifact@"):
            source = self.artifacts / "store" / inputs["name"]
            if not source.exists():
                raise WorkflowError(f"{job_name}: download-artifact: no {inputs['name']}")
            shutil.copytree(source, self.work / inputs["path"], dirs_exist_ok=True)
            return
        if uses.startswith("actions/github-script@"):
            return  # GitHub's API: not here (see the docstring)
        raise WorkflowError(f"{job_name}: the action {uses} is not modelled by e2e/workflows.py")


def _env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines a step appended to $GITHUB_ENV (the one-line form)."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


# -- the phase --------------------------------------------------------------------------
def _runner(s: Stack, artifacts: Path) -> Runner:
    secrets = {
        "FLY_API_TOKEN": TOKEN,
        "CLOUDFLARE_API_TOKEN": CLOUDFLARE_TOKEN,
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        **GRAFANA_TOKENS,
        "WEBHOST_PAGER_URL": PAGER,
    }
    variables = {
        "PULUMI_BACKEND_URL": s.env["PULUMI_BACKEND_URL"],
        "AWS_REGION": "auto",
        # Nothing listens there: a command that reached for S3 fails at once, offline.
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
        "BACKUP_AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9",
        "BACKUP_BUCKET_NAME": "webhost-e2e-backups",
    }
    version = subprocess.run(
        ["pulumi", "version"], env=s.env, capture_output=True, text=True, check=True
    ).stdout.strip()
    # The CLI reads the project it is installed from (cli/main.py PROJECT_DIR): on a runner
    # the checkout; here the copy, which PYTHONPATH puts ahead of the editable install.
    machine = dict(s.env) | {"PYTHONPATH": str(s.work)}
    return Runner(s.work, machine, secrets, variables, version, artifacts)


def _git_base(s: Stack) -> str:
    """The copy as a git repository with one commit: the PR's base for `diff --base`."""
    env = dict(s.env) | {
        "GIT_AUTHOR_NAME": "e2e",
        "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
        "GIT_COMMITTER_NAME": "e2e",
        "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
    }
    subprocess.run(["git", "init", "-q"], cwd=s.work, env=env, check=True, capture_output=True)
    # The copy's .venv is a symlink to the project's (a checkout's is a folder, ignored).
    (s.work / ".git" / "info" / "exclude").write_text(".venv\n")
    for argv in (["add", "-A"], ["commit", "-qm", "base", "--allow-empty"]):
        subprocess.run(["git", *argv], cwd=s.work, env=env, check=True, capture_output=True)
    head = subprocess.check_output(["git", "rev-parse", "HEAD"], cwd=s.work, env=env, text=True)
    return head.strip()


def _writes(s: Stack) -> tuple[int, int, int, int]:
    return (
        sum(1 for argv in s.fly_calls() if is_fly_write(argv)),
        sum(1 for r in s.api.state.requests if is_api_write(r.method, r.body)),
        sum(1 for c in s.cloudflare_calls() if c.get("wrote")),
        sum(1 for c in s.cloudflare_calls("FAKE_GRAFANA_LOG") if c.get("wrote")),
    )


def phase_workflows(s: Stack) -> None:
    with tempfile.TemporaryDirectory(prefix="workflows-", dir=s.env["TMPDIR"]) as raw:
        runner = _runner(s, Path(raw))

        def job(workflow: str, name: str, ok: bool = True, **kwargs: Any) -> JobResult:
            try:
                result = runner.run(workflow, name, **kwargs)
            except WorkflowError as error:
                raise Failure(f"{workflow} {name}: {error}") from None
            if ok and result.failed:
                raise Failure(f"{workflow} {name} failed: {result.outcomes}", result.tail())
            return result

        base = _git_base(s)
        pull_request = {
            "event_name": "pull_request",
            "repository": "webhost/webhost-infra",
            "event": {"pull_request": {"number": 18, "base": {"sha": base}, "head": {"sha": base}}},
        }
        push = {"event_name": "push", "repository": "webhost/webhost-infra", "sha": base}

        diff = job("infrastructure.yml", "diff", matrix={"stack": s.name}, github=pull_request)
        markdown = (Path(raw) / "store" / f"infra-diff-{s.name}" / f"diff-{s.name}.md").read_text()
        expect(
            markdown.startswith(f"<!-- webhost-infra diff: {s.name} -->"),
            "the diff job's markdown does not start with its marker",
            markdown[:400],
        )
        expect(markdown in diff.summary, "the diff is not in the job summary")

        if s.name == "staging":
            ready(job("infrastructure.yml", "preview-staging", github=pull_request), s)
        else:
            _plan_then_apply(s, job, push)

        drift = job("drift.yml", "drift", matrix={"stack": s.name}, github=push)
        for check in ("pulumi refresh", "webhost-infra drift"):
            expect(
                drift.outcomes.get(check) == "success",
                f"drift.yml's {check} did not pass: {drift.outcomes}",
                drift.tail(),
            )

        if s.name == "prod":
            _restore_drill(s, job, push)


def _restore_drill(s: Stack, job: Any, push: Mapping[str, Any]) -> None:
    """restore-drill.yml's drill against the fake: the active cluster restored into a
    scratch cluster, smoke-tested, measured, and only the scratch destroyed."""
    before = set(s.fly()["apps"])
    drill = job("restore-drill.yml", "drill", matrix={"stack": s.name}, github=push)
    expect(
        drill.outcomes.get("webhost-infra restore-drill") == "success",
        f"restore-drill.yml's drill did not pass: {drill.outcomes}",
        drill.tail(),
    )
    figures = json.loads((s.work / "restore-drill.json").read_text())
    expect(figures["passed"] and figures["recovery_point_seconds"] is not None,
               f"the drill's figures: {figures}")  # fmt: skip
    expect("Restore drill: stack prod (passed)" in drill.summary, "no figures in the summary")
    destroyed = [a[2] for a in s.fly_calls() if a[:2] == ["apps", "destroy"]]
    expect(destroyed == [figures["scratch"]], f"the drill destroyed {destroyed}")
    expect(set(s.fly()["apps"]) == before, "the drill left or took an app")


def ready(result: JobResult, s: Stack) -> None:
    """The job's `webhost-infra preflight` step passed against the fakes (every app and
    record it found is the stack's own, by its state export)."""
    said = result.output.get("webhost-infra preflight", "")
    expect(
        f"preflight {s.name}: ready" in said and "problem:" not in said,
        "the workflow's preflight did not pass",
        said[-2000:],
    )


def _plan_then_apply(s: Stack, job: Any, push: Mapping[str, Any]) -> None:
    planned, moved = NEW_IMAGES
    s.config_set("webhost:image", planned)  # the merged commit: a new image

    # A job without a name it declares fails: the harness lends it nothing. Without the
    # passphrase the engine cannot decrypt; without FLY_METRICS_TOKEN the program
    # refuses prod (it declares monitoring) before registering anything.
    for name in ("PULUMI_CONFIG_PASSPHRASE", "FLY_METRICS_TOKEN"):
        bare = job("infrastructure.yml", "plan-prod", ok=False, github=push, drop=[name])
        expect(bare.failed, f"plan-prod passed without {name}, which it declares", bare.tail())

    plan = job("infrastructure.yml", "plan-prod", github=push)
    ready(plan, s)
    expect("The prod plan" in plan.summary and planned in plan.summary,
               "plan-prod's summary does not show the plan", plan.summary[-800:])  # fmt: skip

    # Stale: the stack is not what was planned (here its config moved on).
    s.config_set("webhost:image", moved)
    before = _writes(s)
    stale = job("infrastructure.yml", "apply-prod", ok=False, github=push)
    after = _writes(s)
    expect(stale.failed, "apply-prod applied a stale plan", stale.tail())
    # pulumi pkg/resource/deploy/step_generator.go: "resource URN violates plan" while the
    # steps are generated, which `up` does in its preview, before executing any.
    refusal = stale.output.get("pulumi up --plan", "")
    expect("violates plan" in refusal, "apply-prod failed, but not on the plan", stale.tail())
    [said] = [line for line in refusal.splitlines() if "violates plan" in line][:1]
    print(f"  {s.name:8} workflows: a stale plan refused, no write: {said.strip()[:160]}")
    expect(
        before == after,
        f"the stale plan was refused after writes (fly, api, cf, grafana): {before} -> {after}",
        stale.tail(),
    )
    exported = json.loads(s.pulumi("stack", "export").stdout)
    expect(
        not exported["deployment"].get("pending_operations"),
        "the refused apply left pending operations in the state",
    )

    s.config_set("webhost:image", planned)
    ready(job("infrastructure.yml", "apply-prod", github=push), s)
    images = [d.get("image") for d in s.fly()["deploys"]]
    expect(images[-1:] == [planned], f"apply-prod's last deploy was {images[-1:]}")
