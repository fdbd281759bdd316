"""What runs on a Postgres Flex member (fly-apps/postgres-flex), as far as the
scripts reach it through flyctl: psql (on a real server, or modelled), the admin
API's SQL, flexctl's barman settings check, and the backups and archived WAL a
restore is made from.

SQL: with $FAKE_FLY_PG_SOCKET_DIR naming the socket directory of a real PostgreSQL
server (tests/fakes/pg_server.py), `ssh console --command psql ...` runs that psql
against it, as it would run on the member, and `postgres attach` / `detach` / `apps
destroy` run there the SQL postgres-flex's admin API runs. Without it (the e2e
lifecycle, whose stacks ask for TimescaleDB and PostGIS, which no server here can
load), psql is modelled: the extensions it would create are recorded in the state,
and a few statements on rows (CREATE TABLE, INSERT, SELECT * / count(*)), enough to
show what a restore brings back.

Backups and restores (modelled, never on the real server, which is one for all
clusters): `postgres backup create` records a base backup of the modelled data;
after every call, a cluster whose leader archives gets its changed data recorded
with the time (archived WAL); `postgres backup restore` makes a new cluster from
the base backup and WAL postgres-flex would pick for the target.
"""

from __future__ import annotations

import json
import os
import re
import sys

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.machine_types import (
    BARMAN_SECRET,
    FLEX_PORT,
    MEMBER_SOCKET_DIR,
    PG_SOCKET_ENV,
    PSQL_DEFAULT_PORT,
)
from tests.fakes.fly_cli.models import FLEX_ROLES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

_GO_NS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1, "m": 60}


def barman_validate(change: dict[str, str | None]) -> str | None:
    """postgres-flex internal/flypg/barman_config.go Validate, for the two keys used."""
    window = change.get("recovery_window")
    if window is not None:
        found = re.fullmatch(r"([0-9]+)([dwy])", window)
        if not found:
            return f"invalid value for recovery_window: {window}"
        if int(found.group(1)) < 1:
            return (
                "invalid value for recovery_window (expected to be >= 1, got "
                f"{int(found.group(1))})"
            )
    frequency = change.get("full_backup_frequency")
    if frequency is not None:
        # time.ParseDuration (sign, decimal numbers, units), then Hours() < 1
        units = {**_GO_NS, "h": 3600}
        body = frequency[1:] if frequency[:1] in ("+", "-") else frequency
        parts = re.findall(r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)", body)
        if body != "0" and (
            not parts
            or "".join(n + u for n, u in parts) != body
            or any(n in ("", ".") for n, _ in parts)
        ):
            return f"invalid value for full_backup_frequency: {frequency}"
        seconds = sum(float(n) * units[u] for n, u in parts)
        if frequency.startswith("-") or seconds < 3600:
            return (
                f"invalid value for full_backup_frequency (expected to be >= 1h, got {frequency})"
            )
    return None


def psql_modelled(
    cluster: dict[str, Any], machine: dict[str, Any], database: str, script: str, argv: list[str]
) -> int:
    """psql reading statements from stdin: exits 0 after a failed statement unless
    ON_ERROR_STOP is set (then 3); with --single-transaction nothing is kept."""
    stop = "ON_ERROR_STOP=1" in argv
    single = "--single-transaction" in argv or "-1" in argv
    port = _psql_port(argv)
    if port != FLEX_PORT:
        print(_no_socket(port), file=sys.stderr)
        return 2  # psql: the connection failed
    if database not in cluster["databases"]:
        print(f'psql: error: FATAL:  database "{database}" does not exist', file=sys.stderr)
        return 2
    made = cluster["extensions"].setdefault(database, [])
    pending = list(made)
    tables = cluster.setdefault("rows", {}).setdefault(database, {})
    work = json.loads(json.dumps(tables))
    dropped: list[str] = []

    def commit() -> None:
        made[:] = pending
        tables.clear()
        tables.update(work)
        for role in dropped:
            cluster["users"].pop(role, None)
            if role in cluster.get("superusers", []):
                cluster["superusers"].remove(role)

    failing = os.environ.get("FAKE_FLY_REMOTE_FAIL")
    for statement in filter(None, (s.strip() for s in script.split(";"))):
        if machine.get("role") != "primary":
            print(
                "ERROR:  cannot execute CREATE EXTENSION in a read-only transaction",
                file=sys.stderr,
            )
            error = True
        elif failing and failing in statement:
            print(f"ERROR:  could not open extension control file ({failing})", file=sys.stderr)
            error = True
        else:
            error = not _modelled_statement(statement, cluster, work, pending, dropped)
        if error and stop:
            if not single:
                commit()
            return 3
    commit()
    return 0


def _modelled_statement(
    statement: str,
    cluster: dict[str, Any],
    tables: dict[str, list[str]],
    extensions: list[str],
    dropped: list[str],
) -> bool:
    """One statement of the few the scripts, the e2e and the drill send, on the model:
    extensions, a table of rows, the database list, dropping a role. Its output as
    psql prints it (-At: rows one a line; otherwise the command tag). False on error."""
    text = " ".join(statement.split())
    if found := re.fullmatch(r'CREATE EXTENSION IF NOT EXISTS "([^"]+)" CASCADE', text):
        if found.group(1) not in extensions:
            extensions.append(found.group(1))
    elif found := re.fullmatch(r"CREATE TABLE (IF NOT EXISTS )?(\w+) \(.*\)", text, re.I):
        if found.group(2) in tables and not found.group(1):
            print(f'ERROR:  relation "{found.group(2)}" already exists', file=sys.stderr)
            return False
        tables.setdefault(found.group(2), [])
    elif found := re.fullmatch(r"INSERT INTO (\w+) VALUES \((.*)\)", text, re.I):
        if found.group(1) not in tables:
            print(f'ERROR:  relation "{found.group(1)}" does not exist', file=sys.stderr)
            return False
        tables[found.group(1)].append(found.group(2).strip("'"))
        print("INSERT 0 1")
        return True
    elif found := re.fullmatch(r"SELECT (count\(\*\)|\*) FROM (\w+)", text, re.I):
        if found.group(2) not in tables:
            print(f'ERROR:  relation "{found.group(2)}" does not exist', file=sys.stderr)
            return False
        rows = tables[found.group(2)]
        print(len(rows) if found.group(1) != "*" else "\n".join(rows))
        return True
    elif re.fullmatch(r"SELECT datname FROM pg_database WHERE datallowconn", text, re.I):
        print("\n".join(cluster["databases"]))
        return True
    elif found := re.fullmatch(r'DROP ROLE "?(\w+)"?', text, re.I):
        if found.group(1) not in cluster["users"]:
            print(f'ERROR:  role "{found.group(1)}" does not exist', file=sys.stderr)
            return False
        dropped.append(found.group(1))
    elif text.upper() == "SELECT 1":
        print(1)
        return True
    print(" ".join(statement.split()[:2]).upper())
    return True


def now() -> datetime:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def snapshot(cluster: dict[str, Any]) -> dict[str, Any]:
    """What a base backup or WAL holds of a cluster: its databases, roles (but
    postgres-flex's own), extensions and rows."""
    own = FLEX_ROLES
    copied: dict[str, Any] = json.loads(
        json.dumps(
            {
                "databases": cluster["databases"],
                "users": {u: p for u, p in cluster["users"].items() if u not in own},
                "superusers": [u for u in cluster.get("superusers", []) if u not in own],
                "extensions": cluster["extensions"],
                "rows": cluster.get("rows", {}),
            }
        )
    )
    return copied


def restored_data(
    cluster: dict[str, Any], target_time: str | None, target_name: str | None
) -> dict[str, Any]:
    """postgres-flex barman_restore.go restoreFromBackup: a DONE base backup by
    name/id, or the newest ending before the target time (resolveBackupFromTime),
    then WAL replayed to the target time, or to the newest archived point."""
    from datetime import datetime

    done = [b for b in cluster.get("base_backups", []) if b["status"] == "DONE"]
    if not done:
        raise Fail("failed to restore base backup: no backups found")
    history = [(h["at"], h["data"]) for h in cluster.get("wal", [])]
    if target_name:
        base = next((b for b in done if target_name in (b["backup_id"], b["backup_name"])), None)
        if base is None:
            raise Fail(
                "failed to resolve backup target by id/name: "
                f"no backup found with id/name {target_name}"
            )
    elif target_time:
        wanted = datetime.fromisoformat(target_time)
        before = [b for b in done if datetime.fromisoformat(b["end_at"]) <= wanted]
        base = before[-1] if before else done[0]
        if datetime.fromisoformat(base["end_at"]) > wanted:
            raise Fail("requested recovery stop point is before consistent recovery point")
        history = [(at, d) for at, d in history if datetime.fromisoformat(at) <= wanted]
    else:
        base = done[-1]
    after = [(at, d) for at, d in history if at >= base["end_at"]]
    return after[-1][1] if after else dict(base["data"])


def archive_wal(state: dict[str, Any]) -> None:
    """Archived WAL, as point-in-time states: after each call, a cluster whose leader
    archives (S3_ARCHIVE_CONFIG in its environment, postgres-flex archive_command)
    and whose data changed gets its new state recorded with the time."""
    for name, cluster in state.get("pg", {}).items():
        app = state["apps"].get(name)
        leaders = [m for m in (app or {}).get("machines", []) if m.get("role") == "primary"]
        if not leaders or BARMAN_SECRET not in leaders[0].get("env_secrets", []):
            continue
        data, wal = snapshot(cluster), cluster.setdefault("wal", [])
        if not wal or wal[-1]["data"] != data:
            wal.append({"at": now().isoformat(), "data": data})


def _psql_port(argv: list[str]) -> int:
    """The port psql is told (-p N, -pN, --port N, --port=N), else its default."""
    for i, word in enumerate(argv):
        if word in ("-p", "--port") and i + 1 < len(argv):
            return int(argv[i + 1])
        if word.startswith("--port="):
            return int(word.partition("=")[2])
        if word.startswith("-p") and word[2:].isdigit():
            return int(word[2:])
    return PSQL_DEFAULT_PORT


def _no_socket(port: int) -> str:
    """psql's error when nothing listens on the socket it tries (libpq fe-connect.c)."""
    return (
        f'psql: error: connection to server on socket "{MEMBER_SOCKET_DIR}/.s.PGSQL.{port}" '
        "failed: No such file or directory\n\tIs the server running locally and accepting "
        "connections on that socket?"
    )


def psql_on_server(socket: str, machine: dict[str, Any], argv: list[str]) -> int:
    """Run the psql command line on the real server, as on the member: the server's
    socket directory stands in for the member's default one (PGHOST), and psql keeps
    its own default port, so a command without `-p 5433` finds no socket, as there.
    A replica is a hot standby: every transaction on it is read-only."""
    env = {"PATH": os.environ["PATH"], "PGHOST": socket, "LC_ALL": "C"}
    if machine.get("role") != "primary":
        env["PGOPTIONS"] = "-c default_transaction_read_only=on"
    import subprocess

    sys.stdout.flush()
    return subprocess.run(argv, env=env, check=False, timeout=120).returncode


def admin_sql(sql: str, database: str = "postgres") -> list[str]:
    """What postgres-flex's admin API runs on the leader, as postgres (internal/api
    handler.go localConnection), on the real server when there is one: rows, one a
    line; an error fails the call as flyctl reports the API's 500."""
    socket = os.environ.get(PG_SOCKET_ENV)
    if not socket:
        return []
    import subprocess

    done = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-d", database],
        input=sql,
        env={"PATH": os.environ["PATH"], "PGHOST": socket, "PGPORT": str(FLEX_PORT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode:
        raise Fail(f"500 Internal Server Error: {done.stderr.strip()}")
    return done.stdout.splitlines()
