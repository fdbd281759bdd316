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

# clone_member APP SOURCE REGION: `fly machine clone` of member SOURCE into REGION.
# flyctl creates the clone's new volume, then launches the machine (flyctl internal/
# command/machine/clone.go): a clone cut off in between leaves a volume attached to
# nothing (fly-go volume_types.go attached_machine_id), which the next clone takes
# with --attach-volume (same file: it must be in the region and unattached) instead
# of making a second one. A volume left by a lost member is taken the same way: its
# data stays on a machine, never destroyed here.
clone_member() {
  local volumes spare
  volumes="$(volumes_json "$1")"
  spare="$(printf '%s' "$volumes" | json_query 'next((v["id"] for v in data
    if v["region"] == args[0] and not v.get("attached_machine_id")), None)' "$3")"
  if [ -n "$spare" ]; then
    echo "volume $spare in $3 is attached to nothing (left by a clone cut off after" \
      "making it?): cloning onto it" >&2
    fly machine clone "$2" --region "$3" --app "$1" --attach-volume "$spare" >&2
  else
    fly machine clone "$2" --region "$3" --app "$1" >&2
  fi
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

# -- one run's flyctl work on a Fly app at a time ------------------------------------
# When only the Pulumi CLI dies (SIGKILL of the CLI, or of the CI step's shell), the
# script it started keeps running and finishes unrecorded while the next `up` may
# already be running the same script (issue 19). Every script therefore holds, for
# its whole run, a lock per Fly app it acts on (WEBHOST_APP, WEBHOST_PG_APP).
# Why a local lock and not one at Fly: the scripts that outlive a killed CLI run on
# this machine, and a kernel lock (flock(2), taken through python3's fcntl, which
# every machine running this program has; util-linux flock is not on macOS) belongs
# to the open file, so the kernel drops it when the holder dies: a killed holder can
# never wedge the stack, where a marker at Fly (a secret or metadata) would outlive
# it and need expiry to tell dead from slow. Two machines at once (two CI runners)
# are kept apart by the workflows' concurrency groups (.github/workflows), not here.
# The wait is bounded (WEBHOST_LOCK_WAIT seconds, default 1800: longer than any one
# script, which a run's own concurrent scripts on the same app may have to wait for)
# and says who holds the lock. flyctl runs with the lock's descriptor closed (fly()
# below): a process it leaves running (its WireGuard agent) must not hold the lock.
WEBHOST_LOCK_DIR="${WEBHOST_LOCK_DIR:-${TMPDIR:-/tmp}/webhost-infra-locks}"
webhost_lock() {
  # Always in this order (the app, then its cluster), so two scripts never wait on each other.
  local apps="" app lock_fd=9
  for app in "${WEBHOST_APP:-}" "${WEBHOST_PG_APP:-}"; do
    case "$app" in
      "") ;;
      *) case " $apps " in *" $app "*) ;; *) apps="$apps $app" ;; esac ;;
    esac
  done
  [ -n "$apps" ] || return 0
  if ! (umask 077 && mkdir -p "$WEBHOST_LOCK_DIR") 2>/dev/null; then
    echo "cannot make the flyctl lock directory $WEBHOST_LOCK_DIR; fix its permissions" \
      "or set WEBHOST_LOCK_DIR" >&2
    return 1
  fi
  for app in $apps; do
    local file="$WEBHOST_LOCK_DIR/$app.lock"
    # One descriptor per app, kept open until the script exits (9, 8, ...).
    if ! eval "exec $lock_fd>>\"\$file\"" 2>/dev/null || [ ! -r "$file" ]; then
      echo "cannot open the flyctl lock file $file for app $app; fix its permissions" \
        "or set WEBHOST_LOCK_DIR; nothing was done" >&2
      return 1
    fi
    WEBHOST_LOCK_FD="$lock_fd" WEBHOST_LOCK_FILE="$file" WEBHOST_LOCK_APP="$app" python3 - <<'PY' || return 1
import fcntl, os, sys, time
fd, path, app = int(os.environ["WEBHOST_LOCK_FD"]), os.environ["WEBHOST_LOCK_FILE"], os.environ["WEBHOST_LOCK_APP"]
wait = float(os.environ.get("WEBHOST_LOCK_WAIT") or 1800)
def holder() -> str:
    try:
        with open(path) as f:
            return f.read().strip() or "a process that wrote nothing"
    except OSError as exc:
        return f"unknown ({exc.strerror})"
deadline, said = time.monotonic() + wait, False
while True:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        break
    except BlockingIOError:
        if not said:
            print(f"flyctl work on {app} is under way elsewhere ({holder()}): a script of an "
                  f"earlier run still acting? waiting up to {wait:g} s ({path})", file=sys.stderr)
            said = True
        if time.monotonic() >= deadline:
            print(f"flyctl work on {app} still under way after {wait:g} s ({holder()}); "
                  "nothing was done. Let it finish (or end that process), then run again",
                  file=sys.stderr)
            sys.exit(1)
        time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
    except OSError as exc:
        print(f"cannot lock {path} for app {app} ({exc.strerror}); nothing was done", file=sys.stderr)
        sys.exit(1)
# Who holds it, for whoever waits next; a file left by a dead holder is simply taken.
os.ftruncate(fd, 0)
os.write(fd, f"pid {os.getppid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
PY
    lock_fd=$((lock_fd - 1))
  done
}
webhost_lock || exit 1
# flyctl without the lock's descriptors (8 and 9): see above.
fly() {
  command fly "$@" 8>&- 9>&-
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

# detach_user PG_APP APP USER: `fly postgres detach` of one attachment whose user is
# USER, never "the first one". flyctl lists the app's attachments and always asks
# which one, on a terminal only (flyctl internal/command/postgres/detach.go,
# detachAppFromPostgres, prompt.Select). The answer is typed on a pseudo-terminal:
# survey's Select filters its options on what is typed (a case-insensitive
# substring, AlecAivazis/survey v2 DefaultFilterFn) and Enter picks the first
# option left, so typing ", PG User: USER," selects exactly that attachment. It is
# typed only once an offered option has that user: with none left, survey's Enter
# keeps prompting (select.go OnChange), so a list without USER is answered with
# Ctrl-C once flyctl has printed nothing for WEBHOST_DETACH_QUIET seconds (survey
# renders the question and its options at once, select.go Prompt; flyctl does
# nothing before the answer). survey reads that Ctrl-C as a key (its raw mode clears
# ISIG: survey v2.3.7 terminal/runereader_posix.go SetTermMode, select.go Prompt),
# but only from SetTermMode on, just after its render: one that lands before is the
# terminal's SIGINT to flyctl. flyctl is therefore started with SIGINT and SIGQUIT at
# their defaults: a non-interactive shell starts a background command with them
# ignored (POSIX XCU 2.11), a Go program started with SIGINT ignored keeps it ignored
# (Go os/signal package doc, "Default behavior of signals in Go programs"), and that
# SIGINT would be lost with flyctl left waiting for an answer. Exit status: 0 detached
# one, 3 the app has no attachment of USER (also flyctl's "no attachments found", and
# flyctl's 127 for the interrupt, internal/cli/cli.go), other: flyctl failed.
detach_user() {
  WEBHOST_DETACH_USER="$3" python3 - fly postgres detach "$1" --app "$2" <<'PY' >&2 8>&- 9>&-
import os, pty, re, select, signal, sys
user = os.environ["WEBHOST_DETACH_USER"]
quiet = float(os.environ.get("WEBHOST_DETACH_QUIET") or 10)
option = re.compile(rb"PG Database: [^,\r\n]*, PG User: " + re.escape(user.encode()) + rb",")
pid, fd = pty.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    os.execvp(sys.argv[1], sys.argv[1:])
seen, asked, answered, none = b"", -1, False, False
while True:
    if asked >= 0 and not answered and not select.select([fd], [], [], quiet)[0]:
        os.write(fd, b"\x03")  # no option of USER offered: nothing is detached
        answered = none = True
        continue
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
    seen += chunk
    if asked < 0 and b"Select the attachment" in seen:
        asked = seen.index(b"Select the attachment")
    if asked >= 0 and not answered and option.search(seen, asked):
        os.write(fd, f", PG User: {user},".encode() + b"\r")
        answered = True
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
if none or (code != 0 and asked < 0 and b"no attachments found" in seen):
    sys.exit(3)
sys.exit(0 if code == 0 else max(code, 1))
PY
}

# detach_all PG_APP APP USER: detach every attachment of USER, one at a time, until
# flyctl offers none (a run cut off between flyctl registering an attachment and
# making its user leaves a record whose re-attach would register a second one:
# flyctl internal/command/postgres/attach.go runAttachCluster registers first).
# Fails when flyctl fails, or past 10 (more than any run of this program leaves).
detach_all() {
  local round=0 status
  while [ "$round" -lt 10 ]; do
    status=0
    detach_user "$1" "$2" "$3" || status=$?
    case "$status" in
      0) round=$((round + 1)) ;;
      3) return 0 ;;
      *)
        echo "fly postgres detach failed (exit status $status); its messages are above" >&2
        return 1 ;;
    esac
  done
  echo "still an attachment of $3 after 10 detaches; stopping" >&2
  return 1
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
