#!/usr/bin/env bash
# Continuous backups (barman to Tigris) with the configured retention and full-backup
# frequency, in force on every member. Config has already refused what postgres-flex
# would refuse (components/config/data.py Backups), so the values are taken as they are.
#
# Each step is read back before the next, and a re-run after any step converges:
#   1. S3_ARCHIVE_CONFIG absent: `fly postgres backup enable` (a Tigris bucket; the
#      secret staged). Under an org token flyctl cannot accept Tigris's terms without
#      a terminal: stop before any change, saying what the operator does once.
#   2. S3_ARCHIVE_CONFIG not Deployed (`fly secrets list --json` status): `fly secrets
#      deploy`, flyctl's own next step, which restarts the members with it.
#   3. Settings not as configured: mark a restart as owed (a staged marker secret),
#      then `flexctl backup config update` through flyctl.
#   4. A restart owed: `fly postgres restart`, then drop the marker.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
marker="$WEBHOST_BACKUP_RESTART_MARKER"

# secret_status NAME: "absent", or the secret's deployment status (flyctl internal/
# command/secrets/list.go SecretWithStatus: Deployed, Staged, Partial, Unknown;
# without a status field, e.g. past 100 machines, "Unknown"). Fails when flyctl
# could not answer or answered something that is not a listing.
secret_status() {
  local listing status
  listing="$(fly secrets list --app "$app" --json)" || return 1
  status="$(printf '%s' "$listing" | json_query '(
  next((s.get("status") or "Unknown" for s in data if s["name"] == args[0]), "absent")
  if isinstance(data, list) and all(isinstance(s, dict) and "name" in s for s in data)
  else None)' "$1" 2>/dev/null)" || status=""
  if [ -z "$status" ]; then
    echo "\`fly secrets list --app $app --json\` answered no listing: stopped there" >&2
    return 1
  fi
  printf '%s\n' "$status"
}

# config_show, config_value KEY: KEY's value in `fly postgres backup config show` (postgres-flex
# cmd/flexctl/backups.go newConfigShow prints `  RecoveryWindow = 14d` lines: the
# config files, api/handle_admin.go handleViewBarmanSettings).
config_show() {
  fly postgres backup config show --app "$app"
}
config_value() {
  printf '%s\n' "$shown" | sed -n "s/^[[:space:]]*$1 = //p"
}

# -- 1. enable -----------------------------------------------------------------------
archive="$(secret_status "$WEBHOST_BACKUP_SECRET")"
if [ "$archive" = absent ]; then
  # flyctl prints the bucket's keys on stdout (extensions/core/core.go
  # setSecretsFromExtension): they go to a private file, never to a log.
  printed="$(private_file enable.out)"
  said="$(private_file enable.err)"
  if ! fly postgres backup enable --app "$app" </dev/null >"$printed" 2>"$said"; then
    # Only flyctl's error line; stdout may hold keys.
    grep '^Error' "$said" >&2 || true
    # core.go AgreeToProviderTos: the terms are asked for before anything is made;
    # for an org token (macaroon) AgreedToProviderTos is always false, and
    # `backup enable` has no --yes (postgres/backup.go newBackupEnable).
    if grep -q 'the --yes flag must be specified when not running interactively' "$said"; then
      echo "backups on $app need Tigris's terms of service accepted, which flyctl cannot" \
        "do under an org token without a terminal: run once, logged in as yourself" \
        "(fly auth login), \`fly postgres backup enable --app $app\` in a terminal and" \
        "accept, then run this again (nothing was changed)" >&2
    # core.go ProvisionExtension: one Tigris bucket per app. A `backup enable` cut off
    # between making it and setting the secret leaves it without S3_ARCHIVE_CONFIG.
    elif grep -q 'already exists for app' "$said"; then
      echo "$app has a Tigris bucket but no $WEBHOST_BACKUP_SECRET (a cut-off" \
        "\`fly postgres backup enable\`): set $WEBHOST_BACKUP_SECRET once from the app's" \
        "AWS_* secrets as https://<AWS_ACCESS_KEY_ID>:<AWS_SECRET_ACCESS_KEY>@<endpoint" \
        "host>/<BUCKET_NAME>/$app with \`fly secrets import --stage --app $app\`, then" \
        "run this again" >&2
    else
      echo "\`fly postgres backup enable --app $app\` failed; see flyctl's error above" >&2
    fi
    exit 1
  fi
  archive="$(secret_status "$WEBHOST_BACKUP_SECRET")"
  if [ "$archive" = absent ]; then
    echo "$WEBHOST_BACKUP_SECRET is not set on $app after \`fly postgres backup" \
      "enable\` succeeded" >&2
    exit 1
  fi
fi

# -- 2. deploy the archive settings ---------------------------------------------------
# The monitor starts archiving only with S3_ARCHIVE_CONFIG in its environment
# (postgres-flex cmd/monitor/main.go): a staged secret does nothing until deployed.
if [ "$archive" != Deployed ]; then
  fly secrets deploy --app "$app" >&2
  archive="$(secret_status "$WEBHOST_BACKUP_SECRET")"
  if [ "$archive" != Deployed ]; then
    echo "$WEBHOST_BACKUP_SECRET on $app is $archive after \`fly secrets deploy\`," \
      "not Deployed: archiving has not started" >&2
    exit 1
  fi
fi

# -- 3. the settings ------------------------------------------------------------------
shown="$(config_show)"
window="$(config_value RecoveryWindow)"
frequency="$(config_value FullBackupFrequency)"
if [ -z "$window" ] || [ -z "$frequency" ]; then
  # flyctl exits 0 whatever flexctl answered (postgres.go ExecOnMachine never reads
  # the exit code): no settings printed is no answer.
  echo "\`fly postgres backup config show --app $app\` printed no settings (flexctl's" \
    "answer is above): nothing changed" >&2
  exit 1
fi
if [ "$window" != "$WEBHOST_RECOVERY_WINDOW" ] \
    || [ "$frequency" != "$WEBHOST_FULL_BACKUP_FREQUENCY" ]; then
  # postgres-flex answers every change "restart required" (api/handle_admin.go
  # handleUpdateBarmanSettings) and its monitor reads the settings once, at start
  # (cmd/monitor/monitor_backup_schedule.go). The marker, staged before the change,
  # keeps the owed restart across a run cut off after it.
  owed="$(secret_status "$marker")"
  if [ "$owed" = absent ]; then
    fly secrets set "$marker=1" --stage --app "$app" >&2
  fi
  fly postgres backup config update --app "$app" \
    --recovery-window "$WEBHOST_RECOVERY_WINDOW" \
    --full-backup-frequency "$WEBHOST_FULL_BACKUP_FREQUENCY" >&2
  shown="$(config_show)"
  window="$(config_value RecoveryWindow)"
  frequency="$(config_value FullBackupFrequency)"
  if [ "$window" != "$WEBHOST_RECOVERY_WINDOW" ] \
      || [ "$frequency" != "$WEBHOST_FULL_BACKUP_FREQUENCY" ]; then
    echo "backup config of $app did not apply: recovery window '$window' (want" \
      "$WEBHOST_RECOVERY_WINDOW), full backup frequency '$frequency' (want" \
      "$WEBHOST_FULL_BACKUP_FREQUENCY); see flexctl's output above" >&2
    exit 1
  fi
fi

# -- 4. the restart that puts them in force --------------------------------------------
owed="$(secret_status "$marker")"
if [ "$owed" != absent ]; then
  # flexctl's own advice (`fly pg restart`): postgres/restart.go restarts the replicas
  # one by one, then the leader.
  fly postgres restart --app "$app" >&2
  fly secrets unset "$marker" --stage --app "$app" >&2
  owed="$(secret_status "$marker")"
  if [ "$owed" != absent ]; then
    echo "$app restarted, but $marker is still set: the next run restarts it again" >&2
    exit 1
  fi
fi
