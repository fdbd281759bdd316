"""`fly postgres connect`: flyctl internal/command/postgres/connect.go."""

from __future__ import annotations

import os

from tests.fakes.fly_cli.errors import NO_TTY, Fail
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def postgres_connect(fly: Fly, a: Call) -> None:
    fly.pg(a.get("app"))
    # postgres/connect.go runs psql over `fly ssh` with a PTY: it needs a terminal
    if not os.isatty(0):
        raise Fail(NO_TTY)


HANDLERS = {
    ("postgres", "connect"): postgres_connect,
}
