#!/usr/bin/env bash
# Extensions and the app user's privileges in its database; max_connections on the cluster.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
machines="$(machines_json "$app")"
# The primary, as flyctl finds it: the machine whose "role" check passes with
# output "primary" (flyctl internal/command/postgres/postgres.go pickLeader,
# machineRole; fly-go machine_types.go MachineCheckStatus JSON tags).
leader="$(printf '%s' "$machines" | json_query 'next((m["id"] for m in data
  if any(c.get("name") == "role" and c.get("status") == "passing" and c.get("output") == "primary"
         for c in m.get("checks") or [])), None)')"
if [ -z "$leader" ]; then
  echo "postgres app $app has no passing primary to run SQL on" >&2
  exit 1
fi

# The attach's user, named as flyctl names it (as postgres_attach.sh does).
user="$(printf '%s' "$WEBHOST_DB_USER" | tr '[:upper:]-' '[:lower:]_')"
db="$WEBHOST_DB_NAME"
sql=""
for extension in $WEBHOST_EXTENSIONS; do
  sql="$sql CREATE EXTENSION IF NOT EXISTS \"$extension\" CASCADE;"
done
# Least privilege for the app. `fly postgres attach --superuser=false` leaves the
# database owned by postgres (postgres-flex internal/flypg/admin/admin.go
# CreateDatabase), lets every role create in its public schema
# (internal/api/handle_databases.go, GrantCreateOnPublic) and grants the user
# pg_read_all_data and pg_write_all_data: every table of every database in the
# cluster (admin.go GrantAccess, internal/api/handle_users.go handleCreateUser).
# Instead the user owns its database, so it can migrate it (since PostgreSQL 15 the
# public schema belongs to pg_database_owner), and reaches no other: the cluster-wide
# roles go, only the owner creates in public, and other roles lose the CONNECT every
# database grants PUBLIC. All of it is idempotent: a re-run converges. A re-attach
# (a new user of the same name: the detach gave its objects to postgres) re-runs
# this script (components/postgres.py triggers it on the attach).
sql="$sql ALTER DATABASE \"$db\" OWNER TO \"$user\";"
sql="$sql REVOKE pg_read_all_data, pg_write_all_data FROM \"$user\";"
sql="$sql REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
sql="$sql REVOKE CONNECT, TEMPORARY ON DATABASE \"$db\" FROM PUBLIC;"
# A detach gives the user's tables to postgres (REASSIGN OWNED BY ... TO postgres in
# handleDeleteUser); without the cluster-wide roles a re-attached user could not
# read its own data. So what postgres owns in this database goes to the user, but
# the extensions' own objects and the system's (REASSIGN OWNED BY postgres is refused
# for the bootstrap superuser: one ALTER ... OWNER a kind of object).
sql="$sql SELECT set_config('webhost.owner', '$user', true);"
sql="$sql $(cat <<'SQL'
DO $webhost$
DECLARE
  owner text := current_setting('webhost.owner');
  item record;
BEGIN
  FOR item IN
    -- schemas that are neither the system's nor an extension's (TimescaleDB's chunks
    -- live in its own schema and follow their hypertable's owner: timescale/timescaledb
    -- sql/ddl_triggers.sql ddl_change_owner, since moved into its C utility hook)
    WITH spaces AS (
      SELECT n.oid, n.nspname, n.nspowner FROM pg_namespace n
      WHERE n.nspname !~ '^(pg_|information_schema$)'
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                        AND d.objid = n.oid AND d.deptype = 'e')
    ), members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
    SELECT format('ALTER SCHEMA %I', s.nspname) AS alter FROM spaces s
    WHERE s.nspowner = 'postgres'::regrole AND s.nspname <> 'public'
    UNION ALL
    -- tables, views, materialized views, foreign tables; sequences not owned by a column
    SELECT format('ALTER TABLE %s', c.oid::regclass) FROM pg_class c
    JOIN spaces s ON s.oid = c.relnamespace
    WHERE c.relowner = 'postgres'::regrole AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND c.oid NOT IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d
               WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                 AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT format('ALTER ROUTINE %s', p.oid::regprocedure) FROM pg_proc p
    JOIN spaces s ON s.oid = p.pronamespace
    WHERE p.proowner = 'postgres'::regrole
      AND p.oid NOT IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
    UNION ALL
    -- enums, domains, ranges and free-standing composite types (not arrays, not a
    -- table's row type, not a range's multirange: those follow their owner)
    SELECT format('ALTER TYPE %s', t.oid::regtype) FROM pg_type t
    JOIN spaces s ON s.oid = t.typnamespace
    WHERE t.typowner = 'postgres'::regrole AND t.typtype IN ('e', 'd', 'r', 'c')
      AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      AND t.oid NOT IN (SELECT objid FROM members WHERE classid = 'pg_type'::regclass)
  LOOP
    EXECUTE format('%s OWNER TO %I', item.alter, owner);
  END LOOP;
END
$webhost$;
SQL
)"
# `fly postgres connect` always asks for a remote terminal. `fly ssh console
# --command` without --pty runs the command with plain pipes, passes stdin through,
# and returns the remote exit status as an error, so flyctl exits non-zero
# (flyctl internal/command/ssh/console.go allocPTY; ssh/io.go attach, sess.Run).
# Postgres itself listens on 5433 (postgres-flex internal/flypg/node.go); 5432 is
# HAProxy's, over TCP only (config/haproxy.cfg), and psql's default: without -p it
# finds no socket. Postgres Flex trusts local socket connections as postgres
# (postgres-flex internal/flypg/pg.go setDefaultHBA). psql exits 0 after a failed
# statement unless ON_ERROR_STOP is set; one transaction keeps all or none of them.
printf '%s\n' "$sql" | fly ssh console --app "$app" --machine "$leader" \
  --command "psql -v ON_ERROR_STOP=1 --single-transaction -p 5433 -U postgres -d $db" >&2

# --yes restarts the cluster when the setting needs it (max_connections does).
if ! out="$(fly postgres config update --app "$app" \
    --max-connections "$WEBHOST_MAX_CONNECTIONS" --yes 2>&1)"; then
  case "$out" in
    # already so: converged (flyctl internal/command/postgres/config_update.go)
    *"no changes to apply"*) ;;
    *) printf '%s\n' "$out" >&2; exit 1 ;;
  esac
fi
printf '%s\n' "$out" >&2
