"""Edge (`webhost:edge:Edge`): public IPs, certificates and Cloudflare DNS for the app.

Replaces the runbook's `fly ips allocate-*`, `fly certs add` and "add A and
AAAA records" steps, following Fly's Cloudflare guidance rather than the
runbook's: behind Cloudflare's proxy a host has one proxied AAAA record and no
A record; DNS-only, it has unproxied A and AAAA records. In both modes each
host gets the `_acme-challenge` CNAME Fly asks for in the certificate's
`dns_requirements`, never proxied, so Let's Encrypt can validate over DNS-01
whatever Cloudflare does to HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from components import catalog
from components.config import Domain
from components.fly.resources import Certificate, IpAddress

AUTO_TTL = 1  # Cloudflare's "automatic"; the only TTL a proxied record takes
COMMENT = "managed by webhost-infra (Pulumi)"


@dataclass(frozen=True)
class EdgeArgs:
    app: pulumi.Input[str]  # the Fly app's name, as an output of the app resource
    domain: Domain
    protect: bool = False


def _acme_target(requirements: dict[str, Any]) -> str:
    target: str = requirements["acme_challenge"]["target"]
    return target


def cache_expression(hosts: list[str], paths: list[str]) -> str:
    """Cloudflare rules language: these hosts, and a path under one of these patterns."""
    host_set = " ".join(f'"{h}"' for h in hosts)
    matches = [
        f'starts_with(http.request.uri.path, "{p.removesuffix("*")}")'
        if p.endswith("*")
        else f'http.request.uri.path eq "{p}"'
        for p in paths
    ]
    return f"(http.host in {{{host_set}}}) and ({' or '.join(matches)})"


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

        hosts: dict[str, Any] = {}
        for fqdn in domain.fqdns:
            cert = Certificate(f"{name}-cert-{fqdn}", app=args.app, hostname=fqdn, opts=kept)

            records = [("AAAA", fqdn, v6.address, domain.proxied)]
            if v4 is not None and not domain.proxied:
                records.append(("A", fqdn, v4.address, False))
            # Certificate validation: never proxied, whatever the mode.
            acme = cert.dns_requirements.apply(_acme_target)
            records.append(("CNAME", f"_acme-challenge.{fqdn}", acme, False))
            made = []
            for type_, record_name, content, proxied in records:
                cloudflare.DnsRecord(
                    f"{name}-{type_.lower()}-{record_name}",
                    zone_id=zone_id,
                    name=record_name,
                    type=type_,
                    content=content,
                    proxied=proxied,
                    ttl=AUTO_TTL,
                    comment=COMMENT,
                    opts=child,
                )
                made.append({"type": type_, "name": record_name, "proxied": proxied})
            hosts[fqdn] = {
                "url": f"https://{fqdn}",
                "certificate": cert.status,
                "records": made,
            }

        if domain.owns_zone:
            self._zone(name, domain, zone_id, child)

        self.addresses = pulumi.Output.all(*[ip.address for ip in self.ips]).apply(list)
        self.hosts = pulumi.Output.from_input(hosts)
        self.register_outputs({"addresses": self.addresses, "hosts": self.hosts})

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
            cloudflare.Ruleset(
                f"{name}-cache",
                zone_id=zone_id,
                kind="zone",
                phase="http_request_cache_settings",
                name="webhost static assets",
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
                opts=opts,
            )
