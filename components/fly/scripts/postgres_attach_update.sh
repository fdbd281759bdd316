#!/usr/bin/env bash
# Update of the attach (the script or its settings changed; a new database, user
# or app replaces the resource instead). pulumi-command sets stdout from whatever
# this prints (provider/pkg/provider/local/commandOutputs.go), so it prints the URL
# it recorded at create time, handed back in PULUMI_COMMAND_STDOUT (the Command
# sets addPreviousOutputInEnv), once it has checked the user still exists.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scratch=WEBHOST_ATTACH_DATABASE_URL
user="$(printf '%s' "$WEBHOST_DB_USER" | tr '[:upper:]-' '[:lower:]_')"
users="$(pg_users "$WEBHOST_PG_APP")"
if ! printf '%s\n' "$users" | grep -qxF "$user"; then
  echo "database user $user is gone from $WEBHOST_PG_APP (detached by hand?): replace the" \
    "attachment with 'pulumi up --replace' on this resource" >&2
  exit 1
fi
previous="$(private_file previous)"
printf '%s\n' "${PULUMI_COMMAND_STDOUT:-}" >"$previous"
line="$(sed -n "s/^[[:space:]]*\($scratch=.*\)$/\1/p" "$previous")"
if [ -z "$line" ]; then
  echo "no recorded $scratch for user $user: replace the attachment with" \
    "'pulumi up --replace' on this resource" >&2
  exit 1
fi
printf '%s\n' "$line"
