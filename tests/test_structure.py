"""Cheap structural checks over the source: habits a reviewer would otherwise have to catch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCES = sorted((ROOT / "components").rglob("*.py"))


def components() -> list[tuple[Path, ast.ClassDef]]:
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Attribute) and b.attr == "ComponentResource")
                or (isinstance(b, ast.Name) and b.id == "ComponentResource")
                for b in node.bases
            ):
                found.append((path, node))
    return found


def _is_register_outputs(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "register_outputs"
    )


def test_there_are_components_to_check() -> None:
    assert {c.name for _, c in components()} >= {"FlyApp", "Platform"}


@pytest.mark.parametrize(("path", "cls"), components(), ids=lambda v: getattr(v, "name", ""))
def test_register_outputs_once_and_last(path: Path, cls: ast.ClassDef) -> None:
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    calls = [n for n in ast.walk(init) if _is_register_outputs(n)]
    assert len(calls) == 1, f"{path.name}:{cls.name} calls register_outputs {len(calls)} times"
    last = init.body[-1]
    assert isinstance(last, ast.Expr) and _is_register_outputs(last.value), (
        f"{path.name}:{cls.name}: register_outputs must be the last statement of __init__"
    )


@pytest.mark.parametrize(("path", "cls"), components(), ids=lambda v: getattr(v, "name", ""))
def test_component_type_tokens_follow_the_convention(path: Path, cls: ast.ClassDef) -> None:
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    supers = [
        n
        for n in ast.walk(init)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "__init__"
        and n.args
        and isinstance(n.args[0], ast.Constant)
    ]
    assert len(supers) == 1
    token = supers[0].args[0]
    assert isinstance(token, ast.Constant)
    assert str(token.value).startswith("webhost:") and str(token.value).count(":") == 2
