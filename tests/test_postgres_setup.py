"""The setup script (postgres_setup.sh) on a real PostgreSQL server, and what holds
across every Postgres script (tests/pg_scripts.py says how they run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FakeFly, run_command
from tests.fakes.pg_server import Server
from tests.pg_scripts import (
    CLUSTER,
    argvs,
    as_app,
    extensions,
    failed,
    loadable,
    ok,
    owner,
    password_of,
    roles_of,
    with_env,
)


def test_setup_creates_extensions_and_sets_max_connections(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    assert extensions(pg) == ["plpgsql", "uuid-ossp"]
    assert sql_cluster.cluster(CLUSTER)["max_connections"] == 200
    again = ok(run_command(loadable(commands), sql_cluster, tmp_path))  # "no changes"
    assert "no changes to apply" in again.stderr
    assert extensions(pg) == ["plpgsql", "uuid-ossp"]
    ssh = next(a for a in argvs(sql_cluster) if a[:2] == ["ssh", "console"])
    assert "--pty" not in ssh
    assert "ON_ERROR_STOP=1" in ssh[ssh.index("--command") + 1]


@pytest.mark.parametrize(
    "wanted",
    [
        "uuid-ossp timescaledb",  # one made, then one the server lacks: neither stays
        "timescaledb postgis uuid-ossp",  # the prod stack's list as it is
    ],
)
def test_setup_with_an_extension_the_server_lacks_fails_and_keeps_nothing(
    sql_cluster: FakeFly,
    commands: dict[str, dict[str, Any]],
    tmp_path: Path,
    pg: Server,
    wanted: str,
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    granted = roles_of(pg, "webhost_prod")
    setup = with_env(commands["webhost-db-setup"], WEBHOST_EXTENSIONS=wanted)
    done = failed(run_command(setup, sql_cluster, tmp_path))
    assert 'extension "timescaledb" is not available' in done.stderr
    assert "Process exited with status 3" in done.stderr
    assert extensions(pg) == ["plpgsql"]  # the whole transaction rolled back
    assert owner(pg) == "postgres" and roles_of(pg, "webhost_prod") == granted
    assert sql_cluster.cluster(CLUSTER)["max_connections"] != 200  # it stopped there


def test_setup_leaves_the_app_owning_its_database_and_able_to_migrate(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    password = password_of(done.stdout)
    assert owner(pg) == "webhost_prod"
    migrated = as_app(
        pg,
        "CREATE TABLE accounts (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), name text);"
        "CREATE INDEX accounts_name ON accounts (name);"
        "INSERT INTO accounts (name) VALUES ('a');"
        "ALTER TABLE accounts ADD COLUMN created timestamptz;"
        "SELECT count(*) FROM accounts;",
        password,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.split() == ["1"]


def test_setup_leaves_the_app_no_way_into_another_database(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    done = ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    password = password_of(done.stdout)
    # another app's database on the same sql_cluster, as postgres-flex makes one
    pg.query("CREATE DATABASE reports")
    pg.query("GRANT CREATE on SCHEMA PUBLIC to PUBLIC;", "reports")
    pg.query("CREATE TABLE figures (n int); INSERT INTO figures VALUES (42)", "reports")
    # what postgres-flex's GrantAccess alone gives the user: every table, everywhere
    before = pg.psql("SELECT n FROM figures", database="reports", user="webhost_prod",
                     password=password)  # fmt: skip
    assert before.stdout.split() == ["42"]
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    assert roles_of(pg, "webhost_prod") == []
    # (creating tables there is that database's own setting: postgres-flex lets every
    # role create in a new database's public schema; its app's setup revokes that)
    for sql in ("SELECT n FROM figures", "INSERT INTO figures VALUES (1)"):
        refused = pg.psql(sql, database="reports", user="webhost_prod", password=password)
        assert refused.returncode != 0 and "permission denied" in refused.stderr, sql
    assert pg.query("SELECT n FROM figures", "reports") == ["42"]
    # and the cluster's other users no longer reach the app's database
    pg.query("CREATE USER other_app WITH LOGIN PASSWORD 'other-password'")
    kept_out = pg.psql("SELECT 1", database="webhost_prod", user="other_app",
                       password="other-password")  # fmt: skip
    assert kept_out.returncode != 0 and "permission denied for database" in kept_out.stderr


def test_setup_after_a_re_attach_gives_the_new_user_its_database_back(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path, pg: Server
) -> None:
    attach = commands["webhost-db-attach"]
    first = ok(run_command(attach, sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    made = as_app(
        pg,
        "CREATE SCHEMA billing; CREATE TYPE mood AS ENUM ('ok');"
        "CREATE TABLE kept (id serial PRIMARY KEY, n int, m mood,"
        " u uuid DEFAULT uuid_generate_v4());"
        "CREATE TABLE billing.lines (id bigint GENERATED ALWAYS AS IDENTITY, n int);"
        "CREATE SEQUENCE tickets; CREATE VIEW seen AS SELECT n FROM kept;"
        "CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS s FROM kept;"
        "CREATE FUNCTION twice(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';"
        "INSERT INTO kept (n, m) VALUES (7, 'ok');",
        password_of(first.stdout),
    )
    assert made.returncode == 0, made.stderr
    # the attachment replaced: detached (postgres-flex gives the user's objects to
    # postgres), attached again under the same name, then the setup runs again
    # (components/postgres.py replaces it with the attach)
    ok(run_command(attach, sql_cluster, tmp_path, script="delete"))
    assert owner(pg) == "postgres"
    done = ok(run_command(attach, sql_cluster, tmp_path))
    assert roles_of(pg, "webhost_prod") == ["pg_read_all_data", "pg_write_all_data"]
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    assert owner(pg) == "webhost_prod" and roles_of(pg, "webhost_prod") == []
    migrated = as_app(
        pg,
        "INSERT INTO kept (n, m) VALUES (1, 'ok'); INSERT INTO billing.lines (n) VALUES (1);"
        "SELECT nextval('tickets'); REFRESH MATERIALIZED VIEW totals;"
        "ALTER TABLE kept ADD COLUMN note text; ALTER TYPE mood ADD VALUE 'sad';"
        "ALTER SCHEMA billing RENAME TO invoices;"
        "CREATE OR REPLACE VIEW seen AS SELECT n, m FROM kept;"
        "SELECT twice(s::int) FROM totals;",
        password_of(done.stdout),
    )
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.split() == ["1", "16"]
    # the extension's own objects stay postgres's
    assert pg.query(
        "SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'uuid_generate_v4'",
        "webhost_prod",
    ) == ["postgres"]
    ok(run_command(loadable(commands), sql_cluster, tmp_path))  # and again: converged


def test_setup_surfaces_other_config_errors(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    ok(run_command(commands["webhost-db-attach"], sql_cluster, tmp_path))
    done = run_command(loadable(commands), sql_cluster, tmp_path, FAKE_FLY_FAIL="postgres config")
    assert done.returncode != 0
    assert "simulated failure" in done.stderr


# -- across every script ------------------------------------------------------------------


def test_no_credential_ever_reaches_argv(
    sql_cluster: FakeFly, commands: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    for name in ("webhost-db-replica-fra", "webhost-db-attach", "webhost-db-backups"):
        ok(run_command(commands[name], sql_cluster, tmp_path))
    ok(run_command(loadable(commands), sql_cluster, tmp_path))
    state = sql_cluster.snapshot()
    credentials = [
        *state["pg"][CLUSTER]["users"].values(),
        *(v for app in state["apps"].values() for v in app["secrets"].values()),
        "fly-token-that-must-not-leak",
    ]
    every_arg = json.dumps(argvs(sql_cluster))
    assert credentials
    assert not [c for c in credentials if c in every_arg]
