"""The command tree flyctl's root command wires (internal/command/root/root.go), the
flags of each command the scripts call, and argv parsed the way cobra parses it.

One module per command group does the work (`command/<group>`, as flyctl's
internal/command/<group>/); this one only knows names and flags, so that every call
parses without importing any group.
"""

from __future__ import annotations

from tests.fakes.fly_cli.errors import Fail

# -- the command tree (flyctl ad0172f) ------------------------------------------------
# flag name -> (shorthand, takes a value). flag.App/AppConfig/Yes/JSONOutput/Org/Region
# are internal/flag/flag.go; VM size flags internal/flag/machines.go (VMSizeFlags).
APP = {"app": ("a", True), "config": ("c", True)}
YES = {"yes": ("y", False)}
JSON_ = {"json": ("j", False)}
DETACH = {"detach": ("", False)}
VM_SIZE = {
    name: ("", True)
    for name in (
        "vm-size",
        "vm-cpus",
        "vm-cpu-kind",
        "vm-memory",
        "vm-max-memory",
        "vm-gpus",
        "vm-gpu-kind",
    )
}
# root.go: persistent flags every command takes.
GLOBAL = {"access-token": ("t", True), "verbose": ("", False), "debug": ("", False)}


def _flags(*parts: dict[str, tuple[str, bool]] | str) -> dict[str, tuple[str, bool]]:
    """A command's flags: shared groups (above), and strings of its own flags separated
    by spaces, each `name`, or `name/s` with shorthand s, and `=` after one that takes
    a value."""
    merged: dict[str, tuple[str, bool]] = {}
    for part in parts:
        if isinstance(part, dict):
            merged.update(part)
            continue
        for flag in part.split():
            name, _, short = flag.rstrip("=").partition("/")
            merged[name] = (short, flag.endswith("="))
    return merged


COMMANDS: dict[tuple[str, ...], dict[str, tuple[str, bool]]] = {
    # internal/command/apps/list.go, destroy.go (the app is an argument, no --app)
    ("apps", "list"): _flags(JSON_, "org/o= quiet/q"),
    ("apps", "destroy"): _flags(YES),
    # internal/command/deploy/deploy.go (the flags the fake models, all real)
    ("deploy",): _flags(
        APP,
        YES,
        DETACH,
        "image/i= strategy= no-public-ips dns-checks wait-timeout= primary-region= regions= ha",
    ),
    # internal/command/scale/count.go (flag.ProcessGroup: internal/flag/flag.go)
    ("scale", "count"): _flags(
        APP,
        YES,
        VM_SIZE,
        "process-group/g= env/e= region/r= max-per-region= with-new-volumes from-snapshot=",
    ),
    # internal/command/machine/list.go, clone.go, update.go (+ run.go sharedFlags), destroy.go
    ("machine", "list"): _flags(APP, JSON_, "quiet/q"),
    ("machine", "clone"): _flags(
        APP,
        DETACH,
        "region/r= select/s name= from-snapshot= attach-volume= standby-for= "
        "volume-requires-unique-zone",
    ),
    ("machine", "update"): _flags(APP, YES, VM_SIZE, "image/i= select/s skip-start"),
    ("machine", "destroy"): _flags(APP, "select/s force/f image/i="),
    # internal/command/volumes/list.go, destroy.go, extend.go
    ("volumes", "list"): _flags(APP, JSON_, "all"),
    ("volumes", "destroy"): _flags(APP, YES),
    ("volumes", "extend"): _flags(APP, YES, JSON_, "size/s="),
    # internal/command/secrets/{list,unset,sync,deploy}.go; secrets.go sharedFlags
    ("secrets", "list"): _flags(APP, JSON_),
    ("secrets", "set"): _flags(APP, DETACH, "stage dns-checks"),
    ("secrets", "unset"): _flags(APP, DETACH, "stage dns-checks"),
    ("secrets", "sync"): _flags(APP, DETACH, "stage dns-checks"),
    ("secrets", "deploy"): _flags(APP, DETACH, "dns-checks"),
    # internal/command/postgres/create.go
    ("postgres", "create"): _flags(
        VM_SIZE,
        DETACH,
        "region/r= org/o= enable-backups name/n= generate-name password/p= "
        "initial-cluster-size= volume-size= consul-url= snapshot-id= fork-from= image-ref= "
        "stolon flex autostart",
    ),
    # internal/command/postgres/users.go, attach.go, detach.go, connect.go, config_update.go
    ("postgres", "users", "list"): _flags(APP, JSON_),
    ("postgres", "attach"): _flags(
        APP,
        YES,
        "database-name= database-user= variable-name= superuser",
    ),
    ("postgres", "detach"): _flags(APP),
    ("postgres", "connect"): _flags(APP, "database/d= user/u= password/p="),
    ("postgres", "config", "update"): _flags(APP, YES, DETACH, "max-connections= force"),
    # internal/command/postgres/restart.go
    ("postgres", "restart"): _flags(APP, "force skip-health-checks"),
    # internal/command/postgres/backup.go (`enable` takes no --yes)
    ("postgres", "backup", "enable"): _flags(APP),
    ("postgres", "backup", "config", "show"): _flags(APP),
    ("postgres", "backup", "create"): _flags(APP, "name/n= immediate-checkpoint/i"),
    ("postgres", "backup", "list"): _flags(APP),
    ("postgres", "backup", "restore"): _flags(
        APP,
        DETACH,
        "restore-target-time= restore-target-name= restore-target-inclusive image-ref=",
    ),
    ("postgres", "backup", "config", "update"): _flags(
        APP,
        "archive-timeout= recovery-window= full-backup-frequency= minimum-redundancy=",
    ),
    # internal/command/ssh/console.go
    ("ssh", "console"): _flags(
        APP,
        "org/o= region/r= command/C= machine= select/s quiet/q address/A= container= "
        "no-container pty user/u= process-group=",
    ),
}

# cobra aliases: machine.go (machines, m), list.go (ls), postgres.go (pg), volumes.go
# (volume, vol), apps.go (app), destroy (rm, remove, delete).
ALIASES = {
    "machines": "machine",
    "m": "machine",
    "ls": "list",
    "pg": "postgres",
    "volume": "volumes",
    "vol": "volumes",
    "app": "apps",
    "rm": "destroy",
    "remove": "destroy",
    "delete": "destroy",
}


class Call:
    """One parsed flyctl call: the command path, its arguments and flags; `half` is set
    by the caller when $FAKE_FLY_HALF names this command (a fault half-way through)."""

    __slots__ = ("args", "flags", "half", "path")

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.args: list[str] = []
        self.flags: dict[str, str | bool] = {}
        self.half = False

    def __repr__(self) -> str:
        return f"Call({self.path!r}, args={self.args!r}, flags={self.flags!r})"

    def get(self, name: str, default: str | None = None) -> str | None:
        value = self.flags.get(name, default)
        return value if isinstance(value, str) or value is None else str(value)

    def need(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise Fail(f'required flag(s) "{name}" not set')
        return value

    def on(self, name: str) -> bool:
        return self.flags.get(name) is True


def parse(argv: list[str]) -> Call:
    """What cobra does with argv for the tree above; Fail with cobra's text otherwise."""
    words = [w for w in argv if not w.startswith("-")]
    path: tuple[str, ...] = ()
    for typed in words:
        candidate = (*path, ALIASES.get(typed, typed))
        if any(key[: len(candidate)] == candidate for key in COMMANDS):
            path = candidate
            if path in COMMANDS:
                break
        else:
            break
    if path not in COMMANDS:
        where = " ".join(("fly", *path))
        unknown = words[len(path)] if len(words) > len(path) else ""
        raise Fail(f'unknown command "{unknown}" for "{where}"')
    spec = {**GLOBAL, **COMMANDS[path]}
    shorts = {short: name for name, (short, _) in spec.items() if short}
    call = Call(path)
    consumed = 0
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            if name not in spec:
                raise Fail(f"unknown flag: --{name}")
            if spec[name][1]:
                if not eq:
                    if i >= len(argv):
                        raise Fail(f"flag needs an argument: --{name}")
                    value = argv[i]
                    i += 1
                call.flags[name] = value
            else:
                if eq and value not in ("true", "false"):
                    raise Fail(f'invalid argument "{value}" for "--{name}" flag')
                call.flags[name] = value != "false" if eq else True
        elif token.startswith("-") and len(token) > 1:
            letter = token[1]
            if letter not in shorts:
                raise Fail(f"unknown shorthand flag: '{letter}' in {token}")
            name = shorts[letter]
            if spec[name][1]:
                value = token[2:] or (argv[i] if i < len(argv) else "")
                i += 0 if token[2:] else 1
                call.flags[name] = value
            else:
                call.flags[name] = True
        elif consumed < len(path):
            consumed += 1
        else:
            call.args.append(token)
    return call


# -- state --------------------------------------------------------------------------------
