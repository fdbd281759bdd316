"""The providers' move to components/fly/providers/ keeps existing stacks working.

A state holds each provider as a dill pickle naming its class by module path
(pulumi sdk/python/lib/pulumi/dynamic/dynamic.py serialize_provider); refresh and
destroy unpickle the blob in the state's outputs (dynamic/__main__.py Read, Delete).
So every path a state made before the move names still resolves to the class, the
type tokens stay, and a blob that names the new path is no change to any provider's
diff. e2e/layout.py proves the same under the engine with the previous commit's program.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dill
import pytest
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from components import tls
from components.fly.providers import (
    app,
    app_secrets,
    certificate,
    certificate_check,
    custom_certificate,
    custom_certificate_check,
    ip_address,
    machine_counts,
    postgres_shape,
    upstash_redis,
)
from components.fly.providers.base import DynamicResource
from tests.fakes.fly_api import TOKEN, FakeFlyApi
from tests.test_redis import REDIS

# (old module, class) -> the class now; the old layout is commit f9cad85's.
OLD_PATHS: dict[tuple[str, str], type[Any]] = {
    ("components.fly.resources", "AppProvider"): app.AppProvider,
    ("components.fly.resources", "AppSecretsProvider"): app_secrets.AppSecretsProvider,
    ("components.fly.resources", "IpAddressProvider"): ip_address.IpAddressProvider,
    ("components.fly.resources", "CertificateProvider"): certificate.CertificateProvider,
    ("components.fly.resources", "UpstashRedisProvider"): upstash_redis.UpstashRedisProvider,
    ("components.fly.certcheck", "CertificateCheckProvider"): (
        certificate_check.CertificateCheckProvider
    ),
    ("components.fly.customcert", "CustomCertificateProvider"): (
        custom_certificate.CustomCertificateProvider
    ),
    ("components.fly.customcheck", "CustomCertificateCheckProvider"): (
        custom_certificate_check.CustomCertificateCheckProvider
    ),
    ("components.fly.machines", "MachineCountsProvider"): machine_counts.MachineCountsProvider,
    ("components.fly.shape", "PostgresShapeProvider"): postgres_shape.PostgresShapeProvider,
    ("components.tls", "OriginKeyProvider"): tls.OriginKeyProvider,
}

# Each resource's type token, as states before the move hold it.
TOKENS: dict[type[Any], str] = {
    app.App: "dynamic/fly:App",
    app_secrets.AppSecrets: "dynamic/fly:AppSecrets",
    ip_address.IpAddress: "dynamic/fly:IpAddress",
    certificate.Certificate: "dynamic/fly:Certificate",
    upstash_redis.UpstashRedis: "dynamic/fly:UpstashRedis",
    certificate_check.CertificateCheck: "dynamic/fly:CertificateCheck",
    custom_certificate.CustomCertificate: "dynamic/fly:CustomCertificate",
    custom_certificate_check.CustomCertificateCheck: "dynamic/fly:CustomCertificateCheck",
    machine_counts.MachineCounts: "dynamic/fly:MachineCounts",
    postgres_shape.PostgresShape: "dynamic/fly:PostgresShape",
    tls.OriginKey: "dynamic/tls:OriginKey",
}

# Each provider's outputs after a create as the stack makes it (what Diff gets as `olds`).
CERT_OUTS = {"app": "a", "hostname": "h.example.com", "status": "Ready", "configured": True}
CHECK_OUTS = {
    "app": "a",
    "hostname": "h.example.com",
    "proxied": True,
    "timeout_seconds": 60.0,
    "interval_seconds": 5.0,
    "on_timeout": "fail",
    "records": ["r1"],
    "status": "Ready",
    "issued": True,
}
OUTS: dict[type[Any], dict[str, Any]] = {
    app.AppProvider: {"name": "a", "org": "o", "status": "deployed", "hostname": "a.fly.dev"},
    app_secrets.AppSecretsProvider: {"app": "a", "values": {"K": "v"}, "keys": ["K"]},
    ip_address.IpAddressProvider: {"app": "a", "type": "v6", "address": "2a09::1"},
    certificate.CertificateProvider: CERT_OUTS,
    upstash_redis.UpstashRedisProvider: {
        "name": "r",
        "org": "o",
        "primary_region": "iad",
        "replica_regions": ["fra", "ams"],
        "eviction": False,
        "plan": "Starter",
        "url": "redis://x",
    },
    certificate_check.CertificateCheckProvider: CHECK_OUTS,
    custom_certificate.CustomCertificateProvider: {**CERT_OUTS, "fullchain": "PEM"},
    custom_certificate_check.CustomCertificateCheckProvider: CHECK_OUTS,
    machine_counts.MachineCountsProvider: {
        "app": "a",
        "counts": {"iad": 2.0},
        "observed": {"iad": 2},
    },
    postgres_shape.PostgresShapeProvider: {
        "name": "db",
        "primary_region": "iad",
        "image": "flyio/postgres-flex:16",
        "cluster_size": 3.0,
        "volume_gb": 40.0,
    },
    tls.OriginKeyProvider: {"hostnames": ["h.example.com"], "key_type": "ecdsa"},
}


@contextmanager
def pickled_at(cls: type[Any], module: str) -> Iterator[None]:
    """Pickle `cls` as it was pickled when it lived in `module`: dill writes a class of an
    importable module as its `__module__` and qualified name (after checking that the
    name there is the class, which the old module's re-export makes true)."""
    now = cls.__module__
    cls.__module__ = module
    try:
        yield
    finally:
        cls.__module__ = now


def old_blob(cls: type[ResourceProvider], module: str) -> str:
    with pickled_at(cls, module):
        blob: str = serialize_provider(cls())
    return blob


@pytest.mark.parametrize(("where", "cls"), OLD_PATHS.items(), ids=str)
def test_a_state_pickled_before_the_move_unpickles(where: tuple[str, str], cls: type[Any]) -> None:
    module, name = where
    assert getattr(importlib.import_module(module), name) is cls
    blob = base64.b64decode(old_blob(cls, module))
    assert module.encode() in blob
    moved = cls.__module__ != module  # OriginKey's provider stayed in components/tls.py
    assert moved == (cls.__module__.encode() not in blob)
    assert type(dill.loads(blob)) is cls


def test_every_provider_lives_in_a_module_of_its_own() -> None:
    modules = [cls.__module__ for cls in OLD_PATHS.values()]
    assert len(set(modules)) == len(modules)
    assert set(OUTS) == set(OLD_PATHS.values())


@pytest.mark.parametrize(("resource", "token"), TOKENS.items(), ids=str)
def test_the_type_tokens_stay(resource: type[Any], token: str) -> None:
    assert resource._resource_type_name == token


@pytest.mark.parametrize(("where", "cls"), OLD_PATHS.items(), ids=str)
def test_a_provider_that_moved_is_no_change(where: tuple[str, str], cls: type[Any]) -> None:
    # The engine diffs with the new program's provider (dynamic/__main__.py Diff unpickles
    # `news`), the old outputs as `olds`: only `__provider` differs.
    outs = OUTS[cls]
    olds = {**outs, "__provider": old_blob(cls, where[0])}
    news = {**outs, "__provider": serialize_provider(cls())}
    assert (olds["__provider"] != news["__provider"]) == (cls.__module__ != where[0])
    diff = cls().diff("id", olds, news)
    assert (diff.changes, diff.replaces or []) == (False, [])


# Each provider's inputs, as its resource declares them (DynamicResource.INPUTS).
INPUTS_OF = {
    resource.PROVIDER: resource.INPUTS
    for module in (
        app, app_secrets, certificate, certificate_check, custom_certificate,
        custom_certificate_check, ip_address, machine_counts, postgres_shape, upstash_redis, tls,
    )
    for resource in vars(module).values()
    if isinstance(resource, type) and issubclass(resource, DynamicResource)
    and "PROVIDER" in vars(resource) and resource.__module__ == module.__name__
}  # fmt: skip
# Inputs a diff reads through another: a custom certificate's key comes with its chain
# (components/fly/providers/custom_certificate.py diff), which is the one compared.
DECIDED_ELSEWHERE = {(custom_certificate.CustomCertificateProvider, "private_key")}
UNKNOWN_INPUTS = [(cls, key) for cls in OUTS for key in INPUTS_OF[cls]]


@pytest.mark.parametrize(
    ("cls", "key"), UNKNOWN_INPUTS, ids=[f"{c.__name__}-{k}" for c, k in UNKNOWN_INPUTS]
)
def test_a_preview_with_an_input_not_known_yet_diffs(cls: type[Any], key: str) -> None:
    # In a preview the engine hands Diff an input computed from another resource's
    # output that is not known yet as rpc.Unknown (dynamic/__main__.py Diff deserializes
    # `news` keeping unknowns; runtime/rpc.py deserialize_property): a whole value, or
    # one entry of a map (pulumi/output.py Unknown). The diff must answer, never raise,
    # and call it a change (the apply diffs again with the value known).
    olds = dict(OUTS[cls])
    given = olds.get(key)
    unknown_entry = {k: Unknown() for k in given} if isinstance(given, dict) and given else None
    for value in filter(None, (Unknown(), unknown_entry)):
        diff = cls().diff("id", olds, {**olds, key: value})
        assert diff.changes is not False or (cls, key) in DECIDED_ELSEWHERE, (key, value)


# -- a provider from its pickle, as the engine runs it: in another interpreter -------

# One interpreter for the module (its start-up is most of a call's time): each request
# line is a pickled provider, a method, its arguments and the Fly environment to call
# it in; each answer line the result. The provider's classes are imported only by the
# unpickling, as in the engine's provider process.
FRESH_PROCESS = """
import base64, json, os, sys
import dill
for line in sys.stdin:
    request = json.loads(line)
    os.environ.update(request["env"])
    provider = dill.loads(base64.b64decode(request["provider"]))
    result = getattr(provider, request["method"])(*request["args"])
    print(json.dumps({"id": result.id, "outs": result.outs}), flush=True)
"""
Fresh = subprocess.Popen[str]


@pytest.fixture(scope="module")
def fresh() -> Iterator[Fresh]:
    env = {"PATH": os.environ["PATH"]}
    with subprocess.Popen(
        [sys.executable, "-c", FRESH_PROCESS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        yield process
        assert process.stdin is not None
        process.stdin.close()


def in_fresh_process(fresh: Fresh, provider: Any, method: str, *args: Any) -> dict[str, Any]:
    assert fresh.stdin is not None and fresh.stdout is not None
    env = {k: os.environ[k] for k in ("FLY_API_HOSTNAME", "FLY_API_TOKEN", "FLY_API_BASE_URL")}
    request = {"provider": serialize_provider(provider), "method": method, "args": list(args)}
    fresh.stdin.write(json.dumps({**request, "env": env}) + "\n")
    fresh.stdin.flush()
    answer: dict[str, Any] = json.loads(fresh.stdout.readline())  # "" if it died: an error
    return answer


@pytest.mark.parametrize(
    "provider",
    [
        app.AppProvider(),
        app_secrets.AppSecretsProvider(),
        ip_address.IpAddressProvider(),
        certificate.CertificateProvider(),
        upstash_redis.UpstashRedisProvider(),
    ],
    ids=lambda p: type(p).__name__,
)
def test_serialized_provider_carries_no_token(provider: Any, fly_api: FakeFlyApi) -> None:
    pickled = base64.b64decode(serialize_provider(provider))
    assert TOKEN.encode() not in pickled
    assert fly_api.url.encode() not in pickled


def test_app_provider_runs_from_a_fresh_process(fresh: Fresh, fly_api: FakeFlyApi) -> None:
    answer = in_fresh_process(fresh, app.AppProvider(), "create", {"name": "fresh", "org": "o"})
    assert answer["id"] == "fresh"
    assert "fresh" in fly_api.state.apps


def test_secrets_provider_runs_from_a_fresh_process(fresh: Fresh, fly_api: FakeFlyApi) -> None:
    app.AppProvider().create({"name": "fresh", "org": "o"})
    answer = in_fresh_process(
        fresh, app_secrets.AppSecretsProvider(), "create", {"app": "fresh", "values": {"K": "v"}}
    )
    assert answer["outs"]["keys"] == ["K"]
    assert fly_api.state.secrets["fresh"] == {"K": "v"}


def test_edge_providers_run_from_a_fresh_process(fresh: Fresh, fly_api: FakeFlyApi) -> None:
    app.AppProvider().create({"name": "fresh", "org": "o"})
    ip = in_fresh_process(
        fresh, ip_address.IpAddressProvider(), "create", {"app": "fresh", "type": "v6"}
    )
    cert = in_fresh_process(
        fresh,
        certificate.CertificateProvider(),
        "create",
        {"app": "fresh", "hostname": "fresh.example"},
    )
    assert ip["outs"]["address"] == fly_api.state.ips["fresh"][0]["ip"]
    assert (
        cert["outs"]["dns_requirements"]["acme_challenge"]["name"]
        == "_acme-challenge.fresh.example"
    )


def test_redis_provider_runs_from_a_fresh_process(fresh: Fresh, fly_api: FakeFlyApi) -> None:
    answer = in_fresh_process(fresh, upstash_redis.UpstashRedisProvider(), "create", dict(REDIS))
    assert answer["outs"]["url"] == fly_api.state.add_ons["webhost-prod-redis"]["publicUrl"]


@pytest.mark.parametrize(
    ("given", "named"),
    [({"name": "a"}, "missing ['org']"), ({"name": "a", "org": "o", "orgg": "p"}, "['orgg']")],
)
def test_a_resource_takes_exactly_its_inputs(given: dict[str, Any], named: str) -> None:
    # The shared declaration (providers/base.py) checks the keyword arguments before
    # anything is registered: a misspelt input is an error, never an input the provider
    # does not know.
    with pytest.raises(TypeError, match=re.escape(named)):
        app.App("webhost-app", **given)
