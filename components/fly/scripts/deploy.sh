#!/usr/bin/env bash
# `fly deploy` of the image with the rendered fly.toml, then `fly scale count` per region.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

config="$WEBHOST_PRIVATE_DIR/fly.toml"
printf '%s\n' "$WEBHOST_FLY_TOML" >"$config"

# Machines boot with the minimum secrets version flyctl has cached locally for the
# app (flyctl internal/command/deploy/machines_launchinput.go reads
# appsecrets.GetMinvers; internal/appsecrets/minvers.go). The Secrets resource
# wrote version $WEBHOST_SECRETS_VERSION through the API, which that cache never
# saw: `fly secrets sync` sets it to the app's current version
# (internal/command/secrets/sync.go, appsecrets.Sync), so the deploy sees it.
echo "secrets version $WEBHOST_SECRETS_VERSION written; syncing flyctl's view of it" >&2
fly secrets sync --app "$WEBHOST_APP" >&2

# IPs are managed by this program, never allocated as a deploy side effect.
fly deploy --app "$WEBHOST_APP" --config "$config" --image "$WEBHOST_IMAGE" \
  --strategy "$WEBHOST_STRATEGY" --no-public-ips --yes >&2

# One call per region: `--region a,b` with a count spreads it, it does not repeat it.
for pair in $WEBHOST_REGION_COUNTS; do
  fly scale count "${pair#*=}" --region "${pair%%=*}" --app "$WEBHOST_APP" --yes >&2
done

# A region dropped from webhost:regions loses its machines. The listing must
# answer: a failed one stops the script rather than reading as "no regions".
machines="$(machines_json "$WEBHOST_APP")"
present="$(printf '%s' "$machines" | json_query 'sorted({m["region"] for m in data})')"
for region in $present; do
  case " $WEBHOST_REGION_COUNTS " in
    *" $region="*) ;;
    *) fly scale count 0 --region "$region" --app "$WEBHOST_APP" --yes >&2 ;;
  esac
done
