#!/usr/bin/env bash
# Delete of the attach: detaches this stack's attachment, by its user; succeeds once the user is gone.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

user="$(printf '%s' "$WEBHOST_DB_USER" | tr '[:upper:]-' '[:lower:]_')"
users="$(pg_users "$WEBHOST_PG_APP")"
if ! printf '%s\n' "$users" | grep -qxF "$user"; then
  echo "database user $user is not on $WEBHOST_PG_APP: already detached" >&2
  exit 0
fi
detach_user "$WEBHOST_PG_APP" "$WEBHOST_APP" "$user" \
  || echo "fly postgres detach exited non-zero; checking what it left" >&2
users="$(pg_users "$WEBHOST_PG_APP")"
if printf '%s\n' "$users" | grep -qxF "$user"; then
  echo "database user $user is still on $WEBHOST_PG_APP after the detach" >&2
  exit 1
fi
