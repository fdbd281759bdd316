"""A fake `fly` executable: the flyctl subcommands the scripts use, with Fly's behaviour.

Facts are from flyctl's source at commit ad0172face303b77584eea95b46fa3ddc61d5ddd
(superfly/flyctl), fly-go 22d6e518 (superfly/fly-go) and postgres-flex d263c9ed
(fly-apps/postgres-flex); each handler names the file it follows.

Laid out like what it fakes (as moto lays out one package per AWS service):
- root.py: the command tree and its flags, argv parsed the way cobra does (an unknown
  subcommand or flag fails with cobra's own text and exit status 1);
- command/<group>: one module per flyctl command group (internal/command/<group>/),
  only the called one imported per call;
- models.py: the one state store (a JSON file, $FAKE_FLY_STATE) and the platform
  rules every group shares; machine_types.py: fly-go's machine metadata;
- flex.py: what runs on a Postgres Flex member (psql, the admin API's SQL, barman);
- errors.py: flyctl's errors as it prints them;
- main.py: one call start to end, and the faults the environment injects (listed there).

Run it as `python tests/fakes/fly_cli ARGS` (EXECUTABLE below); `install` puts a `fly`
wrapper on a PATH directory.
"""

from __future__ import annotations

import os
import sys

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.machine_types import FLEX_PORT, PG_SOCKET_ENV, launch_metadata
from tests.fakes.fly_cli.main import modelled_duration
from tests.fakes.fly_cli.models import Fly, load
from tests.fakes.fly_cli.root import COMMANDS, Call, parse

# What `python` runs as the fake `fly`: this package's directory (its __main__.py).
EXECUTABLE = os.path.dirname(os.path.abspath(__file__))
# What the installed wrapper runs: the __main__.py itself. A directory is run through
# runpy, which imports importlib's machinery first: ~5 ms of a ~23 ms call.
MAIN = os.path.join(EXECUTABLE, "__main__.py")

__all__ = [
    "COMMANDS",
    "EXECUTABLE",
    "FLEX_PORT",
    "PG_SOCKET_ENV",
    "Call",
    "Fail",
    "Fly",
    "install",
    "launch_metadata",
    "load",
    "modelled_duration",
    "parse",
]


def install(bin_dir: str | os.PathLike[str]) -> str:
    """Write `bin_dir/fly`, a shell wrapper that runs the fake with this interpreter
    (-S: no site-packages, the fake needs only the standard library; it starts once
    per flyctl call). Returns its path."""
    fly = os.path.join(bin_dir, "fly")
    with open(fly, "w") as file:
        file.write(f'#!/bin/sh\nexec "{sys.executable}" -S "{MAIN}" "$@"\n')
    os.chmod(fly, 0o755)
    return fly
