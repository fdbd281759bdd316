"""Shared fixtures: the real stack files, the in-process program runner, and the fakes
standing in for Fly at its boundaries (the REST API, the `fly` binary)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import engine, stackfile
from tests.fakes import fly_cli, pg_server, python3
from tests.fakes.fly_api import TOKEN, FakeFlyApi

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PROJECT_FILE = ROOT / "Pulumi.yaml"


def stack_doc(stack: str) -> dict[str, Any]:
    """A real stack file's `config:` mapping, as YAML data."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    config: dict[str, Any] = doc["config"]
    return config


def write_stack(directory: Path, config: dict[str, Any], name: str = "test") -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    return path


def run(
    config: dict[str, Any],
    tmp_path: Path,
    *,
    stack: str = "test",
    preview: bool = True,
    mocks: Any = None,
    offline: bool = True,
    program: Path | Callable[[], None] = PROGRAM,
) -> engine.Evaluation:
    """Evaluate the real program (or `program`) with `config` (a stack file's mapping), as
    the plan does (`offline=False`: as `pulumi preview`/`up` would, which need every
    credential)."""
    loaded = stackfile.load(write_stack(tmp_path, config, stack), PROJECT_FILE)
    return engine.evaluate(
        program,
        project=loaded.project,
        stack=loaded.stack,
        config=loaded.config,
        secret_keys=sorted(loaded.secret_keys),
        preview=preview,
        mocks=mocks,
        offline=offline,
    )


def prod_commands(directory: Path) -> dict[str, dict[str, Any]]:
    """Every local.Command of the prod stack, by name, with the inputs the program gives
    it (known values, as `up` would send them)."""
    from tests.known import COMMAND, KnownMocks

    evaluation = run(stack_doc("prod"), directory, stack="prod", preview=False, mocks=KnownMocks())
    return {r.name: dict(r.inputs) for r in evaluation.by_type(COMMAND)}


@pytest.fixture(autouse=True, scope="session")
def fly_metrics_token() -> Iterator[None]:
    """A stack declaring monitoring needs FLY_METRICS_TOKEN under the real engine, or it
    is refused before anything is registered (components/config/monitoring.py fly_token_problem;
    offline evaluations go on without it): a dummy for the whole session, so that what
    tests see is what `up` sends; tests about it unset or change it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLY_METRICS_TOKEN", "fm2_test-metrics-token-must-not-leak")
        yield


@pytest.fixture(autouse=True, scope="session")
def python3_stdlib_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The flyctl scripts' `python3` first on PATH: the interpreter PATH's python3 is,
    run with -S (tests/fakes/python3.py says why). Scripts of about 7 such calls run in
    hundreds of tests."""
    bin_dir = tmp_path_factory.mktemp("python3")
    if not python3.install(bin_dir):
        yield  # no python3: the scripts fail as they would on such a machine
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        yield


@pytest.fixture
def fly_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFlyApi]:
    with FakeFlyApi() as api:
        monkeypatch.setenv("FLY_API_HOSTNAME", api.url)
        monkeypatch.setenv("FLY_API_BASE_URL", api.url)
        monkeypatch.setenv("FLY_API_TOKEN", TOKEN)
        yield api


@dataclass
class FakeFly:
    bin_dir: Path
    state: Path
    log: Path
    # The PostgreSQL server `fly ssh console` and `fly postgres attach` act on, if any.
    pg: pg_server.Server | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_FLY_STATE": str(self.state),
            "FAKE_FLY_LOG": str(self.log),
            "FLY_API_TOKEN": "fly-token-that-must-not-leak",
            # lib.sh detach_user answers a prompt offering none of its user with Ctrl-C
            # once flyctl has been quiet this long (10 s by default, for a slow real
            # flyctl); the fake renders the prompt in one write, as survey does, so a
            # short quiet tells the same story without a 10 s wait per such prompt.
            "WEBHOST_DETACH_QUIET": "0.3",
            **(self.pg.env() if self.pg else {}),
            **extra,
        }

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def snapshot(self) -> dict[str, Any]:
        if not self.state.exists():
            return {"apps": {}, "deploys": [], "pg": {}}
        state: dict[str, Any] = json.loads(self.state.read_text())
        return state

    def machines(self, app: str) -> dict[str, int]:
        """Machines per region."""
        counts: dict[str, int] = {}
        for machine in self.snapshot()["apps"].get(app, {}).get("machines", []):
            counts[machine["region"]] = counts.get(machine["region"], 0) + 1
        return counts

    def guests(self, app: str) -> list[dict[str, Any]]:
        return [m["guest"] for m in self.snapshot()["apps"][app]["machines"]]

    def secrets(self, app: str) -> dict[str, str]:
        values: dict[str, str] = self.snapshot()["apps"].get(app, {}).get("secrets", {})
        return values

    def cluster(self, name: str) -> dict[str, Any]:
        cluster: dict[str, Any] = self.snapshot()["pg"][name]
        return cluster

    def seed_app(self, name: str, **secrets: str) -> None:
        """An app as `pulumi up` would have made it before the scripts run."""
        state = self.snapshot()
        state["apps"].setdefault(name, {"machines": [], "secrets": {}})["secrets"].update(secrets)
        self.state.write_text(json.dumps(state))

    def deploys(self) -> list[dict[str, Any]]:
        deploys: list[dict[str, Any]] = self.snapshot()["deploys"]
        return deploys


def run_command(
    inputs: Mapping[str, Any],
    fly: FakeFly,
    tmp_path: Path,
    script: str = "create",
    *,
    interrupts_ignored: bool = False,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """What local.Command does: interpreter + script, the inputs' environment on top.
    `interrupts_ignored`: started as a non-interactive shell starts a background
    command, with SIGINT and SIGQUIT ignored (POSIX XCU 2.11), which children inherit."""

    def ignore_interrupts() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)

    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return subprocess.run(
        [*inputs["interpreter"], inputs[script]],
        env={**fly.env(TMPDIR=str(scratch), **env), **inputs["environment"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=ignore_interrupts if interrupts_ignored else None,
    )


# A process holding a flock, as a script of a killed run would hold the flyctl lock
# (components/fly/scripts/lib.sh webhost_lock): it says who it is in the file.
_HOLD = """
import fcntl, sys
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
f.write("pid 4242 since 2026-01-01T00:00:00Z\\n")
f.flush()
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def lock_held(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A live process holding `path`'s lock (as pid 4242) until the block ends, or
    until the caller ends it sooner with `communicate()`."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield process
    finally:
        process.communicate()


@pytest.fixture
def fake_fly(tmp_path: Path) -> FakeFly:
    return fake_fly_in(tmp_path)


def fake_fly_in(directory: Path) -> FakeFly:
    """The fake `fly` on a bin directory under `directory`, its state and log beside."""
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    fly_cli.install(bin_dir)
    return FakeFly(bin_dir, directory / "fly-state.json", directory / "fly-calls.jsonl")


@pytest.fixture(scope="session")
def pg_session() -> Iterator[pg_server.Server]:
    """One real PostgreSQL server for the session (tests/fakes/pg_server.py). Where the
    machine has none, the tests needing it fail, saying what to install."""
    problem = pg_server.missing()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    with pg_server.running() as server:
        yield server


@pytest.fixture
def pg(pg_session: pg_server.Server) -> Iterator[pg_server.Server]:
    """The session's server, emptied of every database and role a test made."""
    pg_session.reset()
    yield pg_session
    pg_session.reset()


@pytest.fixture(scope="session")
def commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The prod stack's local.Commands (prod_commands), evaluated once per session: the
    script tests run them and never change them."""
    return prod_commands(tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="session")
def prod_monitored(tmp_path_factory: pytest.TempPathFactory) -> engine.Evaluation:
    """prod after `up` with Grafana's answers (tests/test_monitoring.py GrafanaMocks),
    evaluated once per session: test_monitoring and test_promql only read it."""
    from tests.test_monitoring import TOKEN, GrafanaMocks

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLY_METRICS_TOKEN", TOKEN)
        where = tmp_path_factory.mktemp("prod")
        return run(stack_doc("prod"), where, stack="prod", preview=False, mocks=GrafanaMocks())


@pytest.fixture(scope="session")
def cluster_template(
    commands: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> FakeFly:
    """The prod stack's app, and its Postgres cluster made by its script
    (postgres_cluster.sh), once per session: the fake's state and call log to copy."""
    directory = tmp_path_factory.mktemp("cluster")
    fake = fake_fly_in(directory)
    fake.seed_app("webhost-prod")
    done = run_command(commands["webhost-db"], fake, directory)
    assert done.returncode == 0, done.stderr
    return fake


@pytest.fixture
def cluster(cluster_template: FakeFly, fake_fly: FakeFly) -> FakeFly:
    """The cluster as its script leaves it (state and call log), this test's own."""
    return own_copy(cluster_template, fake_fly)


def own_copy(template: FakeFly, fake: FakeFly) -> FakeFly:
    """`fake` holding the template's state and call log: a session's set-up, copied
    for one test to change."""
    shutil.copyfile(template.state, fake.state)
    shutil.copyfile(template.log, fake.log)
    return fake


@pytest.fixture
def sql_cluster(cluster: FakeFly, pg: pg_server.Server) -> FakeFly:
    """The cluster with the real server behind its SQL (attach, detach, setup)."""
    cluster.pg = pg
    return cluster
