"""CustomCertificateCheck: wait, bounded, until a host's imported certificate is active.

The CertificateCheck of components/fly/certcheck.py counts a host as issued when any of
its certificates is active. Behind an imported certificate that is not enough: while
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
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import Resource

from components.fly.certcheck import INPUTS, CertificateCheckProvider
from components.fly.customcert import custom_detail


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


class CustomCertificateCheck(Resource, module="fly", name="CustomCertificateCheck"):
    """Waits for a host's imported certificate (`pulumi-python:dynamic/fly:CustomCertificateCheck`).

    Its inputs and outputs are the CertificateCheck's (certcheck.INPUTS), so the diff,
    the failure message and the edge's per-host output read the same.
    """

    SECRET_OUTPUTS: ClassVar[tuple[str, ...]] = ()

    status: pulumi.Output[str]
    issued: pulumi.Output[bool]
    issuer: pulumi.Output[str | None]
    expires_at: pulumi.Output[str | None]
    missing: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        inputs: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        unknown = set(inputs) - set(INPUTS)
        if unknown:
            raise ValueError(f"not inputs of a certificate check: {sorted(unknown)}")
        props = {**inputs, **dict.fromkeys(("status", "issued", "issuer", "expires_at", "missing"))}
        super().__init__(CustomCertificateCheckProvider(), resource_name, props, opts)
