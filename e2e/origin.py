"""The origin-certificate phase of `make e2e`, for a proxied stack (prod, and staging,
which rehearses prod's edge).

`phase_origin(s)` switches `webhost:domain.certificate` to `origin` and runs `up`
under the real engine, then checks what the fakes hold:
- the fake Fly API has, per host, an active custom certificate and no ACME issuance
  left (the ACME certificate's delete stopped ACME only, keeping the import);
- the imported certificate is the one the fake Cloudflare issued (same DER, signed by
  its Origin CA root), for the key the program made (same public key);
- `stack export` holds that key nowhere in plaintext;
- a second `up --expect-no-changes` (its preview skipped) writes nothing (e2e/phases.py's
  no-op check);
- rotating the key (`up --replace` of it, the README's renewal) makes a new key,
  certificate and import per host and revokes the old certificate; then `refresh
  --expect-no-changes` finds the origin resources in step;
- the zone's wildcard `*` is a host while in origin mode: in the certificate's
  hostnames, imported at Fly, checked through its URL-encoded path;
- back to `acme` (the wildcard dropped again): ACME again per host, the imports
  removed, the certificate revoked, the key gone, and a no-op `up`.

The phases after it (refresh, drift, image, export, destroy) run in acme mode. A
DNS-only stack cannot take `origin` (config refuses it): the phase is skipped there.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from e2e.checks import app_name
from e2e.harness import Failure, Skipped, Stack, expect
from e2e.phases import phase_noop

ACME_CERT = "pulumi-python:dynamic/fly:Certificate"
ORIGIN_KEY = "pulumi-python:dynamic/tls:OriginKey"
ORIGIN_CERT = "cloudflare:index/originCaCertificate:OriginCaCertificate"
CUSTOM_CERT = "pulumi-python:dynamic/fly:CustomCertificate"


def _domain(s: Stack) -> dict[str, Any]:
    raw = json.loads(s.pulumi("config", "get", "webhost:domain", "--json").stdout)
    domain: dict[str, Any] = raw.get("objectValue") or json.loads(raw["value"])
    return domain


def _resources(exported: str, type_: str) -> list[dict[str, Any]]:
    state = json.loads(exported)
    return [r for r in state["deployment"].get("resources", []) if r.get("type") == type_]


def _spki_sha256(public_key: Any) -> str:
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _unprotect(s: Stack, *types: str) -> None:
    """What prod protects and the next up deletes: the operator unprotects it, as the
    engine's refusal says (README.md, Certificates)."""
    exported = s.pulumi("stack", "export").stdout
    for type_ in types:
        for resource in _resources(exported, type_):
            if resource.get("protect"):
                s.pulumi("state", "unprotect", str(resource["urn"]), "--yes")


def _check_imports(s: Stack) -> tuple[str, str, str]:
    """The key, the Origin CA certificate and each host's import at Fly agree.

    Returns the key's PEM, its SPKI digest and the certificate's id in the fake
    Cloudflare.
    """
    revealed = s.pulumi("stack", "export", "--show-secrets").stdout
    (key_state,) = _resources(revealed, ORIGIN_KEY)
    held = key_state["outputs"]["private_key_pem"]
    # A secret in an export with --show-secrets: {<sig>: ..., "plaintext": <JSON text>}
    # (pulumi sdk/go/common/apitype/core.go SecretV1: the value JSON-encoded).
    expect(isinstance(held, dict) and "plaintext" in held, "the origin key is not a secret")
    key_pem = json.loads(held["plaintext"])
    if not isinstance(key_pem, str) or "PRIVATE KEY" not in key_pem:
        raise Failure("the key's state holds no PEM private key")
    key = load_pem_private_key(key_pem.encode(), password=None)
    (cert_state,) = _resources(revealed, ORIGIN_CERT)
    issued = x509.load_pem_x509_certificate(str(cert_state["outputs"]["certificate"]).encode())

    # The fake Cloudflare issued it, from its own root (e2e/fake_cloudflare/fakecf/origin_ca.py).
    root_pem = s.cloudflare().get("originCa", {}).get("certificate")
    expect(bool(root_pem), "the fake Cloudflare issued no Origin CA certificate")
    issued.verify_directly_issued_by(x509.load_pem_x509_certificate(str(root_pem).encode()))
    expect(
        _spki_sha256(issued.public_key()) == _spki_sha256(key.public_key()),
        "the Origin CA certificate is not for the program's key",
    )

    app = app_name(s)
    hosts = sorted(s.outputs().get("edge", {}))
    expect(bool(hosts), "the edge output lists no host")
    held = s.api.state.certificates.get(app, {})
    for host in hosts:
        cert = held.get(host)
        expect(cert is not None, f"the Fly API has no certificate for {host}")
        assert cert is not None
        customs = [c for c in cert["certificates"] if c["source"] == "custom"]
        expect(len(customs) == 1, f"{host}: {len(customs)} custom certificates at Fly")
        custom = customs[0]
        expect(custom["status"] == "active", f"{host}: the import is {custom['status']}")
        expect(
            custom["_fingerprint"] == hashlib.sha256(issued.public_bytes(Encoding.DER)).hexdigest(),
            f"{host}: Fly holds another certificate than the fake Cloudflare issued",
        )
        expect(
            custom["_key"] == _spki_sha256(key.public_key()),
            f"{host}: Fly holds another key than the program made",
        )
        expect(
            not cert["acme_requested"]
            and all(c["source"] == "custom" for c in cert["certificates"]),
            f"{host}: ACME issuance is still on beside the import",
        )
    return key_pem, _spki_sha256(key.public_key()), str(cert_state["id"])


def _check_wildcard(s: Stack, wildcard: str) -> None:
    """The wildcard host is in the Origin CA certificate, imported at Fly under its own
    name (the path URL-encoded: docs machines/api/certificates-resource) and in the edge."""
    expect(wildcard in s.outputs().get("edge", {}), f"the edge output lists no {wildcard}")
    (cert_state,) = _resources(s.pulumi("stack", "export").stdout, ORIGIN_CERT)
    hostnames = cert_state["outputs"].get("hostnames") or []
    expect(wildcard in hostnames, f"the Origin CA certificate names {hostnames}")
    held = s.api.state.certificates.get(app_name(s), {})
    expect(wildcard in held, f"the Fly API holds no certificate for {wildcard}")
    encoded = wildcard.replace("*", "%2A")
    paths = [r.path for r in s.api.state.requests]
    expect(
        any(f"/certificates/{encoded}/check" in p for p in paths),
        f"no certificate check of {encoded} reached the Fly API",
    )


def phase_origin(s: Stack) -> None:
    if not _domain(s).get("proxied"):
        raise Skipped("certificate origin needs a proxied domain")
    # Prod protects its certificates: the operator unprotects the ACME ones the switch
    # deletes, as the engine's refusal says to (README.md, Certificates).
    _unprotect(s, ACME_CERT)
    s.pulumi("config", "set", "--path", "webhost:domain.certificate", "origin")
    # The zone's wildcard joins the hosts while in origin mode (config refuses it in
    # acme mode behind the proxy). Setting the index one past the end appends (pulumi
    # sdk/go/common/resource/config/object.go, object.Set).
    domain = _domain(s)
    wild_index = len(domain["hosts"])
    wildcard = f"*.{domain['zone']}"
    s.pulumi("config", "set", "--path", f"webhost:domain.hosts[{wild_index}]", "*")
    s.pulumi("up", "--yes", "--skip-preview")

    key_pem, key_digest, cert_id = _check_imports(s)
    _check_wildcard(s, wildcard)

    exported = s.pulumi("stack", "export", "--show-secrets=false").stdout
    body = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    leaked = [line for line in body if line in exported]
    expect(
        not leaked, f"the exported state holds the origin key in plaintext ({len(leaked)} lines)"
    )

    phase_noop(s, preview=False)

    # Rotation, as the README's "How to renew" says: replacing the key makes a new CSR,
    # a new Origin CA certificate and a re-import per host, and revokes the old one.
    (key_urn,) = [str(r["urn"]) for r in _resources(exported, ORIGIN_KEY)]
    s.pulumi("up", "--yes", "--skip-preview", "--replace", key_urn)
    _, rotated_digest, rotated_id = _check_imports(s)
    expect(rotated_digest != key_digest, "replacing the origin key kept the old key")
    held_ids = set(s.cloudflare().get("originCaCertificates", {}))
    expect(
        cert_id not in held_ids and rotated_id in held_ids,
        f"after rotation the fake Cloudflare holds {sorted(held_ids)}, "
        f"not {rotated_id} alone in place of {cert_id}",
    )
    phase_noop(s, preview=False)
    s.pulumi("refresh", "--yes", "--expect-no-changes")

    # And back to acme: Let's Encrypt again per host, the import removed at Fly, the
    # certificate revoked and the key gone. The phases after this one run in acme mode.
    _unprotect(s, CUSTOM_CERT, ORIGIN_CERT, ORIGIN_KEY)
    s.pulumi("config", "rm", "--path", f"webhost:domain.hosts[{wild_index}]")
    s.pulumi("config", "set", "--path", "webhost:domain.certificate", "acme")
    s.pulumi("up", "--yes", "--skip-preview")
    exported = s.pulumi("stack", "export").stdout
    left = [t for t in (CUSTOM_CERT, ORIGIN_CERT, ORIGIN_KEY) if _resources(exported, t)]
    expect(not left, f"back in acme mode the stack still holds {left}")
    expect(
        not s.cloudflare().get("originCaCertificates"),
        "back in acme mode the fake Cloudflare still holds an Origin CA certificate",
    )
    held = s.api.state.certificates.get(app_name(s), {})
    for host in sorted(s.outputs().get("edge", {})):
        cert = held.get(host) or {}
        sources = sorted(c["source"] for c in cert.get("certificates", []))
        expect(
            bool(cert.get("acme_requested")) and "custom" not in sources,
            f"{host}: back in acme mode Fly holds {sources}, ACME requested: "
            f"{cert.get('acme_requested')}",
        )
    phase_noop(s, preview=False)
