"""The flyctl scripts as files: shipped with the package, strict bash, and every
`fly` invocation in them a subcommand and flags real flyctl has (the fake's table,
taken from flyctl's source)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from components.fly import flyctl
from tests.fakes import fly_cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "components" / "fly" / "scripts"
ALL = sorted(SCRIPTS.glob("*.sh"))
_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "<<<", ")", "2>&1", ">&2"}


def _complete(line: str) -> bool:
    try:
        _words(line)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def _words(line: str) -> list[str]:
    lexer = shlex.shlex(line.replace("$(", " ( "), posix=True, punctuation_chars="|&;()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def shell_lines(text: str) -> list[str]:
    """Logical lines of shell (continuations and multi-line quotes joined), Python
    heredoc bodies left out."""
    lines: list[str] = []
    joined, heredoc = "", None
    for raw in text.splitlines():
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        if not joined and raw.lstrip().startswith("#"):
            continue
        found = re.search(r"<<'(\w+)'", raw)
        if found:
            heredoc = found.group(1)
        joined += raw.removesuffix("\\") + ("\n" if not raw.endswith("\\") else " ")
        if heredoc or raw.endswith("\\") or not _complete(joined):
            continue
        lines.append(joined)
        joined = ""
    assert not joined, f"unterminated: {joined}"
    return lines


def fly_invocations(text: str) -> list[list[str]]:
    calls = []
    for line in shell_lines(text):
        words = _words(line)
        for i, word in enumerate(words):
            if word == "fly":
                argv = []
                for following in words[i + 1 :]:
                    if following in _OPERATORS or set(following) <= set("|&;()<>"):
                        break
                    argv.append(following)
                if words[i + 1 : i + 2] == ["()"] or argv[:1] == ["$@"]:
                    continue  # lib.sh's fly() wrapper: its callers' arguments are checked
                calls.append(argv)
    return calls


def test_there_are_scripts_and_invocations() -> None:
    calls = [c for path in ALL for c in fly_invocations(path.read_text())]
    assert len(ALL) >= 10
    assert len(calls) >= 20


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_fly_invocation_is_a_real_subcommand_with_real_flags(path: Path) -> None:
    for argv in fly_invocations(path.read_text()):
        try:
            call = fly_cli.parse(argv)
        except fly_cli.Fail as exc:
            pytest.fail(f"{path.name}: fly {' '.join(argv)}: {exc}")
        assert call.path in fly_cli.COMMANDS


def test_the_parser_rejects_what_flyctl_rejects() -> None:
    with pytest.raises(fly_cli.Fail, match="unknown flag: --no-such-flag"):
        fly_cli.parse(["machines", "list", "--app", "a", "--no-such-flag"])
    with pytest.raises(fly_cli.Fail, match='unknown command "nope" for "fly postgres"'):
        fly_cli.parse(["postgres", "nope"])
    # `fly apps destroy` takes the app as an argument: it has no --app
    with pytest.raises(fly_cli.Fail, match="unknown flag: --app"):
        fly_cli.parse(["apps", "destroy", "--app", "a", "--yes"])
    assert fly_cli.parse(["pg", "attach", "db", "-a", "x", "--superuser=false"]).flags == {
        "app": "x",
        "superuser": False,
    }


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_scripts_are_strict_bash(path: Path) -> None:
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    if path.name != "lib.sh":
        assert "set -euo pipefail" in text
        assert text.count('source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"') == 1
    for line in text.splitlines():
        # a disable only with its reason on the same line
        if "shellcheck disable" in line:
            assert re.search(r"shellcheck disable=SC\d+\s+#\s*\S", line), line


def test_the_loaded_scripts_are_the_files_with_lib_inlined() -> None:
    lib = (SCRIPTS / "lib.sh").read_text().partition("\n")[2].rstrip("\n")
    cluster = (SCRIPTS / "postgres_cluster.sh").read_text()
    inlined = cluster.replace('source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"', lib)
    assert inlined == flyctl.POSTGRES_CLUSTER_SCRIPT
    assert "source " not in flyctl.DEPLOY_SCRIPT.replace("# shellcheck source", "")


def test_the_scripts_ship_with_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    assert "scripts/*.sh" in package_data["components.fly"]
