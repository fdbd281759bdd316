"""`fly postgres detach`: flyctl internal/command/postgres/detach.go."""

from __future__ import annotations

import os
import sys

from tests.fakes.fly_cli.errors import NON_INTERACTIVE, Fail, Interrupted
from tests.fakes.fly_cli.flex import admin_sql
from tests.fakes.fly_cli.models import Fly
from tests.fakes.fly_cli.root import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass


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
    # 15, internal/prompt/prompt.go).
    lines = [
        "? Select the attachment that you would like to detach "
        "(Database will remain intact):  [type to filter]",
        *[("> " if i == 0 else "  ") + option for i, option in enumerate(options[:15])],
    ]
    print("\n".join(lines), flush=True)
    if os.environ.get("FAKE_FLY_PROMPT_COOKED"):
        chosen = _select_cooked(options)
    else:
        chosen = _select(options)
    target = mine[chosen]
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


def _shown(options: list[str], typed: str) -> list[int]:
    """survey/v2 DefaultFilterFn: the options holding what was typed, ignoring case."""
    return [i for i, option in enumerate(options) if typed.lower() in option.lower()]


def _select(options: list[str]) -> int:
    """survey v2.3.7 (flyctl go.mod) Select.Prompt, after its render: the terminal in
    raw mode (terminal/runereader_posix.go SetTermMode clears ECHO, ECHONL, ICANON and
    ISIG, VMIN 1), then one key at a time (select.go Prompt, OnChange): Ctrl-C is a key
    read, not a signal, and answers terminal.InterruptErr; typing filters the options;
    Enter (CR, or LF) picks the first one shown, and with none shown keeps prompting;
    Backspace drops the filter's last character. End of input is flyctl's "EOF" error.
    The terminal's mode is restored after (RestoreTermMode)."""
    import termios

    saved = termios.tcgetattr(0)
    raw = termios.tcgetattr(0)
    raw[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG)
    raw[6][termios.VMIN], raw[6][termios.VTIME] = 1, 0
    termios.tcsetattr(0, termios.TCSANOW, raw)
    typed = ""
    try:
        while True:
            key = os.read(0, 1).decode("latin-1")  # the scripts type ASCII
            if not key:
                raise Fail("EOF")
            if key == "\x03":  # terminal.KeyInterrupt
                raise Interrupted
            if key in "\r\n":  # terminal.KeyEnter, or '\n'
                if shown := _shown(options, typed):
                    return shown[0]
            elif key in "\x7f\x08":  # terminal.KeyDelete, KeyBackspace
                typed = typed[:-1]
            else:
                typed += key
    finally:
        termios.tcsetattr(0, termios.TCSANOW, saved)


def _select_cooked(options: list[str]) -> int:
    """$FAKE_FLY_PROMPT_COOKED: the answer lands in the moment between survey's render
    and its SetTermMode, while the terminal is still cooked: the line discipline has
    the input (a line at a time), and a Ctrl-C there is the terminal's SIGINT to
    flyctl, not a key survey reads. What the caller must survive in that moment."""
    while True:
        line = sys.stdin.readline()
        if not line:
            raise Fail("EOF")
        if shown := _shown(options, line.rstrip("\r\n")):
            return shown[0]


HANDLERS = {
    ("postgres", "detach"): postgres_detach,
}
