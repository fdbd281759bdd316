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
policies/config/<stack>.json. A certificate being replaced (the renewal itself) has
no expiry yet in a preview, so the renewal is never blocked by this policy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

ORIGIN_CERT = "cloudflare:index/originCaCertificate:OriginCaCertificate"
DEFAULT_WINDOW_DAYS = 30
# pulumi_cloudflare origin_ca_certificate.py: the longest validity Cloudflare issues.
MAX_VALIDITY_DAYS = 5475
# Go's time.Time.String() layout, which Cloudflare's older Origin CA answers used;
# RFC 3339 (the API reference's examples) is read by fromisoformat.
_GO_LAYOUT = "%Y-%m-%d %H:%M:%S %z"


def parse_expiry(text: str) -> datetime | None:
    """`expiresOn` as an aware time, or None when it is neither layout."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text.removesuffix(" UTC"), _GO_LAYOUT)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def origin_certificate_renewal(args: StackValidationArgs, report: ReportViolation) -> None:
    certificates = [r for r in args.resources if r.resource_type == ORIGIN_CERT]
    if not certificates:
        args.not_applicable("no Cloudflare Origin CA certificate in this stack")
        return
    window = int(args.get_config().get("renewalWindowDays", DEFAULT_WINDOW_DAYS))
    renew_by = datetime.now(UTC) + timedelta(days=window)
    for cert in certificates:
        hosts = ", ".join(str(h) for h in cert.props.get("hostnames") or []) or "(no hosts)"
        validity = cert.props.get("requestedValidity")
        if isinstance(validity, int | float) and validity <= window:
            report(
                f"{cert.name} ({hosts}): requestedValidity {validity:g} days is not longer "
                f"than the {window}-day renewal window, so it would be due the day it is "
                "issued; set webhost:domain.originCertificate.validityDays higher",
                cert.urn,
            )
        expires = cert.props.get("expiresOn")
        if not isinstance(expires, str):
            continue  # not issued yet (a preview, or the renewal itself)
        when = parse_expiry(expires)
        if when is None:
            report(f"{cert.name} ({hosts}): expiresOn {expires!r} is not a time", cert.urn)
        elif when <= renew_by:
            report(
                f"{cert.name} ({hosts}): expires {when:%Y-%m-%d}, within the {window}-day "
                "renewal window; renew it: `pulumi up --replace <its URN>` issues a new "
                "certificate and imports it into Fly (README.md, Certificates)",
                cert.urn,
            )


POLICIES = [
    StackValidationPolicy(
        name="origin-certificate-renewal",
        description="A Cloudflare Origin CA certificate is renewed before its renewal window "
        "and is requested for longer than that window.",
        validate=origin_certificate_renewal,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "renewalWindowDays": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_VALIDITY_DAYS,
                    "default": DEFAULT_WINDOW_DAYS,
                }
            }
        ),
    ),
]
