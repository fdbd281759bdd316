"""The world of fakes one e2e stack runs in, started by `stack(name)`.

In a temporary directory: the fake Fly API (tests/fakes/fly_api/, in this process,
on 127.0.0.1) whose apps are mirrored into the fake `fly`'s state (tests/fakes/fly_cli/,
first on PATH); the fake Cloudflare and Grafana plugins on PATH (e2e/fake_*/bin) and
their REST faces for `webhost-infra preflight`; a copy of the project with a file
backend, a passphrase secrets provider and a PULUMI_HOME of its own. The fake Fly checks
certificates against the fake Cloudflare's records (its state file, read through
e2e/fake_cloudflare/fakecf/world.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import yaml

from e2e.harness import (
    APP_IMAGE_CONFIG,
    CLOUDFLARE_BIN,
    CLOUDFLARE_TOKEN,
    GRAFANA_BIN,
    GRAFANA_TOKENS,
    OPERATOR,
    PAGER,
    PASSPHRASE,
    REGISTRY_TAGS,
    ROOT,
    TOOLS_BIN,
    Stack,
    engine_bin,
)
from tests.fakes import fly_cli, python3
from tests.fakes.fly_api import TOKEN, FakeFlyApi

# The fake Cloudflare's package (and the fakes' shared one), for its DNS as the fake
# Fly sees it: one world, Fly's certificate checks read the records the plugin wrote.
sys.path[:0] = [str(ROOT / "e2e"), str(ROOT / "e2e" / "fake_cloudflare")]
sys.path.append(str(ROOT / "e2e" / "fake_grafana"))
from fakecf.rest import FakeCloudflareApi  # noqa: E402
from fakecf.store import Store as CloudflareStore  # noqa: E402
from fakecf.store import parse_zones  # noqa: E402
from fakecf.world import ZoneRecords  # noqa: E402
from fakegrafana.rest import FakeGrafanaApi  # noqa: E402
from fakegrafana.store import Store as GrafanaStore  # noqa: E402


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


def grafana_state(tmp: Path) -> Path:
    """The fake Grafana's state file: its plugin writes it, its REST face reads it."""
    return tmp / "grafana-state.json"


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
            "FAKE_GRAFANA_STATE": str(grafana_state(tmp)),
            "FAKE_GRAFANA_LOG": str(tmp / "grafana-calls.jsonl"),
            **GRAFANA_TOKENS,
            # Where `webhost-infra preflight` reads (cli/preflight/): the fakes' REST
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
        fly = Path(fly_cli.install(tmp / "bin"))  # `fly`: the fake, first on PATH
        # The scripts' `python3` beside it: PATH's interpreter run with -S, as in the
        # unit suite (tests/fakes/python3.py: proves they need only its standard library).
        python3.install(tmp / "bin")
        work = tmp / "project"
        copy_project(work)
        doc = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())
        zone = str(doc["config"].get("webhost:domain", {}).get("zone", ""))
        cloudflare = FakeCloudflareApi(
            CloudflareStore(cloudflare_state(tmp), parse_zones(zone)), CLOUDFLARE_TOKEN
        )
        grafana = FakeGrafanaApi(
            GRAFANA_TOKENS["GRAFANA_AUTH"],
            GRAFANA_TOKENS["GRAFANA_SM_ACCESS_TOKEN"],
            GrafanaStore(grafana_state(tmp)),
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
