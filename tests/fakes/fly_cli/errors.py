"""flyctl's errors, as it reports them: `Error: <text>` on stderr and exit status 1
(main.py prints what a command raises, as flyctl's internal/cli/cli.go Run prints the
error a command returns). Texts more than one command group gives live here."""


class Fail(Exception):
    """A flyctl command's error: main prints `Error: <text>` and exits 1."""


# apps/destroy.go (and machine/, volumes/ alike): prompt.NonInteractiveError when a
# confirmation is needed, --yes is not given and there is no terminal.
YES_REQUIRED = "yes flag must be specified when not running interactively"
# internal/prompt/prompt.go ErrNonInteractive: a prompt (a select) with no terminal.
NON_INTERACTIVE = "prompt: non interactive"


class Interrupted(Exception):
    """survey's terminal.InterruptErr (a Ctrl-C read at a prompt): flyctl's
    internal/cli/cli.go Run returns exit status 127 for it and prints nothing."""


# What ssh (golang.org/x/crypto's session, through flyctl ssh/console.go) answers for a
# shell or --pty with no terminal on stdin.
NO_TTY = "ssh shell: the input device is not a TTY"
# GraphQL createApp's answer for a name that is taken (postgres create, backup restore).
NAME_TAKEN = "input:3: createApp Validation failed: Name has already been taken"


def backups_not_enabled(app: str) -> str:
    """postgres/backup.go isBackupEnabled's error."""
    return f"backups are not enabled. Run `fly pg backup enable -a {app}` to enable them"


# A machine launch failing half-way ($FAKE_FLY_HALF): the Machines API's 503, wrapped.
LAUNCH_FAILED = "failed to launch machine: 503 Service Unavailable"
