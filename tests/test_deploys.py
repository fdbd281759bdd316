"""[deploy], the two health checks and the security headers, as rendered into fly.toml."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from components import config
from components.fly import flytoml
from tests.test_flytoml_contract import raw, section


def parsed(stack: str = "prod", **changes: Any) -> config.StackConfig:
    values = raw(stack)
    for key, value in changes.items():
        merged = section(stack, key) | value if isinstance(value, dict) else value
        values[f"webhost:{key}"] = merged if isinstance(merged, str) else json.dumps(merged)
    return config.parse(values)


def toml(stack: str = "prod", **changes: Any) -> dict[str, Any]:
    return tomllib.loads(flytoml.render(parsed(stack, **changes)))


def problems(stack: str = "prod", **changes: Any) -> list[str]:
    with pytest.raises(config.ConfigError) as caught:
        parsed(stack, **changes)
    return caught.value.problems


def test_release_command_defaults_to_fly_phoenix_migrate() -> None:
    assert toml()["deploy"]["release_command"] == "/app/bin/migrate"


def test_deploy_knobs_render_and_default_to_flyctls() -> None:
    assert toml()["deploy"]["wait_timeout"] == "5m"
    assert toml()["deploy"]["max_unavailable"] == 0.33
    assert "release_command_timeout" not in toml()["deploy"]
    set_ = toml(deploy={"maxUnavailable": 2, "waitTimeout": "10m", "releaseCommandTimeout": "15m"})
    assert set_["deploy"]["max_unavailable"] == 2
    assert set_["deploy"]["release_command_timeout"] == "15m"


def test_routing_check_is_shallow_and_the_deep_check_is_not_routed() -> None:
    doc = toml()
    assert doc["http_service"]["checks"][0]["path"] == "/api/health"
    assert doc["checks"]["deep"]["path"] == "/api/health/deep"
    assert doc["checks"]["deep"]["port"] == doc["http_service"]["internal_port"]


def test_bluegreen_without_any_check_is_refused_naming_the_key() -> None:
    found = problems(
        deployStrategy="bluegreen",
        http={"healthCheck": {"enabled": False}, "deepCheck": {"enabled": False}},
    )
    assert len(found) == 1
    assert found[0].startswith('webhost:deployStrategy = "bluegreen": bluegreen needs')


def test_bluegreen_with_only_the_deep_check_is_taken() -> None:
    doc = toml(deployStrategy="bluegreen", http={"healthCheck": {"enabled": False}})
    assert "checks" not in doc["http_service"]
    assert "max_unavailable" not in doc["deploy"]


def test_max_unavailable_with_a_strategy_flyctl_ignores_it_for_is_refused() -> None:
    found = problems(deployStrategy="immediate", deploy={"maxUnavailable": 0.5})
    assert found == [
        "webhost:deploy.maxUnavailable = 0.5: flyctl ignores it for the immediate strategy "
        "(only rolling and canary replace machines in batches)"
    ]


def test_a_fractional_count_above_one_is_refused() -> None:
    assert problems(deploy={"maxUnavailable": 1.5}) == [
        "webhost:deploy.maxUnavailable = 1.5: a fraction below 1 or a whole number of machines"
    ]


def test_stacks_not_owning_a_proxied_zone_get_hsts_and_nosniff_from_flys_proxy() -> None:
    # staging: proxied on prod's zone (ownsZone: false), whose zone-wide headers prod sets
    headers = toml("staging")["http_service"]["http_options"]["response"]["headers"]
    assert headers == {
        "Strict-Transport-Security": "max-age=31536000",
        "X-Content-Type-Options": "nosniff",
    }


def test_proxied_stacks_leave_the_headers_to_cloudflare() -> None:
    assert "http_options" not in toml("prod")["http_service"]


def test_preload_without_include_subdomains_is_refused() -> None:
    found = problems(securityHeaders={"preload": True})
    assert found[0].startswith("webhost:securityHeaders.preload = true: preload needs")


def test_image_digest_is_read_from_a_pinned_reference() -> None:
    digest = "sha256:" + "0f" * 32
    assert parsed(image=f"registry.fly.io/webhost:1@{digest}").image_digest == digest
    assert parsed().image_digest is None
