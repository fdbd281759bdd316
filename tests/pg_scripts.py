"""What the Postgres script tests share (tests/test_postgres_*.py): the prod stack's
names, running and judging a script, and the cluster fixtures are tests/conftest.py's.

Each test takes the command exactly as the program registers it (script and
environment) from an evaluation of the prod stack, and runs it the way
local.Command does. The SQL (psql over `fly ssh console`, and what `fly postgres
attach` / `detach` run through postgres-flex) runs on a real PostgreSQL 15 server
(tests/fakes/pg_server.py). It loads uuid-ossp (contrib); Debian packages no
TimescaleDB, and PostGIS only apart: those are the extensions a test shows failing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from components import postgres
from tests.conftest import FakeFly, run_command
from tests.fakes.pg_server import Server

CLUSTER = "webhost-prod-db"
APP = "webhost-prod"


def with_env(inputs: dict[str, Any], **env: str) -> dict[str, Any]:
    return {**inputs, "environment": {**inputs["environment"], **env}}


def ok(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return done


def argvs(fly: FakeFly) -> list[list[str]]:
    return [call["argv"] for call in fly.calls()]


def failed(done: Any) -> Any:
    assert done.returncode != 0, done.stdout + done.stderr
    return done


def edit(fly: FakeFly, change: Any) -> None:
    """Change the fake's state the way something outside the program would."""
    state = fly.snapshot()
    change(state)
    fly.state.write_text(json.dumps(state))


def size(commands: dict[str, dict[str, Any]]) -> int:
    return int(commands["webhost-db"]["environment"]["WEBHOST_CLUSTER_SIZE"])


def unprotected(inputs: dict[str, Any]) -> dict[str, Any]:
    """The same command as an unprotected stack (staging) declares it."""
    return with_env(inputs, WEBHOST_PROTECTED="false")


# The one extension of the prod stack's three that the local server can load (contrib).
LOADABLE = "uuid-ossp"


def loadable(commands: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The setup as the prod stack declares it, asking only for what the server has."""
    setup = commands["webhost-db-setup"]
    assert LOADABLE in setup["environment"]["WEBHOST_EXTENSIONS"].split()
    return with_env(setup, WEBHOST_EXTENSIONS=LOADABLE)


def password_of(attach_stdout: str) -> str:
    password = urlsplit(postgres.attached_url(attach_stdout)).password
    assert password
    return password


def extensions(pg: Server, database: str = "webhost_prod") -> list[str]:
    return pg.query("SELECT extname FROM pg_extension ORDER BY extname", database)


def owner(pg: Server, database: str = "webhost_prod") -> str:
    rows = pg.query(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{database}'")
    return rows[0]


def roles_of(pg: Server, user: str) -> list[str]:
    return pg.query(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        f"JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = '{user}' ORDER BY 1"
    )


def called(fly: FakeFly, *prefix: str) -> list[list[str]]:
    """The flyctl calls made whose argv starts with `prefix`."""
    return [a for a in argvs(fly) if a[: len(prefix)] == list(prefix)]


def as_app(pg: Server, sql: str, password: str) -> Any:
    """`sql` run as the app runs it: its own user, on its own database."""
    return pg.psql(sql, database="webhost_prod", user="webhost_prod", password=password)


def delete_fails_when(fly: FakeFly, inputs: dict[str, Any], tmp_path: Path, fault: str) -> None:
    """The command made, then its delete run with `fault` ($FAKE_FLY_FAIL): it fails."""
    ok(run_command(inputs, fly, tmp_path))
    failed(run_command(inputs, fly, tmp_path, script="delete", FAKE_FLY_FAIL=fault))
