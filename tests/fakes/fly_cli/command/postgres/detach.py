"""`fly postgres detach`: flyctl internal/command/postgres/detach.go."""

from __future__ import annotations

import os
import sys

from tests.fakes.fly_cli.errors import (
    NON_INTERACTIVE,
    Fail,
)
from tests.fakes.fly_cli.flex import (
    admin_sql,
)
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def postgres_detach(fly: Fly, a: Call) -> None:
    # postgres/detach.go: lists the app's attachments and always asks which, on a terminal
    pg_name = a.args[0]
    cluster, app = fly.pg(pg_name), fly.app(a.get("app"))
    mine = [x for x in cluster["attachments"] if x["app"] == a.get("app")]
    if not mine:
        raise Fail("no attachments found")
    if not os.isatty(0):
        raise Fail(NON_INTERACTIVE)
    options = [
        f"PG Database: {x['database']}, PG User: {x['user']}, Environment variable: {x['var']}"
        for x in mine
    ]
    # survey's Select: the question, then one option per line, in one render (one
    # write: survey/v2 select.go Prompt, RenderWithCursorOffset; flyctl's PageSize is
    # 15, internal/prompt/prompt.go); typing filters the options (case-insensitive
    # substring, survey/v2 DefaultFilterFn), Enter picks the first one shown, and
    # Enter with none shown keeps prompting (select.go OnChange); end of input ends it.
    lines = [
        "? Select the attachment that you would like to detach "
        "(Database will remain intact):  [type to filter]",
        *[("> " if i == 0 else "  ") + option for i, option in enumerate(options[:15])],
    ]
    print("\n".join(lines), flush=True)
    shown: list[dict[str, Any]] = []
    while not shown:
        line = sys.stdin.readline()
        if not line:
            raise Fail("EOF")
        typed = line.rstrip("\r\n")
        shown = [x for x, o in zip(mine, options, strict=True) if typed.lower() in o.lower()]
    target = shown[0]
    # flyctl deletes the user through postgres-flex (internal/api/handle_users.go
    # handleDeleteUser): in every database, REASSIGN OWNED BY it TO postgres and
    # DROP OWNED BY it, then DROP ROLE. Its databases and their data stay.
    if target["user"] in cluster["users"]:
        for name in admin_sql("SELECT datname FROM pg_database WHERE NOT datistemplate"):
            admin_sql(f"REASSIGN OWNED BY {target['user']} TO postgres;", name)
            admin_sql(f"DROP OWNED BY {target['user']};", name)
        admin_sql(f"DROP ROLE {target['user']}")
    cluster["users"].pop(target["user"], None)
    if target["user"] in cluster.get("superusers", []):
        cluster["superusers"].remove(target["user"])
    fly.update_secrets(a.get("app") or "", {target["var"]: None})
    print(f'Secret "{target["var"]}" was scheduled to be removed from app {a.get("app")}')
    cluster["attachments"].remove(target)
    print("Detach completed successfully!")
    del app  # looked up only to fail as flyctl does when it is missing


HANDLERS = {
    ("postgres", "detach"): postgres_detach,
}
