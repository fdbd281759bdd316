#!/usr/bin/env bash
# Delete of the cluster resource: destroys the Postgres app, and succeeds only once it is gone.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

app="$WEBHOST_PG_APP"
# A protected stack (prod) also retains the resource, so this never runs there;
# should it ever, it destroys nothing.
if [ "$WEBHOST_PROTECTED" = true ]; then
  echo "postgres app $app belongs to a protected stack: not destroying it. Destroy it by hand" \
    "('fly apps destroy $app') once its data is safe elsewhere." >&2
  exit 1
fi
state="$(app_state "$app" "$WEBHOST_ORG")"
if [ "$state" = absent ]; then
  echo "postgres app $app is already gone" >&2
  exit 0
fi
fly apps destroy "$app" --yes >&2
state="$(app_state "$app" "$WEBHOST_ORG")"
if [ "$state" != absent ]; then
  echo "postgres app $app is still listed after 'fly apps destroy'" >&2
  exit 1
fi
