"""`fly postgres attach`: flyctl internal/command/postgres/attach.go."""

from __future__ import annotations

from tests.fakes.fly_cli.errors import NON_INTERACTIVE, Fail
from tests.fakes.fly_cli.flex import admin_sql
from tests.fakes.fly_cli.models import Fly, token_hex
from tests.fakes.fly_cli.root import Call


def postgres_attach(fly: Fly, a: Call) -> None:
    # postgres/attach.go runAttachCluster
    pg_name = a.args[0]
    cluster, app = fly.pg(pg_name), fly.app(a.get("app"))
    var = a.get("variable-name") or "DATABASE_URL"
    user = (a.get("database-user") or a.get("app") or "").replace("-", "_").lower()
    database = (a.get("database-name") or a.get("app") or "").replace("-", "_").lower()
    print("Checking for existing attachments")
    if var in app["secrets"]:
        raise Fail(f'consumer app "{a.get("app")}" already contains a secret named {var}')
    if database in cluster["databases"] and not a.on("yes"):
        raise Fail(NON_INTERACTIVE)
    if user in cluster["users"]:
        raise Fail(
            f'database user "{user}" already exists. '
            "Please specify a new database user via --database-user"
        )
    print("Registering attachment")
    cluster["attachments"].append(
        {"app": a.get("app"), "database": database, "user": user, "var": var}
    )
    if database not in cluster["databases"]:
        print("Creating database")
        # postgres-flex internal/api/handle_databases.go handleCreateDatabase:
        # admin.CreateDatabase, then admin.GrantCreateOnPublic in the new database
        admin_sql(f"CREATE DATABASE {database};")
        admin_sql("GRANT CREATE on SCHEMA PUBLIC to PUBLIC;", database)
        cluster["databases"].append(database)
    print("Creating user")
    if a.half:
        raise Fail("failed executing create-user: 500 Internal Server Error")
    password = token_hex(8)
    # the --superuser flag defaults to true
    superuser = a.flags.get("superuser", True) is True
    # postgres-flex internal/api/handle_users.go handleCreateUser: admin.CreateUser,
    # then GrantSuperuser, or GrantAccess (pg_read_all_data, pg_write_all_data:
    # every table of every database) when not a superuser (flypg/admin/admin.go)
    admin_sql(f"CREATE USER {user} WITH LOGIN PASSWORD '{password}'")
    if superuser:
        admin_sql(f"ALTER USER {user} WITH SUPERUSER;")
    else:
        admin_sql(f'GRANT pg_read_all_data, pg_write_all_data TO "{user}"')
    cluster["users"][user] = password
    if superuser:
        cluster.setdefault("superusers", []).append(user)
    url = f"postgres://{user}:{password}@{pg_name}.flycast:5432/{database}?sslmode=disable"
    fly.update_secrets(a.get("app") or "", {var: url})
    print(f"\nPostgres cluster {pg_name} is now attached to {a.get('app')}")
    print(f"The following secret was added to {a.get('app')}:\n  {var}={url}")


HANDLERS = {
    ("postgres", "attach"): postgres_attach,
}
