"""Edge policy: the Cloudflare records Fly's guidance prescribes."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies import spec


def edge_records(args: StackValidationArgs, report: ReportViolation) -> None:
    records = [r for r in args.resources if r.resource_type == spec.DNS_RECORD]
    if not records:
        args.not_applicable("no Cloudflare DNS records in this stack")
        return
    proxied_hosts = {
        r.props.get("name")
        for r in records
        if r.props.get("type") == "AAAA" and r.props.get("proxied") is True
    }
    for record in records:
        name, kind = str(record.props.get("name") or ""), record.props.get("type")
        if name.startswith(spec.ACME_PREFIX) and record.props.get("proxied") is True:
            report(
                f"{record.name}: {kind} {name} validates a certificate and must not be proxied",
                record.urn,
            )
        elif name in proxied_hosts and kind in {"A", "CNAME"}:
            report(
                f"{record.name}: {kind} {name} beside a proxied AAAA; Fly's guidance for the "
                "proxied mode is the AAAA record only",
                record.urn,
            )
        elif name in proxied_hosts and kind == "AAAA" and record.props.get("proxied") is not True:
            report(f"{record.name}: AAAA {name} unproxied beside a proxied one", record.urn)


POLICIES = [
    StackValidationPolicy(
        name="edge-records",
        description="No certificate-validation record is proxied; proxied hosts have only "
        "their proxied AAAA record, as Fly prescribes.",
        validate=edge_records,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
