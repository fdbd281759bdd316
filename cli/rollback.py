"""`webhost-infra rollback`: back to an image the stack ran before, by digest, in minutes.

What it does, with the Pulumi CLI on PATH (the stack's backend and secrets from the
environment, as for `pulumi up`):

1. Refuses bad input before touching the backend: a stack without a stack file and a
   policy config, an image not pinned by digest (exit 2).
2. Reads the stack's update history (`pulumi stack history --json`, which the backend
   writes for every update with the config it ran with: pulumi
   pkg/cmd/pulumi/stack/stack_history.go updateInfoJSON, pkg/backend/diy/state.go).
   The image must be the `webhost:image` of a succeeded update: an image this stack
   deployed and whose deploy finished (the deploy waits for the health checks). A tag
   is never enough: what a tag named then is not what it names now (exit 1).
3. Previews the stack's own config with `webhost:image` alone replaced (a copy of the
   stack file given with `--config-file`, so the checkout is not edited), with the
   policy pack, and saves the plan. Anything but an update of the deploy whose only
   changed input is the image is refused (a replace, the data tier, secrets, machine
   counts, or changes on main not yet applied): a rollback is an update of the deploy
   alone (exit 1).
4. Applies that very plan (`pulumi up --plan`: nothing the plan did not show), with the
   message `webhost-infra rollback: FROM -> TO` in the stack's history. That entry is
   the record: `rollback --check` (run before every preview and apply from main) refuses
   while the stack's newest update is a rollback and main's `webhost:image` is still
   the image it rolled back from. Main then commits either the rolled-back image (the
   next `up` is a no-op) or a newer one (a roll-forward, an update of the deploy on the
   plan the approvers read); nothing from main quietly redeploys the bad image.

Exit codes: 0 rolled back (or already on that image; `--check`: nothing pending);
1 refused or failed (never deployed, more than the deploy would change, the engine
failed; `--check`: main would undo a rollback); 2 bad input (stack, image).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cli import stackfile
from components import config
from components.config import ConfigError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_INVALID = 2

IMAGE_KEY = "webhost:image"
# An image pinned by digest (distribution/reference: a name of at most 255 characters,
# an optional tag of at most 128, then `@sha256:` and 64 lowercase hex digits; the
# same name rule as components/config/validators.py ImageRef).
DIGEST_REF = re.compile(r"(?=[^@]{1,384}@)[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}")
# Pulumi stack names are letters, digits, `-`, `_` and `.`; ours are lowercase (the
# stack files Pulumi.staging.yaml, Pulumi.prod.yaml). Checked before it names a path.
STACK_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
# The message of a rollback's update: the record `--check` reads back.
MARKER = "webhost-infra rollback: "
RECORD = re.compile(re.escape(MARKER) + r"(\S+) -> (\S+)")
# The deploy: a local.Command named `<platform>-deploy` under webhost:fly:App
# (components/app.py, flyctl.deploy); the image reaches its script as WEBHOST_IMAGE.
DEPLOY_TYPE = "webhost:fly:App$command:local:Command"
DEPLOY_SUFFIX = "-deploy"
IMAGE_ENV = "WEBHOST_IMAGE"
# History is read newest first, a page at a time (`--page-size`/`--page`, default 10:
# pulumi pkg/cmd/pulumi/stack/stack_history.go); a DIY backend reads one object per
# entry (pkg/backend/diy/state.go getHistory), so a long history is not read whole
# once the answer is found.
HISTORY_PAGE = 50
# The engine's error for a stack the backend does not have (pulumi
# pkg/backend/backenderr/backenderr.go StackNotFoundError).
NO_STACK = "no stack named"


class RollbackError(Exception):
    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


class UnknownStack(RollbackError):
    """The backend has no such stack (it has had no update: nothing to roll back)."""


@dataclass(frozen=True)
class Update:
    """One entry of `pulumi stack history --json`."""

    kind: str
    result: str
    message: str
    image: str | None
    start_time: str

    @property
    def succeeded(self) -> bool:
        return self.kind == "update" and self.result == "succeeded"

    @property
    def rollback(self) -> tuple[str, str] | None:
        """(from, to) when this update was a rollback."""
        found = RECORD.fullmatch(self.message.strip())
        return (found.group(1), found.group(2)) if found else None


def shown(value: str, limit: int = 120) -> str:
    """Untrusted text in a message: quoted and escaped (no newline, so no workflow
    command can start a line of the log), and cut."""
    text = repr(value[:limit])
    return text + ("..." if len(value) > limit else "")


def check_stack(project_dir: Path, stack: str) -> Path:
    if not STACK_NAME.fullmatch(stack):
        raise RollbackError(f"unknown stack {shown(stack)}: not a stack name", EXIT_INVALID)
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise RollbackError(
            f"unknown stack {shown(stack)}: the project has no Pulumi.{stack}.yaml", EXIT_INVALID
        )
    return path


def check_image(image: str) -> str:
    if not DIGEST_REF.fullmatch(image):
        raise RollbackError(
            f"bad digest: --image {shown(image)} is not an image pinned by digest "
            "(NAME@sha256:<64 lowercase hex digits>)",
            EXIT_INVALID,
        )
    return image


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise RollbackError(f"{what} printed no JSON: {shown(text.strip(), 80)}") from None


def parse_history(text: str) -> list[Update]:
    entries = _json(text or "[]", "pulumi stack history")
    if not isinstance(entries, list):
        raise RollbackError("pulumi stack history --json printed no list")
    updates = []
    for entry in entries:
        image = (entry.get("config") or {}).get(IMAGE_KEY) or {}
        value = image.get("value") if not image.get("secret") else None
        updates.append(
            Update(
                kind=str(entry.get("kind", "")),
                result=str(entry.get("result", "")),
                message=str(entry.get("message") or ""),
                image=value if isinstance(value, str) else None,
                start_time=str(entry.get("startTime", "")),
            )
        )
    return updates


def pending(updates: Sequence[Update]) -> Update | None:
    """The stack's newest succeeded update when it is a rollback (newest first)."""
    newest = next((u for u in updates if u.succeeded), None)
    return newest if newest is not None and newest.rollback else None


def deployed_image(exported: Mapping[str, Any]) -> tuple[str, str]:
    """(urn, image) of the deploy in `pulumi stack export`'s deployment."""
    found = [
        r
        for r in exported.get("deployment", {}).get("resources") or []
        if DEPLOY_TYPE in str(r.get("urn", "")) and str(r["urn"]).endswith(DEPLOY_SUFFIX)
    ]
    if len(found) != 1:
        raise RollbackError(f"the stack's state holds {len(found)} deploys, not one")
    image = (found[0].get("inputs") or {}).get("environment", {}).get(IMAGE_ENV)
    if not isinstance(image, str):
        raise RollbackError(f"the deploy in the stack's state has no plain {IMAGE_ENV}")
    return str(found[0]["urn"]), image


def _changed(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            change
            for key in sorted(set(old) | set(new))
            for change in _changed(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        ]
    return [] if old == new else [path or "(value)"]


def plan_problems(preview: Mapping[str, Any], image: str) -> list[str]:
    """Why this preview is not an update of the deploy's image alone (empty when it is).

    Components change no cloud object (the Platform's "update" is its own outputs), so
    only custom resources count, as e2e/run.py previewed_changes counts them."""
    problems: list[str] = []
    deploy_seen = False
    for step in preview.get("steps") or []:
        op = step.get("op")
        state = step.get("newState") or step.get("oldState") or {}
        if op in ("same", "read") or not state.get("custom"):
            continue
        urn = str(step.get("urn", ""))
        name = urn.rsplit("::", 1)[-1]
        if DEPLOY_TYPE in urn and urn.endswith(DEPLOY_SUFFIX) and op == "update":
            old = (step.get("oldState") or {}).get("inputs") or {}
            new = (step.get("newState") or {}).get("inputs") or {}
            extra = [c for c in _changed(old, new) if c != f"environment.{IMAGE_ENV}"]
            if extra:
                problems.append(f"the deploy {name} would change more than its image: {extra}")
            elif new.get("environment", {}).get(IMAGE_ENV) != image:
                problems.append(f"the deploy {name} would not deploy {image}")
            deploy_seen = True
            continue
        problems.append(f"{op} {name}")
    if not deploy_seen and not problems:
        problems.append("the preview shows no update of the deploy")
    return problems


# -- the engine --------------------------------------------------------------------------
def spawn(argv: list[str], cwd: Path, capture: bool) -> subprocess.CompletedProcess[str]:
    """The Pulumi CLI run in the project (the one process boundary of this command)."""
    return subprocess.run(
        argv, cwd=cwd, env=dict(os.environ), capture_output=capture, text=True, check=False
    )


@dataclass
class Engine:
    project_dir: Path
    stack: str
    err: TextIO

    def run(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        if shutil.which("pulumi") is None:
            raise RollbackError("no pulumi CLI on PATH")
        argv = ["pulumi", *args, "--stack", self.stack, "--non-interactive"]
        done = spawn(argv, self.project_dir, capture)
        if done.returncode != 0:
            said = [line for line in (done.stderr or "").splitlines() if line.strip()]
            if capture and any(NO_STACK in line for line in said):
                raise UnknownStack(
                    f"unknown stack {shown(self.stack)}: the backend has no stack by that name",
                    EXIT_INVALID,
                )
            if capture:
                for line in (done.stdout or "").splitlines()[-30:] + said[-30:]:
                    print(f"  {line}", file=self.err)
            command = " ".join(a for a in args[:2] if not a.startswith("-"))
            raise RollbackError(f"pulumi {command} exited {done.returncode}")
        return done

    def history(self, until: str | None = None) -> list[Update]:
        """Newest first; stops at the page holding an update with image `until`, or at
        the page holding the newest succeeded update when `until` is None."""
        updates: list[Update] = []
        page = 1
        while True:
            done = self.run("stack", "history", "--json", "--page-size", str(HISTORY_PAGE),
                            "--page", str(page))  # fmt: skip
            batch = parse_history(done.stdout)
            updates += batch
            found = (
                any(u.succeeded and u.image == until for u in batch)
                if until is not None
                else any(u.succeeded for u in batch)
            )
            if found or len(batch) < HISTORY_PAGE:
                return updates
            page += 1


def _stack_config(path: Path) -> tuple[stackfile.StackFile, config.StackConfig]:
    try:
        stack = stackfile.load(path, project_file=path.parent / "Pulumi.yaml")
        return stack, config.parse(stack.config, stack.secret_keys, stack.secure_paths)
    except stackfile.StackFileError as exc:
        raise RollbackError(f"invalid stack file {path.name}: {exc}", EXIT_INVALID) from None
    except ConfigError as exc:
        raise RollbackError(
            f"invalid config in {path.name}: {'; '.join(exc.problems)}", EXIT_INVALID
        ) from None


def _config_file(engine: Engine, path: Path, image: str, into: Path) -> Path:
    """A copy of the stack file with its image alone replaced, by the engine itself
    (`pulumi config set --config-file`: its own YAML, keys and secure values untouched),
    so the checkout's stack file is never edited."""
    target = into / path.name
    shutil.copyfile(path, target)
    engine.run("config", "set", "--config-file", str(target), IMAGE_KEY, image)
    return target


def rollback(project_dir: Path, stack: str, image: str, out: TextIO, err: TextIO) -> int:
    try:
        path = check_stack(project_dir, stack)
        check_image(image)
        policy = Path("policies") / "config" / f"{stack}.json"
        if not (project_dir / policy).is_file():
            raise RollbackError(f"stack {stack} has no policy config {policy}", EXIT_INVALID)
        _stack_config(path)
        engine = Engine(project_dir, stack, err)
        updates = engine.history(until=image)
        if not any(u.succeeded and u.image == image for u in updates):
            ran = sum(1 for u in updates if u.kind == "update")
            raise RollbackError(
                f"image never deployed: {image} is the webhost:image of no succeeded update "
                f"of stack {stack} ({ran} updates read); a rollback returns to an image the "
                "stack ran"
            )
        exported = _json(engine.run("stack", "export").stdout, "pulumi stack export")
        _, current = deployed_image(exported)
        if current == image:
            print(f"stack {stack} already runs {image}: nothing to roll back", file=out)
            return EXIT_OK
        with tempfile.TemporaryDirectory(prefix="webhost-rollback-") as raw:
            scratch = Path(raw)
            config_file = _config_file(engine, path, image, scratch)
            plan = scratch / "rollback-plan.json"
            pack = ["--policy-pack", "policies", "--policy-pack-config", str(policy)]
            done = engine.run("preview", "--json", "--config-file", str(config_file),
                              "--save-plan", str(plan), *pack)  # fmt: skip
            if problems := plan_problems(_json(done.stdout, "pulumi preview"), image):
                raise RollbackError(
                    f"refused: a rollback is an update of the deploy's image alone, and "
                    f"stack {stack}'s preview also shows: {'; '.join(problems)}"
                )
            print(f"stack {stack}: the plan is an update of the deploy alone: "
                  f"{current} -> {image}", file=out, flush=True)  # fmt: skip
            engine.run("up", "--yes", "--config-file", str(config_file), "--plan", str(plan),
                       *pack, "--message", f"{MARKER}{current} -> {image}",
                       capture=False)  # fmt: skip
    except RollbackError as exc:
        print(f"error: {exc}", file=err)
        return exc.code
    print(f"rolled back stack {stack}: {current} -> {image}", file=out)
    print(
        f"recorded in the stack's history; until main's {IMAGE_KEY} in Pulumi.{stack}.yaml "
        f"is {image} (the next up is a no-op) or a newer image (a roll-forward), "
        f"`webhost-infra rollback --check` refuses an up from main",
        file=out,
    )
    return EXIT_OK


def check(project_dir: Path, stack: str, out: TextIO, err: TextIO) -> int:
    """Would an `up` of the stack file undo the stack's last rollback? Exit 1 if so."""
    try:
        path = check_stack(project_dir, stack)
        _, parsed = _stack_config(path)
        last = pending(Engine(project_dir, stack, err).history())
    except UnknownStack:
        # Its first `up` creates it (and an up of a stack the backend lacks fails there).
        print(f"stack {stack}: not in the backend yet, no rollback pending", file=out)
        return EXIT_OK
    except RollbackError as exc:
        print(f"error: {exc}", file=err)
        return exc.code
    if last is None or last.rollback is None:
        print(f"stack {stack}: no rollback pending", file=out)
        return EXIT_OK
    source, target = last.rollback
    if parsed.image == source:
        print(
            f"error: stack {stack} was rolled back from {source} to {target} "
            f"({last.start_time}); Pulumi.{stack}.yaml still says {IMAGE_KEY}: {source}, "
            f"which an up would deploy again: set {IMAGE_KEY} to {target} (a no-op) or to a "
            "newer image (a roll-forward)",
            file=err,
        )
        return EXIT_REFUSED
    outcome = "a no-op for the deploy" if parsed.image == target else "a roll-forward"
    print(f"stack {stack}: rolled back to {target}; main's {IMAGE_KEY} {parsed.image} is "
          f"{outcome}", file=out)  # fmt: skip
    return EXIT_OK
