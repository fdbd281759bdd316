"""Edge policy: the Cloudflare records Fly's guidance prescribes.

Fly's guidance (superfly/docs networking/understanding-cloudflare.html.md @ 5c22c8c):
- DNS-only: A and AAAA unproxied; the `_acme-challenge` CNAME may stay (DNS-01).
- proxied: A and AAAA proxied, a `_fly-ownership` TXT per host; no DNS-01, so no
  `_acme-challenge` record, as Cloudflare's Universal SSL inserts hidden challenge
  records that break it.
- Records Fly validates with are never proxied.

The mode is the stack's declared `domain.proxied` when a Platform declares one;
without it, a host whose A or AAAA record is proxied counts as proxied.
"""

from __future__ import annotations

from collections.abc import Iterable

from pulumi_policy import (
    ReportViolation,
    StackValidationArgs,
)

from policies import spec

OWNERSHIP_PREFIX = "_fly-ownership."
VALIDATION_PREFIXES = (spec.ACME_PREFIX, OWNERSHIP_PREFIX)
ADDRESS_TYPES = frozenset({"A", "AAAA"})


def _declared_mode(resources: Iterable[spec.Resource]) -> bool | None:
    """The stack's `domain.proxied`, or None when no valid spec declares a domain."""
    found = spec.platform(resources)
    if found is None:
        return None
    try:
        domain = spec.stack_config(found).domain
    except spec.SpecError:
        return None  # the stack policies report a spec that is not config
    return None if domain is None else domain.proxied


def edge_records(args: StackValidationArgs, report: ReportViolation) -> None:
    """No certificate-validation record is proxied; A and AAAA are proxied in the
    proxied mode and unproxied DNS-only; no _acme-challenge record behind the proxy,
    as Fly prescribes."""
    records = [r for r in args.resources if r.resource_type == spec.DNS_RECORD]
    if not records:
        args.not_applicable("no Cloudflare DNS records in this stack")
        return
    declared = _declared_mode(args.resources)
    proxied_hosts = {
        str(r.props.get("name"))
        for r in records
        if r.props.get("type") in ADDRESS_TYPES and r.props.get("proxied") is True
    }

    def host_proxied(host: str) -> bool:
        return declared if declared is not None else host in proxied_hosts

    for record in records:
        name, kind = str(record.props.get("name") or ""), record.props.get("type")
        proxied = record.props.get("proxied") is True
        where = f"{record.name}: {kind} {name or '(name known after create)'}"
        if kind == "TXT" or name.startswith(VALIDATION_PREFIXES):
            if proxied:
                report(f"{where} validates a certificate and must not be proxied", record.urn)
            elif name.startswith(spec.ACME_PREFIX) and host_proxied(
                name.removeprefix(spec.ACME_PREFIX)
            ):
                report(
                    f"{where} in the proxied mode: DNS-01 conflicts with Cloudflare's Universal "
                    "SSL; Fly validates over HTTP-01 through the proxy with the _fly-ownership "
                    "TXT record",
                    record.urn,
                )
        elif kind in ADDRESS_TYPES and proxied != host_proxied(name):
            mode = "proxied" if host_proxied(name) else "DNS-only"
            state = "proxied" if proxied else "unproxied"
            report(
                f"{where} {state} in the {mode} mode; Fly's guidance has A and AAAA "
                f"{'proxied' if mode == 'proxied' else 'unproxied'} there",
                record.urn,
            )


POLICIES = [spec.stack_policy("edge-records", edge_records)]
