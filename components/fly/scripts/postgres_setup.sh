#!/usr/bin/env bash
# Extensions in the app's database and max_connections on the cluster.
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

sql=""
for extension in $WEBHOST_EXTENSIONS; do
  sql="$sql CREATE EXTENSION IF NOT EXISTS \"$extension\" CASCADE;"
done
# `fly postgres connect` always asks for a remote terminal. `fly ssh console
# --command` without --pty runs the command with plain pipes, passes stdin through,
# and returns the remote exit status as an error, so flyctl exits non-zero
# (flyctl internal/command/ssh/console.go allocPTY; ssh/io.go attach, sess.Run).
# Postgres Flex trusts local socket connections as postgres (postgres-flex
# internal/flypg/pg.go setDefaultHBA). psql exits 0 after a failed statement unless
# ON_ERROR_STOP is set; one transaction keeps all or none of the statements.
printf '%s\n' "$sql" | fly ssh console --app "$app" --machine "$leader" \
  --command "psql -v ON_ERROR_STOP=1 --single-transaction -U postgres -d $WEBHOST_DB_NAME" >&2

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
