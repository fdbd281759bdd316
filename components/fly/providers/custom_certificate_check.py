"""CustomCertificateCheck: wait, bounded, until a host's imported certificate is active.

The CertificateCheck (certificate_check.py) counts a host as issued when any of its
certificates is active. Behind an imported certificate that is not enough: while
a stack moves from `certificate: acme` to `origin`, the ACME certificate stays active
until Pulumi deletes it, after every create and update, so the host would count as
issued with the custom certificate still `pending_ownership`, and the ACME delete
would then leave the host with no certificate Fly serves. This check looks at the
`custom` certificate alone (fly-go types.go CertificateDetail.Source; flyctl
internal/command/certificates/root.go reads it the same way) and reports its own
status, issuer and expiry; the bound, the failure message and the warn mode are the
CertificateCheck's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.fly.providers.certificate_check import CertificateCheckProvider, Check
from components.fly.providers.custom_certificate import custom_detail


def custom_only(answer: Mapping[str, Any]) -> dict[str, Any]:
    """Fly's detail narrowed to the custom certificate, its status the host's status."""
    custom = custom_detail(answer)
    status = (custom or {}).get("status") or "no custom certificate"
    return {**answer, "status": status, "certificates": [custom] if custom else []}


class CustomCertificateCheckProvider(CertificateCheckProvider):
    """Checks until the custom certificate is active or the wait runs out: the
    CertificateCheck's wait and read, judging the custom certificate alone."""

    @staticmethod
    def _narrow(answer: Mapping[str, Any]) -> dict[str, Any]:
        return custom_only(answer)


class CustomCertificateCheck(Check, module="fly", name="CustomCertificateCheck"):
    """Waits for a host's imported certificate (`pulumi-python:dynamic/fly:CustomCertificateCheck`).

    Its inputs and outputs are the CertificateCheck's (Check), so the diff, the failure
    message and the edge's per-host output read the same.
    """

    PROVIDER = CustomCertificateCheckProvider
