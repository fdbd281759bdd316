"""The stack config contract: every rule, with the line an operator sees. This file: the
stack-wide keys (sizes, regions, names, env and secrets, unknown and missing keys); the
sections' rules are in tests/test_config_app.py, _edge.py, _data.py and _monitoring.py."""

from __future__ import annotations

from typing import Any

import pytest

from cli import stackfile
from components import config
from tests.configcase import base, only, problems, text
from tests.conftest import PROJECT_FILE, ROOT


def test_real_stack_files_parse() -> None:
    for stack in ("staging", "prod"):
        loaded = stackfile.load(ROOT / f"Pulumi.{stack}.yaml", PROJECT_FILE)
        parsed = config.parse(loaded.config, loaded.secret_keys)
        assert parsed.primary_region == "iad"
        assert parsed.http.health_check.path == "/api/health"


def test_prod_keeps_the_runbook_regions_and_limits() -> None:
    parsed = config.parse(base())
    assert parsed.regions == {"iad": 3, "fra": 2, "sin": 1}
    assert parsed.active_regions == ["iad", "fra", "sin"]
    assert (parsed.http.concurrency.soft_limit, parsed.http.concurrency.hard_limit) == (750, 1000)
    assert parsed.http.internal_port == 4000
    assert parsed.protect is True


# Fly's size rules (catalog.cpu_count_problem, catalog.memory_problem), each line whole.
# flyctl internal/machine/update.go: performance memory % 1024 must be 0.
@pytest.mark.parametrize(
    ("kind", "cpus", "memory", "line"),
    [
        pytest.param(
            "performance",
            4,
            4096,
            "webhost:vm.memoryMb = 4096: performance VMs take 2048..8192 MB per CPU, "
            "so 8192..32768 MB for 4 CPUs",
            id="runbook-professional",
        ),
        pytest.param(
            "performance",
            8,
            8192,
            "webhost:vm.memoryMb = 8192: performance VMs take 2048..8192 MB per CPU, "
            "so 16384..65536 MB for 8 CPUs",
            id="runbook-business",
        ),
        pytest.param(
            "shared",
            1,
            1000,
            "webhost:vm.memoryMb = 1000: shared VMs take memory in multiples of 256 MB",
            id="shared-256-steps",
        ),
        pytest.param(
            "performance",
            2,
            4352,
            "webhost:vm.memoryMb = 4352: performance VMs take memory in multiples of 1024 MB",
            id="performance-whole-gigabytes",
        ),
        pytest.param(
            "shared",
            1,
            4096,
            "webhost:vm.memoryMb = 4096: shared VMs take 256..2048 MB per CPU, "
            "so 256..2048 MB for 1 CPU",
            id="shared-ceiling",
        ),
        pytest.param(
            "shared",
            3,
            1024,
            "webhost:vm.cpus = 3: shared VMs come with 1, 2, 4, 6, 8 CPUs",
            id="cpus-offered",
        ),
    ],
)
def test_a_size_fly_does_not_offer_is_refused(kind: str, cpus: int, memory: int, line: str) -> None:
    assert only(vm={"cpuKind": kind, "cpus": cpus, "memoryMb": memory}) == line


@pytest.mark.parametrize(
    ("kind", "cpus", "memory"),
    [("shared", 6, 1536), ("performance", 6, 12288), ("performance", 10, 20480)]
    + [("performance", n, n * 2048) for n in (12, 14, 16)],
)
def test_every_preset_cpu_count_is_offered(kind: str, cpus: int, memory: int) -> None:
    # fly-go machine_types.go MachinePresets: shared-cpu-6x, performance-6x .. -16x.
    raw = base() | {"webhost:vm": text({"cpuKind": kind, "cpus": cpus, "memoryMb": memory})}
    assert config.parse(raw).vm.cpus == cpus


@pytest.mark.parametrize(
    ("kind", "cpus"), [("shared", 3), ("shared", 16), ("performance", 3), ("performance", 32)]
)
def test_cpu_counts_without_a_preset_are_refused(kind: str, cpus: int) -> None:
    line = only(vm={"cpuKind": kind, "cpus": cpus, "memoryMb": 2048 * cpus})
    assert line.startswith(f"webhost:vm.cpus = {cpus}: {kind} VMs come with ")


def test_cpu_kind_must_be_known() -> None:
    line = only(vm={"cpuKind": "dedicated", "cpus": 1, "memoryMb": 1024})
    assert line.startswith('webhost:vm.cpuKind = "dedicated": Input should be')
    assert "'shared' or 'performance'" in line


# One key set wrong, the one line it gets, whole: the value as written (a secret's
# never), the key path and the rule.
@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        pytest.param(
            "regions",
            {"iad": 3, "fra": -1},
            "webhost:regions.fra = -1: Input should be greater than or equal to 0",
            id="negative-machine-count",
        ),
        pytest.param(
            "regions",
            {"iad": 0, "fra": 2},
            'webhost:primaryRegion = "iad": must be one of `regions` with at least one machine',
            id="primary-region-needs-machines",
        ),
        pytest.param(
            "appName",
            "WebHost_Prod",
            'webhost:appName = "WebHost_Prod": 1..63 lowercase letters, digits and dashes, '
            "not starting or ending with a dash",
            id="app-name",
        ),
        pytest.param(
            "customers",
            -5,
            "webhost:customers = -5: Input should be greater than or equal to 0",
            id="customers-not-negative",
        ),
        pytest.param(
            "regoins",
            {"iad": 1},
            'webhost:regoins = {"iad": 1}: unknown key (did you mean regions?)',
            id="unknown-top-level-key-suggests",
        ),
        pytest.param("org", None, "webhost:org: required, not set", id="missing-required-key"),
        pytest.param(
            "stripeSecretKey",
            "sk_live_123",
            "webhost:stripeSecretKey: is a secret; set it with "
            "`pulumi config set --secret webhost:stripeSecretKey <value>`",
            id="plain-text-secret-not-echoed",
        ),
    ],
)
def test_a_wrong_value_gets_its_one_line(key: str, value: Any, line: str) -> None:
    assert only(**{key: value}) == line


def test_unknown_region_suggests_the_nearest() -> None:
    line = only(regions={"iad": 3, "fr": 2, "sin": 1})
    assert line.startswith('webhost:regions.fr = "fr": not a Fly region (did you mean fra?)')


def test_retired_region_is_rejected() -> None:
    assert "not a Fly region" in only(regions={"iad": 3, "sea": 1})


def test_regions_must_not_be_empty() -> None:
    found = problems(regions={})
    assert any(
        p.startswith("webhost:regions = {}: Dictionary should have at least 1") for p in found
    )


def test_image_rule() -> None:
    assert only(image="not an image").endswith(
        "an image reference such as registry.fly.io/webhost:v1.2.3 or ...@sha256:<digest>"
    )


def test_tier_and_strategy_are_closed_sets() -> None:
    assert only(tier="enterprise").startswith('webhost:tier = "enterprise": Input should be')
    assert only(deployStrategy="yolo").startswith(
        'webhost:deployStrategy = "yolo": Input should be'
    )


def test_secret_names_are_refused_in_plain_env() -> None:
    line = only(env={"DATABASE_URL": "postgres://u:p@h/db"})
    assert line == (
        'webhost:env.DATABASE_URL = "DATABASE_URL": is a secret: the program sets it '
        "through Fly secrets, never plain env"
    )
    assert "u:p@h" not in line


def test_derived_env_names_are_refused() -> None:
    assert "is derived" in only(env={"PORT": "8080"})


def test_env_name_format() -> None:
    assert only(env={"phx-host": "x"}).endswith(
        "an environment name such as PHX_HOST (A-Z, 0-9, _)"
    )


def test_unknown_nested_key_suggests() -> None:
    found = problems(vm={"cpuKind": "shared", "cpus": 1, "memoryMB": 1024})
    assert "webhost:vm.memoryMB = 1024: unknown key (did you mean memoryMb?)" in found
    assert "webhost:vm.memoryMb: required, not set" in found


def test_secure_secret_is_accepted_and_kept_secret() -> None:
    raw = base() | {"webhost:stripeSecretKey": "sk_live_123"}
    parsed = config.parse(raw, {"webhost:stripeSecretKey"})
    assert parsed.operator_secrets()["STRIPE_SECRET_KEY"].get_secret_value() == "sk_live_123"
    assert "sk_live_123" not in repr(parsed)


def test_every_problem_is_reported_at_once_one_line_each() -> None:
    found = problems(
        appName="Bad_Name",
        vm={"cpuKind": "performance", "cpus": 4, "memoryMb": 4096},
        regions={"iad": 3, "xyz": 1},
    )
    assert len(found) == 3
    assert [p.split(" ")[0] for p in found] == [
        "webhost:appName",
        "webhost:regions.xyz",
        "webhost:vm.memoryMb",
    ]
    assert all("\n" not in p for p in found)


def test_other_namespaces_are_left_to_their_providers() -> None:
    raw = base() | {"cloudflare:apiToken": "x", "fly:region": "iad"}
    assert config.parse(raw).app_name == "webhost-prod"
