"""Cloudflare's Origin CA, faked: `POST/GET/DELETE /certificates` on the fake's state.

What the real API does (developers.cloudflare.com/api/resources/origin_ca_certificates;
the Terraform provider's internal/services/origin_ca_certificate, whose every input
forces a new certificate and whose Delete revokes it):
- Create signs the CSR for `hostnames` for `requested_validity` days (5475 when
  absent) and answers `id` (the serial), `certificate` (PEM, newline-encoded) and
  `expires_on`.
- Hostnames must be names in zones on the account; a wildcard only as one `*.`
  label on the left of a multi-label name (the schema's `hostnames` description).
- `origin-ecc` signs an ECDSA key, `origin-rsa` an RSA key (its `request_type`).

The CA is the fake's own: a P-256 key and a self-signed root named as Cloudflare's
Origin CA names itself, made once and kept in the state file (`originCa`), so every
plugin process signs with one root and a test can verify a certificate against it.
The CA's key stays in that file; it is a fake's, never a secret of the program.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from fakecf.api import CloudflareError, NotFoundError

DEFAULT_VALIDITY_DAYS = 5475
# The subject Cloudflare's Origin CA roots carry (its published origin_ca_ecc_root.pem).
CA_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudFlare, Inc."),
        x509.NameAttribute(
            NameOID.ORGANIZATIONAL_UNIT_NAME, "CloudFlare Origin SSL ECC Certificate Authority"
        ),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "California"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
    ]
)
KEY_OF_REQUEST = {"origin-ecc": ec.EllipticCurvePublicKey, "origin-rsa": rsa.RSAPublicKey}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?:\*\.)?(?:{_LABEL}\.)+{_LABEL}")


def _ca(state: dict[str, Any]) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    held = state.get("originCa")
    if held is None:
        key = ec.generate_private_key(ec.SECP256R1())
        start = datetime.now(UTC) - timedelta(days=1)
        root = (
            x509.CertificateBuilder()
            .subject_name(CA_NAME)
            .issuer_name(CA_NAME)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=DEFAULT_VALIDITY_DAYS * 2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        held = state["originCa"] = {
            "key": key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            "certificate": root.public_bytes(serialization.Encoding.PEM).decode(),
        }
    loaded = serialization.load_pem_private_key(held["key"].encode(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    return loaded, x509.load_pem_x509_certificate(held["certificate"].encode())


def root_pem(state: Mapping[str, Any]) -> str | None:
    """The fake CA's root, to verify what it signed (None before the first certificate)."""
    held = state.get("originCa")
    return None if held is None else str(held["certificate"])


def _bad_request(message: str, code: int) -> CloudflareError:
    # The codes are the fake's own: Cloudflare's docs give the rule, not its code.
    return CloudflareError("POST", "/certificates", 400, code=code, message=message)


def _zone_of(state: Mapping[str, Any], hostname: str) -> bool:
    name = hostname.removeprefix("*.")
    return any(name == z["name"] or name.endswith(f".{z['name']}") for z in state["zones"].values())


def _csr(pem: str, request_type: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except ValueError:
        raise _bad_request("Failed to read the certificate signing request.", 1010) from None
    try:
        if not csr.is_signature_valid:
            raise InvalidSignature
    except InvalidSignature:
        raise _bad_request(
            "The certificate signing request's signature is invalid.", 1010
        ) from None
    wanted = KEY_OF_REQUEST.get(request_type)
    if wanted is None or not isinstance(csr.public_key(), wanted):
        raise _bad_request(f"The CSR's key does not fit request_type {request_type}.", 1010)
    return csr


def create(state: dict[str, Any], inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    hostnames = [str(h) for h in inputs["hostnames"]]
    for hostname in hostnames:
        if not _HOSTNAME.fullmatch(hostname) or not _zone_of(state, hostname):
            raise _bad_request(
                f"{hostname} is not a hostname in a zone on this account "
                "(a wildcard only as one leading *. label)",
                1003,
            )
    request_type = str(inputs["requestType"])
    csr = _csr(str(inputs["csr"]), request_type)
    days = int(inputs.get("requestedValidity") or DEFAULT_VALIDITY_DAYS)
    ca_key, root = _ca(state)
    start = datetime.now(UTC).replace(microsecond=0)
    serial = x509.random_serial_number()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudFlare, Inc."),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "CloudFlare Origin CA"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "CloudFlare Origin Certificate"),
                ]
            )
        )
        .issuer_name(root.subject)
        .public_key(csr.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certificate_id = str(serial)
    outputs = {
        "csr": inputs["csr"],
        "hostnames": hostnames,
        "requestType": request_type,
        "requestedValidity": days,
        "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        # An RFC 3339 time, as the API reference's examples write its times.
        "expiresOn": certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    state.setdefault("originCaCertificates", {})[certificate_id] = outputs
    return certificate_id, dict(outputs)


def get(state: Mapping[str, Any], certificate_id: str) -> dict[str, Any]:
    found = state.get("originCaCertificates", {}).get(certificate_id)
    if found is None:
        raise NotFoundError(certificate_id)
    return dict(found)


def revoke(state: dict[str, Any], certificate_id: str) -> None:
    """DELETE /certificates/{id}: revoked, and gone from the listing."""
    if state.get("originCaCertificates", {}).pop(certificate_id, None) is None:
        raise CloudflareError(
            "DELETE",
            f"/certificates/{certificate_id}",
            404,
            code=1004,
            message="Certificate not found.",
        )
