#!/usr/bin/env bash
# Delete of a read replica: its machines and their volumes; succeeds only once both are gone.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
if [ "$WEBHOST_REGION" = "$WEBHOST_PRIMARY_REGION" ]; then
  echo "refusing to delete members in the primary region $WEBHOST_REGION as a replica" >&2
  exit 1
fi
machines="$(machines_json "$app")"
ids="$(printf '%s' "$machines" | json_query \
  '[m["id"] for m in data if m["region"] == args[0]]' "$WEBHOST_REGION")"
for id in $ids; do
  fly machine destroy "$id" --app "$app" --force >&2
done
# `fly machine destroy` leaves the machine's volume behind (flyctl
# internal/command/machine/destroy.go never touches it): every volume in the
# replica's region goes too, including one left by an earlier cut-off delete.
volumes="$(volumes_json "$app")"
vols="$(printf '%s' "$volumes" | json_query \
  '[v["id"] for v in data if v["region"] == args[0]]' "$WEBHOST_REGION")"
for vol in $vols; do
  fly volumes destroy "$vol" --app "$app" --yes >&2
done

machines="$(machines_json "$app")"
volumes="$(volumes_json "$app")"
left="$(printf '%s' "$machines" | json_query \
  '[m["id"] for m in data if m["region"] == args[0]]' "$WEBHOST_REGION")"
left_vols="$(printf '%s' "$volumes" | json_query \
  '[v["id"] for v in data if v["region"] == args[0]]' "$WEBHOST_REGION")"
if [ -n "$left$left_vols" ]; then
  echo "replica in $WEBHOST_REGION is not gone: machines [$left] volumes [$left_vols]" >&2
  exit 1
fi
