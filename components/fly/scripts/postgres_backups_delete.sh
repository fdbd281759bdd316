#!/usr/bin/env bash
# Turning backups off stops archiving; the bucket and what is in it stay. Succeeds once the setting is gone.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
state="$(app_state "$app" "$WEBHOST_ORG")"
if [ "$state" = absent ]; then
  echo "postgres app $app is gone: no backups to turn off" >&2
  exit 0
fi
listing="$(fly secrets list --app "$app" --json)"
enabled="$(printf '%s' "$listing" | json_query \
  'any(s["name"] == args[0] for s in data)' "$WEBHOST_BACKUP_SECRET")"
if [ "$enabled" = True ]; then
  # Not staged: the members restart without it and their monitors stop archiving
  # (postgres-flex cmd/monitor/main.go). A restart the create script still owed goes
  # with it (unsetting a name that is not there is no error: appsecrets Update); a
  # resource recorded before the marker existed has no name for it.
  fly secrets unset "$WEBHOST_BACKUP_SECRET" ${WEBHOST_BACKUP_RESTART_MARKER:+"$WEBHOST_BACKUP_RESTART_MARKER"} \
    --app "$app" >&2
fi
listing="$(fly secrets list --app "$app" --json)"
enabled="$(printf '%s' "$listing" | json_query \
  'any(s["name"] == args[0] for s in data)' "$WEBHOST_BACKUP_SECRET")"
if [ "$enabled" != False ]; then
  echo "$WEBHOST_BACKUP_SECRET is still set on $app after the unset" >&2
  exit 1
fi
