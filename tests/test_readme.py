"""The README stays true: its config reference is the model's, its quick start is two commands."""

from __future__ import annotations

import re

from cli import reference
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_config_reference_matches_the_model() -> None:
    start = README.index(reference.START)
    end = README.index(reference.END) + len(reference.END)
    assert README[start:end] == reference.block(), (
        "README's config reference is stale: replace the block with "
        "`.venv/bin/webhost-infra config-reference`"
    )


def test_every_stack_key_is_documented() -> None:
    for stack in ("staging", "prod"):
        text = (ROOT / f"Pulumi.{stack}.yaml").read_text()
        for key in re.findall(r"^  (webhost:[A-Za-z]+):", text, flags=re.MULTILINE):
            assert f"| `{key}` |" in README, key


def test_quick_start_is_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None
    assert block.group(1).split("\n")[:-1] == ["make plan", "make test"]


def test_ci_runs_make_test_then_make_e2e() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [
        line
        for line in script.splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test", "make e2e"]


def test_nothing_in_the_repository_points_outside_it() -> None:
    # The repository stands alone (issue 22): no file reads or links the steering
    # folder beside the clone, and every relative link in a Markdown file resolves.
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".lock"} or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        # The steering folder, the tool mirror beside the clone, or a path two levels
        # above a file of ours.
        if re.search(r"\.\./shared\b|[.]mirror\b|parents\[2\]", text):
            outside.append(name)
        if path.suffix == ".md":
            for target in re.findall(r"\]\(([^)#\s]+)\)", text):
                where = (path.parent / target).resolve()
                if "://" in target:
                    continue
                if not where.is_relative_to(ROOT):
                    outside.append(f"{name} -> {target}")
                elif not where.exists():
                    outside.append(f"{name} -> {target} (missing)")
    assert outside == []
