"""Every fly.toml the program renders is one Fly's published schema accepts.

The schema is the structure of Fly's own (SchemaStore's fly.json), kept in the
repository as facts (`tests/contracts/fly-toml.facts.json`, its source and commit
in `$comment`; tools/contracts.py derives it); the validator is the draft its
`$schema` names.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cli import stackfile
from components import config
from components.fly import flytoml
from tests.conftest import PROJECT_FILE, ROOT

SCHEMA = Path(__file__).resolve().parent / "contracts" / "fly-toml.facts.json"


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)  # from the schema's `$schema`
    cls.check_schema(schema)
    return cls(schema)


def raw(stack: str) -> dict[str, str]:
    return dict(stackfile.load(ROOT / f"Pulumi.{stack}.yaml", PROJECT_FILE).config)


def section(stack: str, key: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw(stack).get(f"webhost:{key}", "{}"))
    return value


# Each variant turns on an optional part of fly.toml or a value of a closed set. The
# schema's [[vm]] `cpus` enum stops at 1, 2, 4, 8, 16 (SchemaStore 3b6446a predates
# fly-go's 6x..14x presets), so VM variants stay within both.
VARIANTS: dict[str, dict[str, Any]] = {
    "no-domain": {"domain": None},
    "no-postgres": {"postgres": None},
    "no-redis": {"redis": None},
    "env-and-flags": {"env": {"FEATURE_X": "on", "LOG_LEVEL": "debug"}},
    "metrics": {"metrics": {"port": 9100, "path": "/internal/metrics"}},
    "requests-concurrency": {
        "http": {"concurrency": {"type": "requests", "softLimit": 20, "hardLimit": 25}}
    },
    "suspend-and-head-check": {
        "http": {
            "autoStopMachines": "suspend",
            "autoStartMachines": False,
            "forceHttps": False,
            "healthCheck": {"method": "HEAD", "interval": "1m", "timeout": "1500ms"},
        }
    },
    "shared-8x": {"vm": {"cpuKind": "shared", "cpus": 8, "memoryMb": 16384}},
    "performance-16x": {"vm": {"cpuKind": "performance", "cpus": 16, "memoryMb": 32768}},
    "release-and-deploy": {
        "releaseCommand": "/app/bin/migrate --verbose",
        "deploy": {"maxUnavailable": 2, "waitTimeout": "10m"},
    },
    "deep-check-only-bluegreen": {
        "deployStrategy": "bluegreen",
        "http": {"healthCheck": {"enabled": False}},
    },
    "headers-from-fly-proxy": {
        "domain": None,
        "securityHeaders": {"hstsMaxAge": 600, "includeSubdomains": True},
    },
    **{
        f"strategy-{s}": {"deployStrategy": s}
        for s in ("rolling", "bluegreen", "canary", "immediate")
    },
}


def rendered(stack: str, changes: dict[str, Any]) -> dict[str, Any]:
    values = raw(stack)
    for key, value in changes.items():
        if value is None:
            values.pop(f"webhost:{key}", None)
        elif isinstance(value, dict) and key == "http":
            values[f"webhost:{key}"] = json.dumps(section(stack, key) | value)
        else:
            values[f"webhost:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return tomllib.loads(flytoml.render(config.parse(values)))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_real_stacks_render_a_valid_fly_toml(stack: str, validator: Any) -> None:
    document = rendered(stack, {})
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_renders_a_valid_fly_toml(stack: str, variant: str, validator: Any) -> None:
    if stack == "staging" and variant == "performance-16x":
        pytest.skip("staging's tier runs shared VMs; prod covers performance")
    document = rendered(stack, VARIANTS[variant])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


def test_the_validator_catches_what_fly_refuses(validator: Any) -> None:
    # The check above can fail: a wrong type where Fly's schema wants another.
    document = rendered("prod", {})
    document["http_service"]["internal_port"] = "4000"
    assert not validator.is_valid(document)


def test_release_command_timeout_is_the_one_key_fly_schema_lacks(validator: Any) -> None:
    # flyctl's Deploy struct has release_command_timeout (internal/appconfig/config.go @
    # ad0172f); the published schema's [deploy] does not, and forbids other keys.
    document = rendered("prod", {"deploy": {"releaseCommandTimeout": "15m"}})
    errors = [e.message for e in validator.iter_errors(document)]
    assert len(errors) == 1
    assert "release_command_timeout" in errors[0]


def test_the_facts_are_the_schema_without_annotations() -> None:
    # tools/contracts.py is a fixed point on its own output: nothing descriptive
    # (text taken from upstream) is kept, only what decides validity.
    from tools.contracts import toml_facts

    facts = json.loads(SCHEMA.read_text())
    assert toml_facts(facts) == facts
    assert "SchemaStore/schemastore src/schemas/json/fly.json @ " in facts["$comment"]
