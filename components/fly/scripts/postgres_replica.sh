#!/usr/bin/env bash
# A read replica: a clone of a primary-region member in its own region.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

machines="$(machines_json "$WEBHOST_PG_APP")"
existing="$(printf '%s' "$machines" | json_query \
  '[m["id"] for m in data if m["region"] == args[0]]' "$WEBHOST_REGION")"
if [ -n "$existing" ]; then
  echo "replica in $WEBHOST_REGION exists: $existing" >&2
  exit 0
fi
source_id="$(printf '%s' "$machines" | json_query \
  'next((m["id"] for m in data if m["region"] == args[0]), None)' "$WEBHOST_PRIMARY_REGION")"
if [ -z "$source_id" ]; then
  echo "no member of $WEBHOST_PG_APP in $WEBHOST_PRIMARY_REGION to clone" >&2
  exit 1
fi
# Postgres Flex elects primaries only in PRIMARY_REGION: a clone elsewhere is a replica.
clone_member "$WEBHOST_PG_APP" "$source_id" "$WEBHOST_REGION"
