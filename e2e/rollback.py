"""The emergency rollback under the real engine (prod): `rollback.yml`'s own commands.

`phase_rollback` (wired into e2e/run.py) deploys two images by digest (a good release,
then a bad one), then runs the rollback workflow's job as a runner would
(e2e/workflows.py, with the dispatch's inputs):

- refused before any write to any fake: a tag, a shell payload in the image input, an
  image the stack never deployed (and, from the CLI, a stack the project does not have);
- the rollback to the good digest: the deploy is the one resource that changes (every
  other resource's inputs and outputs are as they were: data tier, secrets, machine
  counts, edge, monitoring), the one Fly write is the deploy (with flyctl's secrets sync
  before it), and the fake Fly's last deploy is the good digest;
- the next `up` from main: plan-prod, whose stack file still names the bad image, is
  refused by `rollback --check` before its preview; main pinning the good digest makes
  the next `up` a no-op; a newer image is a roll-forward, an update of the deploy alone.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e import workflows
from e2e.checks import previewed_changes
from e2e.harness import APP_IMAGE_CONFIG, Failure, Skipped, Stack, expect, is_fly_write
from e2e.phases import phase_noop

REPOSITORY = "registry.fly.io/webhost"


def digest_ref(release: str) -> str:
    return f"{REPOSITORY}@sha256:{hashlib.sha256(release.encode()).hexdigest()}"


# Placeholders until phase_rollback pushes the releases to the fake registry and takes
# the digests it answers (a digest is the manifest's own hash: OCI image-spec
# descriptor.md), so `preflight` in plan-prod finds each image as a real registry would.
GOOD, BAD, NEVER, NEWER = (digest_ref(r) for r in ("1.1.0", "1.1.1", "0.9.9", "1.1.2"))
RELEASES = ("1.1.0", "1.1.1", "0.9.9", "1.1.2")


def _push(s: Stack, release: str, config: dict[str, Any]) -> str:
    """Push `release` as the app's CI would; its digest reference."""
    labelled = {**config, "Labels": {"org.opencontainers.image.version": release}}
    return f"{REPOSITORY}@{s.api.state.add_image('webhost', release, labelled)}"


DEPLOY = "-deploy"
PROVIDER = "::pulumi:providers:"


def _resources(s: Stack) -> dict[str, dict[str, Any]]:
    # Decrypted: a secret's ciphertext is new at every write of the state, its value not.
    state = json.loads(s.pulumi("stack", "export", "--show-secrets").stdout)
    return {
        r["urn"]: {"inputs": r.get("inputs"), "outputs": r.get("outputs")}
        for r in state["deployment"].get("resources", [])
        if r.get("custom")
    }


def _cli(s: Stack, *argv: str) -> subprocess.CompletedProcess[str]:
    """`webhost-infra` as an operator runs it in the project (the copy, see workflows)."""
    return subprocess.run(
        [str(s.work / ".venv" / "bin" / "webhost-infra"), *argv],
        cwd=s.work,
        env=dict(s.env) | {"PYTHONPATH": str(s.work)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _refusals(s: Stack, rollback: Callable[[str], workflows.JobResult], scratch: Path) -> None:
    """Refused before anything is written; the payload never reaches a shell."""
    marker = scratch / "injected"
    refusals = (
        ("registry.fly.io/webhost:1.0.0", "bad digest"),
        (f'{GOOD}"; touch {marker}; echo "', "bad digest"),
        (NEVER, "image never deployed"),
    )
    for image, said in refusals:
        before = workflows._writes(s)
        refused = rollback(image)
        text = refused.output.get("webhost-infra rollback", "")
        expect(refused.failed and said in text,
                   f"rollback to {image[:60]} was not refused with {said!r}",
                   refused.tail())  # fmt: skip
        expect(workflows._writes(s) == before, f"a refused rollback wrote: {image}")
        [line] = [x for x in text.splitlines() if x.startswith("error:")]
        print(f"  {s.name:8} rollback: refused: {line}", flush=True)
    expect(not marker.exists(), "the image input ran as shell code")
    unknown = _cli(s, "rollback", "--stack", "qa", "--image", GOOD)
    expect(unknown.returncode == 2 and "unknown stack" in unknown.stderr,
               f"an unknown stack: exit {unknown.returncode}", unknown.stderr)  # fmt: skip


def _the_rollback(s: Stack, rollback: Callable[[str], workflows.JobResult]) -> None:
    """The rollback to GOOD: the deploy alone changes."""
    before_state = _resources(s)
    before_calls = len(s.fly_calls())
    before = workflows._writes(s)
    done = rollback(GOOD)
    if done.failed:
        raise Failure(f"the rollback failed: {done.outcomes}", done.tail())
    after_state = _resources(s)
    changed = sorted(
        urn.rsplit("::", 1)[-1]
        for urn in before_state.keys() | after_state.keys()
        if before_state.get(urn) != after_state.get(urn) and PROVIDER not in urn
    )
    expect(len(changed) == 1 and changed[0].endswith(DEPLOY),
               f"the rollback changed {changed}, not the deploy alone")  # fmt: skip
    # A provider holds the stack's config as its inputs (the dynamic provider gets the
    # project's config), so it records the image too: that, and nothing else.
    for urn in (u for u in after_state if PROVIDER in u):
        old_config, new_config = before_state[urn]["inputs"], after_state[urn]["inputs"]
        moved = sorted(k for k in old_config.keys() | new_config.keys()
                       if old_config.get(k) != new_config.get(k))  # fmt: skip
        expect(moved in ([], ["webhost:image"]), f"{urn}: the rollback changed {moved}")
    [urn] = [u for u in after_state if u.endswith(DEPLOY)]
    old, new = before_state[urn]["inputs"], after_state[urn]["inputs"]
    keys = old.keys() | new.keys() | {f"environment.{k}" for k in old["environment"]}
    moved = sorted(
        k for k in keys
        if k != "environment" and _at(old, k) != _at(new, k)
    )  # fmt: skip
    expect(moved == ["environment.WEBHOST_IMAGE"],
               f"the deploy's inputs changed beyond its image: {moved}")  # fmt: skip
    writes = [a for a in s.fly_calls()[before_calls:] if is_fly_write(a)]
    verbs = [" ".join(a[:2]) if a[:1] == ["secrets"] else a[0] for a in writes]
    expect(verbs == ["secrets sync", "deploy"], f"the rollback's flyctl writes: {writes}")
    after = workflows._writes(s)
    expect(after[1:] == before[1:], f"the rollback wrote to the API, Cloudflare or "
               f"Grafana: {before} -> {after}")  # fmt: skip
    images = [d.get("image") for d in s.fly()["deploys"]]
    expect(images[-1:] == [GOOD], f"the last deploy is {images[-1:]}, not {GOOD}")
    # The command's own lines (the engine's output streams between them), for the README.
    said = done.output["webhost-infra rollback"].splitlines()
    ours = [x for x in said if x.startswith(("stack ", "rolled back stack", "recorded in"))]
    expect(any(x.startswith("rolled back stack") for x in ours), "no rolled-back line")
    for line in ours:
        print(f"  {s.name:8} rollback: {line}", flush=True)


def _at(inputs: dict[str, Any], key: str) -> Any:
    head, _, rest = key.partition(".")
    value = inputs.get(head)
    return value.get(rest) if rest and isinstance(value, dict) else value


def phase_rollback(s: Stack) -> None:
    if s.name != "prod":
        raise Skipped("proven on prod, behind the production approval")
    global GOOD, BAD, NEVER, NEWER  # the releases' digests, as the registry answers them
    GOOD, BAD, NEVER, NEWER = (_push(s, r, APP_IMAGE_CONFIG) for r in RELEASES)
    for image in (GOOD, BAD):
        s.config_set("webhost:image", image)
        s.pulumi("up", "--yes", "--skip-preview")

    with tempfile.TemporaryDirectory(prefix="rollback-", dir=s.env["TMPDIR"]) as raw:
        runner = workflows._runner(s, Path(raw))
        dispatch = {"event_name": "workflow_dispatch", "repository": "webhost/webhost-infra"}

        def rollback(image: str) -> workflows.JobResult:
            try:
                return runner.run(
                    "rollback.yml", "rollback", github=dispatch,
                    inputs={"stack": s.name, "image": image},
                )  # fmt: skip
            except workflows.WorkflowError as error:
                raise Failure(f"rollback.yml: {error}") from None

        _refusals(s, rollback, Path(raw))
        _the_rollback(s, rollback)

        # The next up from main, still naming the bad image: refused before its preview.
        push = {"event_name": "push", "repository": "webhost/webhost-infra", "sha": "main"}
        before = workflows._writes(s)
        plan = runner.run("infrastructure.yml", "plan-prod", github=push)
        text = plan.output.get("pulumi preview --save-plan", "")
        expect(plan.failed and f"rolled back from {BAD} to {GOOD}" in text,
                   "plan-prod did not refuse to undo the rollback", plan.tail())  # fmt: skip
        expect(workflows._writes(s) == before, "the refused plan-prod wrote")
        [refusal] = [x for x in text.splitlines() if x.startswith("error:")][:1]
        print(f"  {s.name:8} rollback: main unchanged: {refusal}", flush=True)

    # Main pins the rolled-back image: the next up is a no-op.
    s.config_set("webhost:image", GOOD)
    check = _cli(s, "rollback", "--stack", s.name, "--check")
    expect(check.returncode == 0, "--check refused the pinned image", check.stderr)
    phase_noop(s, preview=False)
    # A newer image from main: a roll-forward, an update of the deploy alone on the plan.
    s.config_set("webhost:image", NEWER)
    steps = previewed_changes(s)
    expect(len(steps) == 1 and steps[0][0] == "update" and steps[0][1].endswith(DEPLOY),
               f"the roll-forward previews as {steps}")  # fmt: skip
    s.pulumi("up", "--yes", "--skip-preview")
    images = [d.get("image") for d in s.fly()["deploys"]]
    expect(images[-1:] == [NEWER], f"the roll-forward deployed {images[-1:]}")
