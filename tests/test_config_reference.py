"""`webhost-infra config-reference` documents every key the stack file takes, nested ones
included, with the model's own types, defaults and constraints: nothing to drift."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from cli import reference
from cli.main import main
from components.config import StackConfig
from tests.conftest import ROOT


def rows() -> dict[str, list[str]]:
    found = {}
    for line in reference.table().splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        found[cells[0].strip("`")] = cells
    return found


def leaves(doc: Any, prefix: str) -> list[str]:
    """Key paths of a stack file's values, list items as `[]`, maps' keys kept."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in [f"{prefix}.{k}", *leaves(v, f"{prefix}.{k}")]]
    if isinstance(doc, list):
        return [p for item in doc for p in leaves(item, f"{prefix}[]")]
    return []


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_key_a_real_stack_file_sets_is_in_the_reference(stack: str) -> None:
    documented = set(rows())
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    maps = {k for k, cells in rows().items() if cells[1].startswith("map of")}
    for key, value in config.items():
        assert key in documented, key
        if key in maps:
            continue  # a map's keys are the operator's names (regions, env), not config keys
        for path in leaves(value, key):
            if not any(path.startswith(f"{m}.") for m in maps):
                assert path in documented, path


def test_nested_sections_are_documented() -> None:
    documented = set(rows())
    for key in (
        "webhost:domain.zone",
        "webhost:domain.ownsZone",
        "webhost:domain.cacheRules.edgeTtlSeconds",
        "webhost:domain.originCertificate.keyType",
        "webhost:postgres.backups.recoveryWindow",
        "webhost:postgres.vm.memoryMb",
        "webhost:redis.monthlyRequests",
        "webhost:monitoring.probeFrequencyMs",
        "webhost:monitoring.contactPoints[].url",
    ):
        assert key in documented, key


def model_keys(model: type[BaseModel], prefix: str) -> list[str]:
    """Walks the model with pydantic's own schema, apart from the generator's walk."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any] | None:
        if "$ref" in node:
            return defs[node["$ref"].rsplit("/", 1)[1]]  # type: ignore[no-any-return]
        for option in node.get("anyOf", []):
            if (found := resolve(option)) is not None:
                return found
        if node.get("type") == "array" and "items" in node:
            items = resolve(node["items"])
            return None if items is None else {**items, "_list": True}
        return None

    def walk(node: dict[str, Any], path: str) -> list[str]:
        out = []
        for name, prop in node.get("properties", {}).items():
            key = f"{path}{name}"
            out.append(key)
            sub = resolve(prop)
            if sub is not None and "properties" in sub:
                out += walk(sub, f"{key}[]." if sub.get("_list") else f"{key}.")
        return out

    return walk(schema, prefix)


def test_every_key_of_the_model_is_in_the_reference() -> None:
    assert sorted(reference.keys()) == sorted(model_keys(StackConfig, "webhost:"))


@pytest.mark.parametrize(
    ("key", "column", "text"),
    [
        ("webhost:postgres.volumeGb", 3, ">= 1; <= 500"),
        ("webhost:postgres.clusterSize", 2, "`1`"),
        ("webhost:monitoring.probes", 3, "length >= 1; length <= 32"),
        ("webhost:monitoring.availabilityTarget", 1, "number"),
        ("webhost:domain.hosts", 1, "list of string"),
        ("webhost:domain.zoneId", 3, "32 hex digits"),
        ("webhost:monitoring.contactPoints[].url", 1, "secret string"),
        ("webhost:postgres", 2, "unset"),
        ("webhost:domain.proxied", 2, "required"),
    ],
)
def test_rows_carry_the_model_s_facts(key: str, column: int, text: str) -> None:
    assert text in rows()[key][column]


def test_every_key_has_a_description() -> None:
    assert [k for k, cells in rows().items() if not cells[-1]] == []


def test_the_command_prints_the_block(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config-reference"]) == 0
    assert capsys.readouterr().out.strip() == reference.block()


def test_importing_the_config_reads_no_model_source() -> None:
    # Issue 22: every plan and `pulumi up` imports the config; reading each model's source
    # for its docstrings (pydantic's use_attribute_docstrings) was a third of that import.
    # Only this reference needs them, and reads them itself.
    probe = (
        "import linecache, components.config\n"
        "print(sorted(k for k in linecache.cache if '/components/config' in k))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
