"""The command tree flyctl's root command wires (internal/command/root/root.go), the
flags of each command the scripts call, and argv parsed the way cobra parses it.

One module per command group does the work (`command/<group>`, as flyctl's
internal/command/<group>/); this one only knows names and flags, so that every call
parses without importing any group.
"""

from __future__ import annotations

from tests.fakes.fly_cli.errors import Fail

TYPE_CHECKING = False
if TYPE_CHECKING:  # no `typing` import at run time: the fake starts once per flyctl call
    from typing import Any

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


def _flags(*groups: dict[str, tuple[str, bool]], **extra: tuple[str, bool]) -> dict[str, Any]:
    merged: dict[str, tuple[str, bool]] = {}
    for group in groups:
        merged.update(group)
    merged.update({k.replace("_", "-"): v for k, v in extra.items()})
    return merged


COMMANDS: dict[tuple[str, ...], dict[str, tuple[str, bool]]] = {
    # internal/command/apps/list.go, destroy.go (the app is an argument, no --app)
    ("apps", "list"): _flags(JSON_, {"org": ("o", True)}, quiet=("q", False)),
    ("apps", "destroy"): _flags(YES),
    # internal/command/deploy/deploy.go (the flags the fake models, all real)
    ("deploy",): _flags(
        APP,
        YES,
        DETACH,
        image=("i", True),
        strategy=("", True),
        no_public_ips=("", False),
        dns_checks=("", False),
        wait_timeout=("", True),
        primary_region=("", True),
        regions=("", True),
        ha=("", False),
    ),
    # internal/command/scale/count.go (flag.ProcessGroup: internal/flag/flag.go)
    ("scale", "count"): _flags(
        APP,
        YES,
        VM_SIZE,
        process_group=("g", True),
        env=("e", True),
        region=("r", True),
        max_per_region=("", True),
        with_new_volumes=("", False),
        from_snapshot=("", True),
    ),
    # internal/command/machine/list.go, clone.go, update.go (+ run.go sharedFlags), destroy.go
    ("machine", "list"): _flags(APP, JSON_, quiet=("q", False)),
    ("machine", "clone"): _flags(
        APP,
        DETACH,
        {"region": ("r", True)},
        select=("s", False),
        name=("", True),
        from_snapshot=("", True),
        attach_volume=("", True),
        standby_for=("", True),
        volume_requires_unique_zone=("", False),
    ),
    ("machine", "update"): _flags(
        APP, YES, VM_SIZE, image=("i", True), select=("s", False), skip_start=("", False)
    ),
    ("machine", "destroy"): _flags(APP, select=("s", False), force=("f", False), image=("i", True)),
    # internal/command/volumes/list.go, destroy.go, extend.go
    ("volumes", "list"): _flags(APP, JSON_, all=("", False)),
    ("volumes", "destroy"): _flags(APP, YES),
    ("volumes", "extend"): _flags(APP, YES, JSON_, size=("s", True)),
    # internal/command/secrets/{list,unset,sync,deploy}.go; secrets.go sharedFlags
    ("secrets", "list"): _flags(APP, JSON_),
    ("secrets", "set"): _flags(APP, DETACH, stage=("", False), dns_checks=("", False)),
    ("secrets", "unset"): _flags(APP, DETACH, stage=("", False), dns_checks=("", False)),
    ("secrets", "sync"): _flags(APP, DETACH, stage=("", False), dns_checks=("", False)),
    ("secrets", "deploy"): _flags(APP, DETACH, dns_checks=("", False)),
    # internal/command/postgres/create.go
    ("postgres", "create"): _flags(
        VM_SIZE,
        DETACH,
        {"region": ("r", True), "org": ("o", True)},
        enable_backups=("", False),
        name=("n", True),
        generate_name=("", False),
        password=("p", True),
        initial_cluster_size=("", True),
        volume_size=("", True),
        consul_url=("", True),
        snapshot_id=("", True),
        fork_from=("", True),
        image_ref=("", True),
        stolon=("", False),
        flex=("", False),
        autostart=("", False),
    ),
    # internal/command/postgres/users.go, attach.go, detach.go, connect.go, config_update.go
    ("postgres", "users", "list"): _flags(APP, JSON_),
    ("postgres", "attach"): _flags(
        APP,
        YES,
        database_name=("", True),
        database_user=("", True),
        variable_name=("", True),
        superuser=("", False),
    ),
    ("postgres", "detach"): _flags(APP),
    ("postgres", "connect"): _flags(
        APP, database=("d", True), user=("u", True), password=("p", True)
    ),
    ("postgres", "config", "update"): _flags(
        APP, YES, DETACH, max_connections=("", True), force=("", False)
    ),
    # internal/command/postgres/restart.go
    ("postgres", "restart"): _flags(APP, force=("", False), skip_health_checks=("", False)),
    # internal/command/postgres/backup.go (`enable` takes no --yes)
    ("postgres", "backup", "enable"): _flags(APP),
    ("postgres", "backup", "config", "show"): _flags(APP),
    ("postgres", "backup", "create"): _flags(
        APP, name=("n", True), immediate_checkpoint=("i", False)
    ),
    ("postgres", "backup", "list"): _flags(APP),
    ("postgres", "backup", "restore"): _flags(
        APP,
        DETACH,
        restore_target_time=("", True),
        restore_target_name=("", True),
        restore_target_inclusive=("", False),
        image_ref=("", True),
    ),
    ("postgres", "backup", "config", "update"): _flags(
        APP,
        archive_timeout=("", True),
        recovery_window=("", True),
        full_backup_frequency=("", True),
        minimum_redundancy=("", True),
    ),
    # internal/command/ssh/console.go
    ("ssh", "console"): _flags(
        APP,
        {"org": ("o", True), "region": ("r", True)},
        command=("C", True),
        machine=("", True),
        select=("s", False),
        quiet=("q", False),
        address=("A", True),
        container=("", True),
        no_container=("", False),
        pty=("", False),
        user=("u", True),
        process_group=("", True),
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
