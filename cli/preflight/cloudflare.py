"""Preflight's Cloudflare checks: the token, the zone, read access to what `up`
touches, and the records the stack makes against those already there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from cli import httpclient
from cli.httpclient import NoAnswer
from cli.preflight import base
from cli.preflight.base import DNS_RECORD_TYPE, Owned, Report
from components import catalog
from components.config import Domain, StackConfig

# The program's names (__main__.py `Platform("webhost", ...)`, components/edge.py).
PLATFORM_NAME: Final = "webhost"
EDGE_TYPE: Final = "webhost:index:Platform$webhost:edge:Edge"


class WantedRecord(NamedTuple):
    """A record the stack makes, as preflight compares it with what the zone holds."""

    type: str
    name: str
    resource: str  # the Pulumi resource name components/edge.py gives it
    data: Mapping[str, Any] | None = None  # CAA's


def wanted_records(cfg: StackConfig) -> list[WantedRecord]:
    """The records components/edge.py makes, named as it names them."""
    domain = cfg.domain
    if domain is None:
        return []
    name = PLATFORM_NAME
    out: list[WantedRecord] = []
    for fqdn in domain.fqdns:
        out.append(WantedRecord("AAAA", fqdn, f"{name}-aaaa-{fqdn}"))
        if domain.ipv4_kind != "none":
            out.append(WantedRecord("A", fqdn, f"{name}-a-{fqdn}"))
        if domain.proxied:
            owner = f"_fly-ownership.{fqdn}"
            out.append(WantedRecord("TXT", owner, f"{name}-txt-{owner}"))
        elif domain.certificate != "origin":
            acme = f"_acme-challenge.{fqdn}"
            out.append(WantedRecord("CNAME", acme, f"{name}-cname-{acme}"))
    if domain.owns_zone:
        caa = {"flags": 0, "tag": "issue", "value": catalog.CAA_ISSUER}
        out.append(WantedRecord("CAA", domain.zone, f"{name}-caa", caa))
    return out


# Cloudflare API permission groups for what `up` does on the zone (README, "The edge").
ZONE_PERMISSIONS: Final = ("Zone Read", "DNS Write", "Zone Settings Write", "Cache Rules Write")


def check_cloudflare(
    cfg: StackConfig, owned: Owned, stack: str, project: str, report: Report
) -> None:
    domain = cfg.domain
    if domain is None:
        return
    token = os.environ.get("CLOUDFLARE_API_TOKEN", "").strip()
    if not token:
        report.problem(
            "Cloudflare: CLOUDFLARE_API_TOKEN is not set: create an API token (not the Global "
            f"API Key) with {', '.join(ZONE_PERMISSIONS)} on {domain.zone}"
        )
        return
    cf = httpclient.Cloudflare(token, os.environ, timeout=base.TIMEOUT)
    try:
        _check_cloudflare(_Site(cf, cfg, owned, stack, project), report)
    except NoAnswer as exc:
        report.problem(str(exc))
    finally:
        cf.close()


@dataclass(frozen=True)
class _Site:
    """What the Cloudflare checks share: the client, the stack and what it owns."""

    cf: httpclient.Cloudflare
    cfg: StackConfig
    owned: Owned
    stack: str
    project: str


def _check_cloudflare(site: _Site, report: Report) -> None:
    domain = site.cfg.domain
    assert domain is not None
    if not _verified(site.cf, domain.zone, report):
        return
    zone_id = _zone_id(site.cf, domain, report)
    if zone_id is None or not _readable(site.cf, domain, zone_id, report):
        return
    edge_urn = f"urn:pulumi:{site.stack}::{site.project}::{EDGE_TYPE}::{PLATFORM_NAME}"
    by_name: dict[str, list[WantedRecord]] = {}
    for record in wanted_records(site.cfg):
        by_name.setdefault(record.name, []).append(record)
    for name, wanted in by_name.items():
        status, found = site.cf.result(f"/zones/{zone_id}/dns_records", name=name, per_page=100)
        if status != 200 or not isinstance(found, list):
            report.problem(f"Cloudflare: listing records at {name} {site.cf.refusal(status)}")
            continue
        theirs = [r for r in found if r.get("id") not in site.owned.records]
        # Cloudflare refuses a CNAME beside any other record at a name, and anything
        # beside a CNAME (DNS docs, "CNAME records": codes 81053/81054).
        for other in theirs:
            blocked = [
                w.type for w in wanted if (other.get("type") == "CNAME") != (w.type == "CNAME")
            ]
            if blocked:
                report.problem(
                    f"Cloudflare: {other.get('type')} record {name} ({other.get('id')}, to "
                    f"{other.get('content')!r}) stands where this stack makes "
                    f"{'/'.join(blocked)}: refused; delete it by hand when you cut over"
                )
        for record in wanted:
            _check_record(record, theirs, zone_id, edge_urn, report)


def _verified(cf: httpclient.Cloudflare, zone: str, report: Report) -> bool:
    # Cloudflare API: GET /user/tokens/verify answers a token's status (active, disabled,
    # expired); an API key or a bad token is a 400/401 there.
    status, result = cf.result("/user/tokens/verify")
    if status != 200 or not isinstance(result, dict):
        report.problem(
            f"Cloudflare: CLOUDFLARE_API_TOKEN is not a valid API token (verify "
            f"{cf.refusal(status)}): create an API token with {', '.join(ZONE_PERMISSIONS)} "
            f"on {zone}"
        )
        return False
    if result.get("status") != "active":
        report.problem(
            f"Cloudflare: CLOUDFLARE_API_TOKEN is {result.get('status')!r}, not active: "
            "roll it or make a new one"
        )
        return False
    report.ok("Cloudflare: CLOUDFLARE_API_TOKEN is an active API token")
    return True


def _zone_id(cf: httpclient.Cloudflare, domain: Domain, report: Report) -> str | None:
    if domain.zone_id:
        status, zone = cf.result(f"/zones/{domain.zone_id}")
        zones = [zone] if status == 200 and isinstance(zone, dict) else []
    else:
        status, found = cf.result("/zones", name=domain.zone)
        zones = found if status == 200 and isinstance(found, list) else []
    if status not in (200, 404) and not zones:
        report.problem(
            f"Cloudflare: reading zone {domain.zone} {cf.refusal(status)}: the token needs "
            "Zone Read on it"
        )
        return None
    if not zones:
        report.problem(
            f"Cloudflare: zone {domain.zone} (webhost:domain.zone) is not visible to the "
            "token: add the zone to the account, or give the token Zone Read on it"
        )
        return None
    zone = zones[0]
    zone_id = str(zone.get("id"))
    if zone.get("status") not in (None, "active"):
        report.problem(
            f"Cloudflare: zone {domain.zone} is {zone.get('status')!r}: point the registrar "
            "at Cloudflare's nameservers before the first up"
        )
    report.ok(f"Cloudflare: zone {domain.zone} ({zone_id})")
    return zone_id


def _readable(cf: httpclient.Cloudflare, domain: Domain, zone_id: str, report: Report) -> bool:
    """Read access to each part `up` touches. A write permission cannot be proved
    without writing: a token with read alone passes here and fails at `up`."""
    probes: list[tuple[str, str, dict[str, Any]]] = [
        ("DNS", f"/zones/{zone_id}/dns_records", {"per_page": 1})
    ]
    if domain.owns_zone:
        probes.append(("Zone Settings", f"/zones/{zone_id}/settings/ssl", {}))
        if domain.proxied:
            probes.append(("Cache Rules", f"/zones/{zone_id}/rulesets", {}))
    for permission, path, params in probes:
        status, _ = cf.result(path, **params)
        if status != 200:
            report.problem(
                f"Cloudflare: the token {cf.refusal(status)} on GET {path}: give it "
                f"{permission} Write on {domain.zone}"
            )
            return False
    return True


def _check_record(
    record: WantedRecord,
    theirs: list[dict[str, Any]],
    zone_id: str,
    edge_urn: str,
    report: Report,
) -> None:
    same = [r for r in theirs if r.get("type") == record.type]
    if record.type == "CAA":
        # CAA is a set: other issuers' records stay beside ours; only the same one
        # collides (an identical record is refused, 81058).
        same = [r for r in same if (r.get("data") or {}) == dict(record.data or {})]
    if len(same) == 1:
        # pulumi-cloudflare dns_record.py: `pulumi import ...DnsRecord <name>
        # '<zone_id>/<dns_record_id>'`; the URN is quoted (its `$` is the shell's).
        # Adopted, its content becomes this stack's on the next up (one record,
        # replaced, never a second one beside the old origin).
        report.problem(
            f"Cloudflare: {record.type} {record.name} exists ({same[0].get('id')}, to "
            f"{same[0].get('content')!r}) and is not this stack's: adopt it with "
            f"`pulumi import {DNS_RECORD_TYPE} {record.resource} "
            f"{zone_id}/{same[0].get('id')} --parent 'webhost={edge_urn}'`"
        )
    elif len(same) > 1:
        ids = ", ".join(sorted(str(r.get("id")) for r in same))
        report.problem(
            f"Cloudflare: {len(same)} {record.type} records at {record.name} ({ids}): refused, "
            "one would be adopted and the others left in round-robin; delete all but one, "
            "then run preflight again for its import command"
        )
