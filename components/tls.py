"""OriginKey (`pulumi-python:dynamic/tls:OriginKey`): a private key and its CSR, made here.

The Cloudflare Origin CA signs a certificate signing request; the key behind it never
leaves the program except as a Pulumi secret (state encrypted) and as the secret input
of the Fly import. pulumi-tls would do this, but its provider cannot be built from the
Go module proxy here (`go list -m -versions github.com/pulumi/pulumi-tls/provider/v5`
answers 403), so this is a dynamic provider over `cryptography`.

The key is made once and kept: the engine stores it (encrypted) and `read` hands it
back unchanged, so it is stable across `up` and `refresh`. A change of the hostnames
or of the key type replaces it, and with it the CSR and the certificate.

The engine strips secrets before it calls a dynamic provider and re-marks only outputs
named like a secret input (components/fly/providers/base.py, module docstring): no input is
secret here, so `private_key_pem` is listed in SECRET_OUTPUTS and passed as
`additional_secret_outputs`, or it would land in state in plaintext.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult

from components.fly.providers.base import DynamicResource, Provider, replacing

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# `cryptography` is imported where a key is made or read, not here: every evaluation
# (an offline plan included) registers OriginKey, and only its provider's create runs
# cryptography (issue 22: the plan imports what it needs).

# Cloudflare's Origin CA signs "origin-ecc" (ECDSA) and "origin-rsa" (RSA) requests
# (pulumi_cloudflare origin_ca_certificate.py `request_type`); P-256 and 2048 bits are
# the key sizes its dashboard generates (developers.cloudflare.com/ssl/origin-configuration/
# origin-ca/, "Generate private key and CSR with Cloudflare": RSA or ECC).
RSA_BITS = 2048
KEY_TYPES = ("ecdsa", "rsa")


def generate(key_type: str) -> PrivateKey:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    raise ValueError(f"key type {key_type!r}: one of {', '.join(KEY_TYPES)}")


def csr_pem(key: PrivateKey, hostnames: Sequence[str]) -> str:
    """A CSR naming every host in its SAN, the first as the subject's CN."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def public_fingerprint(key: PrivateKey) -> str:
    """SHA-256 of the public key (SubjectPublicKeyInfo DER): names the key, reveals nothing."""
    from cryptography.hazmat.primitives import serialization

    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


class OriginKeyProvider(Provider):
    """Makes the key and CSR at create; nothing outside the state holds them."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        hostnames, key_type = list(props["hostnames"]), str(props["key_type"])
        from cryptography.hazmat.primitives import serialization

        key = generate(key_type)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        fingerprint = public_fingerprint(key)
        outs = {
            "hostnames": hostnames,
            "key_type": key_type,
            "private_key_pem": pem,
            "csr_pem": csr_pem(key, hostnames),
            "public_key_fingerprint": fingerprint,
        }
        return CreateResult(fingerprint, outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # The new key exists before the old one goes, so the certificate moves to it first.
        return replacing(("hostnames", "key_type"), olds, news)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Nothing remote to read: the state is where the key lives.
        inputs = {"hostnames": props.get("hostnames"), "key_type": props.get("key_type")}
        return ReadResult(id_, props, inputs=inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # forgetting the state forgets the key


class OriginKey(DynamicResource, module="tls", name="OriginKey"):
    """A private key and a CSR for `hostnames=`, of `key_type=`
    (`pulumi-python:dynamic/tls:OriginKey`)."""

    PROVIDER = OriginKeyProvider
    INPUTS = ("hostnames", "key_type")
    OUTPUTS = ("private_key_pem", "csr_pem", "public_key_fingerprint")
    SECRET_OUTPUTS = ("private_key_pem",)

    hostnames: pulumi.Output[list[str]]
    key_type: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]
    csr_pem: pulumi.Output[str]
    public_key_fingerprint: pulumi.Output[str]
