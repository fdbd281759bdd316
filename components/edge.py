"""Edge (`webhost:edge:Edge`): public IPs, certificates and Cloudflare DNS for the app.

Replaces the runbook's `fly ips allocate-*`, `fly certs add` and "add A and
AAAA records" steps, following Fly's current Cloudflare guidance (superfly/docs
networking/understanding-cloudflare.html.md @ 5c22c8c, rewritten 2026-02):

- DNS-only (grey cloud): A and AAAA to the app's addresses, unproxied, and the
  `_acme-challenge` CNAME from the certificate's `dns_requirements`, so the
  certificate can issue over DNS-01 before traffic moves (flyctl's `certs setup`
  text, internal/command/certificates/root.go @ ad0172f).
- Proxied (orange cloud): A and AAAA proxied, and a `_fly-ownership` TXT record
  per host (from `dns_requirements.ownership`), never proxied; Fly then issues
  over HTTP-01 through the proxy. No `_acme-challenge` record: DNS-01 conflicts
  with Cloudflare's Universal SSL, whose hidden challenge records break it.

With `certificate: origin` (proxied only) Fly issues nothing: a key made here and a
Cloudflare Origin CA certificate for every host are imported into Fly per host, with
the same `_fly-ownership` TXT record (Fly's "Using a Cloudflare Origin Certificate",
same page), and the wait looks at the imported certificate alone.

Zone-wide, for the stack that owns the zone: CAA, SSL/TLS settings and the
static-asset cache rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from components import catalog
from components.cache_rule import cache_expression
from components.config import Domain, SecurityHeaders
from components.fly.providers.certificate import Certificate
from components.fly.providers.certificate_check import CertificateCheck
from components.fly.providers.custom_certificate import CustomCertificate
from components.fly.providers.custom_certificate_check import CustomCertificateCheck
from components.fly.providers.ip_address import IpAddress
from components.tls import OriginKey

# Input names, enums and limits below are pulumi_cloudflare 6.23.1's, as its SDK
# states them (.venv/.../pulumi_cloudflare/dns_record.py, zone_setting.py,
# ruleset.py, get_rulesets.py).
AUTO_TTL = 1  # dns_record.py `ttl`: "Setting to 1 means 'automatic'"; proxied records take only it
COMMENT = "managed by webhost-infra (Pulumi)"

# Cloudflare runs one entry-point ruleset per zone and phase (Cloudflare docs, Rulesets
# API, "Entry point ruleset": kind `zone` at zone level); cache rules live in this phase.
CACHE_PHASE = "http_request_cache_settings"
ENTRY_POINT_KIND = "zone"
# How this program tells its own entry point from one made elsewhere (the dashboard
# names its entry points "default"): a rule set of this name is ours.
RULESET_NAME = "webhost static assets"


@dataclass(frozen=True)
class EdgeArgs:
    app: pulumi.Input[str]  # the Fly app's name, as an output of the app resource
    domain: Domain
    protect: bool = False
    # HSTS and nosniff at Cloudflare (proxied zones); DNS-only stacks get them in fly.toml.
    security_headers: SecurityHeaders | None = None


class EdgeError(pulumi.RunError):
    """A fact the program cannot work with; Pulumi prints a RunError as its message alone."""


def _acme_target(hostname: str, requirements: dict[str, Any]) -> str:
    # Fly's shape: dns_requirements.acme_challenge.{name,target} (superfly/docs
    # machines/api/certificates-resource.html.markerb @ 5c22c8c; fly-go types.go
    # ACMEChallengeRequirement).
    target = (requirements.get("acme_challenge") or {}).get("target")
    if not target:
        raise EdgeError(f"certificate {hostname}: Fly gave no dns_requirements.acme_challenge")
    return str(target)


def foreign_entry_point(rulesets: Sequence[Any] | None, adopted_id: str | None) -> Any | None:
    """The zone's cache-settings entry point when another hand made it, else None.

    `rulesets` are getRulesets results (id, name, kind, phase); offline the lookup
    answers nothing, which is no conflict.
    """
    for ruleset in rulesets or []:
        if (
            ruleset.phase == CACHE_PHASE
            and ruleset.kind == ENTRY_POINT_KIND
            and ruleset.name != RULESET_NAME
            and ruleset.id != adopted_id
        ):
            return ruleset
    return None


def adoption_message(
    ruleset: Any, *, zone: str, zone_id: str, resource_name: str, edge_name: str, edge_urn: str
) -> str:
    """One line: what is in the way and how to adopt it."""
    # Import ID `zones/<zone_id>/<ruleset_id>`: ruleset.py's "## Import" section
    # ('<{accounts|zones}/{account_id|zone_id}>/<ruleset_id>'); `--parent name=urn`:
    # pulumi/pulumi pkg/cmd/pulumi/operations/import.go.
    return (
        f"webhost:domain.cacheRules: zone {zone} already has a cache-rules entry point "
        f'(ruleset {ruleset.id}, "{ruleset.name}") that this stack did not make, and '
        "Cloudflare allows one per zone and phase; adopt it with `pulumi import "
        f"cloudflare:index/ruleset:Ruleset {resource_name} zones/{zone_id}/{ruleset.id} "
        f"--parent {edge_name}={edge_urn}`, then set webhost:domain.cacheRules.rulesetId "
        f"to {ruleset.id} (the next `pulumi up` replaces its rules with this stack's), "
        "or set cacheRules.enabled to false"
    )


class Edge(pulumi.ComponentResource):
    """The app's public face: addresses, certificates, records and zone settings."""

    addresses: pulumi.Output[list[str]]
    hosts: pulumi.Output[dict[str, Any]]
    ips: list[IpAddress]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("webhost:edge:Edge", name, None, opts)
        domain = args.domain
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        child = pulumi.ResourceOptions(parent=self)

        v6 = IpAddress(f"{name}-v6", app=args.app, type=catalog.IP_TYPES["v6"], opts=kept)
        kind = domain.ipv4_kind
        v4 = (
            IpAddress(f"{name}-v4", app=args.app, type=catalog.IP_TYPES[kind], opts=kept)
            if kind != "none"
            else None
        )
        self.ips = [v6] if v4 is None else [v6, v4]

        zone_id: pulumi.Input[str] = domain.zone_id or cloudflare.get_zone_output(
            filter={"name": domain.zone, "match": "all"},
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).apply(lambda zone: zone.zone_id)

        origin = self._origin_certificate(name, domain) if domain.certificate == "origin" else None
        hosts: dict[str, Any] = {}
        # A wildcard host's fqdn (`*.zone`) goes into resource names as it is: a URN's
        # name is free text (pulumi/pulumi sdk/go/common/resource/urn/urn.go IsValid
        # counts only the `::` delimiters), and `*` is in no other host's name. Cloudflare
        # takes `*` as a record's leading label, proxied included on every plan
        # (kubernetes-sigs/external-dns PR 2786, after Cloudflare's announcement), and
        # any octet in a label (developers.cloudflare.com/dns/manage-dns-records/
        # reference/dns-record-types, "A and AAAA"), so `_fly-ownership.*.zone` too.
        for fqdn in domain.fqdns:
            cert: Certificate | CustomCertificate
            if origin is None:
                cert = Certificate(f"{name}-cert-{fqdn}", app=args.app, hostname=fqdn, opts=kept)
            else:
                key, issued = origin
                # The Origin CA answers the leaf alone; Cloudflare's proxy, the only
                # client that ever sees it, trusts its own Origin CA root.
                cert = CustomCertificate(
                    f"{name}-custom-cert-{fqdn}",
                    app=args.app,
                    hostname=fqdn,
                    fullchain=issued.certificate,
                    private_key=key.private_key_pem,
                    opts=kept,
                )
            # (Pulumi name suffix, type, record name, content, proxied)
            records: list[tuple[str, str, pulumi.Input[str], pulumi.Input[str], bool]] = [
                (fqdn, "AAAA", fqdn, v6.address, domain.proxied)
            ]
            if v4 is not None:
                records.append((fqdn, "A", fqdn, v4.address, domain.proxied))
            if domain.proxied:
                # The certificate's outputs from Fly's dns_requirements.ownership
                # (`name`, `app_value`): providers/certificate.py and custom_certificate.py.
                # An imported certificate needs the same record before Fly serves it
                # (docs machines/api/certificates-resource, "Import custom certificate").
                records.append(
                    (
                        f"_fly-ownership.{fqdn}",
                        "TXT",
                        cert.ownership_txt_name,
                        cert.ownership_txt_value,
                        False,  # validation records are never proxied (TXT cannot be)
                    )
                )
            elif isinstance(cert, Certificate):  # config refuses origin without the proxy
                acme = cert.dns_requirements.apply(partial(_acme_target, fqdn))
                records.append(
                    (f"_acme-challenge.{fqdn}", "CNAME", f"_acme-challenge.{fqdn}", acme, False)
                )
            made: list[dict[str, Any]] = []
            dns: list[cloudflare.DnsRecord] = []
            for suffix, type_, record_name, content, proxied in records:
                record = cloudflare.DnsRecord(
                    f"{name}-{type_.lower()}-{suffix}",
                    zone_id=zone_id,
                    name=record_name,
                    type=type_,
                    content=content,
                    proxied=proxied,
                    ttl=AUTO_TTL,
                    comment=COMMENT,
                    opts=child,
                )
                dns.append(record)
                made.append({"type": type_, "name": record_name, "proxied": proxied})
            check = self._certificate_check(
                name, fqdn=fqdn, app=args.app, domain=domain, cert=cert, records=dns
            )
            hosts[fqdn] = {
                "url": f"https://{fqdn}",
                "certificate": check.status,
                "issuer": check.issuer,
                "expires": check.expires_at,
                "records": made,
            }

        if domain.owns_zone:
            self._zone(name, domain, zone_id, child)
            if domain.proxied and args.security_headers and args.security_headers.enabled:
                self._security_headers(name, args.security_headers, zone_id, child)

        self.addresses = pulumi.Output.all(*[ip.address for ip in self.ips]).apply(list)
        self.hosts = pulumi.Output.from_input(hosts)
        self.register_outputs({"addresses": self.addresses, "hosts": self.hosts})

    def _certificate_check(
        self,
        name: str,
        *,
        fqdn: str,
        app: pulumi.Input[str],
        domain: Domain,
        cert: Certificate | CustomCertificate,
        records: list[cloudflare.DnsRecord],
    ) -> CertificateCheck | CustomCertificateCheck:
        """Once the host's records exist, ask Fly to validate and wait until it has issued."""
        wait = domain.certificate_wait
        opts = pulumi.ResourceOptions(parent=self, depends_on=[cert, *records])
        inputs: dict[str, Any] = {
            "app": app,
            "hostname": cert.hostname,
            "proxied": domain.proxied,
            "timeout_seconds": wait.timeout_seconds,
            "interval_seconds": wait.interval_seconds,
            "on_timeout": wait.on_timeout,
            "records": [r.id for r in records],
        }
        check: CertificateCheck | CustomCertificateCheck
        if isinstance(cert, CustomCertificate):
            # A re-imported (renewed) certificate is checked again: its fingerprint is
            # one of the things the check waited for.
            inputs["records"] = [*inputs["records"], cert.fingerprint]
            check = CustomCertificateCheck(f"{name}-custom-check-{fqdn}", **inputs, opts=opts)
        else:
            check = CertificateCheck(f"{name}-cert-check-{fqdn}", **inputs, opts=opts)
        if wait.on_timeout == "warn":

            def warn(values: list[Any]) -> None:
                issued, status, missing = values
                if issued is False:
                    pulumi.log.warn(
                        f"certificate {fqdn}: not issued within {wait.timeout}; Fly's status "
                        f"is {status}; missing: {'; '.join(missing) or 'nothing Fly names'}",
                        resource=check,
                    )

            pulumi.Output.all(check.issued, check.status, check.missing).apply(warn)
        return check

    def _origin_certificate(
        self, name: str, domain: Domain
    ) -> tuple[OriginKey, cloudflare.OriginCaCertificate]:
        """The key (made here, a secret) and the Origin CA certificate for every host."""
        child = pulumi.ResourceOptions(parent=self)
        origin = domain.origin_certificate
        key = OriginKey(
            f"{name}-origin-key", hostnames=domain.fqdns, key_type=origin.key_type, opts=child
        )
        # origin_ca_certificate.py (pulumi_cloudflare 6.23.1): csr, hostnames and
        # request_type required, requested_validity one of Cloudflare's periods; every
        # input forces a new certificate (the Terraform provider's schema.go
        # RequiresReplace), whose Delete revokes the old one.
        issued = cloudflare.OriginCaCertificate(
            f"{name}-origin-cert",
            csr=key.csr_pem,
            hostnames=domain.fqdns,
            request_type=origin.request_type,
            requested_validity=origin.validity_days,
            opts=child,
        )
        return key, issued

    def _security_headers(
        self,
        name: str,
        headers: SecurityHeaders,
        zone_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """HSTS and nosniff on every proxied response of the zone (CSP stays in the app)."""
        # `value` is a dynamic attribute the bridge passes through unchanged, so its keys
        # are the API's own: {strict_transport_security: {enabled, max_age,
        # include_subdomains, preload, nosniff}} (cloudflare-go v6 zones/setting.go
        # SecurityHeadersValueStrictTransportSecurity; the Terraform provider's
        # zone_setting migration testdata v5_security_header.tf). The SDK docs' camelCase
        # example is taken by the API without an error but not held: a diff on every
        # refresh and HSTS never on (pulumi/pulumi-cloudflare#1579, open).
        cloudflare.ZoneSetting(
            f"{name}-security-header",
            zone_id=zone_id,
            setting_id="security_header",
            value={
                "strict_transport_security": {
                    "enabled": True,
                    "max_age": headers.hsts_max_age,
                    "include_subdomains": headers.include_subdomains,
                    "preload": headers.preload,
                    "nosniff": headers.nosniff,
                }
            },
            opts=opts,
        )

    def _zone(
        self, name: str, domain: Domain, zone_id: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> None:
        """Zone-wide: CAA for Let's Encrypt, SSL/TLS settings, the static-asset cache rule."""
        cloudflare.DnsRecord(
            f"{name}-caa",
            zone_id=zone_id,
            name=domain.zone,
            type="CAA",
            data={"flags": 0, "tag": "issue", "value": catalog.CAA_ISSUER},
            ttl=AUTO_TTL,
            comment=COMMENT,
            opts=opts,
        )
        # zone_setting.py's table of valid `setting_id`s and values: ssl off/flexible/
        # full/strict, always_use_https on/off, min_tls_version 1.0..1.3.
        for setting, value in catalog.ZONE_SETTINGS.items():
            cloudflare.ZoneSetting(
                f"{name}-{setting.replace('_', '-')}",
                zone_id=zone_id,
                setting_id=setting,
                value=value,
                opts=opts,
            )
        rules = domain.cache_rules
        if domain.proxied and rules.enabled:
            resource_name = f"{name}-cache"
            self._ruleset(
                resource_name, self._free_entry_point(name, resource_name, domain, zone_id), domain
            )

    def _free_entry_point(
        self, name: str, resource_name: str, domain: Domain, zone_id: pulumi.Input[str]
    ) -> pulumi.Output[str]:
        """The zone id, once the zone is known to have no cache entry point of another's.

        Creating a second entry point fails deep in the provider; this refuses first,
        in one line, before the Ruleset reaches it. Offline the lookup is unknown, so
        the Ruleset's zone id is too and the plan carries on.
        """
        found = cloudflare.get_rulesets_output(
            zone_id=zone_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        adopted = domain.cache_rules.ruleset_id

        def check(values: list[Any]) -> str:
            zone, result, urn = values
            taken = foreign_entry_point(result.rulesets, adopted)
            if taken is not None:
                raise EdgeError(
                    adoption_message(
                        taken,
                        zone=domain.zone,
                        zone_id=zone,
                        resource_name=resource_name,
                        edge_name=name,
                        edge_urn=urn,
                    )
                )
            return str(zone)

        # The Edge's own URN, for the message, without making the Ruleset (its child)
        # depend on its parent, which Pulumi refuses as a cycle.
        urn = pulumi.Output(set(), self.urn.future(), self.urn.is_known())
        return pulumi.Output.all(zone_id, found, urn).apply(check)

    def _ruleset(self, resource_name: str, zone_id: pulumi.Output[str], domain: Domain) -> None:
        rules = domain.cache_rules
        # ruleset.py: kind "zone" and a phase make the zone's entry point for that
        # phase; action "set_cache_settings", edge_ttl mode "override_origin" with
        # `default` seconds, browser_ttl mode "respect_origin" are its enums.
        cloudflare.Ruleset(
            resource_name,
            zone_id=zone_id,
            kind=ENTRY_POINT_KIND,
            phase=CACHE_PHASE,
            name=RULESET_NAME,
            description="Phoenix's fingerprinted static files, cached at the edge",
            rules=[
                {
                    "action": "set_cache_settings",
                    "expression": cache_expression(domain.fqdns, rules.paths),
                    "description": "static assets: long edge TTL",
                    "enabled": True,
                    "action_parameters": {
                        "cache": True,
                        "edge_ttl": {
                            "mode": "override_origin",
                            "default": rules.edge_ttl_seconds,
                        },
                        "browser_ttl": {"mode": "respect_origin"},
                    },
                }
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
