"""pr-comment.yml's script, run by node as actions/github-script runs it (the script as the
body of an async function of require, github, context and core: actions/github-script
src/async-function.ts), against a fake of the GitHub REST calls it makes. The artifact is
written by the pull request's code: whatever it claims, only the PR GitHub vouches for is
commented on, and only our bot's comment is edited."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed (GitHub's runners have it)"
)

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "pr-comment.yml").read_text())
[STEP] = [
    s
    for s in WORKFLOW["jobs"]["comment"]["steps"]
    if s.get("uses", "").startswith("actions/github-script@")
]
SCRIPT = STEP["with"]["script"]
SHA = "a" * 40
MARKER = "<!-- webhost-infra diff: prod -->"
BOT = {"login": "github-actions[bot]", "type": "Bot"}

HARNESS = """
const scenario = JSON.parse(process.env.SCENARIO);
const calls = [];
const record = (name, result) => async (params) => { calls.push([name, params]); return result; };
const github = {
  paginate: async (fn, params) => fn(params),
  rest: {
    pulls: { list: record('pulls.list', scenario.pulls) },
    issues: {
      listComments: record('issues.listComments', scenario.comments),
      updateComment: record('issues.updateComment', {}),
      createComment: record('issues.createComment', {}),
    },
  },
};
const core = { failed: null, notices: [],
  setFailed(m) { this.failed = m; }, notice(m) { this.notices.push(m); } };
const context = { repo: { owner: 'webhost', repo: 'webhost-infra' } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const run = new AsyncFunction('require', 'github', 'context', 'core', process.env.SCRIPT);
run(require, github, context, core).then(() => {
  console.log(JSON.stringify({ calls, failed: core.failed, notices: core.notices }));
});
"""


def pull(number: int = 5, sha: str = SHA, repo: str = "fork/webhost-infra") -> dict[str, Any]:
    return {"number": number, "head": {"sha": sha, "repo": {"full_name": repo}}}


def post(
    tmp_path: Path,
    *,
    pulls: list[dict[str, Any]],
    comments: list[dict[str, Any]] | None = None,
    artifact: dict[str, str] | None = None,
    downloaded: str = "success",
) -> dict[str, Any]:
    folder = tmp_path / "diff"
    folder.mkdir(parents=True)
    files = {
        "pr-number": "5\n",
        "head-sha": f"{SHA}\n",
        "diff-prod.md": f"{MARKER}\n**prod**: 1 change\n",
    }
    for name, text in (files if artifact is None else artifact).items():
        (folder / name).write_text(text)
    env = {
        "PATH": "/usr/bin:/bin",
        "SCRIPT": SCRIPT,
        "SCENARIO": json.dumps({"pulls": pulls, "comments": comments or []}),
        "STACK": "prod",
        "DIR": str(folder),
        "DOWNLOADED": downloaded,
        "HEAD_SHA": SHA,
        "HEAD_BRANCH": "feature",
        "HEAD_REPO": "fork/webhost-infra",
        "HEAD_OWNER": "fork",
        "RUN_URL": "https://github.com/webhost/webhost-infra/actions/runs/1",
    }
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", HARNESS], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def writes(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (n, p) for n, p in result["calls"] if n in ("issues.updateComment", "issues.createComment")
    ]


def test_the_pull_request_is_the_one_whose_head_github_reports(tmp_path: Path) -> None:
    result = post(tmp_path, pulls=[pull(3, sha="b" * 40), pull(5)])
    [(name, params)] = writes(result)
    assert name == "issues.createComment" and params["issue_number"] == 5
    assert params["body"] == f"{MARKER}\n**prod**: 1 change\n"
    [listed] = [p for n, p in result["calls"] if n == "pulls.list"]
    assert listed["head"] == "fork:feature" and listed["state"] == "open"


@pytest.mark.parametrize(
    ("artifact", "why"),
    [
        ({"pr-number": "7\n", "head-sha": f"{SHA}\n", "diff-prod.md": "x"}, "another PR"),
        ({"pr-number": "5\n", "head-sha": "c" * 40 + "\n", "diff-prod.md": "x"}, "another commit"),
        ({"diff-prod.md": "x"}, "no claims at all"),
    ],
)
def test_an_artifact_that_disagrees_with_github_is_rejected(
    tmp_path: Path, artifact: dict[str, str], why: str
) -> None:
    result = post(tmp_path, pulls=[pull(5)], artifact=artifact)
    assert writes(result) == [], why
    assert "rejected" in result["failed"]


@pytest.mark.parametrize(
    "pulls",
    [
        [],
        [pull(5, sha="b" * 40)],  # pushed again since: this run's diff is not its head's
        [pull(5, repo="other/webhost-infra")],  # same owner:branch name, another repository
        [pull(5), pull(6)],  # not a single one
    ],
)
def test_no_single_vouched_pull_request_means_nothing_is_posted(
    tmp_path: Path, pulls: list[dict[str, Any]]
) -> None:
    result = post(tmp_path, pulls=pulls)
    assert writes(result) == []
    assert result["notices"]


def test_only_our_bots_comment_is_edited(tmp_path: Path) -> None:
    someone = {"id": 1, "user": {"login": "mallory", "type": "User"}, "body": f"{MARKER}\nfake"}
    app = {"id": 2, "user": {"login": "evil[bot]", "type": "Bot"}, "body": f"{MARKER}\nfake"}
    ours = {"id": 3, "user": BOT, "body": f"{MARKER}\nold"}
    [(name, params)] = writes(post(tmp_path / "a", pulls=[pull()], comments=[someone, app, ours]))
    assert (name, params["comment_id"]) == ("issues.updateComment", 3)
    [(name, params)] = writes(post(tmp_path / "b", pulls=[pull()], comments=[someone, app]))
    assert name == "issues.createComment"


def test_an_artifact_cannot_choose_the_marker(tmp_path: Path) -> None:
    artifact = {
        "pr-number": "5",
        "head-sha": SHA,
        "diff-prod.md": "<!-- webhost-infra diff: staging -->\nx",
    }
    [(_, params)] = writes(post(tmp_path, pulls=[pull()], artifact=artifact))
    assert params["body"].startswith(f"{MARKER}\n")


def test_a_body_over_githubs_limit_is_cut_with_a_note(tmp_path: Path) -> None:
    artifact = {"pr-number": "5", "head-sha": SHA, "diff-prod.md": MARKER + "\n" + "x" * 70000}
    [(_, params)] = writes(post(tmp_path, pulls=[pull()], artifact=artifact))
    assert len(params["body"]) <= 65536
    assert "**Cut**" in params["body"] and params["body"].startswith(MARKER)


def test_a_run_without_a_diff_marks_the_comment_stale(tmp_path: Path) -> None:
    ours = {"id": 3, "user": BOT, "body": f"{MARKER}\n**prod**: 1 change"}
    result = post(
        tmp_path / "a", pulls=[pull()], comments=[ours], artifact={}, downloaded="failure"
    )
    [(name, params)] = writes(result)
    assert name == "issues.updateComment" and params["comment_id"] == 3
    assert params["body"].startswith(MARKER) and "**Stale**" in params["body"]
    assert "**prod**: 1 change" in params["body"]
    assert result["failed"]
    # none there: nothing to mark
    assert writes(post(tmp_path / "b", pulls=[pull()], artifact={}, downloaded="failure")) == []
