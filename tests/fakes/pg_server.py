"""A real PostgreSQL server for the fake `fly` to run the scripts' SQL against.

Postgres Flex's Postgres listens on 5433 (postgres-flex internal/flypg/node.go,
`Port: 5433`); HAProxy holds 5432, over TCP only (postgres-flex config/haproxy.cfg).
Its pg_hba.conf trusts local socket connections as postgres and flypgadmin and asks
everyone else for a password (postgres-flex internal/flypg/pg.go setDefaultHBA).

This server listens where a member listens for a command run on it: a Unix socket
for port 5433 in a temporary directory (standing in for the machine's default
socket directory), with no TCP listener, so nothing here competes for a port with
anything else on the machine. The app's own connections reach a member over TCP
with a password (`host all all ::0/0 md5` there); with no TCP listener, the same
rule is written as `local all all md5`: a password, as there.

initdb and postgres refuse to run as root ("cannot be run as root"), so under root
the server runs as the `postgres` system user the Debian package makes, or `nobody`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes import fly_cli

# Debian's postgresql-15 package: server binaries here, psql (postgresql-client) on PATH.
BIN = Path("/usr/lib/postgresql/15/bin")
PORT = fly_cli.FLEX_PORT  # postgres-flex internal/flypg/node.go
INSTALL = (
    f"these tests run SQL on a real PostgreSQL server and found no {BIN}/initdb or no psql "
    "on PATH: install it with `apt-get install postgresql-15` (Debian)"
)
# The environment name under which the fake `fly` finds the server's socket directory.
SOCKET_ENV = fly_cli.PG_SOCKET_ENV

# postgres-flex internal/flypg/pg.go setDefaultHBA, the local lines (the repmgr ones
# are for replication, which this single server does not do), then the password rule.
HBA = """\
local all postgres trust
local all flypgadmin trust
local all all md5
"""


def missing() -> str | None:
    """Why no server can start here (one line naming the package), or None."""
    if not (BIN / "initdb").is_file() or shutil.which("psql") is None:
        return INSTALL
    return None


@dataclass(frozen=True)
class Server:
    socket_dir: Path

    def env(self) -> dict[str, str]:
        """What the fake `fly` needs in its environment to run SQL on this server."""
        return {SOCKET_ENV: str(self.socket_dir)}

    def psql(
        self,
        sql: str,
        *,
        database: str = "postgres",
        user: str = "postgres",
        password: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `sql` with psql (stops at the first error, unaligned rows on stdout)."""
        env = {**os.environ, "PGHOST": str(self.socket_dir), "PGPORT": str(PORT)}
        env.pop("PGPASSWORD", None)
        if password is not None:
            env["PGPASSWORD"] = password
        return subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", database],
            input=sql,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def query(self, sql: str, database: str = "postgres") -> list[str]:
        """Rows of `sql` run as postgres, one string a row; any error raises."""
        done = self.psql(sql, database=database)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.splitlines()

    def reset(self) -> None:
        """Back to what initdb left: every other database and role dropped. One psql
        (its \\gexec runs each generated statement on its own, outside a transaction, as
        DROP DATABASE needs): it runs before and after every test that uses the server."""
        done = self.psql(
            "SELECT format('DROP DATABASE %I WITH (FORCE)', datname) FROM pg_database "
            "WHERE datname NOT IN ('postgres', 'template0', 'template1') \\gexec\n"
            "SELECT format('DROP OWNED BY %1$I; DROP ROLE %1$I', rolname) FROM pg_roles "
            "WHERE rolname !~ '^pg_' AND rolname <> 'postgres' \\gexec\n"
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")


def _server_user() -> pwd.struct_passwd | None:
    """Whom the server runs as: this user unless root, which initdb and postgres refuse."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root with neither a `postgres` nor a `nobody` user")


def _run(argv: list[str], owner: pwd.struct_passwd | None) -> None:
    as_owner: dict[str, object] = {}
    if owner is not None:
        as_owner = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd="/",
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        **as_owner,  # type: ignore[arg-type]
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}")


@contextmanager
def running() -> Iterator[Server]:
    """A fresh server in a temporary directory, stopped and removed afterwards."""
    problem = missing()
    if problem is not None:
        raise RuntimeError(problem)
    owner = _server_user()
    base = Path(tempfile.mkdtemp(prefix="webhost-pg-"))
    data, sockets, log = base / "data", base / "sockets", base / "server.log"
    sockets.mkdir()
    if owner is not None:
        for path in (base, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    try:
        initdb = [str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8"]
        _run([*initdb, "--locale=C", "--auth-local=trust", "--no-sync"], owner)
        (data / "pg_hba.conf").write_text(HBA)
        options = (
            f"-c port={PORT} -c listen_addresses='' -c unix_socket_directories='{sockets}' "
            "-c fsync=off"
        )
        _run([str(BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
             owner)  # fmt: skip
        try:
            yield Server(sockets)
        finally:
            _run([str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], owner)
    finally:
        shutil.rmtree(base, ignore_errors=True)
