#!/usr/bin/env bash
# Delete of the attach: detaches this stack's attachments, by their user; succeeds once
# none is left and the user is gone.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

user="$(printf '%s' "$WEBHOST_DB_USER" | tr '[:upper:]-' '[:lower:]_')"
# Every attachment of the user, also one whose user an attach cut off half-way never
# made (lib.sh detach_all); done once none is offered and the user is gone.
detach_all "$WEBHOST_PG_APP" "$WEBHOST_APP" "$user"
users="$(pg_users "$WEBHOST_PG_APP")"
if printf '%s\n' "$users" | grep -qxF "$user"; then
  echo "database user $user is still on $WEBHOST_PG_APP after the detach" >&2
  exit 1
fi
