"""CustomCertificate (`pulumi-python:dynamic/fly:CustomCertificate`): an imported certificate.

`POST /v1/apps/{app}/certificates/custom` with the hostname, the PEM chain and the PEM
key (superfly/docs machines/api/certificates-resource.html.markerb @ 5c22c8c, "Import
custom certificate"). Fly answers the hostname's detail: the custom certificate is
`pending_ownership` until it sees the `_fly-ownership` TXT record named in
`dns_requirements.ownership`, whose name and value this resource outputs for the edge
to make, as the ACME Certificate does.

A new chain (a renewed or re-issued certificate) is imported again in place: importing
replaces the custom certificate, and Fly keeps serving the hostname throughout.

The private key is a secret input. The engine hands it to the provider in plaintext
(secrets are stripped before the call: components/fly/providers/base.py), so
no output carries it under any key, and no message names it: the outputs are the
chain (public), its fingerprint, and what Fly answers.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from components.fly.api import FlyNotFound
from components.fly.providers.base import DynamicResource, FlyProvider, replacing

CUSTOM = "custom"  # fly-go types.go CertificateDetail.Source of an imported certificate


def chain_fingerprint(fullchain: str) -> str:
    """SHA-256 of the leaf certificate's DER: what changes when the certificate does.
    (`cryptography` is imported here, where a certificate is read, not by every
    evaluation that registers the resource.)"""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    leaf = x509.load_pem_x509_certificate(fullchain.encode())
    return hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest()


def custom_detail(answer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The hostname's custom certificate in Fly's detail, or None (flyctl
    internal/command/certificates/root.go picks it by `source == "custom"`)."""
    for cert in answer.get("certificates") or []:
        if cert.get("source") == CUSTOM:
            return dict(cert)
    return None


class CustomCertificateProvider(FlyProvider):
    """Imports, re-imports on a new chain, and removes the custom certificate."""

    def _outs(self, props: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
        custom = custom_detail(answer) or {}
        ownership = answer["dns_requirements"]["ownership"]
        return {
            "app": props["app"],
            "hostname": answer["hostname"],
            "fullchain": props["fullchain"],
            "fingerprint": chain_fingerprint(props["fullchain"]),
            # No status: it moves from pending_ownership to active once Fly sees the
            # TXT record, which a refresh would report as drift; CustomCertificateCheck
            # owns it. Issuer and expiry change only with the chain.
            "issuer": custom.get("issuer"),
            "expires_at": custom.get("expires_at"),
            "ownership_txt_name": ownership["name"],
            "ownership_txt_value": ownership["app_value"],
        }

    def _import(self, props: Mapping[str, Any]) -> dict[str, Any]:
        app, hostname = str(props["app"]), str(props["hostname"])
        answer = self._client().import_certificate(
            app, hostname, str(props["fullchain"]), str(props["private_key"])
        )
        return self._outs(props, answer)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['app']}/{props['hostname']}", self._import(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._import(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The chain decides: a new key always comes with a new certificate.
        renewed = olds.get("fullchain") != news.get("fullchain")
        return replacing(("app", "hostname"), olds, news, changed=renewed, delete_first=("app",))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if (found := self._host(id_)) is None:
            return ReadResult("", {})
        app, hostname, answer = found
        if custom_detail(answer) is None:
            return ReadResult("", {})  # removed by hand: the next up imports it again
        # Fly does not hand the chain back; the one imported is what state knows.
        outs = self._outs({**props, "app": app}, answer)
        return ReadResult(id_, outs, inputs={"app": app, "hostname": hostname})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        app, hostname = id_.split("/", 1)
        client = self._client()
        with contextlib.suppress(FlyNotFound):  # the hostname (or the app) is gone already
            answer = client.get_certificate_detail(app, hostname)
            others = any(c.get("source") != CUSTOM for c in answer.get("certificates") or [])
            if answer.get("acme_requested") or others:
                # An ACME certificate (the acme mode this stack moves back to) keeps the
                # hostname: only the custom one goes.
                client.delete_custom_certificate(app, hostname)
            else:
                client.delete_certificate(app, hostname)


class CustomCertificate(DynamicResource, module="fly", name="CustomCertificate"):
    """A certificate imported for one hostname (`pulumi-python:dynamic/fly:CustomCertificate`):
    `app=`, `hostname=`, `fullchain=` (PEM) and `private_key=` (PEM, secret however it
    arrives; the provider never returns it as an output)."""

    PROVIDER = CustomCertificateProvider
    INPUTS = ("app", "hostname", "fullchain", "private_key")
    OUTPUTS = ("fingerprint", "issuer", "expires_at", "ownership_txt_name", "ownership_txt_value")
    SECRET_INPUTS = ("private_key",)

    app: pulumi.Output[str]
    hostname: pulumi.Output[str]
    fingerprint: pulumi.Output[str]
    issuer: pulumi.Output[str | None]
    expires_at: pulumi.Output[str | None]
    ownership_txt_name: pulumi.Output[str]
    ownership_txt_value: pulumi.Output[str]
