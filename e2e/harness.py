"""The e2e's handle on one stack: the engine runner, the fakes' logs, the phase timer.

`Stack` runs `pulumi` in the stack's copy of the project and reads what the fakes hold;
`Stack.phase` times a phase and counts its flyctl and Fly API calls (writes apart).
`Failure` is what a phase raises when a check fails; `Skipped` a phase that does not
apply. Every module of e2e/ imports these from here (one Failure class under
`make e2e`, where run.py is __main__). The fakes themselves start in e2e/world.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.fly_api import FakeFlyApi

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"
CLOUDFLARE_BIN = ROOT / "e2e" / "fake_cloudflare" / "bin"
GRAFANA_BIN = ROOT / "e2e" / "fake_grafana" / "bin"
PASSPHRASE = "e2e-passphrase-not-a-secret"  # noqa: S105 - a throwaway stack's
CLOUDFLARE_TOKEN = "cf-e2e-token-must-not-leak-0123456789"  # noqa: S105 - a dummy
# What components/monitoring reads from the environment (dummies: the fake Grafana).
GRAFANA_TOKENS = {
    "GRAFANA_AUTH": "glsa_e2e-grafana-auth-must-not-leak",
    "GRAFANA_SM_ACCESS_TOKEN": "sm-e2e-token-must-not-leak",
    "FLY_METRICS_TOKEN": "fm2_e2e-metrics-token-must-not-leak",
}
OPERATOR = {
    "webhost:stripeSecretKey": "sk_live_e2eOperatorSecretMustNotLeak",
    "webhost:stripeWebhookSecret": "whsec_e2eOperatorSecretMustNotLeak",
}
NEW_IMAGE = "registry.fly.io/webhost:1.0.1"
# Every tag the e2e deploys (the stack files', NEW_IMAGE, e2e/workflows.py NEW_IMAGES),
# pushed to the fake registry as the app's CI would: `preflight` looks for each
# (README, "The app contract": the server as CMD, HTTP 4000 and metrics 9091 exposed).
REGISTRY_TAGS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3")
APP_IMAGE_CONFIG = {
    "Cmd": ["/app/bin/server"],
    "ExposedPorts": {"4000/tcp": {}, "9091/tcp": {}},
}
PAGER = "https://hooks.webhost-pager.net/e2e"
# A tier whose floors the stack's VM does not meet (components/catalog.py TIER_SIZING).
# flyctl subcommands that only read (flyctl internal/command/*/list.go, status.go).
READ_VERBS = {"list", "status", "show", "version", "config"}
# The engine's exit status when --expect-no-changes finds changes
# (pulumi pkg/cmd/pulumi: "no changes were expected but changes occurred", exit 1).
TAIL = 60


class Failure(Exception):
    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class Skipped(Exception):
    """A phase that does not apply to this stack: said on its line, not counted as passed."""


@dataclass
class Figures:
    phase: str
    seconds: float
    fly_calls: int
    fly_writes: int
    api_requests: int
    api_writes: int

    def line(self, stack: str) -> str:
        return (
            f"  {stack:8} {self.phase:8} {self.seconds:6.1f}s  flyctl {self.fly_calls:3} "
            f"({self.fly_writes} writes)  Fly API {self.api_requests:4} ({self.api_writes} writes)"
        )


def engine_bin() -> Path | None:
    if (TOOLS_BIN / "pulumi").exists():
        return TOOLS_BIN  # built at the lock's versions: ahead of any other pulumi on PATH
    if shutil.which("pulumi"):
        return None  # `make tools` took it: the lock's version, first on PATH already
    raise SystemExit("e2e: no pulumi on PATH and none built in .tools/bin (run `make tools`)")


@dataclass
class Stack:
    name: str
    work: Path
    api: FakeFlyApi
    env: dict[str, str]
    fly_state: Path
    fly_log: Path
    figures: list[Figures] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    # -- the engine ---------------------------------------------------------------
    def pulumi(
        self, *args: str, ok: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["pulumi", *args, "--stack", self.name, "--non-interactive"],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if ok and done.returncode != 0:
            raise Failure(f"pulumi {' '.join(args)} exited {done.returncode}", output(done))
        return done

    def config_set(self, key: str, value: str, secret: bool = False) -> None:
        subprocess.run(
            ["pulumi", "config", "set", "--stack", self.name, key]
            + (["--secret"] if secret else [])
            + ["--", value],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )

    def outputs(self) -> dict[str, Any]:
        done = self.pulumi("stack", "output", "--json", "--show-secrets")
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    # -- the fakes ----------------------------------------------------------------
    def fly_calls(self) -> list[list[str]]:
        if not self.fly_log.exists():
            return []
        return [json.loads(line)["argv"] for line in self.fly_log.read_text().splitlines()]

    def fly_by_hand(self, *argv: str) -> None:
        """An operator's flyctl command, out of band (the fake `fly` on PATH)."""
        done = subprocess.run(
            ["fly", *argv], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        expect(done.returncode == 0, f"fly {' '.join(argv)} by hand failed", done.stderr)

    def fly(self) -> dict[str, Any]:
        if not self.fly_state.exists():
            return {"apps": {}, "deploys": [], "pg": {}}
        state: dict[str, Any] = json.loads(self.fly_state.read_text())
        return state

    def cloudflare(self) -> dict[str, Any]:
        path = Path(self.env["FAKE_CLOUDFLARE_STATE"])
        if not path.exists():
            return {"zones": {}, "dnsRecords": {}, "rulesets": {}}
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def cloudflare_calls(self, log: str = "FAKE_CLOUDFLARE_LOG") -> list[dict[str, Any]]:
        path = Path(self.env[log])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        fly_before = len(self.fly_calls())
        api_before = len(self.api.state.requests)
        started = time.monotonic()
        try:
            yield
        except Failure as failure:
            raise Failure(f"{self.name}: phase {name}: {failure}", failure.output) from None
        except Skipped as skipped:
            print(f"  {self.name:8} {name:8} skipped: {skipped}", flush=True)
            return
        seconds = time.monotonic() - started
        calls = self.fly_calls()[fly_before:]
        requests = self.api.state.requests[api_before:]
        figures = Figures(
            name,
            seconds,
            len(calls),
            sum(1 for argv in calls if is_fly_write(argv)),
            len(requests),
            sum(1 for r in requests if is_api_write(r.method, r.body)),
        )
        self.figures.append(figures)
        self.passed.append(name)
        print(figures.line(self.name), flush=True)


def is_fly_write(argv: list[str]) -> bool:
    words = [a for a in argv if not a.startswith("-")]
    return not any(w in READ_VERBS for w in words[:3])


def is_api_write(method: str, body: Any) -> bool:
    if method in ("GET", "HEAD"):
        return False
    if method == "POST" and isinstance(body, dict) and "query" in body:
        return str(body["query"]).lstrip().startswith("mutation")
    return True


def output(done: subprocess.CompletedProcess[str]) -> str:
    """The engine's diagnostics (where its errors are), then the tail of its output."""
    text = done.stdout + done.stderr
    lines = text.splitlines()
    diagnostics: list[str] = []
    if "Diagnostics:" in lines:
        start = lines.index("Diagnostics:")
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i] in ("Outputs:", "Resources:")),
            len(lines),
        )
        diagnostics = [*lines[start:end][:TAIL], "..."]
    return "\n".join(diagnostics + lines[-TAIL // 3 :])


def expect(condition: bool, message: str, detail: str = "") -> None:
    if not condition:
        raise Failure(message, detail)
