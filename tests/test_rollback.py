"""`webhost-infra rollback`: bad input, the deploy history rule, the plan check, --check.

The boundary is the `pulumi` binary: a fake on PATH answers `stack history --json`
(the shape of pulumi pkg/cmd/pulumi/stack/stack_history.go updateInfoJSON),
`stack export`, `config set`, `preview --json` and `up` from a scenario file, and logs
every argv. The real engine runs the same command in `make e2e` (e2e/rollback.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli import main, rollback
from tests.conftest import ROOT

REPO = "registry.fly.io/webhost"


def ref(release: str) -> str:
    return f"{REPO}@sha256:{hashlib.sha256(release.encode()).hexdigest()}"


GOOD, BAD, OTHER = ref("good"), ref("bad"), ref("other")
DEPLOY_URN = (
    "urn:pulumi:prod::webhost::webhost:Platform$webhost:fly:App$command:local:Command"
    "::webhost-deploy"
)
MACHINES_URN = (
    "urn:pulumi:prod::webhost::webhost:Platform$webhost:fly:App"
    "$pulumi-python:dynamic:Resource::webhost-machines"
)

FAKE_PULUMI = """\
import json, os, sys
scenario = json.load(open(os.environ["FAKE_PULUMI_SCENARIO"]))
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
def answer(key, default=""):
    found = scenario.get(key, default)
    if isinstance(found, dict) and "exit" in found:
        sys.stderr.write(found.get("stderr", ""))
        sys.exit(found["exit"])
    sys.stdout.write(found if isinstance(found, str) else json.dumps(found))
    sys.exit(0)
if args[:2] == ["stack", "history"]:
    page = int(args[args.index("--page") + 1])
    pages = scenario["history"]
    if isinstance(pages, dict):
        answer("history")
    answer("_", pages[page - 1] if page <= len(pages) else [])
if args[:2] == ["stack", "export"]:
    answer("export")
if args[:2] == ["config", "set"]:
    answer("config_set", "")
if args[:1] == ["preview"]:
    answer("preview")
if args[:1] == ["up"]:
    answer("up", "Updating (prod)\\n")
sys.exit(99)
"""


def update(image: str | None, message: str = "", result: str = "succeeded",
           kind: str = "update") -> dict[str, Any]:  # fmt: skip
    config: dict[str, Any] = {"webhost:stripeSecretKey": {"secret": True}}
    if image is not None:
        config["webhost:image"] = {"value": image, "secret": False}
    return {"version": 0, "kind": kind, "startTime": "2026-12-06T06:30:24.000Z",
            "message": message, "environment": {}, "config": config,
            "result": result}  # fmt: skip


def exported(image: str) -> dict[str, Any]:
    deploy = {"urn": DEPLOY_URN, "custom": True, "type": "command:local:Command",
              "inputs": {"create": "...", "environment": {"WEBHOST_IMAGE": image}}}  # fmt: skip
    return {"version": 3, "deployment": {"resources": [deploy]}}


def deploy_step(old: str, new: str, **extra_env: str) -> dict[str, Any]:
    def state(image: str, env: dict[str, str]) -> dict[str, Any]:
        environment = {"WEBHOST_IMAGE": image, "WEBHOST_FLY_TOML": "app = 'x'", **env}
        return {"urn": DEPLOY_URN, "custom": True,
                "inputs": {"create": "...", "environment": environment}}  # fmt: skip

    return {"op": "update", "urn": DEPLOY_URN, "oldState": state(old, {}),
            "newState": state(new, extra_env)}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project's files a rollback reads, with prod's image set to BAD."""
    root = tmp_path / "project"
    (root / "policies" / "config").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(ROOT / "policies" / "config" / "prod.json", root / "policies" / "config")
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    text = text.replace("webhost:image: registry.fly.io/webhost:1.0.0", f"webhost:image: {BAD}")
    assert BAD in text
    (root / "Pulumi.prod.yaml").write_text(text)
    return root


class FakePulumi:
    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        script = bin_dir / "pulumi"
        script.write_text(f"#!{sys.executable}\n{FAKE_PULUMI}")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        self.scenario = tmp_path / "scenario.json"
        self.log = tmp_path / "pulumi.log"
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_PULUMI_SCENARIO", str(self.scenario))
        monkeypatch.setenv("FAKE_PULUMI_LOG", str(self.log))
        self.set()

    def set(self, **scenario: Any) -> None:
        scenario.setdefault("history", [[update(GOOD), update(BAD)][::-1]])
        scenario.setdefault("export", exported(BAD))
        scenario.setdefault("preview", {"steps": [deploy_step(BAD, GOOD)]})
        self.scenario.write_text(json.dumps(scenario))

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def verbs(self) -> list[str]:
        return [" ".join(a[:2]) if a[0] in ("stack", "config") else a[0] for a in self.calls()]


@pytest.fixture
def pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    return FakePulumi(tmp_path, monkeypatch)


@dataclass
class Rollback:
    """`webhost-infra rollback` on the project copy, with the fake on PATH."""

    project: Path
    pulumi: FakePulumi
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> int:
        return main.main(["rollback", *argv])

    def out(self) -> str:
        return self.capsys.readouterr().out

    def err(self) -> str:
        return self.capsys.readouterr().err


def in_process(argv: list[str], cwd: Path, capture: bool) -> subprocess.CompletedProcess[str]:
    """The fake on PATH, run in this process: the same script, its exit status and its
    output, as rollback.spawn returns them (the binary itself costs a Python start)."""
    assert shutil.which(argv[0]) is not None and cwd.is_dir()
    out, err, code, saved = io.StringIO(), io.StringIO(), 0, sys.argv
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(FAKE_PULUMI, "fake-pulumi", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
    if not capture:  # the process would have written to the terminal
        print(out.getvalue(), end="")
        print(err.getvalue(), end="", file=sys.stderr)
        return subprocess.CompletedProcess(argv, code)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


@pytest.fixture
def binary(
    project: Path,
    pulumi: FakePulumi,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Rollback:
    """The command with the fake as a process on PATH."""
    monkeypatch.setattr(main, "PROJECT_DIR", project)
    return Rollback(project, pulumi, capsys)


@pytest.fixture
def cli(binary: Rollback, monkeypatch: pytest.MonkeyPatch) -> Rollback:
    """The command with the same fake answering in this process."""
    monkeypatch.setattr(rollback, "spawn", in_process)
    return binary


@pytest.mark.parametrize(
    "image",
    [
        "registry.fly.io/webhost:1.0.0",  # a tag: what it named then is not what it names now
        f"{REPO}@sha256:{'a' * 63}",  # short
        f"{REPO}@sha256:{'A' * 64}",  # not lowercase hex
        f"{REPO}@sha512:{'a' * 128}",
        f"{REPO}@sha256:{'a' * 64}\n::error::injected",
        f"{GOOD}; touch /tmp/x",
        f"$(touch /tmp/x){GOOD}",
        f"{'a' * 385}@sha256:{'a' * 64}",  # past distribution/reference's name bound
        "",
        "-h",
    ],
)
def test_a_bad_digest_exits_2_with_one_line_before_any_pulumi_call(
    image: str, cli: Rollback
) -> None:
    assert cli("--stack", "prod", f"--image={image}") == 2
    err = cli.err()
    assert err.startswith("error: bad digest: --image ") and err.count("\n") == 1
    assert cli.pulumi.calls() == []


@pytest.mark.parametrize("stack", ["qa", "../prod", "Prod", "", "prod/..", "-x"])
def test_an_unknown_stack_exits_2_before_any_pulumi_call(stack: str, cli: Rollback) -> None:
    for mode in ([f"--image={GOOD}"], ["--check"]):
        assert cli(f"--stack={stack}", *mode) == 2
        err = cli.err()
        assert err.startswith("error: unknown stack ") and err.count("\n") == 1
    assert cli.pulumi.calls() == []


def test_a_stack_the_backend_does_not_have_exits_2(cli: Rollback) -> None:
    cli.pulumi.set(history={"exit": 6, "stderr": "error: no stack named 'prod' found\n"})
    assert cli("--stack", "prod", "--image", GOOD) == 2
    assert "the backend has no stack by that name" in cli.err()
    assert cli.pulumi.verbs() == ["stack history"]
    # --check before a stack's first up: nothing can have been rolled back
    assert cli("--stack", "prod", "--check") == 0
    assert "not in the backend yet" in cli.out()


@pytest.mark.parametrize(
    "history",
    [
        [update(BAD), update(OTHER)],  # never there
        [update(BAD), update(GOOD, result="failed")],  # its update failed
        [update(BAD), update(GOOD, kind="preview")],  # previewed, never applied
        [update(BAD), update(None)],  # the image was a secret or absent
        [update(BAD), update(GOOD.replace("@sha256:", ":tag@sha256:"))],  # another ref
    ],
)
def test_an_image_never_deployed_is_refused_after_reading_the_history_alone(
    history: list[dict[str, Any]], cli: Rollback
) -> None:
    cli.pulumi.set(history=[history])
    assert cli("--stack", "prod", "--image", GOOD) == 1
    err = cli.err()
    assert err.startswith(f"error: image never deployed: {GOOD}") and err.count("\n") == 1
    assert cli.pulumi.verbs() == ["stack history"]


def test_the_history_is_read_a_page_at_a_time_until_the_image_is_found(cli: Rollback) -> None:
    first = [update(BAD) for _ in range(rollback.HISTORY_PAGE)]
    cli.pulumi.set(history=[first, [update(GOOD)], [update(OTHER)]])
    assert cli("--stack", "prod", "--image", GOOD) == 0
    pages = [a[a.index("--page") + 1] for a in cli.pulumi.calls() if a[:2] == ["stack", "history"]]
    assert pages == ["1", "2"]


def test_the_image_already_running_is_nothing_to_do(cli: Rollback) -> None:
    cli.pulumi.set(export=exported(GOOD))
    assert cli("--stack", "prod", "--image", GOOD) == 0
    assert "already runs" in cli.out()
    assert cli.pulumi.verbs() == ["stack history", "stack export"]


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        (
            [
                deploy_step(BAD, GOOD),
                {"op": "update", "urn": MACHINES_URN, "newState": {"custom": True}},
            ],
            "update webhost-machines",
        ),
        ([{**deploy_step(BAD, GOOD), "op": "replace"}], "replace webhost-deploy"),
        ([deploy_step(BAD, GOOD, WEBHOST_SECRETS_VERSION="3")], "more than its image"),
        ([deploy_step(BAD, OTHER)], f"would not deploy {GOOD}"),
        ([], "no update of the deploy"),
        ([{"op": "delete", "urn": "urn:x::pg", "oldState": {"custom": True}}], "delete pg"),
    ],
)
def test_a_plan_beyond_the_deploys_image_is_refused_and_never_applied(
    steps: list[dict[str, Any]], said: str, cli: Rollback
) -> None:
    cli.pulumi.set(preview={"steps": steps})
    assert cli("--stack", "prod", "--image", GOOD) == 1
    err = cli.err()
    assert err.startswith("error: refused: a rollback is an update of the deploy's image alone")
    assert said in err and err.count("\n") == 1
    assert "up" not in cli.pulumi.verbs()


def test_components_and_unchanged_resources_do_not_count() -> None:
    steps = [
        deploy_step(BAD, GOOD),
        {"op": "update", "urn": "urn:x::webhost", "newState": {"custom": False}},
        {"op": "same", "urn": MACHINES_URN, "newState": {"custom": True}},
    ]
    assert rollback.plan_problems({"steps": steps}, GOOD) == []


def test_the_rollback_applies_the_previewed_plan_with_the_pack_and_records_itself(
    binary: Rollback,
) -> None:
    before = (binary.project / "Pulumi.prod.yaml").read_text()
    assert binary("--stack", "prod", "--image", GOOD) == 0
    assert f"rolled back stack prod: {BAD} -> {GOOD}" in binary.out()
    calls = binary.pulumi.calls()
    assert binary.pulumi.verbs() == ["stack history", "stack export", "config set", "preview", "up"]
    config_set, preview, up = calls[2:]
    [copy] = {a[a.index("--config-file") + 1] for a in (config_set, preview, up)}
    assert Path(copy).name == "Pulumi.prod.yaml" and Path(copy).parent != binary.project
    assert config_set[config_set.index(copy) + 1 :][:2] == ["webhost:image", GOOD]
    assert (binary.project / "Pulumi.prod.yaml").read_text() == before  # the checkout is not edited
    pack = ["--policy-pack", "policies", "--policy-pack-config", "policies/config/prod.json"]
    for argv in (preview, up):
        assert " ".join(pack) in " ".join(argv)
        assert argv[argv.index("--stack") + 1] == "prod" and "--non-interactive" in argv
    plan = preview[preview.index("--save-plan") + 1]
    assert up[up.index("--plan") + 1] == plan
    assert up[up.index("--message") + 1] == f"webhost-infra rollback: {BAD} -> {GOOD}"


def test_a_failed_up_exits_1(binary: Rollback) -> None:
    binary.pulumi.set(up={"exit": 255, "stderr": "error: the stack is currently locked\n"})
    assert binary("--stack", "prod", "--image", GOOD) == 1
    assert "error: pulumi up exited 255" in binary.err()


def test_unreadable_engine_output_is_one_line_not_a_traceback(cli: Rollback) -> None:
    cli.pulumi.set(preview="Previewing update (prod): not json")
    assert cli("--stack", "prod", "--image", GOOD) == 1
    err = cli.err()
    assert err.startswith("error: pulumi preview printed no JSON") and "Traceback" not in err
    assert "up" not in cli.pulumi.verbs()


# -- --check: what the next up from main reads ---------------------------------------------
RECORD = f"webhost-infra rollback: {BAD} -> {GOOD}"


@pytest.mark.parametrize(
    ("history", "code", "said"),
    [
        ([update(GOOD, RECORD), update(BAD)], 1, f"rolled back from {BAD} to {GOOD}"),
        # a failed or a non-update entry after the rollback does not settle it
        ([update(BAD, result="failed"), update(GOOD, RECORD)], 1, "rolled back from"),
        ([update(GOOD, kind="refresh"), update(GOOD, RECORD)], 1, "rolled back from"),
        # a failed rollback is no rollback
        ([update(GOOD, RECORD, result="failed"), update(BAD)], 0, "no rollback pending"),
        # an up after the rollback (main pinned or rolled forward) settled it
        ([update(GOOD), update(GOOD, RECORD), update(BAD)], 0, "no rollback pending"),
        ([update(BAD)], 0, "no rollback pending"),
        ([], 0, "no rollback pending"),
    ],
)
def test_check_refuses_an_up_that_would_deploy_the_rolled_back_image_again(
    history: list[dict[str, Any]], code: int, said: str, cli: Rollback
) -> None:
    cli.pulumi.set(history=[history])
    assert cli("--stack", "prod", "--check") == code
    captured = cli.capsys.readouterr()
    assert said in (captured.err if code else captured.out)
    assert cli.pulumi.verbs() == ["stack history"]


@pytest.mark.parametrize(("image", "said"), [(GOOD, "a no-op"), (OTHER, "a roll-forward")])
def test_check_passes_once_main_pins_the_image_or_rolls_forward(
    image: str, said: str, cli: Rollback
) -> None:
    path = cli.project / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace(BAD, image))
    cli.pulumi.set(history=[[update(GOOD, RECORD), update(BAD)]])
    assert cli("--stack", "prod", "--check") == 0
    assert said in cli.out()


def test_the_rollback_record_names_both_images() -> None:
    [entry] = rollback.parse_history(json.dumps([update(GOOD, RECORD)]))
    assert entry.rollback == (BAD, GOOD)
    assert rollback.parse_history(json.dumps([update(GOOD, "fix")]))[0].rollback is None
