#!/usr/bin/env bash
# Helpers every flyctl script shares. flyctl.py inlines this file where a script
# sources it, so a script in state is one self-contained text.
#
# Every helper answers on stdout and fails (non-zero) when flyctl could not answer:
# callers assign first (`x="$(helper ...)"`), so `set -e` stops the script there.
# JSON from flyctl is read with python3, which any machine running this program has.

# json_query QUERY [ARG...]: run a small Python expression over the JSON on stdin.
# `data` is the parsed JSON, `args` the extra arguments; the result is printed
# (lists one item per line, None as nothing). Invalid JSON fails.
json_query() {
  python3 -c '
import json, os, sys
data = json.loads(sys.stdin.read())
args = sys.argv[2:]
result = eval(sys.argv[1], {"data": data, "args": args, "os": os})
if isinstance(result, (list, tuple)):
    print("\n".join(str(r) for r in result))
elif result is not None:
    print(result)
' "$@"
}

# app_state APP ORG: "present" or "absent". Absent only on a successful, complete
# listing of the org's apps that does not hold APP (flyctl internal/command/apps/
# list.go pages through every app and renders fly.App, whose JSON keys are the Go
# field names: fly-go types.go). `fly status` is no existence test: it fails for
# Postgres apps for other reasons, and a failure there is not "absent".
app_state() {
  local listing
  listing="$(fly apps list --org "$2" --json)" || return 1
  printf '%s' "$listing" | json_query \
    '"present" if any(a["Name"] == args[0] for a in data) else "absent"' "$1"
}

# machines_json APP: the app's machines (fly-go machine_types.go JSON tags).
machines_json() {
  fly machines list --app "$1" --json
}

# volumes_json APP: the app's live volumes (fly-go volume_types.go JSON tags).
volumes_json() {
  fly volumes list --app "$1" --json
}

# private_file NAME: the path of a new empty file only this user can read, in a
# directory removed when the script exits. What flyctl prints with a credential in
# it goes there, never to a stream a failure would surface: pulumi-command puts a
# failed command's stdout and stderr into its error message (pulumi-command
# provider/pkg/provider/local/commandOutputs.go, run()).
WEBHOST_PRIVATE_DIR="$(umask 077 && mktemp -d)"
trap 'rm -rf "$WEBHOST_PRIVATE_DIR"' EXIT
private_file() {
  (umask 077 && : >"$WEBHOST_PRIVATE_DIR/$1") || return 1
  chmod 600 "$WEBHOST_PRIVATE_DIR/$1" || return 1
  printf '%s\n' "$WEBHOST_PRIVATE_DIR/$1"
}

# without_credentials: stdin to stdout with what looks like a credential replaced by
# [redacted]: a URL's password (`scheme://user:PASS@`, also with JSON-escaped slashes)
# and a password, secret or token field's value. For flyctl's stderr where flyctl
# wrote a credential this script never knew, so cannot remove by value: `fly postgres
# attach` makes the user's password itself and sends it in the app's secrets update
# (flyctl internal/command/postgres/attach.go runAttachCluster), and an error answer
# may quote that request; pulumi-command puts stderr into the Command's error.
without_credentials() {
  sed -E \
    -e 's#(:(\\?/){2}[^:/@[:space:]"]*:)[^@[:space:]"]+@#\1[redacted]@#g' \
    -e 's#((password|passwd|pwd|secret|token)"?[[:space:]]*[:=][[:space:]]*"?)[^"[:space:],}&]+#\1[redacted]#Ig'
}

# pg_users PG_APP: the cluster's database users, one a line. `fly postgres users
# list --json` renders flypg.PostgresUser, which has no JSON tags (flyctl
# flypg/types.go): the keys are Username, Superuser, Databases.
pg_users() {
  local listing
  listing="$(fly postgres users list --app "$1" --json)" || return 1
  printf '%s' "$listing" | json_query '[u["Username"] for u in data]'
}

# detach_user PG_APP APP USER: `fly postgres detach` of the attachment whose user is
# USER, never "the first one". flyctl lists the app's attachments and always asks
# which one, on a terminal only (flyctl internal/command/postgres/detach.go,
# detachAppFromPostgres, prompt.Select). The answer is typed on a pseudo-terminal:
# survey's Select filters its options on what is typed (a case-insensitive
# substring, AlecAivazis/survey v2 DefaultFilterFn) and Enter picks the first
# option left, so typing ", PG User: USER," selects exactly that attachment. The
# caller checks the user is gone afterwards.
detach_user() {
  WEBHOST_DETACH_FILTER=", PG User: $3," python3 - fly postgres detach "$1" --app "$2" <<'PY' >&2
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen, answered = b"", False
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
    seen += chunk
    if not answered and b"Select the attachment" in seen:
        os.write(fd, os.environ["WEBHOST_DETACH_FILTER"].encode() + b"\r")
        answered = True
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

# leader_id PG_APP: the primary, as flyctl finds it: the machine whose "role" check
# passes with output "primary" (flyctl internal/command/postgres/postgres.go
# pickLeader, machineRole; fly-go machine_types.go MachineCheckStatus JSON tags).
# Nothing (and failure) when there is none.
leader_id() {
  local listing found
  listing="$(machines_json "$1")" || return 1
  found="$(printf '%s' "$listing" | json_query 'next((m["id"] for m in data
    if any(c.get("name") == "role" and c.get("status") == "passing"
           and c.get("output") == "primary" for c in m.get("checks") or [])), None)')" || return 1
  [ -n "$found" ] || return 1
  printf '%s\n' "$found"
}

# drop_restored_user PG_APP USER: what postgres-flex's handleDeleteUser runs (internal/
# api/handle_users.go, flypg/admin/admin.go), in every database that takes
# connections, then DROP ROLE; psql on the leader's own Postgres port (5433,
# postgres-flex internal/flypg/node.go) over `fly ssh console`, as postgres.
drop_restored_user() {
  local leader databases db
  leader="$(leader_id "$1")" || { echo "postgres app $1 has no passing primary" >&2; return 1; }
  databases="$(printf 'SELECT datname FROM pg_database WHERE datallowconn;\n' \
    | fly ssh console --app "$1" --machine "$leader" \
      --command "psql -X -q -At -v ON_ERROR_STOP=1 -p 5433 -U postgres -d postgres")" || return 1
  for db in $databases; do
    printf 'REASSIGN OWNED BY "%s" TO postgres; DROP OWNED BY "%s";\n' "$2" "$2" \
      | fly ssh console --app "$1" --machine "$leader" \
        --command "psql -X -q -v ON_ERROR_STOP=1 -p 5433 -U postgres -d $db" >&2 || return 1
  done
  printf 'DROP ROLE "%s";\n' "$2" | fly ssh console --app "$1" --machine "$leader" \
    --command "psql -X -q -v ON_ERROR_STOP=1 -p 5433 -U postgres -d postgres" >&2
}
