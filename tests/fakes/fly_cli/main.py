"""The fake `fly`'s entry: one flyctl call, start to end.

Every call is appended to $FAKE_FLY_LOG as JSON: argv, and which FLY_* / WEBHOST_*
names were in the environment (names only). The call is parsed (root.py), the state
loaded under a lock (models.py), the faults the environment asks for injected, and
the command's group (command/<group>, imported for this call alone) does the work.

Failures, the way flyctl reports them (`Error: ...` on stderr, exit status 1):
- $FAKE_FLY_FAIL="<subcommand>" makes every call of that subcommand fail;
- $FAKE_FLY_FAIL_ONCE="<subcommand>" makes only its first call fail (a transient 5xx);
- $FAKE_FLY_FAIL_NTH="<subcommand>:<n>" makes only its n-th call fail (a later step);
- $FAKE_FLY_STDOUT="<subcommand>=<text>" makes that subcommand succeed (exit 0) having
  printed <text> instead of its answer: what a caller sees when flyctl's output is not
  what it asked for (a `null` or a banner where JSON was expected);
- $FAKE_FLY_HALF="<subcommand>" makes it fail half-way (postgres create: the app
  exists, no member yet; postgres attach: attachment registered and database made,
  user creation failed);
- $FAKE_FLY_REMOTE_FAIL="<text>": a command run on a Postgres machine whose input
  contains <text> exits 1 there (flyctl ignores that for `backup config update`,
  `ssh console` passes it on); modelled SQL only, a real server fails for real;
- $FAKE_FLY_IGNORE_BACKUP_CONFIG=1: flexctl accepts a backup config update and
  applies nothing (what a failed remote command looks like through flyctl);
- $FAKE_FLY_TOS_UNAGREED=1: the user behind a user token never accepted an extension
  provider's terms (an org token, `FlyV1 ...`, never counts as having accepted them);
- $FAKE_FLY_ECHO_SECRETS=1: every secrets write (`secrets set`, the attach's) fails
  with an answer quoting the values it sent: as is, JSON-encoded, and as a password
  field. A made-up hostile answer, not one Fly is documented to give: what a script
  must survive if Fly's error (or a proxy's) quotes the request.
- $FAKE_FLY_PROMPT_COOKED=1: `postgres detach`'s prompt is answered while the terminal
  is still cooked (command/postgres/detach.py _select_cooked);
- $FAKE_FLY_DURATIONS (JSON, subcommand prefix -> seconds): sleep that long before a
  matching command, to model its real duration (bench/engine.py).
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import sys

from tests.fakes.fly_cli import flex
from tests.fakes.fly_cli.errors import Fail, Interrupted
from tests.fakes.fly_cli.models import Fly, load, save
from tests.fakes.fly_cli.root import Call, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Handler = Callable[[Fly, Call], None]


def main(argv: list[str]) -> int:
    state_path = os.environ["FAKE_FLY_STATE"]
    with open(os.environ["FAKE_FLY_LOG"], "a") as log:
        env = sorted(k for k in os.environ if k.startswith(("FLY_", "WEBHOST_")))
        log.write(json.dumps({"argv": argv, "env": env}) + "\n")
    try:
        call = parse(argv)
    except Fail as exc:
        print(f"Error: {exc}", file=sys.stderr)  # cobra's error, printed by flyctl's cli.Run
        return 1
    if not os.environ.get("FLY_API_TOKEN"):
        print(
            "Error: no access token available. Please login with 'flyctl auth login'",
            file=sys.stderr,
        )
        return 1
    command = " ".join(call.path)
    _modelled_wait(command)
    handler = handler_of(call.path)
    # The real engine runs independent commands at once: one call's read-modify-write
    # of the state file must not interleave with another's (e2e, make e2e).
    lock = open(f"{state_path}.lock", "a")  # noqa: SIM115 - held until this call ends
    fcntl.flock(lock, fcntl.LOCK_EX)
    state = load(state_path)
    try:
        _inject_faults(command, state)
        replaced, _, text = os.environ.get("FAKE_FLY_STDOUT", "").partition("=")
        if replaced and command.startswith(replaced):
            print(text)
            return 0
        half = os.environ.get("FAKE_FLY_HALF")
        call.half = bool(half) and command.startswith(half or "")
        handler(Fly(state), call)
    except Fail as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except Interrupted:
        return 127  # internal/cli/cli.go: terminal.InterruptErr, nothing printed
    finally:
        flex.archive_wal(state)
        save(state_path, state)
    return 0


def handler_of(path: tuple[str, ...]) -> Handler:
    """The command's handler, from its group's module (command/<group>): only that
    group is imported, so a call pays for no other group's imports."""
    group = importlib.import_module(f"tests.fakes.fly_cli.command.{path[0]}")
    handlers: dict[tuple[str, ...], Handler] = group.HANDLERS
    return handlers[path]


def _inject_faults(command: str, state: dict[str, object]) -> None:
    """$FAKE_FLY_FAIL, $FAKE_FLY_FAIL_ONCE and $FAKE_FLY_FAIL_NTH (module docstring)."""
    failing = os.environ.get("FAKE_FLY_FAIL", "")
    if failing and command.startswith(failing):
        raise Fail(f"failed to {failing}: simulated failure (status 503)")
    once = os.environ.get("FAKE_FLY_FAIL_ONCE", "")
    failed_once: list[str] = state.setdefault("failed_once", [])  # type: ignore[assignment]
    if once and command.startswith(once) and once not in failed_once:
        failed_once.append(once)
        raise Fail(f"failed to {once}: request returned non-2xx status: 502: bad gateway")
    nth_command, _, nth = os.environ.get("FAKE_FLY_FAIL_NTH", "").partition(":")
    if nth_command and command.startswith(nth_command):
        counts: dict[str, int] = state.setdefault("counts", {})  # type: ignore[assignment]
        counts[nth_command] = counts.get(nth_command, 0) + 1
        if counts[nth_command] == int(nth):
            raise Fail(f"failed to {nth_command}: simulated failure (status 503)")


def _modelled_wait(command: str) -> None:
    """$FAKE_FLY_DURATIONS (JSON, subcommand prefix -> seconds): sleep that long before
    a matching command, the longest prefix winning, to model its real duration
    (bench/engine.py). Outside the state lock, so concurrent commands overlap."""
    raw = os.environ.get("FAKE_FLY_DURATIONS")
    if not raw:
        return
    if seconds := modelled_duration(command, json.loads(raw)):
        import time

        time.sleep(seconds)


def modelled_duration(command: str, durations: dict[str, float]) -> float:
    """The modelled seconds of `command` (its subcommand path): the longest matching
    prefix's, 0 when none matches."""
    matches = [p for p in durations if command == p or command.startswith(p + " ")]
    return float(durations[max(matches, key=len)]) if matches else 0.0
