#!/usr/bin/env bash
# The app's own database user and database, made by `fly postgres attach`. Its
# stdout is one line, WEBHOST_ATTACH_DATABASE_URL=<url>, printed as the last act.
# The attach also sets that URL as an app secret; this program owns DATABASE_URL
# through its Secrets resource, so the attach writes a scratch name, removed again.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scratch=WEBHOST_ATTACH_DATABASE_URL
# flyctl names the user as it would (lower case, '-' to '_': flyctl
# internal/command/postgres/attach.go runAttachCluster).
user="$(printf '%s' "$WEBHOST_DB_USER" | tr '[:upper:]-' '[:lower:]_')"
out="$(private_file attach.out)"

# A scratch secret left by a run cut off half-way would stop the attach. Unsetting
# a secret that does not exist is no error (flyctl internal/appsecrets/secrets.go).
fly secrets unset "$scratch" --app "$WEBHOST_APP" --stage >&2

# Any attachment of this user is left by an earlier run this program never recorded:
# an attach cut off after it made the user (its password is gone with that run), or
# one cut off after flyctl registered the attachment and before it made the user
# (attach.go runAttachCluster registers first; attaching over it registers a second
# record). Detach them all by the user (the database and its data stay: postgres-flex
# reassigns the user's objects to postgres before dropping it, internal/api/
# handle_users.go), then attach again under the same name, so the cluster keeps
# exactly one attachment for the app.
detach_all "$WEBHOST_PG_APP" "$WEBHOST_APP" "$user"
users="$(pg_users "$WEBHOST_PG_APP")"
if printf '%s\n' "$users" | grep -qxF "$user"; then
  if [ "${WEBHOST_RESTORED:-}" = true ]; then
    # A restored cluster holds the source's copy of the user (roles are restored
    # with the data: postgres-flex resets only its own users, internal/flypg/
    # barman_restore.go walReplayAndReset), and no attachment of the app to detach.
    # Drop that copy the way postgres-flex's handleDeleteUser drops a user (internal/
    # api/handle_users.go: in every database REASSIGN OWNED BY it TO postgres and
    # DROP OWNED BY it, then DROP ROLE), on the leader as postgres; the setup gives
    # the database and its objects to the new user of the same name.
    echo "database user $user came with the restore; dropping it to attach afresh" >&2
    drop_restored_user "$WEBHOST_PG_APP" "$user"
    users="$(pg_users "$WEBHOST_PG_APP")"
  fi
fi
if printf '%s\n' "$users" | grep -qxF "$user"; then
  echo "database user $user is on $WEBHOST_PG_APP with no attachment to detach (made by" \
    "hand?); stopping. Drop it ('fly postgres connect', DROP ROLE) or choose another" \
    "postgres.user, then run pulumi up again" >&2
  exit 1
fi

# Not a superuser: the app owns its database, nothing more (--superuser defaults
# to true in flyctl internal/command/postgres/attach.go). --yes answers the
# "database exists, continue?" prompt a re-attach meets. The URL flyctl prints goes
# to the private file only.
# flyctl's own messages go through without_credentials (lib.sh): on failure they
# may quote the secrets write that carries the new password.
errors="$(private_file attach.err)"
attached=0
fly postgres attach "$WEBHOST_PG_APP" --app "$WEBHOST_APP" --database-name "$WEBHOST_DB_NAME" \
  --database-user "$user" --variable-name "$scratch" --superuser=false --yes \
  >"$out" 2>"$errors" || attached=$?
without_credentials <"$errors" >&2
if [ "$attached" -ne 0 ]; then
  echo "fly postgres attach failed (exit status $attached); its messages are above" >&2
  exit 1
fi
fly secrets unset "$scratch" --app "$WEBHOST_APP" --stage >&2

users="$(pg_users "$WEBHOST_PG_APP")"
if ! printf '%s\n' "$users" | grep -qxF "$user"; then
  echo "fly postgres attach exited 0 but user $user is not on $WEBHOST_PG_APP" >&2
  exit 1
fi
line="$(sed -n "s/^[[:space:]]*\($scratch=.*\)$/\1/p" "$out")"
if [ -z "$line" ]; then
  echo "fly postgres attach printed no $scratch=... line" >&2
  exit 1
fi
printf '%s\n' "$line"
