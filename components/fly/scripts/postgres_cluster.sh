#!/usr/bin/env bash
# The Postgres Flex cluster: created once, then converged where flyctl can converge
# it; refused, with what to do, where it cannot. Its stdout carries the operator
# credentials (printed by `fly postgres create`, handed on, or read back from the
# cluster), and only as the script's last act.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
created="$(private_file create.out)"
# On an update pulumi-command hands the last stdout back (PULUMI_COMMAND_STDOUT, the
# Command sets addPreviousOutputInEnv; local/commandOutputs.go) and replaces stdout
# with what this run prints: printing it again keeps the operator credentials of the
# create in the stack's output. A create overwrites it below.
printf '%s' "${PULUMI_COMMAND_STDOUT:-}" >"$created"

state="$(app_state "$app" "$WEBHOST_ORG")"
if [ "$state" = present ]; then
  machines="$(machines_json "$app")"
  volumes="$(volumes_json "$app")"
  members="$(printf '%s' "$machines" | json_query 'len(data)')"
  held="$(printf '%s' "$volumes" | json_query 'len(data)')"
  if [ "$members" = 0 ]; then
    # An app with no machine is what a create cut off before its first member
    # leaves, but also a cluster whose machines were lost: its volumes are the data.
    if [ "$held" != 0 ]; then
      echo "postgres app $app has no machines but $held volume(s), which may hold the database;" \
        "nothing was changed. Bring the members back by hand (fly machine run with --volume," \
        "or fly postgres create --fork-from), or, once the data is known to be unneeded," \
        "destroy the volumes; then run pulumi up again." >&2
      exit 1
    fi
    # Proven empty by two successful listings. A protected stack (prod) still never
    # destroys an app from a script: a human looks first.
    if [ "$WEBHOST_PROTECTED" = true ]; then
      echo "postgres app $app exists with no machines and no volumes (a create cut off" \
        "half-way?). This stack is protected, so the program destroys nothing: check" \
        "'fly machines list --app $app' and 'fly volumes list --app $app', run" \
        "'fly apps destroy $app' yourself, then run pulumi up again." >&2
      exit 1
    fi
    echo "postgres app $app has no machines and no volumes; destroying it to create it again" >&2
    fly apps destroy "$app" --yes >&2
    state="$(app_state "$app" "$WEBHOST_ORG")"
    if [ "$state" != absent ]; then
      echo "postgres app $app is still listed after 'fly apps destroy'; stopping" >&2
      exit 1
    fi
  fi
fi

if [ "$state" = absent ] && [ -n "${WEBHOST_RESTORE_SOURCE:-}" ]; then
  # A cluster restored from another's backups, by flyctl's own path (flyctl
  # internal/command/postgres/backup.go runBackupRestore): it reads the source
  # leader's S3_ARCHIVE_CONFIG, appends the target (?targetTime= or ?targetName=,
  # resolveRestoreTarget) and launches one member in the leader's region with the
  # leader's image, guest and volume size and S3_ARCHIVE_REMOTE_RESTORE_CONFIG set
  # (flypg/launcher.go); postgres-flex then restores the base backup and replays WAL
  # on first boot (internal/flypg/node.go handleRemoteRestore, barman_restore.go).
  # It prints the credentials block `postgres create` prints. Members up to
  # clusterSize and the VM size are converged below, as for any cluster.
  target=()
  if [ -n "${WEBHOST_RESTORE_TARGET_TIME:-}" ]; then
    target=(--restore-target-time "$WEBHOST_RESTORE_TARGET_TIME")
  elif [ -n "${WEBHOST_RESTORE_TARGET_NAME:-}" ]; then
    target=(--restore-target-name "$WEBHOST_RESTORE_TARGET_NAME")
  fi
  echo "postgres app $app is absent; restoring it from the backups of $WEBHOST_RESTORE_SOURCE" >&2
  fly postgres backup restore "$app" --app "$WEBHOST_RESTORE_SOURCE" \
    --image-ref "$WEBHOST_IMAGE" ${target[@]+"${target[@]}"} >"$created"
  machines="$(machines_json "$app")"
  volumes="$(volumes_json "$app")"
elif [ "$state" = absent ]; then
  # flyctl prints the operator credentials here (flyctl flypg/launcher.go): they go
  # to a private file. A run cut off after this loses nothing: the cluster keeps
  # the operator password in its own secrets (OPERATOR_PASSWORD, same file).
  fly postgres create --name "$app" --org "$WEBHOST_ORG" --region "$WEBHOST_REGION" \
    --image-ref "$WEBHOST_IMAGE" --initial-cluster-size "$WEBHOST_CLUSTER_SIZE" \
    --vm-cpu-kind "$WEBHOST_VM_CPU_KIND" --vm-cpus "$WEBHOST_VM_CPUS" \
    --vm-memory "$WEBHOST_VM_MEMORY" --volume-size "$WEBHOST_VOLUME_GB" >"$created"
  machines="$(machines_json "$app")"
  volumes="$(volumes_json "$app")"
else
  echo "postgres app $app exists; converging it" >&2
fi

if [ -n "${WEBHOST_RESTORE_SOURCE:-}" ] && ! leader_id "$app" >/dev/null; then
  # flyctl exits 0 whatever the launch did (runBackupRestore ignores what
  # LaunchMachinesPostgres returns), and a run cut off mid-restore finds the member
  # still replaying: a restore is done only once its member serves as primary.
  # Nothing is cloned from a member that is not.
  echo "the restored cluster $app has no passing primary: its restore failed or is still" \
    "running on its member (see 'fly logs --app $app'); nothing more was done. Run pulumi" \
    "up again once it serves; if it failed, fix the cause (the target, the source's" \
    "backups), destroy $app by hand, then run pulumi up again." >&2
  exit 1
fi

# What the live cluster is against what the config asks. Each line of the plan is
# an action (clone SOURCE, extend VOLUME, update MACHINE) or a refusal (refuse
# TEXT) for what no script here can change safely.
plan="$(WEBHOST_MACHINES_JSON="$machines" WEBHOST_VOLUMES_JSON="$volumes" python3 - <<'PY'
import json, os

env = os.environ
machines = json.loads(env["WEBHOST_MACHINES_JSON"])
volumes = json.loads(env["WEBHOST_VOLUMES_JSON"])
region, size, volume_gb = env["WEBHOST_REGION"], int(env["WEBHOST_CLUSTER_SIZE"]), int(env["WEBHOST_VOLUME_GB"])
guest = {"cpu_kind": env["WEBHOST_VM_CPU_KIND"], "cpus": int(env["WEBHOST_VM_CPUS"]),
         "memory_mb": int(env["WEBHOST_VM_MEMORY"])}


def image(ref):  # the same image whichever way the registry is spelled
    ref = ref.split("@")[0]
    for prefix in ("docker.io/", "registry-1.docker.io/", "index.docker.io/"):
        ref = ref.removeprefix(prefix)
    return ref


refuse, act = [], []
config = {m["id"]: m.get("config") or {} for m in machines}
# Postgres Flex elects primaries only in PRIMARY_REGION (each machine's env).
elected = {config[m["id"]].get("env", {}).get("PRIMARY_REGION", region) for m in machines}
for other in sorted(elected - {region}):
    refuse.append(
        f"primaryRegion: the cluster elects its primary in {other}, the config says {region}. "
        "Moving a cluster is a restore into a new app (fly postgres create --fork-from), not "
        f"something this program does; set primaryRegion back to {other}.")
for m in machines:
    running = config[m["id"]].get("image", "")
    if image(running) != image(env["WEBHOST_IMAGE"]):
        refuse.append(
            f"image: member {m['id']} runs {running}, the config says {env['WEBHOST_IMAGE']}. "
            f"Roll it with 'fly image update --app {env['WEBHOST_PG_APP']} --image "
            f"{env['WEBHOST_IMAGE']}' (it updates replicas first), or set postgres.image back.")
members = [m["id"] for m in machines if m["region"] == region]
if len(members) > size:
    refuse.append(
        f"clusterSize: {len(members)} members in {region}, the config asks {size}. Members are "
        "never removed by this program: destroy a replica (never the primary) with 'fly machine "
        "destroy ID --force' and its volume with 'fly volumes destroy', or set clusterSize back "
        f"to {len(members)}.")
if not members and size > 0:
    refuse.append(f"clusterSize: no member in {region} to clone from")
for v in volumes:
    if v["size_gb"] > volume_gb:
        refuse.append(
            f"volumeGb: volume {v['id']} holds {v['size_gb']} GB, the config asks {volume_gb}. "
            f"Fly volumes only grow; set volumeGb back to {v['size_gb']} or more.")
    elif v["size_gb"] < volume_gb:
        act.append(f"extend {v['id']}")
act += [f"clone {members[0]}" for _ in range(size - len(members))] if members else []
act += [f"update {m['id']}" for m in machines
        if {k: config[m["id"]].get("guest", {}).get(k) for k in guest} != guest]
print("\n".join(f"refuse {r}" for r in refuse) if refuse else "\n".join(act))
PY
)"

refused="$(printf '%s\n' "$plan" | sed -n 's/^refuse //p')"
if [ -n "$refused" ]; then
  echo "postgres app $app differs from the config in ways this program cannot change; nothing was changed:" >&2
  printf '  %s\n' "$refused" >&2
  exit 1
fi
while read -r action target; do
  case "$action" in
    clone)
      clone_member "$app" "$target" "$WEBHOST_REGION" ;;
    extend)
      # Volumes only grow (flyctl internal/command/volumes/extend.go).
      fly volumes extend "$target" --size "$WEBHOST_VOLUME_GB" --app "$app" --yes >&2 ;;
    update)
      fly machine update "$target" --app "$app" --vm-cpu-kind "$WEBHOST_VM_CPU_KIND" \
        --vm-cpus "$WEBHOST_VM_CPUS" --vm-memory "$WEBHOST_VM_MEMORY" --yes >&2 ;;
    "") ;;
    *)
      echo "unknown plan step: $action" >&2
      exit 1 ;;
  esac
done <<<"$plan"

# No credentials this run or handed over: a create cut off after `fly postgres create`
# printed them and before the engine recorded them (or a stack from before). Read
# them back from where Fly keeps them: the cluster's OPERATOR_PASSWORD secret (flyctl
# flypg/launcher.go puts it there and prints postgres://postgres:PASS@APP.flycast:5432
# for a flex cluster), an environment variable on every member (superfly/docs
# reference/secrets), read as postgres-flex's own scripts do (fly-apps/postgres-flex
# scripts/test_scripts/config_check.sh: fly ssh console -C "printenv ..."). The name
# is on argv, never the value; the value goes to private files only.
if ! grep -q '^[[:space:]]*Connection string:' "$created"; then
  echo "no recorded operator credentials for $app; reading OPERATOR_PASSWORD back from a member" >&2
  secret="$(private_file operator.secret)"
  if ! fly ssh console --app "$app" --command "printenv OPERATOR_PASSWORD" --quiet >"$secret"; then
    echo "could not read OPERATOR_PASSWORD back from $app (fly ssh console failed);" \
      "the operator credentials are not in this stack's output until a run can" >&2
    exit 1
  fi
  password="$(tr -d '\r\n' <"$secret")"
  if [ -z "$password" ]; then
    echo "$app has no OPERATOR_PASSWORD to read back; set one with" \
      "'fly secrets set OPERATOR_PASSWORD=... --app $app' (postgres-flex checks it on start)" >&2
    exit 1
  fi
  # printf is a builtin: the password is on no process's argv.
  printf '  Connection string: postgres://postgres:%s@%s.flycast:5432\n' "$password" "$app" >"$created"
fi

# Last act, after every step succeeded: the credentials of the create (this run's,
# the one an update was handed, or read back).
cat "$created"
