"""CertificateCheck against the fake Fly API: issued at once, after N checks, never; and
against the fake Cloudflare's records, as in the e2e: issued only when they are right."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.fly.api import FlyClient
from components.fly.providers.certificate_check import (
    CertificateCheckProvider,
    CertificateNotIssued,
)
from tests.fakeprovider_client import use_fake
from tests.fakes.fly_api import FakeFlyApi

use_fake("fake_cloudflare")
from fakecf.world import ZoneRecords  # noqa: E402

APP, HOST = "webhost-prod", "webhost.example"


def props(on_timeout: str = "fail", proxied: bool = True) -> dict[str, Any]:
    return {
        "app": APP,
        "hostname": HOST,
        "proxied": proxied,
        "timeout_seconds": 30.0,
        "interval_seconds": 10.0,
        "on_timeout": on_timeout,
        "records": ["r1"],
    }


@pytest.fixture
def api(fly_api: FakeFlyApi) -> FakeFlyApi:
    fly_api.state.add_app(APP, "webhost-systems")
    FlyClient().request_certificate(APP, HOST)
    return fly_api


def provider(slept: list[float]) -> CertificateCheckProvider:
    return CertificateCheckProvider(sleep=slept.append)


def test_issued_at_once_checks_once_and_exports_issuer_and_expiry(api: FakeFlyApi) -> None:
    slept: list[float] = []
    outs = provider(slept).create(props()).outs
    assert outs["issued"] is True
    assert outs["status"] == "active"
    assert outs["issuer"] == "lets_encrypt"
    assert outs["expires_at"] == "2026-04-15T12:00:00Z"
    assert slept == []
    assert len(api.state.calls("POST", f"/v1/apps/{APP}/certificates/{HOST}/check")) == 1


def test_issued_after_n_checks_waits_between_them(api: FakeFlyApi) -> None:
    api.state.issue_at_check[HOST] = 3
    slept: list[float] = []
    outs = provider(slept).create(props()).outs
    assert outs["issued"] is True
    assert slept == [10.0, 10.0]


def test_never_issued_fails_naming_host_status_and_missing_record(api: FakeFlyApi) -> None:
    api.state.issue_at_check[HOST] = None
    slept: list[float] = []
    with pytest.raises(CertificateNotIssued) as caught:
        provider(slept).create(props())
    message = str(caught.value)
    assert HOST in message
    assert "pending_validation" in message
    assert f"TXT _fly-ownership.{HOST} app-" in message
    # Bounded: 30s at 10s apart is four checks, three waits.
    assert slept == [10.0, 10.0, 10.0]
    assert len(api.state.calls("POST", f"/v1/apps/{APP}/certificates/{HOST}/check")) == 4


def test_never_issued_with_warn_carries_on_with_what_is_missing(api: FakeFlyApi) -> None:
    api.state.issue_at_check[HOST] = None
    outs = provider([]).create(props("warn", proxied=False)).outs
    assert outs["issued"] is False
    assert outs["missing"][0] == f"CNAME _acme-challenge.{HOST} {HOST}.k3v9x.flydns.net"


def test_a_pending_check_is_looked_at_again_on_the_next_up() -> None:
    olds = {**props(), "issued": False}
    assert CertificateCheckProvider().diff("id", olds, props()).changes is True
    assert CertificateCheckProvider().diff("id", {**olds, "issued": True}, props()).changes is False


# -- against DNS: the fake Fly reads the fake Cloudflare's records -----------------------

ZONE = HOST
ZONE_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def world(tmp_path: Path, fly_api: FakeFlyApi) -> ZoneRecords:
    """Fake Fly validating against a fake Cloudflare's state, as in the e2e."""
    fly_api.state.add_app(APP, "webhost-systems")
    FlyClient().allocate_ip(APP, "v6")
    FlyClient().allocate_ip(APP, "shared_v4")
    dns = ZoneRecords(tmp_path / "cloudflare.json", {ZONE: ZONE_ID})
    fly_api.state.dns = dns
    return dns


def requirements() -> dict[str, Any]:
    """What Fly asks for, from its own answer, as the program reads it."""
    return dict(FlyClient().request_certificate(APP, HOST)["dns_requirements"])


def proxied_records(dns: ZoneRecords, wanted: dict[str, Any], **wrong: Any) -> None:
    """The program's records for a proxied host, one of them changed by `wrong`."""
    owner = wanted["ownership"]
    made = {
        "aaaa": {"name": HOST, "type": "AAAA", "content": wanted["aaaa"][0], "proxied": True},
        "a": {"name": HOST, "type": "A", "content": wanted["a"][0], "proxied": True},
        "txt": {"name": owner["name"], "type": "TXT", "content": owner["app_value"]},
    }
    for key, change in wrong.items():
        if change is None:
            del made[key]
        else:
            made[key] = {**made[key], **change}
    for record in made.values():
        dns.add(ZONE, **record)


def dns_only_records(dns: ZoneRecords, wanted: dict[str, Any], **wrong: Any) -> None:
    acme = wanted["acme_challenge"]
    dns.add(ZONE, name=HOST, type="AAAA", content=wanted["aaaa"][0], proxied=False)
    dns.add(ZONE, name=HOST, type="A", content=wanted["a"][0], proxied=False)
    cname = {"name": acme["name"], "type": "CNAME", "content": acme["target"], **wrong}
    dns.add(ZONE, **cname)


def test_proxied_host_issues_once_fly_sees_its_records(
    world: ZoneRecords, fly_api: FakeFlyApi
) -> None:
    proxied_records(world, requirements())
    slept: list[float] = []
    outs = provider(slept).create(props()).outs
    assert (outs["issued"], outs["status"], outs["issuer"]) == (True, "active", "lets_encrypt")
    assert slept == []
    detail = FlyClient().get_certificate_detail(APP, HOST)
    assert detail["validation"]["ownership_txt_configured"] is True
    assert detail["validation"]["http_configured"] is True
    # Behind the proxy TLS-ALPN-01 cannot reach Fly, and no DNS-01 record was made.
    assert detail["validation"]["alpn_configured"] is False
    assert detail["validation"]["dns_configured"] is False


WRONG_PROXIED = {
    "txt value": {"txt": {"content": "app-0000000000"}},
    "txt name": {"txt": {"name": f"_fly-owner.{HOST}"}},
    "txt missing": {"txt": None},
    "aaaa elsewhere": {"aaaa": {"content": "2001:db8::1"}},
    "a elsewhere": {"a": {"content": "192.0.2.1"}},
    "no address records": {"aaaa": None, "a": None},
}


@pytest.mark.parametrize("wrong", WRONG_PROXIED.values(), ids=WRONG_PROXIED.keys())
def test_proxied_host_with_a_wrong_record_stays_pending_and_the_wait_fails(
    world: ZoneRecords, fly_api: FakeFlyApi, wrong: dict[str, Any]
) -> None:
    wanted = requirements()
    proxied_records(world, wanted, **wrong)
    slept: list[float] = []
    with pytest.raises(CertificateNotIssued) as caught:
        provider(slept).create(props())
    message = str(caught.value)
    assert f"certificate {HOST} (app {APP}): not issued after 30s" in message
    assert "Fly's status is pending_validation" in message
    assert slept == [10.0, 10.0, 10.0]
    assert len(fly_api.state.calls("POST", f"/v1/apps/{APP}/certificates/{HOST}/check")) == 4
    if "txt" in wrong:
        owner = wanted["ownership"]
        assert f"TXT {owner['name']} {owner['app_value']}" in message
    else:
        assert f"{HOST} does not resolve to the app" in message


def test_the_org_value_proves_ownership_too(world: ZoneRecords) -> None:
    wanted = requirements()
    proxied_records(world, wanted, txt={"content": wanted["ownership"]["org_value"]})
    assert provider([]).create(props()).outs["issued"] is True


def test_a_record_fixed_later_is_seen_by_the_next_check(
    world: ZoneRecords, fly_api: FakeFlyApi
) -> None:
    wanted = requirements()
    proxied_records(world, wanted, txt=None)
    owner = wanted["ownership"]

    def fixed_while_waiting(_: float) -> None:
        if not world.records(owner["name"]):
            world.add(ZONE, name=owner["name"], type="TXT", content=f'"{owner["app_value"]}"')

    outs = CertificateCheckProvider(sleep=fixed_while_waiting).create(props()).outs
    assert outs["issued"] is True
    assert len(fly_api.state.calls("POST", f"/v1/apps/{APP}/certificates/{HOST}/check")) == 2


def test_dns_only_host_issues_over_its_acme_challenge_cname(world: ZoneRecords) -> None:
    dns_only_records(world, requirements())
    outs = provider([]).create(props(proxied=False)).outs
    assert outs["issued"] is True
    detail = FlyClient().check_certificate(APP, HOST)
    assert detail["validation"]["dns_configured"] is True


WRONG_DNS_ONLY = {
    "cname target": {"content": f"{HOST}.elsewhere.flydns.net"},
    "cname name": {"name": f"_acme.{HOST}"},
    "cname proxied": {"proxied": True},
}


@pytest.mark.parametrize("wrong", WRONG_DNS_ONLY.values(), ids=WRONG_DNS_ONLY.keys())
def test_dns_only_host_with_a_wrong_cname_stays_pending(
    world: ZoneRecords, wrong: dict[str, Any]
) -> None:
    wanted = requirements()
    dns_only_records(world, wanted, **wrong)
    with pytest.raises(CertificateNotIssued) as caught:
        provider([]).create(props(proxied=False))
    acme = wanted["acme_challenge"]
    assert f"missing: CNAME {acme['name']} {acme['target']}" in str(caught.value)
    # The A/AAAA records alone (TLS-ALPN-01) are seen, but issue nothing here.
    assert FlyClient().get_certificate_detail(APP, HOST)["validation"]["alpn_configured"] is True
