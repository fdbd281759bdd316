"""`local.Command` builders for what only flyctl orchestrates: deploys, scaling, Postgres.

Each script is a fixed bash text; everything that varies reaches it through the
command's environment, so the script in state never changes with the values and
nothing sensitive is ever on argv. FLY_API_TOKEN is not an input at all: flyctl
reads it from the environment `pulumi up` runs in, which the command inherits.

Scripts converge: run again after success, or after a failure half-way, they
leave Fly as one clean run would. What flyctl prints about itself goes to
stderr (logged); stdout is kept for what the program parses, and a command whose
stdout carries credentials keeps it secret and out of the logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pulumi
from pulumi_command import local

# bash, not sh: the scripts use pipefail. Written for bash 3.2 (macOS) too.
INTERPRETER: Final = ["/bin/bash", "-c"]

# Shell functions the scripts share. JSON from flyctl is read with python3, which
# any machine running this Python program has.
_PRELUDE: Final = r"""set -euo pipefail
# machines APP [REGION]: ids of the app's machines (in REGION), one line
machines() {
  fly machines list --app "$1" --json | python3 -c '
import json, sys
region = sys.argv[1] if len(sys.argv) > 1 else None
print(" ".join(m["id"] for m in json.load(sys.stdin) if region in (None, m["region"])))
' ${2:+"$2"}
}
# has_secret APP NAME: whether the app has a secret of that name
has_secret() {
  fly secrets list --app "$1" --json | python3 -c '
import json, sys
names = {s.get("name", s.get("Name")) for s in json.load(sys.stdin)}
sys.exit(0 if sys.argv[1] in names else 1)
' "$2"
}
"""

DEPLOY_SCRIPT: Final = (
    "set -euo pipefail\n"
    + r"""config="$(mktemp)"
trap 'rm -f "$config"' EXIT
printf '%s\n' "$WEBHOST_FLY_TOML" > "$config"

# IPs are managed by this program, never allocated as a deploy side effect.
fly deploy --app "$WEBHOST_APP" --config "$config" --image "$WEBHOST_IMAGE" \
  --strategy "$WEBHOST_STRATEGY" --no-public-ips --yes

# One call per region: `--region a,b` with a count spreads it, it does not repeat it.
for pair in $WEBHOST_REGION_COUNTS; do
  fly scale count "${pair#*=}" --region "${pair%%=*}" --app "$WEBHOST_APP" --yes
done

# A region dropped from webhost:regions loses its machines.
present="$(fly machines list --app "$WEBHOST_APP" --json | python3 -c '
import json, sys
print(" ".join(sorted({m["region"] for m in json.load(sys.stdin)})))
')"
for region in $present; do
  case " $WEBHOST_REGION_COUNTS " in
    *" $region="*) ;;
    *) fly scale count 0 --region "$region" --app "$WEBHOST_APP" --yes ;;
  esac
done
"""
)

POSTGRES_CLUSTER_SCRIPT: Final = (
    _PRELUDE
    + r"""app="$WEBHOST_PG_APP"
if fly status --app "$app" >/dev/null 2>&1 && [ -z "$(machines "$app")" ]; then
  # A create cut off before its first member: an empty app, nothing to keep.
  echo "postgres app $app has no members; destroying it to create it again" >&2
  fly apps destroy "$app" --yes >&2
fi
if ! fly status --app "$app" >/dev/null 2>&1; then
  # flyctl prints the operator credentials here: stdout is secret, never logged.
  fly postgres create --name "$app" --org "$WEBHOST_ORG" --region "$WEBHOST_REGION" \
    --image-ref "$WEBHOST_IMAGE" --initial-cluster-size "$WEBHOST_CLUSTER_SIZE" \
    --vm-cpu-kind "$WEBHOST_VM_CPU_KIND" --vm-cpus "$WEBHOST_VM_CPUS" \
    --vm-memory "$WEBHOST_VM_MEMORY" --volume-size "$WEBHOST_VOLUME_GB"
else
  echo "postgres app $app exists; converging it" >&2
fi

# Members in the primary region: clone up to the cluster size (never removed here).
set -- $(machines "$app" "$WEBHOST_REGION")
count=$#
while [ "$count" -lt "$WEBHOST_CLUSTER_SIZE" ]; do
  fly machine clone "$1" --region "$WEBHOST_REGION" --app "$app" >&2
  count=$((count + 1))
done

# Every member and replica at the configured size.
stale="$(fly machines list --app "$app" --json | python3 -c '
import json, os, sys
want = {"cpu_kind": os.environ["WEBHOST_VM_CPU_KIND"], "cpus": int(os.environ["WEBHOST_VM_CPUS"]),
        "memory_mb": int(os.environ["WEBHOST_VM_MEMORY"])}
print(" ".join(m["id"] for m in json.load(sys.stdin)
               if {k: m.get("config", {}).get("guest", {}).get(k) for k in want} != want))
')"
for id in $stale; do
  fly machine update "$id" --app "$app" --vm-cpu-kind "$WEBHOST_VM_CPU_KIND" \
    --vm-cpus "$WEBHOST_VM_CPUS" --vm-memory "$WEBHOST_VM_MEMORY" --yes >&2
done
"""
)

POSTGRES_CLUSTER_DELETE: Final = r"""set -euo pipefail
if fly status --app "$WEBHOST_PG_APP" >/dev/null 2>&1; then
  fly apps destroy "$WEBHOST_PG_APP" --yes
fi
"""

POSTGRES_REPLICA_SCRIPT: Final = (
    _PRELUDE
    + r"""existing="$(machines "$WEBHOST_PG_APP" "$WEBHOST_REGION")"
if [ -n "$existing" ]; then
  echo "replica in $WEBHOST_REGION exists: $existing" >&2
  exit 0
fi
set -- $(machines "$WEBHOST_PG_APP" "$WEBHOST_PRIMARY_REGION")
if [ $# -eq 0 ]; then
  echo "no member of $WEBHOST_PG_APP in $WEBHOST_PRIMARY_REGION to clone" >&2
  exit 1
fi
# Postgres Flex elects primaries only in PRIMARY_REGION: a clone elsewhere is a replica.
fly machine clone "$1" --region "$WEBHOST_REGION" --app "$WEBHOST_PG_APP" >&2
"""
)

POSTGRES_REPLICA_DELETE: Final = (
    _PRELUDE
    + r"""for id in $(machines "$WEBHOST_PG_APP" "$WEBHOST_REGION"); do
  fly machine destroy "$id" --app "$WEBHOST_PG_APP" --force
done
"""
)

# The attach creates the app's own database user and prints its URL. It sets
# that URL as an app secret too; this program owns DATABASE_URL through its
# Secrets resource, so the attach writes a scratch name, removed right after.
ATTACH_VARIABLE: Final = "WEBHOST_ATTACH_DATABASE_URL"

POSTGRES_ATTACH_SCRIPT: Final = (
    _PRELUDE
    + r"""scratch=WEBHOST_ATTACH_DATABASE_URL
if has_secret "$WEBHOST_APP" "$scratch"; then  # left by a run cut off half-way
  fly secrets unset "$scratch" --app "$WEBHOST_APP" --stage >&2
fi
# A user left by a run cut off half-way cannot be reused (its password is gone
# with that run): take the first free name.
user="$(fly postgres users list --app "$WEBHOST_PG_APP" --json | python3 -c '
import json, sys
base = sys.argv[1]
taken = {u.get("username", u.get("Username")) for u in json.load(sys.stdin)}
free = [n for n in [base, *(f"{base}_{i}" for i in range(2, 10))] if n not in taken]
print(free[0]) if free else sys.exit(f"no free database user name like {base}")
' "$WEBHOST_DB_USER")"
# The URL with the new password is printed here: stdout is secret, never logged.
fly postgres attach "$WEBHOST_PG_APP" --app "$WEBHOST_APP" --database-name "$WEBHOST_DB_NAME" \
  --database-user "$user" --variable-name "$scratch" --yes
fly secrets unset "$scratch" --app "$WEBHOST_APP" --stage >&2
"""
)

# flyctl's detach asks which attachment to remove, even when there is one, and
# only on a terminal (Fly's own PR-review action drives it with `expect`). The
# app has exactly this one attachment to its cluster: answer on a pseudo-terminal.
POSTGRES_DETACH_SCRIPT: Final = r"""set -euo pipefail
python3 - "$WEBHOST_PG_APP" "$WEBHOST_APP" <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp("fly", ["fly", "postgres", "detach", sys.argv[1], "--app", sys.argv[2]])
seen, answered = b"", False
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    sys.stderr.buffer.write(chunk)
    seen += chunk
    if not answered and b"Select the attachment" in seen:
        os.write(fd, b"\r")
        answered = True
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
"""

POSTGRES_SETUP_SCRIPT: Final = r"""set -euo pipefail
sql=""
for extension in $WEBHOST_EXTENSIONS; do
  sql="$sql CREATE EXTENSION IF NOT EXISTS \"$extension\" CASCADE;"
done
# psql on the primary reads the statements from stdin.
printf '%s\n' "$sql" \
  | fly postgres connect --app "$WEBHOST_PG_APP" --database "$WEBHOST_DB_NAME" >&2

# --yes restarts the cluster when the setting needs it (max_connections does).
if ! out="$(fly postgres config update --app "$WEBHOST_PG_APP" \
    --max-connections "$WEBHOST_MAX_CONNECTIONS" --yes 2>&1)"; then
  case "$out" in
    *"no changes to apply"*) ;;  # already so: converged
    *) printf '%s\n' "$out" >&2; exit 1 ;;
  esac
fi
printf '%s\n' "$out" >&2
"""

POSTGRES_BACKUPS_SCRIPT: Final = (
    _PRELUDE
    + r"""if ! has_secret "$WEBHOST_PG_APP" "$WEBHOST_BACKUP_SECRET"; then
  # Creates a Tigris bucket and stages the archive settings; the deploy applies them.
  fly postgres backup enable --app "$WEBHOST_PG_APP" >&2
  fly secrets deploy --app "$WEBHOST_PG_APP" >&2
fi
fly postgres backup config update --app "$WEBHOST_PG_APP" \
  --recovery-window "$WEBHOST_RECOVERY_WINDOW" \
  --full-backup-frequency "$WEBHOST_FULL_BACKUP_FREQUENCY" >&2
"""
)

# Turning backups off stops archiving; the bucket and what is in it stay.
POSTGRES_BACKUPS_DELETE: Final = (
    _PRELUDE
    + r"""if fly status --app "$WEBHOST_PG_APP" >/dev/null 2>&1 \
    && has_secret "$WEBHOST_PG_APP" "$WEBHOST_BACKUP_SECRET"; then
  fly secrets unset "$WEBHOST_BACKUP_SECRET" --app "$WEBHOST_PG_APP"
fi
"""
)


def command(
    name: str,
    *,
    create: str,
    environment: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    delete: str | None = None,
    update: str | None = None,
    secret_stdout: bool = False,
) -> local.Command:
    """A bash script as a resource. `secret_stdout`: stdout carries credentials."""
    if secret_stdout:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["stdout"])
        )
    return local.Command(
        name,
        create=create,
        update=update,
        delete=delete,
        interpreter=INTERPRETER,
        environment=dict(environment),
        add_previous_output_in_env=False,
        logging=local.Logging.STDERR if secret_stdout else None,
        opts=opts,
    )


def region_counts(regions: Mapping[str, int]) -> str:
    """`iad=3 fra=2`: the per-region machine counts as the deploy script reads them."""
    return " ".join(f"{region}={count}" for region, count in sorted(regions.items()))


def deploy(
    name: str,
    *,
    app: pulumi.Input[str],
    image: str,
    strategy: str,
    fly_toml: str,
    regions: Mapping[str, int],
    secrets_version: pulumi.Input[int],
    opts: pulumi.ResourceOptions,
) -> local.Command:
    """`fly deploy` of `image` with `fly_toml`, then `fly scale count` per region.

    Any change of image, fly.toml, counts or secrets version re-runs it (an
    environment change is an update, and the update runs the create script).
    The secrets version is only a trigger: it changes when a secret value does,
    and carries no value itself.
    """
    return command(
        name,
        create=DEPLOY_SCRIPT,
        environment={
            "WEBHOST_APP": app,
            "WEBHOST_IMAGE": image,
            "WEBHOST_STRATEGY": strategy,
            "WEBHOST_FLY_TOML": fly_toml,
            "WEBHOST_REGION_COUNTS": region_counts(regions),
            "WEBHOST_SECRETS_VERSION": pulumi.Output.from_input(secrets_version).apply(str),
        },
        opts=opts,
    )
