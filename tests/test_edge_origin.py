"""The edge under mocks with `certificate: origin`: Cloudflare's Origin CA certificate made
from a key of ours, imported per host (wildcard hosts too). Split from test_edge.py, whose
helpers and shared evaluations it uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.edge import cache_expression
from tests.conftest import stack_doc
from tests.known import (
    CERT,
    CERT_CHECK,
    CUSTOM_CERT,
    CUSTOM_CHECK,
    ORIGIN_CERT,
    ORIGIN_CERT_PEM,
    ORIGIN_CSR_PEM,
    ORIGIN_EXPIRES,
    ORIGIN_ISSUER,
    ORIGIN_KEY,
    ORIGIN_KEY_PEM,
    OWNERSHIP_APP_VALUE,
    RECORD,
    SENSITIVE,
)
from tests.test_edge import after_up, host_records, proxied_records, records, with_domain

# -- certificate: origin (prod, proxied) -----------------------------------------------------

ORIGIN = {"certificate": "origin"}


def test_origin_mode_makes_one_key_and_one_origin_ca_certificate_for_every_host(
    tmp_path: Path,
) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", **ORIGIN), "prod")
    key = evaluation.one(ORIGIN_KEY)
    origin = evaluation.one(ORIGIN_CERT)
    hosts = ["webhost.example", "www.webhost.example"]
    assert key.inputs["hostnames"] == hosts
    assert key.inputs["key_type"] == "ecdsa"
    assert origin.inputs["hostnames"] == hosts
    assert origin.inputs["requestType"] == "origin-ecc"
    assert origin.inputs["requestedValidity"] == 5475
    assert origin.inputs["csr"] == ORIGIN_CSR_PEM
    assert origin.dependencies == (key.urn,)


def test_origin_mode_imports_per_host_with_the_key_and_the_certificate(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", **ORIGIN), "prod")
    key, origin = evaluation.one(ORIGIN_KEY), evaluation.one(ORIGIN_CERT)
    app = evaluation.one("pulumi-python:dynamic/fly:App").urn
    for host in ("webhost.example", "www.webhost.example"):
        custom = evaluation.one(CUSTOM_CERT, f"webhost-custom-cert-{host}")
        assert set(custom.dependencies) == {app, key.urn, origin.urn}
        assert custom.inputs["fullchain"] == ORIGIN_CERT_PEM
        assert custom.rendered_inputs()[1] == ["private_key"]  # the key travels as a secret
        assert custom.protect  # prod protects its certificates, as in acme mode
        txt = evaluation.one(RECORD, f"webhost-txt-_fly-ownership.{host}")
        assert txt.dependencies == (custom.urn,)
        assert txt.inputs["content"] == OWNERSHIP_APP_VALUE
        check = evaluation.one(CUSTOM_CHECK, f"webhost-custom-check-{host}")
        assert custom.urn in check.dependencies and txt.urn in check.dependencies


def test_origin_mode_has_no_acme_certificate_and_no_acme_record(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", **ORIGIN), "prod")
    assert evaluation.by_type(CERT) == []
    assert evaluation.by_type(CERT_CHECK) == []
    assert not any(name.startswith("_acme-challenge.") for _, name in records(evaluation))
    assert host_records(evaluation) == proxied_records("webhost.example", "www.webhost.example")


def test_acme_mode_makes_no_key_and_no_origin_certificate(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert evaluation.by_type(ORIGIN_KEY) == evaluation.by_type(ORIGIN_CERT) == []
    assert evaluation.by_type(CUSTOM_CERT) == []


def test_origin_mode_edge_output_has_the_imported_certificates_status_issuer_expiry(
    tmp_path: Path,
) -> None:
    edge = after_up(tmp_path, with_domain("prod", **ORIGIN), "prod").rendered_outputs()["edge"]
    www = edge["www.webhost.example"]
    assert set(www) == {"url", "certificate", "issuer", "expires", "records"}
    assert (www["certificate"], www["issuer"], www["expires"]) == (
        "active",
        ORIGIN_ISSUER,
        ORIGIN_EXPIRES,
    )


def test_origin_mode_key_never_shows_in_plaintext(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", **ORIGIN), "prod")
    printed = json.dumps(
        {
            "outputs": evaluation.rendered_outputs(),
            "inputs": [r.rendered_inputs()[0] for r in evaluation.resources],
        },
        default=str,
    )
    assert ORIGIN_KEY_PEM not in printed
    assert SENSITIVE not in printed


def test_origin_rsa_key_asks_for_an_origin_rsa_certificate(tmp_path: Path) -> None:
    doc = with_domain(
        "prod", certificate="origin", originCertificate={"keyType": "rsa", "validityDays": 730}
    )
    evaluation = after_up(tmp_path, doc, "prod")
    assert evaluation.one(ORIGIN_KEY).inputs["key_type"] == "rsa"
    origin = evaluation.one(ORIGIN_CERT)
    assert (origin.inputs["requestType"], origin.inputs["requestedValidity"]) == ("origin-rsa", 730)


# -- wildcard hosts (certificate: origin, proxied) -------------------------------------------

WILDCARD = {"certificate": "origin", "hosts": ["@", "*"]}


def test_wildcard_host_gets_proxied_records_its_ownership_txt_and_the_origin_san(
    tmp_path: Path,
) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", **WILDCARD), "prod")
    # The mock answers Fly's documented `_fly-ownership.<hostname>` (tests/known.py), so
    # the wildcard's TXT record is `_fly-ownership.*.webhost.example`.
    assert host_records(evaluation) == proxied_records("webhost.example", "*.webhost.example")
    hosts = ["webhost.example", "*.webhost.example"]
    assert evaluation.one(ORIGIN_KEY).inputs["hostnames"] == hosts
    assert evaluation.one(ORIGIN_CERT).inputs["hostnames"] == hosts


def test_wildcard_host_is_imported_once_under_its_own_names(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", **WILDCARD), "prod")
    customs = {c.inputs["hostname"]: c for c in evaluation.by_type(CUSTOM_CERT)}
    assert set(customs) == {"webhost.example", "*.webhost.example"}
    wild = evaluation.one(CUSTOM_CERT, "webhost-custom-cert-*.webhost.example")
    assert wild.inputs["fullchain"] == ORIGIN_CERT_PEM
    check = evaluation.one(CUSTOM_CHECK, "webhost-custom-check-*.webhost.example")
    assert wild.urn in check.dependencies
    assert check.urn != evaluation.one(CUSTOM_CHECK, "webhost-custom-check-webhost.example").urn
    edge = evaluation.rendered_outputs()["edge"]
    assert edge["*.webhost.example"]["url"] == "https://*.webhost.example"


@pytest.mark.parametrize(
    ("hosts", "host_test"),
    [
        (
            ["a.example", "*.a.example", "*.eu.a.example"],
            '(http.host in {"a.example"} or http.host wildcard "*.a.example" or '
            'http.host wildcard "*.eu.a.example")',
        ),
        (
            ["www.a.example", "*.a.example"],
            '(http.host in {"www.a.example"} or http.host wildcard "*.a.example")',
        ),
    ],
)
def test_a_wildcard_host_is_matched_by_pattern_not_as_a_literal_name(
    hosts: list[str], host_test: str
) -> None:
    # `http.host in {"*.a.example"}` compares the Host header with the text `*.a.example`
    # and matches no request; the `wildcard` operator matches `*` as any characters
    # (developers.cloudflare.com/ruleset-engine/rules-language/operators/, no plan note).
    assert cache_expression(hosts, ["/x/*"]) == (
        f'{host_test} and (starts_with(http.request.uri.path, "/x/"))'
    )
