"""`fly ssh console`: flyctl internal/command/ssh/."""

from __future__ import annotations

import json
import os
import sys

from tests.fakes.fly_cli.command.postgres.backup import archiving
from tests.fakes.fly_cli.errors import NO_TTY, Fail
from tests.fakes.fly_cli.flex import psql_modelled, psql_on_server
from tests.fakes.fly_cli.machine_types import PG_SOCKET_ENV
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call


def ssh_console(fly: Fly, a: Call) -> None:
    app = fly.app(a.get("app"))
    command = a.get("command") or ""
    if (not command or a.on("pty")) and not os.isatty(0):
        raise Fail(NO_TTY)
    machine_id = a.get("machine")
    machine = fly.machine(app, machine_id) if machine_id else app["machines"][0]
    import shlex

    words = shlex.split(command)
    if len(words) == 2 and words[0] == "printenv":
        # An app's secrets are environment variables on its machines (superfly/docs
        # reference/secrets); postgres-flex's own scripts read the operator password
        # back so (fly-apps/postgres-flex scripts/test_scripts/config_check.sh:
        # `fly ssh console -C "printenv OPERATOR_PASSWORD"`). A machine booted by a
        # release has the secrets named in env_secrets; one made with the app's
        # first secrets (postgres create sets them before any machine) has them all.
        # printenv exits 1 for a name it does not have (coreutils), and flyctl
        # passes the status on (ssh/io.go).
        booted = machine.get("env_secrets", list(app["secrets"]))
        value = machine.get("env", {}).get(words[1])
        if value is None and words[1] in booted:
            value = app["secrets"].get(words[1])
        if value is None:
            raise Fail("ssh shell: Process exited with status 1")
        print(value)
        return
    if words[:4] == ["flexctl", "backup", "list", "--json"]:
        # postgres-flex cmd/flexctl/backups.go listBackups --json: barman's own JSON
        # (barman.go ListRawBackups, Backup's json tags)
        cluster = archiving(fly, a.get("app") or "")
        fields = ("backup_id", "backup_name", "status", "end_time")
        listed = [{k: b[k] for k in fields} for b in cluster.get("base_backups", [])]
        print(json.dumps({"backups_list": listed}))
        return
    if not words or words[0] != "psql":
        raise Fail(f"ssh shell: Process exited with status 127 ({words[:1]} not modelled)")
    cluster = fly.pg(a.get("app"))
    socket = os.environ.get(PG_SOCKET_ENV)
    if socket:
        status = psql_on_server(socket, machine, words)
    else:
        database = words[words.index("-d") + 1] if "-d" in words else "postgres"
        status = psql_modelled(cluster, machine, database, sys.stdin.read(), words)
    if status:
        # ssh/io.go: sess.Run's *ssh.ExitError is returned; flyctl exits 1
        raise Fail(f"ssh shell: Process exited with status {status}")


HANDLERS = {
    ("ssh", "console"): ssh_console,
}
