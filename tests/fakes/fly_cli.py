"""A fake `fly` executable: the flyctl subcommands the scripts use, with Fly's behaviour.

State (machines per app and region, deploys) lives in $FAKE_FLY_STATE, a JSON
file, so a script can be re-run against what an earlier run left. Every call
is appended to $FAKE_FLY_LOG as JSON: argv, and which FLY_* / WEBHOST_* names
were in the environment (names only). $FAKE_FLY_FAIL="<subcommand>" makes that
subcommand fail the way flyctl does: a message on stderr and exit status 1.

Formats follow flyctl: `machines list --json` prints a JSON array of machines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {"apps": {}, "deploys": []}


def _fail(message: str) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return 1


def _machines(state: dict[str, Any], app: str) -> dict[str, int]:
    machines: dict[str, int] = state["apps"].setdefault(app, {})
    return machines


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_FLY_STATE"])
    with open(os.environ["FAKE_FLY_LOG"], "a") as log:
        env = sorted(k for k in os.environ if k.startswith(("FLY_", "WEBHOST_")))
        log.write(json.dumps({"argv": argv, "env": env}) + "\n")
    if not os.environ.get("FLY_API_TOKEN"):
        return _fail("no access token available. Please login with 'flyctl auth login'")
    command = " ".join(a for a in argv[:2] if not a.startswith("-"))
    failing = os.environ.get("FAKE_FLY_FAIL", "")
    if failing and command.startswith(failing):
        return _fail(f"failed to {failing}: simulated failure (status 503)")

    state = _load(state_path)
    parser = argparse.ArgumentParser(prog="fly", add_help=False)
    parser.add_argument("words", nargs="*")
    parser.add_argument("-a", "--app", required=True)
    parser.add_argument("-c", "--config")
    parser.add_argument("-i", "--image")
    parser.add_argument("--strategy")
    parser.add_argument("-r", "--region")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-public-ips", action="store_true")
    parser.add_argument("-y", "--yes", action="store_true")
    args = parser.parse_args(argv)

    if args.words == ["deploy"]:
        config = tomllib.loads(Path(args.config).read_text())
        if config.get("app") != args.app:
            return _fail(f"app {args.app} does not match fly.toml app {config.get('app')}")
        machines = _machines(state, args.app)
        if not machines:  # Fly's first deploy: two machines in the primary region
            machines[config["primary_region"]] = 2
        state["deploys"].append({"app": args.app, "image": args.image, "strategy": args.strategy})
        print(
            f"==> Verifying app config\n--> Verified app config\nVisit your newly deployed app at https://{args.app}.fly.dev/"
        )
    elif args.words[:2] == ["scale", "count"]:
        if not args.yes:
            return _fail("yes flag must be specified when not running interactively")
        count = int(args.words[2])
        region = args.region or ""
        if "," in region:
            return _fail("the fake takes one region per call")
        machines = _machines(state, args.app)
        if count:
            machines[region] = count
        else:
            machines.pop(region, None)
        print(f"App '{args.app}' is going to be scaled according to this plan:")
        print(f"  {count} machines in {region}")
    elif args.words == ["machines", "list"] and args.json:
        listed = [
            {
                "id": f"{region}{i:012x}",
                "name": f"{args.app}-{region}-{i}",
                "state": "started",
                "region": region,
                "config": {"metadata": {"fly_process_group": "app"}},
            }
            for region, count in sorted(_machines(state, args.app).items())
            for i in range(count)
        ]
        print(json.dumps(listed, indent=2))
    else:
        return _fail(f"unknown command {' '.join(argv)}")
    state_path.write_text(json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
