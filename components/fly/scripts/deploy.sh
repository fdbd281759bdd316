#!/usr/bin/env bash
# `fly deploy` of the image with the rendered fly.toml. The machine count per region is
# MachineCounts' (components/fly/machines.py), which scales after this and reads it back.
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
