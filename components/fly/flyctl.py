"""`local.Command` builders for what only flyctl orchestrates: deploys and scaling.

Each script is a fixed bash text; everything that varies reaches it through the
command's environment, so the script in state never changes with the values and
nothing sensitive is ever on argv. FLY_API_TOKEN is not an input at all: flyctl
reads it from the environment `pulumi up` runs in, which the command inherits.

Scripts converge: run twice, they leave Fly as after one run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pulumi
from pulumi_command import local

# bash, not sh: the scripts use pipefail. Written for bash 3.2 (macOS) too.
INTERPRETER: Final = ["/bin/bash", "-c"]

DEPLOY_SCRIPT: Final = r"""set -euo pipefail
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
printf '%s\n' "$WEBHOST_FLY_TOML" > "$config"

# IPs are managed by this program, never allocated as a deploy side effect.
fly deploy --app "$WEBHOST_APP" --config "$config" --image "$WEBHOST_IMAGE" \
  --strategy "$WEBHOST_STRATEGY" --no-public-ips --yes

# One call per region: `--region a,b` with a count spreads it, it does not repeat it.
for pair in $WEBHOST_REGION_COUNTS; do
  fly scale count "${pair#*=}" --region "${pair%%=*}" --app "$WEBHOST_APP" --yes
done

# A region dropped from webhost:regions loses its machines.
present="$(fly machines list --app "$WEBHOST_APP" --json | python3 -c '
import json, sys
print(" ".join(sorted({m["region"] for m in json.load(sys.stdin)})))
')"
for region in $present; do
  case " $WEBHOST_REGION_COUNTS " in
    *" $region="*) ;;
    *) fly scale count 0 --region "$region" --app "$WEBHOST_APP" --yes ;;
  esac
done
"""


def region_counts(regions: Mapping[str, int]) -> str:
    """`iad=3 fra=2`: the per-region machine counts as the deploy script reads them."""
    return " ".join(f"{region}={count}" for region, count in sorted(regions.items()))


def deploy(
    name: str,
    *,
    app: pulumi.Input[str],
    image: str,
    strategy: str,
    fly_toml: str,
    regions: Mapping[str, int],
    secrets_version: pulumi.Input[int],
    opts: pulumi.ResourceOptions,
) -> local.Command:
    """`fly deploy` of `image` with `fly_toml`, then `fly scale count` per region.

    Any change of image, fly.toml, counts or secrets version re-runs it (an
    environment change is an update, and the update runs the create script).
    The secrets version is only a trigger: it changes when a secret value does,
    and carries no value itself.
    """
    environment: dict[str, pulumi.Input[str]] = {
        "WEBHOST_APP": app,
        "WEBHOST_IMAGE": image,
        "WEBHOST_STRATEGY": strategy,
        "WEBHOST_FLY_TOML": fly_toml,
        "WEBHOST_REGION_COUNTS": region_counts(regions),
        "WEBHOST_SECRETS_VERSION": pulumi.Output.from_input(secrets_version).apply(str),
    }
    return local.Command(
        name,
        create=DEPLOY_SCRIPT,
        interpreter=INTERPRETER,
        environment=environment,
        add_previous_output_in_env=False,
        opts=opts,
    )
