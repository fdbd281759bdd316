"""Certificate renewal policy: an Origin CA certificate is renewed before it runs out.

Let's Encrypt certificates renew themselves at Fly; an imported one does not ("custom
certificates must be manually renewed and re-imported before they expire", superfly/docs
networking/understanding-cloudflare.html.md), and Cloudflare sends no expiry notice for
Origin CA certificates (developers.cloudflare.com/ssl/origin-configuration/origin-ca/,
"Known limitation"). So the pack does: a certificate whose `expiresOn` falls within the
renewal window (pack config `renewalWindowDays`) is reported with its hosts and date,
and a requested validity no longer than the window is refused, as such a certificate
would be due for renewal the day it is issued.

Mandatory by default; the level, as every policy's, is set per stack in
policies/config/<stack>.json: turning it off there is allowed and shown (the plan's
`disabled:` line), as for production-safety, and the window has a floor (MIN_WINDOW_DAYS)
the config cannot go under. An expiry not known yet (a preview) skips that certificate's
expiry check alone; one that is not a time is reported. A certificate being replaced (the
renewal itself) has no expiry yet in a preview, so the renewal is never blocked by this policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi_policy import (
    ReportViolation,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError

from policies import spec

ORIGIN_CERT = "cloudflare:index/originCaCertificate:OriginCaCertificate"
DEFAULT_WINDOW_DAYS = 30
# The pack config cannot shrink the window below a week (as production-safety's
# minPostgresMembers has its floor): a one-day window would let Cloudflare's shortest
# certificate (7 days, config.ORIGIN_VALIDITY_DAYS) through and warn a day before an
# expiry nobody else announces. At the floor that shortest validity is still refused.
MIN_WINDOW_DAYS = 7
# pulumi_cloudflare origin_ca_certificate.py: the longest validity Cloudflare issues.
MAX_VALIDITY_DAYS = 5475
# Go's time.Time.String() layout, which Cloudflare's older Origin CA answers used
# (fractional seconds, up to nine digits, only when not zero); RFC 3339 (the API
# reference's examples) is read by fromisoformat.
_GO_TIME = re.compile(
    r"(?P<stamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r" (?P<offset>[+-]\d{4})(?: [A-Z]{2,5})?"
)
_UNKNOWN = object()  # a value the engine does not know yet (a preview)


def now() -> datetime:
    """The policy's clock (a function, so a test can fix it)."""
    return datetime.now(UTC)


def parse_expiry(text: str) -> datetime | None:
    """`expiresOn` as an aware time, or None when it is neither layout."""
    go = _GO_TIME.fullmatch(text.strip())
    if go:
        fraction = (go["fraction"] or "0")[:6]
        text = f"{go['stamp']}.{fraction:0<6}{go['offset']}"
        layout = "%Y-%m-%d %H:%M:%S.%f%z"
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _prop(props: Mapping[str, Any], key: str) -> Any:
    """A property, or _UNKNOWN in a preview: pulumi_policy's proxy raises on an unknown
    (pulumi_policy proxy.py) and the SDK then skips the whole policy with an advisory
    note (policy.py, the StackAnalyze UnknownValueError branch), which would hide every
    other certificate's finding; one unknown only skips what depends on it."""
    try:
        return props.get(key)
    except UnknownValueError:
        return _UNKNOWN


def _hosts(props: Mapping[str, Any]) -> str:
    names = _prop(props, "hostnames")
    if names is _UNKNOWN:
        return "(hosts not known yet)"
    try:
        return ", ".join(str(h) for h in names or []) or "(no hosts)"
    except UnknownValueError:
        return "(hosts not known yet)"


def origin_certificate_renewal(args: StackValidationArgs, report: ReportViolation) -> None:
    """A Cloudflare Origin CA certificate is renewed before its renewal window
    and is requested for longer than that window."""
    certificates = [r for r in args.resources if r.resource_type == ORIGIN_CERT]
    if not certificates:
        args.not_applicable("no Cloudflare Origin CA certificate in this stack")
        return
    window = int(args.get_config().get("renewalWindowDays", DEFAULT_WINDOW_DAYS))
    today = now()
    renew_by = today + timedelta(days=window)
    for cert in certificates:
        hosts = _hosts(cert.props)
        validity = _prop(cert.props, "requestedValidity")
        # Absent is Cloudflare's default (MAX_VALIDITY_DAYS); anything but a number of
        # days longer than the window is refused, a string or a bool included.
        numeric = isinstance(validity, int | float) and not isinstance(validity, bool)
        if validity is not None and validity is not _UNKNOWN and not numeric:
            report(
                f"{cert.name} ({hosts}): requestedValidity {validity!r} is not a number of "
                "days; set webhost:domain.originCertificate.validityDays",
                cert.urn,
            )
        elif numeric and not validity > window:
            report(
                f"{cert.name} ({hosts}): requestedValidity {validity:g} days is not longer "
                f"than the {window}-day renewal window, so it would be due the day it is "
                "issued; set webhost:domain.originCertificate.validityDays higher",
                cert.urn,
            )
        expires = _prop(cert.props, "expiresOn")
        if expires is None or expires is _UNKNOWN:
            continue  # not issued yet (a preview, or the renewal itself)
        when = parse_expiry(expires) if isinstance(expires, str) else None
        if when is None:
            report(f"{cert.name} ({hosts}): expiresOn {expires!r} is not a time", cert.urn)
            continue
        renew = (
            "renew it: `pulumi up --replace <its URN>` issues a new certificate and imports "
            "it into Fly (README.md, Certificates)"
        )
        if when <= today:
            report(f"{cert.name} ({hosts}): expired on {when:%Y-%m-%d}; {renew}", cert.urn)
        elif when <= renew_by:
            report(
                f"{cert.name} ({hosts}): expires {when:%Y-%m-%d}, within the {window}-day "
                f"renewal window; {renew}",
                cert.urn,
            )


POLICIES = [
    spec.stack_policy(
        "origin-certificate-renewal",
        origin_certificate_renewal,
        renewalWindowDays=spec.bounded(DEFAULT_WINDOW_DAYS, MIN_WINDOW_DAYS, MAX_VALIDITY_DAYS),
    ),
]
