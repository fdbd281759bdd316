"""CertificateCheck against the fake Fly API: issued at once, after N checks, never."""

from __future__ import annotations

from typing import Any

import pytest

from components.fly.certcheck import CertificateCheckProvider, CertificateNotIssued
from tests.fakes.fly_api import FakeFlyApi

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
    from components.fly.api import FlyClient

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
