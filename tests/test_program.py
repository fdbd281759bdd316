"""The whole program under Pulumi's mocks: the graph, options, secrets and fly.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from cli import engine, plan, stackfile
from components import catalog, config
from components.app import FlyApp, FlyAppArgs
from tests.conftest import PROGRAM, PROJECT_FILE, run, stack_doc, write_stack
from tests.known import (
    APP,
    CERT,
    COMMAND,
    IP,
    PASSWORD,
    RECORD,
    REDIS,
    RULESET,
    SECRETS,
    SENSITIVE,
    ZONE_SETTING,
    KnownMocks,
)

MACHINE_COUNTS = "pulumi-python:dynamic/fly:MachineCounts"


@pytest.fixture
def prod(tmp_path: Path) -> engine.Evaluation:
    return run(stack_doc("prod"), tmp_path, stack="prod")


@pytest.fixture
def staging(tmp_path: Path) -> engine.Evaluation:
    return run(stack_doc("staging"), tmp_path, stack="staging")


def test_every_resource_hangs_off_the_platform(prod: engine.Evaluation) -> None:
    stack = prod.one("pulumi:pulumi:Stack")
    platform = prod.one("webhost:index:Platform")
    app = prod.one("webhost:fly:App")
    edge = prod.one("webhost:edge:Edge")
    assert platform.parent == stack.urn
    postgres = prod.one("webhost:data:Postgres")
    redis = prod.one("webhost:data:Redis")
    assert app.parent == edge.parent == postgres.parent == redis.parent == platform.urn
    custom = [r for r in prod.resources if r.custom]
    shape = "pulumi-python:dynamic/fly:PostgresShape"  # components/fly/providers/postgres_shape.py
    assert {r.type for r in custom if r.parent == postgres.urn} == {COMMAND, shape}
    assert {r.type for r in custom if r.parent == redis.urn} == {REDIS}
    assert {r.type for r in custom if r.parent == app.urn} == {
        APP,
        SECRETS,
        PASSWORD,
        COMMAND,
        MACHINE_COUNTS,  # components/fly/machines.py
    }
    assert {r.type for r in custom if r.parent == edge.urn} == {
        IP,
        CERT,
        "pulumi-python:dynamic/fly:CertificateCheck",  # fly/providers/certificate_check.py
        RECORD,
        ZONE_SETTING,
        RULESET,
    }
    monitoring = prod.one("webhost:monitoring:Monitoring")  # components/monitoring
    assert monitoring.parent == platform.urn
    parents = {app.urn, edge.urn, postgres.urn, redis.urn, monitoring.urn}
    assert all(r.parent in parents for r in custom)


def test_deploy_waits_for_app_secrets_addresses_and_data(prod: engine.Evaluation) -> None:
    deploy = prod.one(COMMAND, "webhost-deploy")
    assert set(deploy.dependencies) == {
        prod.one(APP).urn,
        prod.one(SECRETS).urn,
        prod.one(IP, "webhost-v6").urn,
        prod.one(IP, "webhost-v4").urn,  # proxied A records: a shared IPv4 (edge)
        prod.one(COMMAND, "webhost-db-attach").urn,
        prod.one(REDIS).urn,
    }


def test_deploy_without_domain_or_data_waits_for_the_app_secrets_and_ips(tmp_path: Path) -> None:
    doc = {
        k: v
        for k, v in stack_doc("prod").items()
        if k not in {"webhost:domain", "webhost:postgres", "webhost:redis"}
    }
    evaluation = run(doc, tmp_path, stack="prod")
    deploy = evaluation.one(COMMAND, "webhost-deploy")
    # Without a domain the Platform allocates the app's public IPs (fly deploy runs
    # with --no-public-ips); the deploy waits for them as it does for the edge's.
    ips = {r.urn for r in evaluation.by_type("pulumi-python:dynamic/fly:IpAddress")}
    assert len(ips) == 2
    assert set(deploy.dependencies) == {evaluation.one(APP).urn, evaluation.one(SECRETS).urn, *ips}
    assert evaluation.by_type("webhost:edge:Edge") == []


def test_machine_counts_follow_the_deploy_with_the_regions_of_the_stack(
    prod: engine.Evaluation,
) -> None:
    counts = prod.one(MACHINE_COUNTS, "webhost-machines")
    assert counts.parent == prod.one("webhost:fly:App").urn
    # After the deploy (scale count launches from its release), and so, on destroy,
    # deleted before the deploy and the app.
    assert prod.one(COMMAND, "webhost-deploy").urn in counts.dependencies
    inputs, secret = counts.rendered_inputs()
    assert secret == []
    assert inputs["counts"] == {"fra": 2, "iad": 3, "sin": 1}
    assert inputs["app"] == prod.one(APP).inputs["name"]


def test_a_region_change_changes_machine_counts_not_the_deploy(tmp_path: Path) -> None:
    before = run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=KnownMocks())
    doc = stack_doc("prod") | {"webhost:regions": {"iad": 3, "fra": 2, "sin": 1, "ams": 1}}
    after = run(doc, tmp_path, stack="prod", preview=False, mocks=KnownMocks())
    deploy = [e.one(COMMAND, "webhost-deploy").inputs["environment"] for e in (before, after)]
    # fly.toml lists the regions (REGIONS in [env]); nothing else of the deploy moves.
    assert {k for k in deploy[0] if deploy[0][k] != deploy[1][k]} <= {"WEBHOST_FLY_TOML"}
    counts = [e.one(MACHINE_COUNTS, "webhost-machines").inputs["counts"] for e in (before, after)]
    assert counts[1] == {**counts[0], "ams": 1}


def test_secrets_wait_for_the_app_and_the_generated_passwords(prod: engine.Evaluation) -> None:
    secrets = prod.one(SECRETS)
    passwords = {r.urn for r in prod.by_type(PASSWORD)}
    data = {prod.one(COMMAND, "webhost-db-attach").urn, prod.one(REDIS).urn}
    assert set(secrets.dependencies) == {prod.one(APP).urn, *passwords, *data}


def test_generated_secrets_have_the_runbook_lengths(prod: engine.Evaluation) -> None:
    lengths = {r.name: r.inputs["length"] for r in prod.by_type(PASSWORD)}
    assert lengths == {
        "webhost-secret-key-base": 64,
        "webhost-live-view-signing-salt": 32,
        "webhost-token-signing-secret": 64,
        "webhost-release-cookie": 56,
    }


def test_prod_protects_the_app_and_generated_secrets(prod: engine.Evaluation) -> None:
    assert prod.one(APP).protect
    assert all(r.protect for r in prod.by_type(PASSWORD))


def test_staging_protects_nothing(staging: engine.Evaluation) -> None:
    assert not any(r.protect for r in staging.resources)


def test_app_is_named_and_placed_from_config(staging: engine.Evaluation) -> None:
    inputs = staging.one(APP).inputs
    assert (inputs["name"], inputs["org"]) == ("webhost-staging", "webhost-systems")


def test_secret_values_are_secret_inputs(tmp_path: Path) -> None:
    evaluation = run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=KnownMocks())
    values = evaluation.one(SECRETS).inputs["values"]
    assert rpc.is_rpc_secret(values)
    assert set(rpc.unwrap_rpc_secret(values)) == {
        *catalog.GENERATED_SECRETS,
        *catalog.DATA_SECRETS,
    }


def test_operator_secrets_reach_the_app_as_secrets(tmp_path: Path) -> None:
    doc = stack_doc("prod") | {"webhost:stripeSecretKey": {"secure": "v1:ciphertext"}}
    evaluation = run(doc, tmp_path, stack="prod", preview=False, mocks=KnownMocks())
    values = rpc.unwrap_rpc_secret(evaluation.one(SECRETS).inputs["values"])
    assert values["STRIPE_SECRET_KEY"] == config.SECRET_PLACEHOLDER  # never decrypted offline
    assert "STRIPE_SECRET_KEY" in evaluation.rendered_outputs()["secretNames"]


def test_no_secret_value_reaches_the_plan(tmp_path: Path) -> None:
    """Real values (as after `up`): generated passwords and a decrypted Stripe key."""
    loaded = stackfile.load(write_stack(tmp_path, stack_doc("prod"), "prod"), PROJECT_FILE)
    evaluation = engine.evaluate(
        PROGRAM,
        project=loaded.project,
        stack=loaded.stack,
        config=loaded.config | {"webhost:stripeSecretKey": f"sk_live_{SENSITIVE}"},
        secret_keys=["webhost:stripeSecretKey"],
        preview=False,
        mocks=KnownMocks(),
    )
    assert SENSITIVE in repr(evaluation.one(SECRETS).inputs)  # the values were there
    document = plan.as_json(evaluation)
    assert SENSITIVE not in document
    assert SENSITIVE not in plan.as_text(evaluation)
    assert '"secretInputs": [\n        "values"\n      ]' in document


def test_fly_toml_is_the_runbooks_service(tmp_path: Path) -> None:
    evaluation = run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=KnownMocks())
    toml = tomllib.loads(evaluation.rendered_outputs()["flyToml"])
    assert toml["app"] == "webhost-prod"
    assert toml["primary_region"] == "iad"
    service = toml["http_service"]
    assert service["internal_port"] == 4000
    assert service["force_https"] is True
    assert service["concurrency"] == {"type": "connections", "soft_limit": 750, "hard_limit": 1000}
    assert service["checks"] == [
        {
            "interval": "15s",
            "timeout": "2s",
            "grace_period": "5s",
            "method": "GET",
            "path": "/api/health",
        }
    ]
    assert toml["vm"] == [{"cpu_kind": "performance", "cpus": 2, "memory": "4096mb"}]
    assert toml["deploy"] == {
        "strategy": "rolling",
        "release_command": "/app/bin/migrate",
        "wait_timeout": "5m",
        "max_unavailable": 0.33,
    }
    assert toml["metrics"] == {"port": 9091, "path": "/metrics"}
    assert toml["env"]["PORT"] == "4000"
    assert toml["env"]["REGIONS"] == "iad,fra,sin"
    assert toml["env"]["PHX_HOST"] == "webhost.example"  # the first of webhost:domain.hosts
    assert not set(toml["env"]) & catalog.SECRET_ENV_NAMES


def test_deploy_is_triggered_by_the_secrets_version_not_values(tmp_path: Path) -> None:
    evaluation = run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=KnownMocks())
    deploy = evaluation.one(COMMAND, "webhost-deploy")
    environment = deploy.inputs["environment"]
    assert not rpc.is_rpc_secret(environment)
    assert environment["WEBHOST_SECRETS_VERSION"] == "7"
    assert not any("REGION" in key for key in environment)  # the counts are MachineCounts'
    assert environment["WEBHOST_IMAGE"] == "registry.fly.io/webhost:1.0.0"
    assert SENSITIVE not in repr(deploy.inputs)


def test_outputs_are_computed_in_preview(staging: engine.Evaluation) -> None:
    outputs = staging.rendered_outputs()
    assert outputs["edge"] == engine.COMPUTED  # certificate status comes from Fly
    assert outputs["appName"] == "webhost-staging"
    assert outputs["url"] == "https://staging.webhost.example"


def test_url_without_a_domain_is_the_fly_dev_name(tmp_path: Path) -> None:
    doc = {k: v for k, v in stack_doc("staging").items() if k != "webhost:domain"}
    evaluation = run(doc, tmp_path, stack="staging", preview=False, mocks=KnownMocks())
    assert evaluation.rendered_outputs()["url"] == "https://webhost-staging.fly.dev"
    assert evaluation.rendered_outputs()["edge"] == {}


def test_invalid_config_registers_nothing(tmp_path: Path) -> None:
    doc = stack_doc("prod") | {
        "webhost:vm": {"cpuKind": "performance", "cpus": 4, "memoryMb": 4096}
    }
    with pytest.raises(config.ConfigError):
        run(doc, tmp_path, stack="prod")


def test_fly_app_rejects_bad_args_before_any_child() -> None:
    parsed = config.parse(
        {
            "webhost:org": "o",
            "webhost:appName": "a",
            "webhost:image": "registry.fly.io/a:1",
            "webhost:tier": "starter",
            "webhost:customers": "1",
            "webhost:primaryRegion": "iad",
            "webhost:regions": '{"iad": 1}',
            "webhost:vm": '{"cpuKind": "shared", "cpus": 1, "memoryMb": 256}',
        }
    )
    args = FlyAppArgs(config=parsed, data_secrets={"MYSTERY_URL": "x"})
    assert args.problems() == [
        "data secret MYSTERY_URL: not one the data tier provides "
        "(DATABASE_URL, DATABASE_READ_URL, REDIS_URL)"
    ]

    def program() -> None:
        FlyApp("w", args)

    registered: list[str] = []

    class Recording(engine.PlanMocks):
        def new_resource(
            self, a: pulumi_mocks.MockResourceArgs
        ) -> tuple[str | None, dict[str, Any]]:
            registered.append(a.typ)
            return super().new_resource(a)

    with pytest.raises(ValueError, match="MYSTERY_URL"):
        engine.evaluate(program, project="p", stack="s", config={}, mocks=Recording(True))
    assert registered == []


def test_evaluations_are_isolated(tmp_path: Path) -> None:
    first = run(stack_doc("prod"), tmp_path, stack="prod")
    between = run(stack_doc("staging"), tmp_path, stack="staging")
    again = run(stack_doc("prod"), tmp_path, stack="prod")
    assert all(":staging::" in r.urn for r in between.resources)
    assert {r.urn: r.dependencies for r in again.resources} == {
        r.urn: r.dependencies for r in first.resources
    }
