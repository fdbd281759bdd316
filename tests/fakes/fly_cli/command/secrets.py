"""`fly secrets`: flyctl internal/command/secrets/."""

from __future__ import annotations

import json

from tests.fakes.fly_cli.errors import Fail
from tests.fakes.fly_cli.machine_types import RELEASE_VERSION, fly_apps_machine
from tests.fakes.fly_cli.models import Fly, token_hex
from tests.fakes.fly_cli.root import Call


def secrets_list(fly: Fly, a: Call) -> None:
    app = fly.app(a.get("app"))
    # secrets/list.go buildSecretRows/computeSecretStatus: a secret is on a machine
    # when it was written no later than the machine's release (fly_release_version
    # metadata) was made; a machine without a known release has none. None of the
    # machines: Staged; all: Deployed; some: Partial. No machines at all: Staged.
    machines = [m for m in app["machines"] if fly_apps_machine(m)]
    releases = app.get("releases", {})
    listed = []
    for name in sorted(app["secrets"]):
        written = app.get("secret_versions", {}).get(name, 0)
        having = sum(
            1
            for m in machines
            if m.get("metadata", {}).get(RELEASE_VERSION) in releases
            and written <= releases[m["metadata"][RELEASE_VERSION]]
        )
        status = "Staged"
        if machines and having == len(machines):
            status = "Deployed"
        elif having:
            status = "Partial"
        # secrets/list.go SecretWithStatus JSON tags
        listed.append({"name": name, "digest": "0" * 16, "status": status})
    print(json.dumps(listed))


def secrets_set(fly: Fly, a: Call) -> None:
    values: dict[str, str | None] = {}
    for arg in a.args:  # cmdutil.ParseKVStringsToMap
        key, eq, value = arg.partition("=")
        if not eq:
            raise Fail(f"'{arg}': must be in the format NAME=VALUE")
        values[key] = value
    fly.update_secrets(a.get("app") or "", values)
    _secrets_deployed(fly, a)


def secrets_unset(fly: Fly, a: Call) -> None:
    # appsecrets/secrets.go Update: "It is not an error to unset a secret that does not exist."
    fly.update_secrets(a.get("app") or "", dict.fromkeys(a.args))
    _secrets_deployed(fly, a)


def _secrets_deployed(fly: Fly, a: Call) -> None:
    """secrets.go DeploySecrets after a set or unset: --stage stops there."""
    if a.on("stage"):
        print(
            "Secrets have been staged, but not set on VMs. Deploy or update machines in "
            "this app for the secrets to take effect."
        )
        return
    fly.release(a.get("app") or "")


def secrets_sync(fly: Fly, a: Call) -> None:
    # appsecrets.Sync: unset a bogus name; the answer's version becomes the cached minvers
    fly.update_secrets(a.get("app") or "", {f"BogusDummySecret_{token_hex(8)}": None})


def secrets_deploy(fly: Fly, a: Call) -> None:
    app = fly.app(a.get("app"))
    if not [m for m in app["machines"] if fly_apps_machine(m)]:
        raise Fail("no machines available to deploy")  # secrets/deploy.go runDeploy
    fly.release(a.get("app") or "")


HANDLERS = {
    ("secrets", "list"): secrets_list,
    ("secrets", "set"): secrets_set,
    ("secrets", "unset"): secrets_unset,
    ("secrets", "sync"): secrets_sync,
    ("secrets", "deploy"): secrets_deploy,
}
