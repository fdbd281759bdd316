"""`make e2e`: the real Pulumi engine runs this program against the fakes.

For each of staging and prod, in a temporary copy of the project with a file
backend, a passphrase secrets provider and a PULUMI_HOME of its own (nothing is
downloaded: automatic plugin acquisition and the update check are off), it runs
the phases of issue 9 and checks what the fakes hold after each:

  preview   `pulumi preview` with the policy pack passes; with a tier the VM breaks,
            the same command is refused naming `tier-sizing`
  up        `pulumi up` creates everything; the fakes hold what the stack describes
  noop      a second `up` changes nothing, runs no flyctl write and no API write
  refresh   `pulumi refresh` finds no drift
  drift     a secret removed, an IP released, each out of band and alone, then
            `up --refresh` must put it back; a region scaled down by hand (`fly scale
            count`) must show in `refresh` (MachineCounts' observed counts) and preview
            as an update of MachineCounts alone, which `up` puts back; a region scaled
            up by hand must be put back by `up --refresh`
  image     a new webhost:image previews as an update of the deploy alone; up applies it
  contact   prod: a contact point added, then renamed: each takes one `up`, the policy
            routes to it and the old one is gone; the Fly header has one scheme
  restore   prod: the newest backup and a point in time restored beside the cluster in
            one `up`, the app moved to the new one, the old one kept, then retired
            (e2e/restore.py)
  workflows the GitHub jobs' own commands in each job's environment (e2e/workflows.py)
  rollback  prod: rollback.yml to an image deployed before is an update of the deploy
            alone; the next up from main is refused, then a no-op or a roll-forward
  export    the exported state holds no secret in plaintext and no token; dynamic
            providers are pickled by reference to our modules
  destroy   staging: every resource leaves the fakes; prod: refused while protected,
            retained data stays after unprotect
  crash     prod (a fresh stack): `pulumi up` killed across the graph, recovered by the
            runbook; everything converges (e2e/crash.py). `--phases crash` or
            E2E_PHASES=crash runs only the named phases

Per phase it prints the wall time, flyctl invocations (writes) and Fly API requests
(writes) from the fakes' logs. The last line on success starts with `e2e passed:`.
On a failure it exits 1 naming the stack and phase, with the engine's output tail.

The fakes: tests/fakes/fly_api/ (in this process, on 127.0.0.1),
tests/fakes/fly_cli (the package) as `fly` first on PATH, and e2e/fake_cloudflare/bin on PATH
(`pulumi-resource-cloudflare`). Engine: .tools/bin when built, else `pulumi` on PATH.
The fake Fly checks certificates against the fake Cloudflare's records (its state
file, read through e2e/fake_cloudflare/fakecf/world.py): a host's certificate issues
only when the records Fly asks for exist there with the right values.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from e2e.origin import phase_origin  # noqa: E402
from e2e.restore import phase_restore  # noqa: E402
from e2e.rollback import phase_rollback  # noqa: E402
from e2e.workflows import phase_workflows  # noqa: E402
from tests.fakes.fly_api import TOKEN, FakeFlyApi  # noqa: E402

# The fake Cloudflare's package (and the fakes' shared one), for its DNS as the fake
# Fly sees it: one world, Fly's certificate checks read the records the plugin wrote.
sys.path[:0] = [str(ROOT / "e2e"), str(ROOT / "e2e" / "fake_cloudflare")]
sys.path.append(str(ROOT / "e2e" / "fake_grafana"))
from fakecf.preflight_rest import FakeCloudflareApi  # noqa: E402
from fakecf.store import Store as CloudflareStore  # noqa: E402
from fakecf.store import parse_zones  # noqa: E402
from fakecf.world import ZoneRecords  # noqa: E402
from fakegrafana.preflight_rest import FakeGrafanaApi  # noqa: E402

TOOLS_BIN = ROOT / ".tools" / "bin"
CLOUDFLARE_BIN = ROOT / "e2e" / "fake_cloudflare" / "bin"
GRAFANA_BIN = ROOT / "e2e" / "fake_grafana" / "bin"
FLY_CLI = ROOT / "tests" / "fakes" / "fly_cli"  # a package: python runs its __main__.py
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
BREAKING_TIER = {"staging": "professional", "prod": "business"}
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


# -- setting a stack up ---------------------------------------------------------------
def copy_project(work: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".venv", ".tools", ".git", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", "e2e", "tests", "bench", "build",
    )  # fmt: skip
    shutil.copytree(ROOT, work, ignore=ignore)
    # Pulumi.yaml and the policy pack name the project's own virtualenv.
    (work / ".venv").symlink_to(ROOT / ".venv")


def cloudflare_state(tmp: Path) -> Path:
    """The fake Cloudflare's state file: its plugin writes it, the fake Fly reads it."""
    return tmp / "cloudflare-state.json"


def environment(
    tmp: Path,
    api: FakeFlyApi,
    fly_bin: Path,
    *,
    state: Path,
    log: Path,
    zone: str,
    rest: tuple[str, str] = ("http://127.0.0.1:9", "http://127.0.0.1:9"),
) -> dict[str, str]:
    path = [str(fly_bin), str(CLOUDFLARE_BIN), str(GRAFANA_BIN)]
    tools = engine_bin()
    if tools is not None:
        path.append(str(tools))
    elif TOOLS_BIN.exists():
        path.append(str(TOOLS_BIN))  # plugins the user's install may lack
    path.append(os.environ["PATH"])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PULUMI_", "FLY_", "CLOUDFLARE_", "GRAFANA_"))
    }
    env.update(
        {
            "PATH": os.pathsep.join(path),
            "PULUMI_HOME": str(tmp / "pulumi-home"),
            "PULUMI_BACKEND_URL": f"file://{tmp / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            # pulumi sdk/go/common/env/env.go: no plugin download, no update check.
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "FLY_API_TOKEN": TOKEN,
            "FLY_API_HOSTNAME": api.url,
            "FLY_API_BASE_URL": api.url,
            "FAKE_FLY_STATE": str(state),
            "FAKE_FLY_LOG": str(log),
            "CLOUDFLARE_API_TOKEN": CLOUDFLARE_TOKEN,
            # e2e/fake_cloudflare/fakecf/store.py: its state, call log and known zones.
            "FAKE_CLOUDFLARE_STATE": str(cloudflare_state(tmp)),
            "FAKE_CLOUDFLARE_LOG": str(tmp / "cloudflare-calls.jsonl"),
            "FAKE_CLOUDFLARE_ZONES": zone,
            # e2e/fake_grafana/fakegrafana/store.py: its state and call log.
            "FAKE_GRAFANA_STATE": str(tmp / "grafana-state.json"),
            "FAKE_GRAFANA_LOG": str(tmp / "grafana-calls.jsonl"),
            **GRAFANA_TOKENS,
            # Where `webhost-infra preflight` reads (cli/preflight.py): the fakes' REST
            # faces over the same state the plugins keep, and the fake Fly's registry.
            "CLOUDFLARE_BASE_URL": rest[0],
            "WEBHOST_GRAFANA_SM_BASE_URL": rest[1],
            "WEBHOST_GRAFANA_BASE_URL": rest[1],
            "WEBHOST_REGISTRY_BASE_URL": api.url,
            # Pulumi.prod.yaml's contact point takes its URL from here (fromEnv).
            "WEBHOST_PAGER_URL": PAGER,
            "TMPDIR": str(tmp / "scratch"),
        }
    )
    return env


class SharedApps(dict[str, dict[str, Any]]):
    """The fake API's apps, mirrored into the fake `fly`'s state file.

    On Fly one backend answers both: an app created over the Machines API is the
    app `fly deploy -a` finds, and deleting it takes its machines and volumes.
    The two fakes keep separate state (tests drive each alone), so the driver
    joins them at the app: every app the API creates or deletes is created or
    deleted in the fake fly's state too, under the lock its calls take.
    """

    def __init__(self, fly_state: Path) -> None:
        super().__init__()
        self.fly_state = fly_state

    def _edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        with open(f"{self.fly_state}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = {"apps": {}, "deploys": [], "pg": {}, "calls": 0}
            if self.fly_state.exists():
                state = json.loads(self.fly_state.read_text())
            change(state)
            self.fly_state.write_text(json.dumps(state))

    def __setitem__(self, name: str, app: dict[str, Any]) -> None:
        super().__setitem__(name, app)
        org = app.get("organization", {}).get("slug", "personal")
        fresh = {"org": org, "machines": [], "secrets": {}, "secrets_version": 0, "volumes": []}
        self._edit(lambda state: state["apps"].setdefault(name, fresh))

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        self._edit(lambda state: state["apps"].pop(name, None))


@contextmanager
def stack(name: str) -> Iterator[Stack]:
    with (
        tempfile.TemporaryDirectory(prefix=f"webhost-e2e-{name}-") as raw,
        FakeFlyApi(dns=ZoneRecords(cloudflare_state(Path(raw)))) as api,
        ExitStack() as stack_faces,
    ):
        tmp = Path(raw)
        api.state.apps = SharedApps(tmp / "fly-state.json")
        for tag in REGISTRY_TAGS:
            api.state.add_image("webhost", tag, APP_IMAGE_CONFIG)
        for sub in ("state", "pulumi-home", "scratch", "bin"):
            (tmp / sub).mkdir()
        fly = tmp / "bin" / "fly"
        fly.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FLY_CLI}" "$@"\n')
        fly.chmod(0o755)
        work = tmp / "project"
        copy_project(work)
        doc = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())
        zone = str(doc["config"].get("webhost:domain", {}).get("zone", ""))
        cloudflare = FakeCloudflareApi(
            CloudflareStore(cloudflare_state(tmp), parse_zones(zone)), CLOUDFLARE_TOKEN
        )
        grafana = FakeGrafanaApi(
            GRAFANA_TOKENS["GRAFANA_AUTH"], GRAFANA_TOKENS["GRAFANA_SM_ACCESS_TOKEN"]
        )
        stack_faces.enter_context(cloudflare)
        stack_faces.enter_context(grafana)
        env = environment(
            tmp,
            api,
            fly.parent,
            state=tmp / "fly-state.json",
            log=tmp / "fly-calls.jsonl",
            zone=zone,
            rest=(cloudflare.url, grafana.url),
        )
        current = Stack(name, work, api, env, tmp / "fly-state.json", tmp / "fly-calls.jsonl")
        subprocess.run(
            ["pulumi", "stack", "init", name, "--secrets-provider", "passphrase"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        for key, value in OPERATOR.items():
            current.config_set(key, value, secret=True)
        yield current


# -- the phases ------------------------------------------------------------------------
def policy_preview(s: Stack) -> list[str]:
    return [
        "preview",
        "--policy-pack",
        "policies",
        "--policy-pack-config",
        f"policies/config/{s.name}.json",
    ]


def phase_preview(s: Stack) -> None:
    s.pulumi(*policy_preview(s))
    config = s.pulumi("config", "get", "webhost:tier").stdout.strip()
    s.config_set("webhost:tier", BREAKING_TIER[s.name])
    try:
        refused = s.pulumi(*policy_preview(s), ok=False)
    finally:
        s.config_set("webhost:tier", config)
    text = refused.stdout + refused.stderr
    expect(refused.returncode != 0, "a stack breaking tier sizing was not refused", output(refused))
    expect("tier-sizing" in text, "the refusal does not name tier-sizing", output(refused))
    if s.name == "prod":
        transformed_preview(s)
        bad_pack_config(s)


# Issue 21: Pulumi `transforms` on Platform change what is registered after the config
# was validated; the pack must judge the registered inputs under the real engine too.
# One member per class: machines and force_https (production-safety), the strategy
# flag (rollout-safety), the recovery window (backups), the proxy's hard limit
# (capacity), a disabled probe (monitoring).
TRANSFORMED_MAIN = """
import tomllib

import pulumi
import tomli_w

from components import config
from components.platform import Platform, PlatformArgs


def edit(args):
    props = dict(args.props)
    if args.type_ == "pulumi-python:dynamic/fly:MachineCounts":
        props["counts"] = {**props["counts"], "iad": 1}
    elif args.type_ == "command:local:Command" and args.name.endswith("-deploy"):
        env = dict(props["environment"])
        doc = tomllib.loads(env["WEBHOST_FLY_TOML"])
        doc["http_service"]["force_https"] = False
        doc["http_service"]["concurrency"]["hard_limit"] = 10
        env["WEBHOST_FLY_TOML"] = tomli_w.dumps(doc)
        env["WEBHOST_STRATEGY"] = "immediate"
        props["environment"] = env
    elif args.type_ == "command:local:Command" and args.name.endswith("-db-backups"):
        props["environment"] = {**props["environment"], "WEBHOST_RECOVERY_WINDOW": "1d"}
    elif args.type_ == "grafana:syntheticMonitoring/check:Check":
        props["enabled"] = False
    else:
        return None
    return pulumi.ResourceTransformResult(props, args.opts)


Platform(
    "webhost",
    PlatformArgs(config=config.from_pulumi()),
    pulumi.ResourceOptions(transforms=[edit]),
)
"""
TRANSFORMED_FINDINGS = {
    "production-safety": ["1 machine(s) in the primary region iad", "HTTPS is not forced"],
    "rollout-safety": ["the immediate strategy replaces every machine"],
    "backups": ["recovery window '1d' restores less"],
    "capacity": ["(1 each)"],
    "monitoring": ["is disabled"],
}


def transformed_preview(s: Stack) -> None:
    main = s.work / "__main__.py"
    original = main.read_text()
    main.write_text(TRANSFORMED_MAIN)
    try:
        refused = s.pulumi(*policy_preview(s), ok=False)
    finally:
        main.write_text(original)
    text = refused.stdout + refused.stderr
    expect(refused.returncode != 0, "a transformed prod stack was not refused", output(refused))
    missing = [
        f"{policy}: {finding}"
        for policy, findings in TRANSFORMED_FINDINGS.items()
        for finding in findings
        if policy not in text or finding not in text
    ]
    expect(not missing, f"the engine's pack missed {missing}", output(refused))


def bad_pack_config(s: Stack) -> None:
    """A policy config value the offline plan refuses (exit 2) the engine refuses too."""
    bad = s.work / "bad-pack.json"
    bad.write_text(json.dumps({"backups": {"maxRestoreMinutes": None}}))
    refused = s.pulumi(
        "preview", "--policy-pack", "policies", "--policy-pack-config", str(bad), ok=False
    )
    expect(refused.returncode != 0, "the engine ran a pack config with null", output(refused))


def app_name(s: Stack) -> str:
    return s.pulumi("config", "get", "webhost:appName").stdout.strip()


def regions(s: Stack) -> dict[str, int]:
    raw = s.pulumi("config", "get", "webhost:regions", "--json").stdout
    value = json.loads(raw)
    parsed: dict[str, int] = json.loads(value["value"]) if "value" in value else value
    return parsed


def machine_counts(s: Stack, app: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for machine in s.fly()["apps"].get(app, {}).get("machines", []):
        counts[machine["region"]] = counts.get(machine["region"], 0) + 1
    return counts


def check_fakes_hold_stack(s: Stack) -> None:
    app = app_name(s)
    outputs = s.outputs()
    expect(app in s.api.state.apps, f"the Fly API has no app {app}")
    secret_names = set(outputs.get("secretNames") or [])
    held = set(s.api.state.secrets.get(app, {}))
    expect(secret_names <= held, f"app secrets missing: {sorted(secret_names - held)}")
    expect(machine_counts(s, app) == regions(s), f"machines {machine_counts(s, app)}")
    expect(bool(s.api.state.ips.get(app)), f"no IP address on {app}")
    expect(bool(s.fly()["pg"]), "no Postgres cluster in the fake fly")
    for zone in s.cloudflare()["zones"].values():
        # The program only ever turns HSTS on; the zone holds what the API took of it.
        held = zone["settings"].get("security_header")
        hsts = (held or {}).get("value", {}).get("strict_transport_security", {})
        expect(
            held is None or hsts.get("enabled") is True,
            f"zone {zone['name']}: Cloudflare holds security_header {hsts}, HSTS off",
        )


def phase_up(s: Stack) -> None:
    s.pulumi("up", "--yes", "--skip-preview")
    check_fakes_hold_stack(s)


def phase_noop(s: Stack) -> None:
    before_fly, before_api = len(s.fly_calls()), len(s.api.state.requests)
    before_cf = len(s.cloudflare_calls())
    before_gf = len(s.cloudflare_calls("FAKE_GRAFANA_LOG"))
    s.pulumi("up", "--yes", "--expect-no-changes")
    writes = [a for a in s.fly_calls()[before_fly:] if is_fly_write(a)]
    api = [
        f"{r.method} {r.path}"
        for r in s.api.state.requests[before_api:]
        if is_api_write(r.method, r.body)
    ]
    expect(not writes, f"the second up ran flyctl writes: {writes}")
    expect(not api, f"the second up sent Fly API writes: {api}")
    cf = [c["method"] for c in s.cloudflare_calls()[before_cf:] if c.get("wrote")]
    expect(not cf, f"the second up wrote to the fake Cloudflare: {cf}")
    gf = [c["method"] for c in s.cloudflare_calls("FAKE_GRAFANA_LOG")[before_gf:] if c["wrote"]]
    expect(not gf, f"the second up wrote to the fake Grafana: {gf}")


def phase_refresh(s: Stack) -> None:
    s.pulumi("refresh", "--yes", "--expect-no-changes")


def phase_drift(s: Stack) -> None:
    """Each out-of-band change alone, then `up --refresh`: each must be put back."""
    app = app_name(s)
    state = s.api.state
    with state.lock:
        removed = sorted(state.secrets[app])[0]
        del state.secrets[app][removed]
    s.pulumi("up", "--yes", "--refresh", "--skip-preview")
    expect(
        removed in state.secrets.get(app, {}), f"secret {removed} removed by hand was not put back"
    )

    with state.lock:
        released = state.ips[app].pop()
    s.pulumi("up", "--yes", "--refresh", "--skip-preview")
    expect(
        any(ip.get("type") == released.get("type") for ip in state.ips.get(app, [])),
        f"{released.get('type')} IP released by hand was not put back",
    )

    wanted = regions(s)
    down = max(wanted, key=lambda r: (wanted[r], r))  # a region with machines to lose
    s.fly_by_hand("scale", "count", str(wanted[down] - 1), "--region", down, "--app", app, "--yes")
    s.pulumi("refresh", "--yes", "--skip-preview")
    observed = machine_counts_output(s)
    expect(
        observed.get(down, 0) == wanted[down] - 1,
        f"refresh did not see {down} scaled down by hand: MachineCounts observed {observed}",
    )
    changed = previewed_changes(s)
    expect(
        len(changed) == 1 and changed[0][0] == "update" and changed[0][1].endswith("-machines"),
        f"{down} scaled down by hand previews as {changed}, not an update of MachineCounts",
    )
    s.pulumi("up", "--yes", "--skip-preview")
    expect(
        machine_counts(s, app) == wanted,
        f"{down} scaled down by hand was not put back: machines {machine_counts(s, app)}",
    )

    up = min(wanted, key=lambda r: (wanted[r], r))
    s.fly_by_hand("scale", "count", str(wanted[up] + 1), "--region", up, "--app", app, "--yes")
    s.pulumi("up", "--yes", "--refresh", "--skip-preview")
    expect(
        machine_counts(s, app) == wanted,
        f"{up} scaled up by hand was not put back: machines {machine_counts(s, app)}",
    )


def machine_counts_output(s: Stack) -> dict[str, int]:
    """MachineCounts' `observed` output in the stack's state (components/fly/machines.py)."""
    state = json.loads(s.pulumi("stack", "export").stdout)
    found = [
        r.get("outputs", {}).get("observed") or {}
        for r in state["deployment"].get("resources", [])
        if r["type"] == "pulumi-python:dynamic/fly:MachineCounts"
    ]
    expect(len(found) == 1, f"{len(found)} MachineCounts resources in the state")
    return {region: int(n) for region, n in found[0].items()}


def previewed_changes(s: Stack) -> list[tuple[str, str]]:
    """(op, name) of each custom resource `pulumi preview` would change. Components
    (the Platform declares its spec) change no cloud object: their "update" is
    bookkeeping, so only custom resources count."""
    steps = json.loads(s.pulumi("preview", "--json").stdout).get("steps", [])
    return [
        (st["op"], st["urn"].split("::")[-1])
        for st in steps
        if st["op"] != "same" and (st.get("newState") or st.get("oldState") or {}).get("custom")
    ]


def phase_image(s: Stack) -> None:
    s.config_set("webhost:image", NEW_IMAGE)
    changed = previewed_changes(s)
    expect(
        len(changed) == 1 and changed[0][0] == "update" and changed[0][1].endswith("-deploy"),
        f"a new image previews as {changed}, not an update of the deploy alone",
    )
    s.pulumi("up", "--yes", "--skip-preview")
    images = [d.get("image") for d in s.fly()["deploys"]]
    expect(images[-1:] == [NEW_IMAGE], f"the last deploy was {images[-1:]}, not {NEW_IMAGE}")


def phase_export(s: Stack) -> None:
    exported = s.pulumi("stack", "export", "--show-secrets=false").stdout
    app = app_name(s)
    values = dict(s.api.state.secrets.get(app, {}))
    secrets = {f"app secret {k}": v for k, v in values.items() if len(v) >= 8}
    secrets |= {f"operator {k}": v for k, v in OPERATOR.items()}
    secrets |= {"FLY_API_TOKEN": TOKEN, "CLOUDFLARE_API_TOKEN": CLOUDFLARE_TOKEN}
    secrets |= GRAFANA_TOKENS
    secrets |= {"the pager URL (fromEnv, then a secret)": PAGER}
    leaked = sorted(name for name, value in secrets.items() if value in exported)
    expect(not leaked, f"the exported state holds in plaintext: {leaked}")
    for name in ("DATABASE_URL", "REDIS_URL"):
        expect(name in values, f"the app has no {name} to look for")
    state = json.loads(exported)
    pickles = [
        (r["urn"], r["outputs"]["__provider"])
        for r in state["deployment"].get("resources", [])
        if isinstance(r.get("outputs"), dict) and "__provider" in r["outputs"]
    ]
    expect(bool(pickles), "no dynamic provider in the state")
    for urn, encoded in pickles:
        raw = encoded if isinstance(encoded, str) else json.dumps(encoded)
        blob = base64.b64decode(raw)
        expect(b"components" in blob, f"{urn}: the provider pickle names no module of ours")
        # cloudpickle pickles a class by value with _make_skeleton_class and its
        # functions with _make_function / CodeType (cloudpickle/cloudpickle.py).
        copied = [m for m in (b"_make_skeleton_class", b"_make_function", b"CodeType") if m in blob]
        expect(not copied, f"{urn}: the provider pickle embeds code ({copied})")


def phase_destroy_staging(s: Stack) -> None:
    s.pulumi("destroy", "--yes", "--skip-preview")
    app = app_name(s)
    left = {
        "api apps": sorted(s.api.state.apps),
        "api ips": {k: v for k, v in s.api.state.ips.items() if v},
        "api add-ons": sorted(s.api.state.add_ons),
        "fly apps": sorted(k for k, v in s.fly()["apps"].items() if v.get("machines")),
        "fly pg": sorted(s.fly()["pg"]),
        "cloudflare records": sorted(s.cloudflare()["dnsRecords"]),
    }
    leftovers = {k: v for k, v in left.items() if v}
    expect(not leftovers, f"destroy left {leftovers} (app {app})")


def phase_destroy_prod(s: Stack) -> None:
    refused = s.pulumi("destroy", "--yes", "--skip-preview", ok=False)
    expect(refused.returncode != 0, "destroy of protected prod was not refused", output(refused))
    expect("protect" in (refused.stdout + refused.stderr), "refusal names no protection")
    pg_before = sorted(s.fly()["pg"])
    s.pulumi("state", "unprotect", "--all", "--yes")
    s.pulumi("destroy", "--yes", "--skip-preview")
    expect(
        bool(pg_before) and sorted(s.fly()["pg"]) == pg_before,
        f"retained Postgres {pg_before} did not stay: {sorted(s.fly()['pg'])}",
    )


def phase_contact(s: Stack) -> None:
    """Issue 17: renaming a contact point takes one `up`. Its `name` forces a replacement
    and Grafana refuses to delete one the notification policy routes to: the new one is
    made and the policy re-pointed before the old one goes."""
    path = Path(s.env["FAKE_GRAFANA_STATE"])
    if "webhost:monitoring" not in (s.work / f"Pulumi.{s.name}.yaml").read_text():
        raise Skipped("the stack declares no monitoring")
    point = "webhost:monitoring.contactPoints[0]"
    # From the environment (the stack file's fromEnv) to a secret in the stack.
    s.pulumi("config", "rm", "--path", f"{point}.fromEnv")
    s.pulumi("config", "set", "--path", f"{point}.kind", "webhook")
    s.pulumi("config", "set", "--path", "--secret", f"{point}.url", PAGER)
    for name in ("oncall", "pager"):
        s.pulumi("config", "set", "--path", f"{point}.name", name)
        s.pulumi("up", "--yes", "--skip-preview")
        grafana = json.loads(path.read_text())
        held = sorted(grafana["contactPoints"])
        routed = grafana.get("notificationPolicy", {}).get("contactPoint")
        expect(held == [name] and routed == name, f"contact points {held}, policy to {routed}")
    # The data source's header as Fly's client builds it: one scheme, never two.
    token = GRAFANA_TOKENS["FLY_METRICS_TOKEN"]
    header = "sha256:" + hashlib.sha256(f"FlyV1 {token}".encode()).hexdigest()
    headers = [ds.get("httpHeaders") for ds in grafana["dataSources"].values()]
    expect(headers == [{"Authorization": header}], "the data source's header is not FlyV1 <token>")


PHASES: list[tuple[str, Callable[[Stack], None]]] = [
    ("preview", phase_preview),
    ("up", phase_up),
    ("noop", phase_noop),
    ("origin", phase_origin),
    ("refresh", phase_refresh),
    ("drift", phase_drift),
    ("image", phase_image),
    ("contact", phase_contact),
    ("restore", phase_restore),  # prod: a restore under protection (e2e/restore.py)
    ("workflows", phase_workflows),  # the GitHub jobs' own commands (e2e/workflows.py)
    ("rollback", phase_rollback),  # prod: rollback.yml, then the next up (e2e/rollback.py)
    ("export", phase_export),
]


# Issue 19's crash phase (e2e/crash.py) uses this module's helpers: run as a script,
# this module is its `e2e.run` too (one Failure class, not two).
sys.modules.setdefault("e2e.run", sys.modules[__name__])
from e2e.crash import phase_crash  # noqa: E402


def run_stack(
    name: str, keep_going: bool, only: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """Runs every phase (or those in `only`); returns (passed, failures). The crash
    phase runs on prod (or when named) on a fresh stack of its own, after the others."""
    failures: list[str] = []
    crash = [("crash", phase_crash)] if (only and "crash" in only) or (
        not only and name == "prod") else []  # fmt: skip
    with stack(name) as s:
        destroy = phase_destroy_staging if name == "staging" else phase_destroy_prod
        phases = [*PHASES, ("destroy", destroy)]
        for phase_name, phase in [p for p in phases if not only or p[0] in only]:
            try:
                with s.phase(phase_name):
                    phase(s)
            except Failure as failure:
                message = f"e2e FAILED: {failure}"
                print(message, file=sys.stderr)
                if failure.output:
                    print("--- engine output (tail) ---", file=sys.stderr)
                    print(failure.output, file=sys.stderr)
                failures.append(str(failure))
                if not keep_going or phase_name in ("up",):
                    break
        passed = s.passed
    for phase_name, phase in crash if not failures or keep_going else []:
        with stack(name) as fresh:
            try:
                with fresh.phase(phase_name):
                    phase(fresh)
            except Failure as failure:
                print(f"e2e FAILED: {failure}\n{failure.output}", file=sys.stderr)
                failures.append(str(failure))
            passed += fresh.passed
    return passed, failures


def engine_version() -> str:
    env = dict(os.environ)
    tools = engine_bin()
    if tools is not None:
        env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["pulumi", "version"], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def main(argv: list[str]) -> int:
    # `--phases crash` (or E2E_PHASES=crash,up): only those phases, by name.
    chosen = argv[argv.index("--phases") + 1] if "--phases" in argv[:-1] else ""
    argv = [a for a in argv if a not in ("--phases", chosen)]
    only = {p for p in (chosen or os.environ.get("E2E_PHASES", "")).split(",") if p} or None
    stacks = [a for a in argv if not a.startswith("-")] or ["staging", "prod"]
    keep_going = "--keep-going" in argv
    version = engine_version()
    print(f"e2e: pulumi {version}; stacks {', '.join(stacks)}", flush=True)
    # The workflows install the CLI for previews and applies at PULUMI_VERSION: the
    # engine proven here must be that one (tests/test_workflows.py holds them equal).
    pinned = {
        str(yaml.safe_load(path.read_text()).get("env", {}).get("PULUMI_VERSION"))
        for path in sorted((ROOT / ".github" / "workflows").glob("*.yml"))
        if "PULUMI_VERSION" in (yaml.safe_load(path.read_text()).get("env") or {})
    }
    if {f"v{v}" for v in pinned} != {version}:
        print(f"e2e failed: the workflows pin pulumi {sorted(pinned)}, the engine here is "
              f"{version}", file=sys.stderr)  # fmt: skip
        return 1
    summary: list[str] = []
    failed: list[str] = []
    for name in stacks:
        passed, failures = run_stack(name, keep_going, only)
        summary.append(f"{name} [{' '.join(passed)}]")
        failed += failures
    if failed:
        print(f"e2e failed: {len(failed)} phase(s): " + "; ".join(failed), file=sys.stderr)
        return 1
    print(f"e2e passed: pulumi {version}; " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
