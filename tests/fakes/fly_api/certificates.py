"""Certificates as Fly judges them: a custom certificate's import checks, and what a
check sees of the DNS records Fly asks for."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID

from tests.fakes.fly_api.models import Dns, _now


def key_fingerprint(public_key: Any) -> str:
    """SHA-256 of a public key's SubjectPublicKeyInfo DER."""
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _covers(pattern: str, hostname: str) -> bool:
    # RFC 6125 6.4.3: a wildcard stands for one whole left-most label.
    if pattern.startswith("*."):
        head, _, rest = hostname.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == hostname


def custom_certificate(
    hostname: str, fullchain: str, private_key: str
) -> tuple[str, dict[str, Any] | None]:
    """The custom certificate Fly records for an import, or why it is refused."""
    try:
        chain = x509.load_pem_x509_certificates(fullchain.encode())
    except ValueError:
        return "fullchain is not a PEM certificate", None
    try:
        key = load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        return "private_key is not a PEM private key", None
    leaf = chain[0]
    if key_fingerprint(key.public_key()) != key_fingerprint(leaf.public_key()):
        return "private key does not match the certificate", None
    if leaf.not_valid_after_utc <= datetime.now(UTC):
        return "certificate has expired", None
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = sans.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    names += [str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not any(_covers(n.lower(), hostname.lower()) for n in names):
        return f"hostname {hostname} is not in the certificate's SAN or CN", None
    issuer = next(
        (
            str(a.value)
            for oid in (
                NameOID.COMMON_NAME,
                NameOID.ORGANIZATIONAL_UNIT_NAME,
                NameOID.ORGANIZATION_NAME,
            )
            for a in leaf.issuer.get_attributes_for_oid(oid)
        ),
        None,
    )
    return "", {
        "source": "custom",
        "status": "pending_ownership",
        "created_at": _now(),
        "expires_at": leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "issuer": issuer,
        "issued": [],
        # The fake's own bookkeeping, never answered (see _certificate): what the
        # e2e checks compare against the key and the fake Cloudflare's certificate.
        "_fingerprint": hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest(),
        "_key": key_fingerprint(key.public_key()),
    }


@dataclass(frozen=True)
class Seen:
    """What one check found of the records Fly asks for (`dns_requirements`)."""

    ownership: bool  # `_fly-ownership` TXT with the app's (or org's) value
    dns: bool  # `_acme-challenge` CNAME to Fly's target, unproxied: DNS-01
    http: bool  # the host's address records all lead to the app: HTTP-01
    alpn: bool  # the same, none proxied: TLS-ALPN-01 (reported, never issues here)
    errors: list[dict[str, Any]]
    resolved: dict[str, Any]  # the check's `dns_records`


def _name(content: Any) -> str:
    # Names compare without case and without the root's dot (RFC 4343).
    return str(content or "").strip().rstrip(".").lower()


def _txt(content: Any) -> str:
    # Cloudflare may answer a TXT record's content in quotes; the value inside counts.
    return str(content or "").strip().strip('"')


def _address(content: Any) -> str:
    # One address, one spelling (an AAAA may be written expanded or compressed).
    try:
        return str(ipaddress.ip_address(str(content).strip()))
    except ValueError:
        return str(content)


def dns_validation(dns: Dns, hostname: str, wanted: Mapping[str, Any]) -> Seen:
    """Judge the records at `dns` against what Fly asks for, as Fly's check does.

    Sources: superfly/docs networking/understanding-cloudflare.html.md @ 5c22c8c (behind
    the proxy Fly issues over HTTP-01 "when the ownership TXT record is in place", to
    A/AAAA records for the app's addresses or a CNAME to its `.fly.dev` name; TLS-ALPN-01
    cannot pass the proxy; a DNS-only host validates over the `_acme-challenge` CNAME,
    flyctl internal/command/certificates/root.go @ ad0172f); machines/api/
    certificates-resource.html.markerb (the check's `validation` flags, and
    `dns_records` with `acme_challenge_cname` and `ownership_txt`). A proxied record
    answers with Cloudflare's addresses, not its content (Cloudflare docs
    dns/proxy-status), so a proxied `_acme-challenge` CNAME is not seen as one. HTTP-01
    cannot validate a wildcard (RFC 8555 section 8.4 and 7.1.3: DNS-01 only).
    """
    owner = wanted.get("ownership") or {}
    acme = wanted.get("acme_challenge") or {}
    ownership_values = {_txt(owner.get("app_value")), _txt(owner.get("org_value"))} - {""}
    txts = [
        _txt(r.get("content"))
        for r in dns.records(str(owner.get("name") or ""))
        if r.get("type") == "TXT"
    ]
    ownership = any(t in ownership_values for t in txts)
    cnames = [r for r in dns.records(str(acme.get("name") or "")) if r.get("type") == "CNAME"]
    target = _name(acme.get("target"))
    dns_ok = any(_name(r.get("content")) == target and not r.get("proxied") for r in cnames)
    leads = {
        "A": {_address(a) for a in wanted.get("a") or []},
        "AAAA": {_address(a) for a in wanted.get("aaaa") or []},
        "CNAME": {_name(wanted.get("cname"))},
    }
    at_host = [r for r in dns.records(hostname) if r.get("type") in leads]

    def spelled(record: Mapping[str, Any]) -> str:
        content = record.get("content")
        return _name(content) if record.get("type") == "CNAME" else _address(content)

    to_app = bool(at_host) and all(spelled(r) in leads[str(r.get("type"))] for r in at_host)
    http = to_app and not hostname.startswith("*.")
    alpn = to_app and not any(r.get("proxied") for r in at_host)
    errors: list[dict[str, Any]] = []
    if not ownership:
        errors.append(
            {
                "code": None,
                "message": f"{owner.get('name')} TXT record not found",
                "remediation": f"Add a TXT record {owner.get('name')} with value "
                f"{owner.get('app_value')}",
                "timestamp": _now(),
            }
        )
    if not dns_ok:
        errors.append(
            {
                "code": None,
                "message": f"{acme.get('name')} CNAME record not found",
                "remediation": f"Add a CNAME record {acme.get('name')} pointing to "
                f"{acme.get('target')}",
                "timestamp": _now(),
            }
        )
    if not to_app:
        errors.append(
            {
                "code": None,
                "message": f"{hostname} does not resolve to the app",
                "remediation": "Add A and AAAA records for the app's addresses",
                "timestamp": _now(),
            }
        )
    unproxied = [r for r in at_host if not r.get("proxied")]
    resolved = {
        "a": [r["content"] for r in unproxied if r.get("type") == "A"],
        "aaaa": [r["content"] for r in unproxied if r.get("type") == "AAAA"],
        "cname": [r["content"] for r in unproxied if r.get("type") == "CNAME"],
        "acme_challenge_cname": next((r["content"] for r in cnames if not r.get("proxied")), None),
        "ownership_txt": next(iter(txts), None),
    }
    return Seen(ownership, dns_ok, http, alpn, errors, resolved)
