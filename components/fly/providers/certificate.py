"""Certificate (`pulumi-python:dynamic/fly:Certificate`): a hostname on an app with a
Let's Encrypt certificate, /v1/apps/{app}/certificates."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult

from components.fly.api import FlyNotFound
from components.fly.providers.base import DynamicResource, FlyProvider, made_or_found, replacing


class CertificateProvider(FlyProvider):
    """A hostname on an app with a Let's Encrypt certificate: /v1/apps/{app}/certificates.

    Outputs what Fly reports: `status`, `configured`, `dns_requirements` as Fly lists
    them, and from those the records the edge makes: the `_fly-ownership` TXT record
    (`ownership_txt_name`, `ownership_txt_value`) and the A / AAAA values Fly expects
    (`a_records`, `aaaa_records`).
    """

    def _outs(self, app: str, cert: Mapping[str, Any]) -> dict[str, Any]:
        wanted = cert["dns_requirements"]
        return {
            "app": app,
            "hostname": cert["hostname"],
            "status": cert["status"],
            "configured": bool(cert["configured"]),
            "dns_requirements": dict(wanted),
            # docs machines/api/certificates-resource: dns_requirements.ownership is
            # {name, app_value, org_value}; flyctl internal/command/certificates/root.go
            # tells users to make `TXT <name> <app_value>`.
            "ownership_txt_name": wanted["ownership"]["name"],
            "ownership_txt_value": wanted["ownership"]["app_value"],
            "a_records": list(wanted["a"] or []),
            "aaaa_records": list(wanted["aaaa"] or []),
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        app, hostname = props["app"], props["hostname"]
        cert = made_or_found(
            lambda: client.request_certificate(app, hostname),
            lambda: client.get_certificate(app, hostname),
        )
        return CreateResult(f"{app}/{hostname}", self._outs(app, cert))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if (found := self._host(id_, detail=False)) is None:
            return ReadResult("", {})
        app, hostname, cert = found
        return ReadResult(id_, self._outs(app, cert), inputs={"app": app, "hostname": hostname})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # A hostname belongs to one app at a time: moving it must remove it first.
        return replacing(("app", "hostname"), olds, news, delete_first=("app",))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        app, hostname = id_.split("/", 1)
        client = self._client()
        with contextlib.suppress(FlyNotFound):
            detail = client.get_certificate_detail(app, hostname)
            if any(c.get("source") == "custom" for c in detail.get("certificates") or []):
                # Moving to an imported certificate (domain.certificate: origin): deleting
                # the hostname would take the custom certificate with it (superfly/docs
                # machines/api/certificates-resource.html.markerb, "Delete hostname and all
                # certificates"), so only ACME issuance stops ("Delete ACME certificates").
                client.delete_acme_certificate(app, hostname)
            else:
                client.delete_certificate(app, hostname)


class Certificate(DynamicResource, module="fly", name="Certificate"):
    """A hostname and its ACME certificate (`pulumi-python:dynamic/fly:Certificate`):
    `app=`, `hostname=`."""

    PROVIDER = CertificateProvider
    INPUTS = ("app", "hostname")
    OUTPUTS = (
        "status",
        "configured",
        "dns_requirements",
        "ownership_txt_name",
        "ownership_txt_value",
        "a_records",
        "aaaa_records",
    )

    app: pulumi.Output[str]
    hostname: pulumi.Output[str]
    status: pulumi.Output[str]
    configured: pulumi.Output[bool]
    dns_requirements: pulumi.Output[dict[str, Any]]
    ownership_txt_name: pulumi.Output[str]
    ownership_txt_value: pulumi.Output[str]
    a_records: pulumi.Output[list[str]]
    aaaa_records: pulumi.Output[list[str]]
