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
# in_region JSON: the ids of the machines or volumes in JSON (a flyctl listing, fly-go
# machine_types.go / volume_types.go JSON tags: id, region) in the replica's region.
in_region() {
  printf '%s' "$1" | json_query '[x["id"] for x in data if x["region"] == args[0]]' \
    "$WEBHOST_REGION"
}
machines="$(machines_json "$app")"
ids="$(in_region "$machines")"
for id in $ids; do
  fly machine destroy "$id" --app "$app" --force >&2
done
# `fly machine destroy` leaves the machine's volume behind (flyctl
# internal/command/machine/destroy.go never touches it): every volume in the
# replica's region goes too, including one left by an earlier cut-off delete.
volumes="$(volumes_json "$app")"
vols="$(in_region "$volumes")"
for vol in $vols; do
  fly volumes destroy "$vol" --app "$app" --yes >&2
done

machines="$(machines_json "$app")"
volumes="$(volumes_json "$app")"
left="$(in_region "$machines")"
left_vols="$(in_region "$volumes")"
if [ -n "$left$left_vols" ]; then
  echo "replica in $WEBHOST_REGION is not gone: machines [$left] volumes [$left_vols]" >&2
  exit 1
fi
