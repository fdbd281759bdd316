"""The shapes of Fly's answers (fly-go types; superfly/docs machines/api/*), checked on arrival."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from components.fly.api.errors import FlyResponseError

T = TypeVar("T")
# Built on first use, not at import: the plan imports this module and never validates a
# Fly answer (pydantic's defer_build, honoured by TypeAdapter from the type's config).
_DEFERRED = ConfigDict(defer_build=True)

# -- response shapes (fly-go types; superfly/docs machines/api/*) ------------------------
# Go marshals an empty slice as null, so lists are `list | None` and read with `or []`.


class AppOrganization(TypedDict):
    slug: str
    name: NotRequired[str]


@with_config(_DEFERRED)
class App(TypedDict):
    # fly-go flaps/flaps_apps.go App; docs machines/api/apps-resource "Get app details"
    name: str
    organization: AppOrganization
    id: NotRequired[str]
    status: NotRequired[str]


class SecretName(TypedDict):
    name: str  # fly-go secrets_types.go AppSecret; values are never listed without asking


@with_config(_DEFERRED)
class SecretList(TypedDict):
    secrets: list[SecretName] | None


@with_config(_DEFERRED)
class SecretsWritten(TypedDict):
    version: int  # fly-go secrets_types.go UpdateAppSecretsResp (uint64)


@with_config(_DEFERRED)
class IpAssignment(TypedDict):
    # fly-go flaps/flaps_ip_assignments.go IPAssignment
    ip: str
    region: NotRequired[str]
    shared: NotRequired[bool]
    service_name: NotRequired[str]
    created_at: NotRequired[str]


@with_config(_DEFERRED)
class IpList(TypedDict):
    ips: list[IpAssignment] | None


class AcmeChallenge(TypedDict):
    name: str
    target: str


class Ownership(TypedDict):
    # fly-go types.go OwnershipRequirement; flyctl internal/command/certificates/root.go
    # prints `TXT <name> <app_value>` as the record to make.
    name: str
    app_value: str
    org_value: NotRequired[str]


class DnsRequirements(TypedDict):
    # fly-go types.go DNSRequirements; docs machines/api/certificates-resource
    a: list[str] | None
    aaaa: list[str] | None
    cname: str
    acme_challenge: AcmeChallenge
    ownership: Ownership


@with_config(_DEFERRED)
class Certificate(TypedDict):
    # fly-go types.go CertificateDetailResponse
    hostname: str
    status: str
    configured: bool
    dns_requirements: DnsRequirements
    acme_requested: NotRequired[bool]
    validation_errors: NotRequired[list[Any] | None]


class IssuedCertificate(TypedDict):
    # fly-go types.go IssuedCertInfo @ 22d6e51
    type: str
    expires_at: str
    certificate_authority: NotRequired[str | None]


class CertificateDetail(TypedDict):
    # fly-go types.go CertificateDetail @ 22d6e51: one per source (`fly`, `custom`);
    # flyctl internal/command/certificates/root.go @ ad0172f calls a host's
    # certificate verified when one of these is `active`.
    source: str
    status: str
    expires_at: NotRequired[str | None]
    issuer: NotRequired[str | None]
    issued: NotRequired[list[IssuedCertificate] | None]


class CertificateValidation(TypedDict, total=False):
    # fly-go types.go CertificateValidation; docs machines/api/certificates-resource
    dns_configured: bool
    alpn_configured: bool
    http_configured: bool
    ownership_txt_configured: bool


@with_config(_DEFERRED)
class CheckedCertificate(Certificate):
    """What POST .../certificates/{hostname}/check answers: the detail, freshly validated."""

    certificates: list[CertificateDetail] | None
    validation: CertificateValidation


APP = TypeAdapter(App)
SECRET_LIST = TypeAdapter(SecretList)
SECRETS_WRITTEN = TypeAdapter(SecretsWritten)
IP = TypeAdapter(IpAssignment)
IP_LIST = TypeAdapter(IpList)
CERTIFICATE = TypeAdapter(Certificate)
CHECKED_CERTIFICATE = TypeAdapter(CheckedCertificate)


def parse(adapter: TypeAdapter[T], body: Any, method: str, path: str) -> T:
    """`body` as `adapter`'s type, or a FlyResponseError naming the call and what is wrong.

    The error lists field paths and rules only, never a value: an answer can carry a
    credential (an add-on's URL).
    """
    try:
        return adapter.validate_python(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the body'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False, include_context=False)
        )
        raise FlyResponseError(method, path, None, f"unexpected answer ({problems})") from None


def ip_type_of(assignment: Mapping[str, Any]) -> str:
    """Fly's type of a listed address (the list does not say it outright).

    Private (Flycast) addresses are in fdaa::/16 (fly-go IPAssignment.IsFlycast).
    """
    address = str(assignment.get("ip", ""))
    if assignment.get("shared"):
        return "shared_v4"
    if address.startswith("fdaa:"):
        return "private_v6"
    return "v6" if ":" in address else "v4"
