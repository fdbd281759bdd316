"""The stack config tests' shared cases: prod's stack file with some keys changed, and
the lines it is refused with: by the parse (tests/test_config*.py), by `webhost-infra
plan` and by the program as under `pulumi up` (tests/test_bad_input*.py)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import stackfile
from cli.main import main
from components import config
from components.config import ConfigError
from tests.conftest import PROGRAM, PROJECT_FILE, ROOT


@functools.cache
def _prod() -> tuple[tuple[str, str], ...]:
    return tuple(stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE).config.items())


def base() -> dict[str, str]:
    """Prod's config as Pulumi hands it to the program (read once; a fresh dict each call)."""
    return dict(_prod())


def text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def problems(secret_keys: tuple[str, ...] = (), **overrides: Any) -> list[str]:
    raw = base()
    for key, value in overrides.items():
        if value is None:
            raw.pop(f"webhost:{key}", None)
        else:
            raw[f"webhost:{key}"] = text(value)
    with pytest.raises(ConfigError) as caught:
        config.parse(raw, secret_keys)
    return caught.value.problems


def only(**overrides: Any) -> str:
    found = problems(**overrides)
    assert len(found) == 1, found
    return found[0]


class NothingRegistered(Exception):
    """A resource reached the mocks: the config should have stopped the program first."""


def refused_under_up(changed: Mapping[str, str], secret_keys: Sequence[str] = ()) -> list[str]:
    """The lines the program, run as under `pulumi up`, refuses prod's config with these
    keys changed (text, as the engine hands them over) before it registers anything."""
    from cli import engine
    from tests.known import KnownMocks

    class Refuse(KnownMocks):
        def new_resource(self, args: Any) -> Any:
            raise NothingRegistered(args.name)

    loaded = stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE)
    with pytest.raises(ConfigError) as caught:
        engine.evaluate(
            PROGRAM,
            project=loaded.project,
            stack=loaded.stack,
            config=loaded.config | dict(changed),
            secret_keys=list(secret_keys),
            mocks=Refuse(),
        )
    return caught.value.problems


def refused_on_plan(
    doc: Mapping[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """`webhost-infra plan` of a stack file with this config: exit 2, nothing on stdout,
    no traceback. Returns the lines on stderr."""
    stack = tmp_path / "Pulumi.bad.yaml"
    stack.write_text(yaml.dump({"config": dict(doc)}, Dumper=yaml.CSafeDumper, sort_keys=False))
    code = main(["plan", "--stack-file", str(stack)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    return err.splitlines()
