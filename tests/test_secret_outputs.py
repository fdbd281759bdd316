"""No output of a dynamic provider carries a secret the real engine would store in plaintext.

The engine hands a dynamic provider no secrets (pulumi sdk/python/lib/pulumi/dynamic/
__main__.py answers acceptSecrets false) and, from what it returns, re-marks as secret
only the top-level outputs whose key is a secret input's (annotateSecrets in pulumi
pkg/resource/plugin/provider_plugin.go), plus the resource's additional_secret_outputs.
Each provider is run against the fake Fly API and every output holding secret
material is checked to be secret by those rules.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pytest
from cryptography.hazmat.primitives import serialization
from pulumi.dynamic import ResourceProvider
from pulumi.runtime import mocks as pulumi_mocks

from components import tls
from components.fly.providers.app import App, AppProvider
from components.fly.providers.app_secrets import AppSecrets, AppSecretsProvider
from components.fly.providers.certificate import Certificate, CertificateProvider
from components.fly.providers.custom_certificate import CustomCertificate, CustomCertificateProvider
from components.fly.providers.ip_address import IpAddress, IpAddressProvider
from components.fly.providers.upstash_redis import UpstashRedis, UpstashRedisProvider
from components.tls import OriginKey, OriginKeyProvider
from tests.fakes.fly_api import TOKEN, FakeFlyApi
from tests.test_custom_certificates import issue

SECRET_VALUE = "a-secret-value-0123456789"
REDIS = {
    "name": "webhost-prod-redis",
    "org": "webhost-systems",
    "primary_region": "iad",
    "replica_regions": ["fra"],
    "eviction": False,
    "plan": "Pay-as-you-go",
}

# provider, resource class, inputs, the inputs the program marks secret
Case = tuple[ResourceProvider, type[Any], dict[str, Any], set[str]]
CASES: list[Case] = [
    (AppProvider(), App, {"name": "w2", "org": "o"}, set()),
    (AppSecretsProvider(), AppSecrets, {"app": "w", "values": {"K": SECRET_VALUE}}, {"values"}),
    (IpAddressProvider(), IpAddress, {"app": "w", "type": "v6"}, set()),
    (CertificateProvider(), Certificate, {"app": "w", "hostname": "w.example"}, set()),
    (UpstashRedisProvider(), UpstashRedis, dict(REDIS), set()),
]


def engine_secret_keys(
    secret_inputs: set[str], outs: dict[str, Any], additional: tuple[str, ...]
) -> set[str]:
    """The outputs the engine stores as secrets, by its rules (module docstring)."""
    return {k for k in outs if k in secret_inputs} | set(additional)


def secret_material(fly_api: FakeFlyApi) -> set[str]:
    passwords = {urlsplit(a["publicUrl"]).password or "" for a in fly_api.state.add_ons.values()}
    return {SECRET_VALUE, TOKEN} | (passwords - {""})


def leaks(outs: dict[str, Any], secret_keys: set[str], material: set[str]) -> list[str]:
    return sorted(
        key
        for key, value in outs.items()
        if key not in secret_keys and any(m in json.dumps(value) for m in material)
    )


@pytest.fixture
def app(fly_api: FakeFlyApi) -> str:
    AppProvider().create({"name": "w", "org": "o"})
    return "w"


@pytest.mark.parametrize("case", CASES, ids=lambda c: type(c[0]).__name__)
def test_create_and_read_outputs_keep_secrets_secret(
    fly_api: FakeFlyApi, app: str, case: Case
) -> None:
    provider, resource, inputs, secret_inputs = case
    created = provider.create(dict(inputs))
    outs = dict(created.outs or {})
    secret_keys = engine_secret_keys(secret_inputs, outs, resource.SECRET_OUTPUTS)
    assert leaks(outs, secret_keys, secret_material(fly_api)) == []
    # a refresh: the engine re-marks read outputs against the old state's secrets
    read = dict(provider.read(created.id, outs).outs or {})
    assert read
    assert leaks(read, secret_keys, secret_material(fly_api)) == []


def test_redis_url_is_secret_because_it_is_listed(fly_api: FakeFlyApi) -> None:
    outs = dict(UpstashRedisProvider().create(dict(REDIS)).outs or {})
    # no input is secret, so only additional_secret_outputs keeps the password out of state
    assert leaks(outs, engine_secret_keys(set(), outs, ()), secret_material(fly_api)) == ["url"]
    assert "url" in UpstashRedis.SECRET_OUTPUTS


# -- the resources hand SECRET_OUTPUTS to the engine ------------------------------------


class _Mocks(pulumi_mocks.Mocks):
    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class _Recording(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.secret_outputs: dict[str, list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            self.secret_outputs[request.name] = list(request.additionalSecretOutputs)
        return super().RegisterResource(request)


def _registered_secret_outputs() -> dict[str, list[str]]:
    """Register one of each resource under mocks; what each asked the engine to keep secret."""
    # A loop of its own: a program evaluation run earlier leaves none set on this thread.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    mocks = _Mocks()
    recording = _Recording(mocks)
    pulumi.runtime.set_mocks(mocks, preview=False, monitor=recording)

    @pulumi.runtime.test
    def register() -> Any:
        made = [
            AppSecrets("s", app="w", values={"K": SECRET_VALUE}),
            UpstashRedis(
                "r",
                name="r",
                org="o",
                primary_region="iad",
                replica_regions=[],
                eviction=False,
                plan="Pay-as-you-go",
            ),
            App("a", name="a", org="o"),
            IpAddress("ip", app="a", type="v6"),
            Certificate("c", app="a", hostname="a.example"),
            OriginKey("k", hostnames=["a.example"], key_type="ecdsa"),
            CustomCertificate(
                "cc", app="a", hostname="a.example", fullchain="chain", private_key="key"
            ),
        ]
        return pulumi.Output.all(*[r.urn for r in made])  # resolved once all are registered

    try:
        register()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return recording.secret_outputs


def test_each_resource_registers_its_secret_outputs() -> None:
    # In a context of its own: Pulumi's runtime state lives in context variables, and the
    # program evaluations other tests run must not find this stack.
    recorded = contextvars.copy_context().run(_registered_secret_outputs)
    assert recorded == {
        "s": list(AppSecrets.SECRET_OUTPUTS),
        "r": list(UpstashRedis.SECRET_OUTPUTS),
        "a": [],
        "ip": [],
        "c": [],
        "k": ["private_key_pem"],
        "cc": [],
    }


# -- origin certificates: the key made here, and the import that carries it ----------------


def test_the_origin_key_is_a_secret_output_because_it_is_listed() -> None:
    outs = dict(
        OriginKeyProvider().create({"hostnames": ["w.example"], "key_type": "ecdsa"}).outs or {}
    )
    material = {outs["private_key_pem"].splitlines()[1]}  # a line of the key's base64
    # No input is secret: only additional_secret_outputs keeps the key out of plaintext state.
    assert leaks(outs, engine_secret_keys(set(), outs, ()), material) == ["private_key_pem"]
    assert leaks(outs, engine_secret_keys(set(), outs, OriginKey.SECRET_OUTPUTS), material) == []
    read = dict(OriginKeyProvider().read("id", outs).outs or {})
    assert read["private_key_pem"] == outs["private_key_pem"]  # stable: never made again
    assert leaks(read, engine_secret_keys(set(), read, OriginKey.SECRET_OUTPUTS), material) == []


def test_the_import_never_outputs_the_key_it_was_given(fly_api: FakeFlyApi, app: str) -> None:
    key = tls.generate("ecdsa")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    chain = issue(key, ["w.example"])
    provider = CustomCertificateProvider()
    inputs = {"app": app, "hostname": "w.example", "fullchain": chain, "private_key": pem}
    created = provider.create(inputs)
    outs = dict(created.outs or {})
    # private_key is the one secret input; no output may hold it under any other key.
    secret_keys = engine_secret_keys({"private_key"}, outs, CustomCertificate.SECRET_OUTPUTS)
    line = pem.splitlines()[1]  # a line of the key's base64
    assert leaks(outs, secret_keys, {line}) == []
    assert "private_key" not in outs
    read = dict(provider.read(created.id, outs).outs or {})
    assert leaks(read, secret_keys, {line}) == []
    # Nor does the fake Fly keep or answer it.
    assert line not in json.dumps(fly_api.state.certificates)
