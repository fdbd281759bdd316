"""The release's environment: clustering derived from the app name, a generated cookie."""

from __future__ import annotations

import pytest

from components import catalog, config
from tests.test_deploys import parsed, problems, toml


def test_clustering_env_is_derived_from_the_app_name() -> None:
    env = toml("staging")["env"]
    assert env["DNS_CLUSTER_QUERY"] == "webhost-staging.internal"
    assert env["ERL_AFLAGS"] == "-proto_dist inet6_tcp"
    assert env["ECTO_IPV6"] == "true"
    assert "RELEASE_COOKIE" not in env  # a secret, never plain env


def test_release_cookie_is_a_generated_secret() -> None:
    assert catalog.GENERATED_SECRETS["RELEASE_COOKIE"] == 56
    assert "RELEASE_COOKIE" in catalog.SECRET_ENV_NAMES


@pytest.mark.parametrize("name", sorted(config.CLUSTER_ENV_NAMES))
def test_derived_names_are_refused_in_env(name: str) -> None:
    found = problems("staging", env={name: "x"})
    assert found == [f'webhost:env.{name} = "{name}": {config.CLUSTER_RULE}']


def test_derived_names_are_refused_in_secrets() -> None:
    values = {"webhost:secrets": '{"RELEASE_COOKIE": "x"}'}
    with pytest.raises(config.ConfigError) as caught:
        config.parse(
            {**{k: v for k, v in parsed_raw().items()}, **values},
            secret_keys={"webhost:secrets"},
        )
    assert any(
        line.startswith("webhost:secrets.RELEASE_COOKIE") and "derived for clustering" in line
        for line in caught.value.problems
    )


def parsed_raw() -> dict[str, str]:
    from tests.test_flytoml_contract import raw

    return raw("staging")


def test_the_stack_config_parses_with_the_cluster_env() -> None:
    assert parsed("prod").cluster_env["DNS_CLUSTER_QUERY"] == "webhost-prod.internal"
