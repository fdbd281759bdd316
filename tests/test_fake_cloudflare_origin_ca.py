"""The fake Cloudflare's Origin CA (e2e/fake_cloudflare/fakecf/origin_ca.py), driven
in-process as tests/test_fake_cloudflare.py drives the plugin: a CSR signed into a real
certificate by the fake's own root, its schema, its diff and its revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from components import tls
from tests.fakeprovider_client import plain, props, stored
from tests.test_fake_cloudflare import (  # and the fake's modules, which it puts on the path
    EDGE,
    ZONE,
    CloudflareError,
    FakeCloudflare,
    check,
    create,
    fake,
    paths,
)

__all__ = ["fake", "paths"]  # the fixtures, shared with the plugin's other tests

from fakecf import origin_ca

ORIGIN = "cloudflare:index/originCaCertificate:OriginCaCertificate"
HOSTS = [ZONE, f"www.{ZONE}"]


def request(key_type: str = "ecdsa", **over: Any) -> dict[str, Any]:
    key = tls.generate(key_type)
    inputs = {
        "csr": tls.csr_pem(key, HOSTS),
        "hostnames": HOSTS,
        "requestType": "origin-ecc" if key_type == "ecdsa" else "origin-rsa",
        "requestedValidity": 365,
    }
    return inputs | over


def reasons(fake: FakeCloudflare, inputs: dict[str, Any]) -> list[str]:
    return [f.reason for f in check(fake, ORIGIN, "origin", inputs).failures]


def test_required_inputs_are_the_schemas(fake: FakeCloudflare) -> None:
    found = reasons(fake, {"hostnames": HOSTS})
    assert any("csr attribute" in r for r in found)
    assert any("request_type attribute" in r for r in found)


def test_request_type_is_one_of_the_three(fake: FakeCloudflare) -> None:
    (reason,) = reasons(fake, request(requestType="origin-dsa"))
    assert 'value must be one of: ["origin-rsa" "origin-ecc" "keyless-certificate"]' in reason


def test_validity_is_one_of_cloudflares_periods(fake: FakeCloudflare) -> None:
    (reason,) = reasons(fake, request(requestedValidity=100))
    assert "requested_validity value must be one of: [7 30 90 365 730 1095 5475], got: 100" in (
        reason
    )


def test_validity_defaults_to_fifteen_years(fake: FakeCloudflare) -> None:
    inputs = request()
    del inputs["requestedValidity"]
    checked = check(fake, ORIGIN, "origin", inputs)
    assert plain(checked.inputs)["requestedValidity"] == 5475


def test_a_csr_is_signed_by_the_fake_ca_for_the_hosts(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    inputs = request()
    created = create(fake, ORIGIN, "origin", inputs)
    outs = plain(created.properties)
    leaf = x509.load_pem_x509_certificate(outs["certificate"].encode())
    root = x509.load_pem_x509_certificate(origin_ca.root_pem(stored(paths)).encode())  # type: ignore[union-attr]
    leaf.verify_directly_issued_by(root)
    csr = x509.load_pem_x509_csr(inputs["csr"].encode())
    assert leaf.public_key() == csr.public_key()
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == HOSTS
    expires = datetime.fromisoformat(outs["expiresOn"])
    assert expires == leaf.not_valid_after_utc
    assert timedelta(days=364) < expires - datetime.now(UTC) <= timedelta(days=365)
    assert created.resource_id == str(leaf.serial_number)


def test_every_input_replaces(fake: FakeCloudflare) -> None:
    created = create(fake, ORIGIN, "origin", request())
    for change in ({"hostnames": [ZONE]}, {"requestedValidity": 730}, {"csr": request()["csr"]}):
        news = {**plain(created.properties), **change}
        diff = EDGE.diff(fake, ORIGIN, "o", created.resource_id, created.properties, props(news))
        assert diff.replaces == list(change), change


def test_the_same_inputs_make_no_diff(fake: FakeCloudflare) -> None:
    inputs = request()
    created = create(fake, ORIGIN, "origin", inputs)
    diff = EDGE.diff(fake, ORIGIN, "o", created.resource_id, created.properties, props(inputs))
    assert diff.changes is False


def test_a_host_outside_the_accounts_zones_is_refused(fake: FakeCloudflare) -> None:
    with pytest.raises(CloudflareError, match=r"other\.example is not a hostname in a zone"):
        create(fake, ORIGIN, "origin", request(hostnames=["other.example"]))


def test_a_csr_whose_key_does_not_fit_the_request_type_is_refused(fake: FakeCloudflare) -> None:
    with pytest.raises(CloudflareError, match="does not fit request_type origin-rsa"):
        create(fake, ORIGIN, "origin", request(requestType="origin-rsa"))


def test_delete_revokes_and_read_then_finds_nothing(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    created = create(fake, ORIGIN, "origin", request())
    certificate_id = created.resource_id
    read = EDGE.read(fake, ORIGIN, "o", certificate_id, created.properties)
    assert plain(read.properties)["certificate"] == plain(created.properties)["certificate"]
    EDGE.delete(fake, ORIGIN, "o", certificate_id, created.properties)
    assert stored(paths)["originCaCertificates"] == {}
    gone = EDGE.read(fake, ORIGIN, "o", certificate_id, created.properties)
    assert gone.resource_id is None
