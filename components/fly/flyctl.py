"""`local.Command` builders for what only flyctl orchestrates: deploys and Postgres.

Each script is a fixed bash text; everything that varies reaches it through the
command's environment, so the script in state never changes with the values and
nothing sensitive is ever on argv. FLY_API_TOKEN is not an input at all: flyctl
reads it from the environment `pulumi up` runs in, which the command inherits.

Scripts (`scripts/*.sh`) converge: run again after success, or after a failure
half-way, they leave Fly as one clean run would. No decision rests on an answer
flyctl could not give, and a delete succeeds only once the thing is gone. What
flyctl prints about itself goes to stderr (logged); stdout is kept for what the
program parses, and a command whose stdout carries credentials keeps it secret,
out of the logs, and empty until the script's last act (a failed command's
output lands in its error message).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Final

import pulumi
from pulumi_command import local

# bash, not sh: the scripts use pipefail and here-strings. Written for bash 3.2 (macOS) too.
INTERPRETER: Final = ["/bin/bash", "-c"]

# The scripts are files beside this module (shipped as package data, linted by
# shellcheck). Each sources lib.sh with this exact line, which the loader replaces
# by lib.sh's text: local.Command runs a script as one string (`bash -c`), with no
# file beside it to source.
_SCRIPTS: Final = resources.files("components.fly").joinpath("scripts")
_SOURCE_LIB: Final = 'source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"'


def _script(name: str) -> str:
    text = _SCRIPTS.joinpath(f"{name}.sh").read_text(encoding="utf-8")
    lib = _SCRIPTS.joinpath("lib.sh").read_text(encoding="utf-8")
    if text.count(_SOURCE_LIB) != 1:
        raise RuntimeError(f"scripts/{name}.sh must source lib.sh once, as: {_SOURCE_LIB}")
    lib_body = lib.partition("\n")[2] if lib.startswith("#!") else lib
    return text.replace(_SOURCE_LIB, lib_body.rstrip("\n"))


DEPLOY_SCRIPT: Final = _script("deploy")
POSTGRES_CLUSTER_SCRIPT: Final = _script("postgres_cluster")
POSTGRES_CLUSTER_DELETE: Final = _script("postgres_cluster_delete")
POSTGRES_REPLICA_SCRIPT: Final = _script("postgres_replica")
POSTGRES_REPLICA_DELETE: Final = _script("postgres_replica_delete")
POSTGRES_ATTACH_SCRIPT: Final = _script("postgres_attach")
POSTGRES_ATTACH_UPDATE: Final = _script("postgres_attach_update")
POSTGRES_DETACH_SCRIPT: Final = _script("postgres_detach")
POSTGRES_SETUP_SCRIPT: Final = _script("postgres_setup")
POSTGRES_BACKUPS_SCRIPT: Final = _script("postgres_backups")
POSTGRES_BACKUPS_DELETE: Final = _script("postgres_backups_delete")

# The attach's scratch secret name: its stdout is one `NAME=url` line.
ATTACH_VARIABLE: Final = "WEBHOST_ATTACH_DATABASE_URL"


def command(
    name: str,
    *,
    create: str,
    environment: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
    delete: str | None = None,
    update: str | None = None,
    secret_stdout: bool = False,
    previous_output: bool = False,
    triggers: list[pulumi.Input[str]] | None = None,
) -> local.Command:
    """A bash script as a resource. `secret_stdout`: stdout carries credentials.

    `previous_output`: the update and delete scripts get the last stdout in
    PULUMI_COMMAND_STDOUT (pulumi-command local/commandOutputs.go), for a script
    whose update must print again what its create printed. `triggers`: a change of
    any of these replaces the resource, so its create runs again (pulumi-command
    provider/pkg/provider/common/inputs.go, replaceOnChanges).
    """
    if secret_stdout:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["stdout"])
        )
    return local.Command(
        name,
        create=create,
        update=update,
        delete=delete,
        interpreter=INTERPRETER,
        environment=dict(environment),
        add_previous_output_in_env=previous_output,
        logging=local.Logging.STDERR if secret_stdout else None,
        triggers=triggers,
        opts=opts,
    )


def deploy(
    name: str,
    *,
    app: pulumi.Input[str],
    image: str,
    strategy: str,
    fly_toml: str,
    secrets_version: pulumi.Input[int],
    opts: pulumi.ResourceOptions,
    emergency: str | None = None,
) -> local.Command:
    """`fly deploy` of `image` with `fly_toml`.

    `emergency`: the declared reason for an immediate deploy, an input of the
    command so the plan and the preview show it (policies/rollout.py reads it);
    absent otherwise, so a stack without one keeps its inputs.

    Any change of image, fly.toml or secrets version re-runs it (an environment
    change is an update, and the update runs the create script). The secrets
    version is only a trigger: it changes when a secret value does, and carries no
    value itself. The machine count per region is not the deploy's: MachineCounts
    (components/fly/machines.py) scales after it and reads the counts back.
    """
    return command(
        name,
        create=DEPLOY_SCRIPT,
        environment={
            "WEBHOST_APP": app,
            "WEBHOST_IMAGE": image,
            "WEBHOST_STRATEGY": strategy,
            "WEBHOST_FLY_TOML": fly_toml,
            "WEBHOST_SECRETS_VERSION": pulumi.Output.from_input(secrets_version).apply(str),
            **({"WEBHOST_EMERGENCY": emergency} if emergency is not None else {}),
        },
        opts=opts,
    )
