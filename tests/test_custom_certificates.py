"""Imported (custom) certificates against the fake Fly API: the client, the import
resource, its check, and the ACME certificate's delete beside one.

The fake answers as Fly's docs say (superfly/docs machines/api/certificates-resource,
"Import custom certificate"): expired, a key that does not match, a hostname outside
SAN and CN are refused with a 422; an import is `pending_ownership` until the
`_fly-ownership` record is seen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from components import tls
from components.fly.api import FlyClient, FlyRefused
from components.fly.providers.certificate import CertificateProvider
from components.fly.providers.certificate_check import CertificateNotIssued
from components.fly.providers.custom_certificate import CustomCertificateProvider, chain_fingerprint
from components.fly.providers.custom_certificate_check import CustomCertificateCheckProvider
from tests.fakes.fly_api import FakeFlyApi

APP, HOST = "webhost-prod", "webhost.example"


def pem_key(key: tls.PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def issue(
    key: tls.PrivateKey,
    names: list[str],
    *,
    days: int = 365,
    start: datetime | None = None,
) -> str:
    """A certificate for `names` on `key`, signed by a throwaway CA."""
    ca = tls.generate("ecdsa")
    begin = start or datetime.now(UTC) - timedelta(days=1)
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Origin CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test")]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(ca, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def api(fly_api: FakeFlyApi) -> FakeFlyApi:
    fly_api.state.add_app(APP, "webhost-systems")
    return fly_api


@pytest.fixture
def key() -> tls.PrivateKey:
    return tls.generate("ecdsa")


def inputs(key: tls.PrivateKey, chain: str) -> dict[str, Any]:
    return {"app": APP, "hostname": HOST, "fullchain": chain, "private_key": pem_key(key)}


# -- the client and the fake ---------------------------------------------------------------


# Each reason Fly's docs give for refusing an import, and the words the refusal carries.
REFUSED_CHAINS: list[tuple[Callable[[tls.PrivateKey], str], str]] = [
    (
        lambda key: issue(key, [HOST], days=10, start=datetime.now(UTC) - timedelta(days=30)),
        "certificate has expired",
    ),
    (lambda key: issue(tls.generate("ecdsa"), [HOST]), "does not match"),
    (lambda key: issue(key, ["other.example"]), "not in the certificate's SAN or CN"),
]
REFUSED_IDS = ["expired", "key-mismatch", "hostname-not-covered"]


def test_import_answers_pending_ownership_with_the_ownership_record(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    answer = FlyClient().import_certificate(APP, HOST, issue(key, [HOST]), pem_key(key))
    (custom,) = answer["certificates"] or []
    assert custom["source"] == "custom"
    assert custom["status"] == "pending_ownership"
    assert answer["dns_requirements"]["ownership"]["name"] == f"_fly-ownership.{HOST}"
    assert answer.get("acme_requested") is False


@pytest.mark.parametrize(("make_chain", "message"), REFUSED_CHAINS, ids=REFUSED_IDS)
def test_import_refusals_are_422s_that_never_quote_the_key(
    api: FakeFlyApi, key: tls.PrivateKey, make_chain: Any, message: str
) -> None:
    with pytest.raises(FlyRefused) as refused:
        FlyClient().import_certificate(APP, HOST, make_chain(key), pem_key(key))
    assert refused.value.status == 422
    assert message in str(refused.value)
    assert "PRIVATE KEY" not in str(refused.value)


def test_a_wildcard_covers_one_label(api: FakeFlyApi, key: tls.PrivateKey) -> None:
    chain = issue(key, [f"*.{HOST}"])
    FlyClient().import_certificate(APP, f"www.{HOST}", chain, pem_key(key))
    with pytest.raises(FlyRefused):
        FlyClient().import_certificate(APP, f"a.b.{HOST}", chain, pem_key(key))


def test_a_wildcard_host_is_imported_and_addressed_url_encoded(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    # Docs machines/api/certificates-resource: "For wildcard hostnames, URL-encode the
    # `*` character (e.g. `%2A.example.com`)"; the import takes it in the body.
    wild = f"*.{HOST}"
    client = FlyClient()
    answer = client.import_certificate(APP, wild, issue(key, [HOST, wild]), pem_key(key))
    assert answer["hostname"] == wild
    assert answer["dns_requirements"]["ownership"]["name"] == f"_fly-ownership.{wild}"
    assert answer["dns_requirements"]["acme_challenge"]["name"] == f"_acme-challenge.{HOST}"
    assert client.get_certificate(APP, wild)["hostname"] == wild
    assert client.check_certificate(APP, wild)["hostname"] == wild
    client.delete_custom_certificate(APP, wild)
    client.delete_certificate(APP, wild)
    assert wild not in api.state.certificates[APP]
    encoded = f"/v1/apps/{APP}/certificates/%2A.{HOST}"
    sent = [(r.method, urlsplit(r.path).path) for r in api.state.requests]
    for method, suffix in [("GET", ""), ("POST", "/check"), ("DELETE", "/custom"), ("DELETE", "")]:
        assert (method, encoded + suffix) in sent
    assert not any("*" in path for _, path in sent)


def test_a_wildcard_certificate_does_not_cover_the_apex(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    with pytest.raises(FlyRefused) as refused:
        FlyClient().import_certificate(APP, HOST, issue(key, [f"*.{HOST}"]), pem_key(key))
    assert "not in the certificate's SAN or CN" in str(refused.value)


# -- CustomCertificate -------------------------------------------------------------------


def test_create_outputs_the_ownership_record_and_never_the_key(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    chain = issue(key, [HOST])
    created = CustomCertificateProvider().create(inputs(key, chain))
    outs = dict(created.outs or {})
    assert created.id == f"{APP}/{HOST}"
    assert outs["ownership_txt_name"] == f"_fly-ownership.{HOST}"
    assert outs["ownership_txt_value"].startswith("app-")
    assert outs["fingerprint"] == chain_fingerprint(chain)
    assert outs["issuer"] == "Test Origin CA"
    assert "status" not in outs  # the check's: it changes once Fly sees the TXT record
    assert "private_key" not in outs
    assert pem_key(key) not in repr(outs)


def test_a_new_chain_is_an_update_that_imports_again(api: FakeFlyApi, key: tls.PrivateKey) -> None:
    provider = CustomCertificateProvider()
    first = inputs(key, issue(key, [HOST]))
    outs = dict(provider.create(first).outs or {})
    renewed = {**first, "fullchain": issue(key, [HOST], days=730)}
    diff = provider.diff(f"{APP}/{HOST}", outs, renewed)
    assert diff.changes is True
    assert diff.replaces == []
    assert provider.diff(f"{APP}/{HOST}", outs, first).changes is False
    updated = dict(provider.update(f"{APP}/{HOST}", outs, renewed).outs or {})
    assert updated["fingerprint"] == chain_fingerprint(renewed["fullchain"])
    assert len(api.state.calls("POST", f"/v1/apps/{APP}/certificates/custom")) == 2


def test_read_finds_it_gone_when_removed_by_hand(api: FakeFlyApi, key: tls.PrivateKey) -> None:
    provider = CustomCertificateProvider()
    outs = dict(provider.create(inputs(key, issue(key, [HOST]))).outs or {})
    assert provider.read(f"{APP}/{HOST}", outs).id == f"{APP}/{HOST}"
    FlyClient().delete_custom_certificate(APP, HOST)
    assert provider.read(f"{APP}/{HOST}", outs).id == ""


def test_delete_alone_removes_the_hostname(api: FakeFlyApi, key: tls.PrivateKey) -> None:
    provider = CustomCertificateProvider()
    provider.create(inputs(key, issue(key, [HOST])))
    provider.delete(f"{APP}/{HOST}", {})
    assert HOST not in api.state.certificates[APP]


def test_delete_beside_acme_keeps_the_hostname_and_its_acme_certificate(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    CertificateProvider().create({"app": APP, "hostname": HOST})
    provider = CustomCertificateProvider()
    provider.create(inputs(key, issue(key, [HOST])))
    provider.delete(f"{APP}/{HOST}", {})
    cert = api.state.certificates[APP][HOST]
    assert cert["acme_requested"] is True
    assert all(c["source"] != "custom" for c in cert["certificates"])


def test_acme_delete_beside_an_import_stops_acme_only(api: FakeFlyApi, key: tls.PrivateKey) -> None:
    acme = CertificateProvider()
    acme.create({"app": APP, "hostname": HOST})
    CustomCertificateProvider().create(inputs(key, issue(key, [HOST])))
    acme.delete(f"{APP}/{HOST}", {})
    cert = api.state.certificates[APP][HOST]
    assert cert["acme_requested"] is False
    assert [c["source"] for c in cert["certificates"]] == ["custom"]
    assert api.state.calls("DELETE", f"/v1/apps/{APP}/certificates/{HOST}/acme")


# -- CustomCertificateCheck ------------------------------------------------------------------


def check_props(on_timeout: str = "fail") -> dict[str, Any]:
    return {
        "app": APP,
        "hostname": HOST,
        "proxied": True,
        "timeout_seconds": 20.0,
        "interval_seconds": 10.0,
        "on_timeout": on_timeout,
        "records": ["r1", "fingerprint"],
    }


def test_check_waits_for_the_custom_certificate_and_exports_its_expiry(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    chain = issue(key, [HOST], days=90)
    CustomCertificateProvider().create(inputs(key, chain))
    api.state.issue_at_check[HOST] = 2
    slept: list[float] = []
    outs = dict(CustomCertificateCheckProvider(sleep=slept.append).create(check_props()).outs or {})
    assert slept == [10.0]
    assert (outs["issued"], outs["status"]) == (True, "active")
    assert outs["issuer"] == "Test Origin CA"
    expiry = x509.load_pem_x509_certificate(chain.encode()).not_valid_after_utc
    assert outs["expires_at"] == expiry.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_active_acme_certificate_does_not_count_for_the_import(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    # Moving from acme to origin: Let's Encrypt's certificate is active, the import not.
    CertificateProvider().create({"app": APP, "hostname": HOST})
    FlyClient().check_certificate(APP, HOST)  # the ACME certificate issues
    CustomCertificateProvider().create(inputs(key, issue(key, [HOST])))
    api.state.issue_at_check[HOST] = None  # the ownership record is never seen again
    with pytest.raises(CertificateNotIssued) as failed:
        CustomCertificateCheckProvider(sleep=lambda _: None).create(check_props())
    assert "Fly's status is pending_ownership" in str(failed.value)
    assert f"TXT _fly-ownership.{HOST}" in str(failed.value)


def test_refresh_reads_the_custom_certificate_alone(api: FakeFlyApi, key: tls.PrivateKey) -> None:
    CustomCertificateProvider().create(inputs(key, issue(key, [HOST])))
    provider = CustomCertificateCheckProvider(sleep=lambda _: None)
    outs = dict(provider.create(check_props()).outs or {})
    read = dict(provider.read(f"{APP}/{HOST}", outs).outs or {})
    assert (read["issued"], read["status"], read["issuer"]) == (True, "active", "Test Origin CA")


# -- faults on the import: every refusal names the host, none carries the key ----------------


def _key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


@pytest.mark.parametrize(("make_chain", "message"), REFUSED_CHAINS, ids=REFUSED_IDS)
def test_a_refused_import_names_the_app_and_host(
    api: FakeFlyApi, key: tls.PrivateKey, make_chain: Any, message: str
) -> None:
    with pytest.raises(FlyRefused) as refused:
        CustomCertificateProvider().create(inputs(key, make_chain(key)))
    text = str(refused.value)
    assert f"importing the certificate of {HOST} into app {APP}" in text
    assert message in text and "\n" not in text
    assert not any(line in text for line in _key_lines(pem_key(key)))


@pytest.mark.parametrize("status", [400, 422])
def test_an_answer_that_quotes_the_key_back_never_carries_it(
    api: FakeFlyApi, key: tls.PrivateKey, status: int
) -> None:
    # Whatever Fly's error says, the message built from it never carries the key, whole,
    # a line of it, or on one line with its newlines escaped.
    pem = pem_key(key)
    echoed = {"error": f"Validation failed: private_key {pem!r} / {pem} / {pem.splitlines()[1]}"}
    api.state.fail_next("POST", f"/v1/apps/{APP}/certificates/custom", status, times=5, body=echoed)
    with pytest.raises(Exception) as failed:
        CustomCertificateProvider().create(inputs(key, issue(key, [HOST])))
    text = str(failed.value)
    assert HOST in text
    assert not any(line in text for line in _key_lines(pem))
    assert "[redacted]" in text


def test_a_lost_answer_on_the_import_is_imported_again_once_and_converges(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    # Importing again replaces the hostname's custom certificate (superfly/docs
    # networking/understanding-cloudflare.html.md: custom certificates are renewed by
    # re-importing), so asking again after a lost answer neither doubles nor fails it.
    chain = issue(key, [HOST])
    api.state.lose_answer_next("POST", f"/v1/apps/{APP}/certificates/custom")
    created = CustomCertificateProvider().create(inputs(key, chain))
    assert created.id == f"{APP}/{HOST}"
    posts = [r for r in api.state.requests if r.method == "POST" and r.path.endswith("/custom")]
    assert len(posts) == 2
    detail = FlyClient().get_certificate_detail(APP, HOST)
    assert [c["source"] for c in detail["certificates"] or []] == ["custom"]
    assert not any(pem_key(key) in repr(r.body) for r in api.state.requests[2:])


def test_a_create_cut_off_after_the_import_landed_imports_once_more_and_keeps_one(
    api: FakeFlyApi, key: tls.PrivateKey
) -> None:
    # Issue 19: the run died after Fly imported and before state recorded it; the next
    # create's import replaces the hostname's custom certificate (the handle is the
    # hostname, a deterministic name), so Fly holds one.
    chain = issue(key, [HOST])
    CustomCertificateProvider().create(inputs(key, chain))
    again = CustomCertificateProvider().create(inputs(key, chain))
    assert again.id == f"{APP}/{HOST}"
    detail = FlyClient().get_certificate_detail(APP, HOST)
    assert [c["source"] for c in detail["certificates"] or []] == ["custom"]
    assert list(api.state.certificates[APP]) == [HOST]
