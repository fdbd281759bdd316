"""`make e2e`'s layout phase (issue 22): a stack the previous provider layout created
updates in place under the current one, then refreshes and destroys.

The dynamic providers moved to one module each under components/fly/providers/. A
state made before holds every provider as a dill pickle naming its class by the old
module path (pulumi sdk/python/lib/pulumi/dynamic/dynamic.py serialize_provider), and
refresh and destroy unpickle the blob in the state's outputs (dynamic/__main__.py Read,
Delete), which an update with no change keeps. So, on a fresh stack of its own:

1. the previous layout's program (`git archive` of PREVIOUS, the last commit before
   the move) runs `pulumi up`; its state names the old module paths;
2. the current program's `pulumi preview --diff` shows no replace (the updates, if
   any, are named on the phase's line), and its `up` applies it;
3. `pulumi refresh` finds no change and `pulumi destroy` removes the stack, both
   unpickling the blobs the old program wrote (prod: after `state unprotect`).

A clone too shallow to hold PREVIOUS skips the phase with one line; a full clone that
lacks it fails.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import subprocess
import tarfile
from collections import Counter
from typing import Any

import yaml

from e2e.checks import previewed_changes
from e2e.harness import ROOT, Failure, Skipped, Stack, expect
from e2e.phases import phase_destroy_staging

# The last commit before the providers moved (git rev-parse f9cad85).
PREVIOUS = "f9cad8557efc3c7c6fb7c8c26c82ef359e00011c"
# The module paths the previous layout pickled its providers under.
OLD_PATHS = tuple(
    f"components.fly.{name}".encode()
    for name in ("resources", "certcheck", "customcert", "customcheck", "machines", "shape")
)
# pulumi sdk/go/common/apitype/events.go OpType: the steps of a replacement.
REPLACING = {"replace", "create-replacement", "delete-replaced", "discard-replaced"}


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def previous_program(s: Stack) -> Stack:
    """PREVIOUS's tree beside the current copy, set up as copy_project sets up that one,
    with the stack's salt and secrets: the same stack, driven by the old program."""
    if git("cat-file", "-e", f"{PREVIOUS}^{{commit}}").returncode != 0:
        shallow = git("rev-parse", "--is-shallow-repository").stdout.strip() == b"true"
        if shallow:
            raise Skipped(f"this clone is shallow and lacks {PREVIOUS[:7]}, the layout before")
        raise Failure(f"{PREVIOUS[:7]} (the provider layout before issue 22) is not in {ROOT}")
    archive = git("archive", "--format=tar", PREVIOUS)
    expect(archive.returncode == 0, f"git archive {PREVIOUS[:7]} failed", archive.stderr.decode())
    old = s.work.parent / "previous"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(old, filter="data")
    (old / ".venv").symlink_to(ROOT / ".venv")
    stack_file = f"Pulumi.{s.name}.yaml"
    current = yaml.safe_load((s.work / stack_file).read_text())
    doc = yaml.safe_load((old / stack_file).read_text())
    doc["encryptionsalt"] = current["encryptionsalt"]
    secrets = {k: v for k, v in current["config"].items() if isinstance(v, dict) and "secure" in v}
    doc["config"].update(secrets)
    (old / stack_file).write_text(yaml.safe_dump(doc, sort_keys=False))
    return dataclasses.replace(s, work=old)


def resources(s: Stack) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(s.pulumi("stack", "export").stdout)["deployment"].get(
        "resources", []
    )
    return found


def pickled_paths(s: Stack) -> Counter[bytes]:
    """How many providers in the state's outputs are pickled under each old path."""
    found: Counter[bytes] = Counter()
    for resource in resources(s):
        blob = (resource.get("outputs") or {}).get("__provider")
        if isinstance(blob, str):
            raw = base64.b64decode(blob)
            found.update(path for path in OLD_PATHS if path in raw)
    return found


def phase_layout(s: Stack) -> None:
    expect(not resources(s), "the layout phase needs a fresh stack")
    old = previous_program(s)
    old.pulumi("up", "--yes", "--skip-preview")
    before = pickled_paths(s)
    expect(bool(before), f"the program of {PREVIOUS[:7]} pickled no provider at an old path")

    changed = previewed_changes(s)
    replaced = [name for op, name in changed if op in REPLACING]
    if replaced:
        shown = s.pulumi("preview", "--diff").stdout
        raise Failure(f"the current layout replaces {sorted(replaced)}", shown[-4000:])
    s.pulumi("up", "--yes", "--skip-preview")
    kept = sum(pickled_paths(s).values())
    s.pulumi("refresh", "--yes", "--expect-no-changes")
    updates = ", ".join(f"{op} {name}" for op, name in sorted(changed)) or "no update"
    print(
        f"  {s.name:8} layout   {PREVIOUS[:7]} pickled {sum(before.values())} providers at old "
        f"paths; the current program: no replace, {updates}; {kept} old blobs through up, "
        "refresh and destroy",
        flush=True,
    )
    if s.name == "staging":
        phase_destroy_staging(s)
    else:
        s.pulumi("state", "unprotect", "--all", "--yes")
        s.pulumi("destroy", "--yes", "--skip-preview")
    expect(not resources(s), f"destroy left {len(resources(s))} resources in the state")
