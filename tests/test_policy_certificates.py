"""origin-certificate-renewal, called the way pulumi_policy calls it: the certificates
it reads, every expiry format, the window and the validity (moved from
tests/test_policies.py, issue 22: one file a reader's sitting)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pulumi_policy import PolicyResource
from pulumi_policy.policy import _NotApplicableError

from tests.conftest import ROOT
from tests.test_policies import platform, resource, stack_violations

# -- origin-certificate-renewal ------------------------------------------------------------

ORIGIN_CERT = "cloudflare:index/originCaCertificate:OriginCaCertificate"
ORIGIN_HOSTS = ["webhost.example", "www.webhost.example"]


def origin_cert(expires: datetime | str | None, validity: int = 5475) -> PolicyResource:
    props: dict[str, Any] = {"hostnames": ORIGIN_HOSTS, "requestedValidity": float(validity)}
    if isinstance(expires, datetime):
        props["expiresOn"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif expires is not None:
        props["expiresOn"] = expires
    return resource(ORIGIN_CERT, "webhost-origin-cert", props)


def in_days(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def test_origin_renewal_passes_a_certificate_far_from_expiry() -> None:
    assert stack_violations("origin-certificate-renewal", [origin_cert(in_days(400))]) == []


def test_origin_renewal_reports_the_hosts_and_date_within_the_window() -> None:
    expires = in_days(10)
    (found,) = stack_violations("origin-certificate-renewal", [origin_cert(expires)])
    assert found.startswith(
        f"webhost-origin-cert (webhost.example, www.webhost.example): expires "
        f"{expires:%Y-%m-%d}, within the 30-day renewal window"
    )
    assert "pulumi up --replace" in found


def test_origin_renewal_window_is_the_pack_configs() -> None:
    cert = [origin_cert(in_days(45))]
    assert stack_violations("origin-certificate-renewal", cert) == []
    (found,) = stack_violations("origin-certificate-renewal", cert, renewalWindowDays=60)
    assert "within the 60-day renewal window" in found


def test_origin_renewal_reads_go_time_strings_too() -> None:
    expired = origin_cert(
        (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")
    )
    (found,) = stack_violations("origin-certificate-renewal", [expired])
    assert "expired on" in found


def test_origin_renewal_refuses_a_validity_no_longer_than_the_window() -> None:
    (found,) = stack_violations("origin-certificate-renewal", [origin_cert(None, validity=30)])
    assert found == (
        "webhost-origin-cert (webhost.example, www.webhost.example): requestedValidity 30 days "
        "is not longer than the 30-day renewal window, so it would be due the day it is "
        "issued; set webhost:domain.originCertificate.validityDays higher"
    )


def test_origin_renewal_lets_a_certificate_not_yet_issued_pass() -> None:
    # A preview (or the renewal's replacement) has no expiry yet.
    assert stack_violations("origin-certificate-renewal", [origin_cert(None)]) == []


def test_origin_renewal_does_not_apply_without_origin_certificates() -> None:
    with pytest.raises(_NotApplicableError):
        stack_violations("origin-certificate-renewal", [platform()])


def test_origin_renewal_levels_per_stack() -> None:
    for stack, level in (("prod", "mandatory"), ("staging", "advisory")):
        pack = json.loads((ROOT / "policies" / "config" / f"{stack}.json").read_text())
        assert pack["origin-certificate-renewal"] == {
            "enforcementLevel": level,
            "renewalWindowDays": 30,
        }


# -- origin-certificate-renewal, past the happy path -------------------------------------


def unknown_expiry_cert(name: str = "webhost-origin-cert-new") -> PolicyResource:
    """A certificate being created in a preview: its expiresOn is unknown, as the engine
    sends it (pulumi_policy proxy.py UNKNOWN_STRING_VALUE behind unknown_checking_proxy)."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    props = unknown_checking_proxy(
        {"hostnames": ORIGIN_HOSTS, "requestedValidity": 5475.0, "expiresOn": UNKNOWN_STRING_VALUE}
    )
    return resource(ORIGIN_CERT, name, props)


def test_origin_renewal_in_a_preview_still_checks_the_certificates_it_can() -> None:
    # An unknown expiry (a certificate being issued) must not stop the policy: the one
    # beside it that is about to run out is still reported, and the new one's validity.
    expiring = origin_cert(in_days(3))
    short = resource(
        ORIGIN_CERT,
        "webhost-origin-cert-short",
        {"hostnames": ORIGIN_HOSTS, "requestedValidity": 7.0},
    )
    found = stack_violations("origin-certificate-renewal", [unknown_expiry_cert(), expiring, short])
    assert len(found) == 2
    assert any("webhost-origin-cert (" in f and "renewal window" in f for f in found)
    assert any(f.startswith("webhost-origin-cert-short (") and "7 days" in f for f in found)


@pytest.mark.parametrize(
    "expires",
    [
        "2014-01-01T05:20:00Z",  # the API reference's example
        "2014-01-01T05:20:00.123456789Z",
        "2014-01-01T05:20:00+00:00",
        "2014-01-01 05:20:00 +0000 UTC",  # Go's time.Time.String()
        "2014-01-01 05:20:00.5 +0000 UTC",  # ... with fractional seconds
        "2014-01-01 05:20:00.123456789 +0000 UTC",
        "2014-01-01",
    ],
)
def test_origin_renewal_reads_every_format_and_says_expired(expires: str) -> None:
    (found,) = stack_violations("origin-certificate-renewal", [origin_cert(expires)])
    assert found.startswith(
        "webhost-origin-cert (webhost.example, www.webhost.example): expired on 2014-01-01"
    )
    assert "pulumi up --replace" in found


@pytest.mark.parametrize("expires", ["", "soon", "2039-13-01T00:00:00Z", "0", "None"])
def test_origin_renewal_reports_an_expiry_it_cannot_read(expires: str) -> None:
    (found,) = stack_violations("origin-certificate-renewal", [origin_cert(expires)])
    assert found == (
        f"webhost-origin-cert (webhost.example, www.webhost.example): expiresOn {expires!r} "
        "is not a time"
    )


@pytest.mark.parametrize("expires", [0, 12.5, True, ["2039-01-01"], {"at": "2039-01-01"}])
def test_origin_renewal_reports_an_expiry_that_is_not_a_string(expires: Any) -> None:
    # Only a missing expiry means "not issued yet"; anything else there is reported.
    (found,) = stack_violations("origin-certificate-renewal", [origin_cert(expires)])
    assert "is not a time" in found


def test_origin_renewal_window_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    # The clock is the policy's boundary: fixed here, the edge is exact.
    from policies import certificates

    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    monkeypatch.setattr(certificates, "now", lambda: now)
    edge = now + timedelta(days=30)
    assert stack_violations("origin-certificate-renewal", [origin_cert(edge)]) != []
    after = edge + timedelta(seconds=1)
    assert stack_violations("origin-certificate-renewal", [origin_cert(after)]) == []


@pytest.mark.parametrize("validity", [7, 30, 7.0, 30.0, 29.5, 0, -1])
def test_origin_renewal_refuses_every_validity_inside_the_window(validity: float) -> None:
    found = stack_violations("origin-certificate-renewal", [origin_cert(None, validity=validity)])
    assert len(found) == 1 and "renewal window" in found[0]


@pytest.mark.parametrize("validity", ["7", None, True])
def test_origin_renewal_refuses_a_validity_that_is_not_a_number_of_days(validity: Any) -> None:
    cert = resource(
        ORIGIN_CERT,
        "webhost-origin-cert",
        {"hostnames": ORIGIN_HOSTS, "requestedValidity": validity},
    )
    found = stack_violations("origin-certificate-renewal", [cert])
    if validity is None:  # absent: Cloudflare's default, 5475 days
        assert found == []
    else:
        assert len(found) == 1 and "requestedValidity" in found[0]
