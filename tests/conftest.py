"""Shared fixtures: the real stack files, the in-process program runner, and the fakes
standing in for Fly at its boundaries (the REST API, the `fly` binary)."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import engine, stackfile
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
) -> engine.Evaluation:
    """Evaluate the real program with `config` (a stack file's mapping), as the plan does."""
    loaded = stackfile.load(write_stack(tmp_path, config, stack), PROJECT_FILE)
    return engine.evaluate(
        PROGRAM,
        project=loaded.project,
        stack=loaded.stack,
        config=loaded.config,
        secret_keys=sorted(loaded.secret_keys),
        preview=preview,
        mocks=mocks,
    )


@pytest.fixture
def fly_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFlyApi]:
    with FakeFlyApi() as api:
        monkeypatch.setenv("FLY_API_HOSTNAME", api.url)
        monkeypatch.setenv("FLY_API_TOKEN", TOKEN)
        yield api


@dataclass
class FakeFly:
    bin_dir: Path
    state: Path
    log: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_FLY_STATE": str(self.state),
            "FAKE_FLY_LOG": str(self.log),
            "FLY_API_TOKEN": "fly-token-that-must-not-leak",
            **extra,
        }

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def machines(self, app: str) -> dict[str, int]:
        if not self.state.exists():
            return {}
        apps: dict[str, dict[str, int]] = json.loads(self.state.read_text())["apps"]
        return apps.get(app, {})

    def deploys(self) -> list[dict[str, Any]]:
        deploys: list[dict[str, Any]] = json.loads(self.state.read_text())["deploys"]
        return deploys


@pytest.fixture
def fake_fly(tmp_path: Path) -> FakeFly:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fly = bin_dir / "fly"
    source = Path(__file__).parent / "fakes" / "fly_cli.py"
    fly.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{source}" "$@"\n')
    fly.chmod(fly.stat().st_mode | stat.S_IXUSR)
    return FakeFly(bin_dir, tmp_path / "fly-state.json", tmp_path / "fly-calls.jsonl")
