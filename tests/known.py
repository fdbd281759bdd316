"""Mocks that answer as providers would after `pulumi up`: every computed output known."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from cli import engine

APP = "pulumi-python:dynamic/fly:App"
SECRETS = "pulumi-python:dynamic/fly:AppSecrets"
IP = "pulumi-python:dynamic/fly:IpAddress"
CERT = "pulumi-python:dynamic/fly:Certificate"
PASSWORD = "random:index/randomPassword:RandomPassword"
COMMAND = "command:local:Command"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
GET_ZONE = "cloudflare:index/getZone:getZone"
REDIS = "pulumi-python:dynamic/fly:UpstashRedis"
CERT_CHECK = "pulumi-python:dynamic/fly:CertificateCheck"
MACHINES = "pulumi-python:dynamic/fly:MachineCounts"
ORIGIN_KEY = "pulumi-python:dynamic/tls:OriginKey"
ORIGIN_CERT = "cloudflare:index/originCaCertificate:OriginCaCertificate"
CUSTOM_CERT = "pulumi-python:dynamic/fly:CustomCertificate"
CUSTOM_CHECK = "pulumi-python:dynamic/fly:CustomCertificateCheck"

SENSITIVE = "SENSITIVE-VALUE"
LOOKED_UP_ZONE_ID = "0123456789abcdef0123456789abcdef"
ADDRESSES = {"v6": "2a09:8280:1::4e:1f2", "v4": "137.66.9.9", "shared_v4": "66.241.124.17"}


def attach_output(app: str, cluster: str, database: str) -> str:
    """What `fly postgres attach` prints (flyctl's format), with a known password."""
    return (
        "Checking for existing attachments\nRegistering attachment\nCreating database\n"
        f"Creating user\n\nPostgres cluster {cluster} is now attached to {app}\n"
        f"The following secret was added to {app}:\n"
        f"  WEBHOST_ATTACH_DATABASE_URL=postgres://{database}:{SENSITIVE}@{cluster}.flycast:5432/"
        f"{database}?sslmode=disable\n"
    )


def create_output(cluster: str) -> str:
    """What `fly postgres create` prints (flyctl's format), with a known password."""
    return (
        f"Postgres cluster {cluster} created\n  Username:    postgres\n"
        f"  Password:    {SENSITIVE}\n  Hostname:    {cluster}.internal\n"
        "  Flycast:     fdaa:2:7ab8:0:1::2\n  Proxy port:  5432\n  Postgres port:  5433\n"
        f"  Connection string: postgres://postgres:{SENSITIVE}@{cluster}.flycast:5432\n\n"
        "Save your credentials in a secure place -- you won't be able to see them again!\n"
    )


OWNERSHIP_APP_VALUE = "app-7d3kq1"
# What the key, the Origin CA and Fly answer in origin mode: a marked private key (the
# secret that must stay secret), a CSR and a certificate (public), Cloudflare's expiry.
ORIGIN_KEY_PEM = f"-----BEGIN PRIVATE KEY-----\n{SENSITIVE}-origin-key\n-----END PRIVATE KEY-----\n"
ORIGIN_CSR_PEM = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBcsr\n-----END CERTIFICATE REQUEST-----\n"
ORIGIN_CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n"
ORIGIN_EXPIRES = "2041-05-01T12:00:00Z"
ORIGIN_ISSUER = "CloudFlare Origin SSL ECC Certificate Authority"


def acme_target(hostname: str) -> str:
    return f"{hostname}.x7q2p.flydns.net"


class KnownMocks(engine.PlanMocks):
    def __init__(self) -> None:
        super().__init__(preview=False)

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == PASSWORD:
            state["result"] = f"{SENSITIVE}-{args.name}"
        if args.typ == SECRETS:
            state["version"] = 7
        if args.typ == APP:
            state["hostname"] = f"{args.inputs['name']}.fly.dev"
        if args.typ == IP:
            state["address"] = ADDRESSES[args.inputs["type"]]
        if args.typ == COMMAND:
            env = args.inputs.get("environment", {})
            if args.name.endswith("-attach") and "WEBHOST_DB_USER" in env:
                state["stdout"] = attach_output(
                    env["WEBHOST_APP"], env["WEBHOST_PG_APP"], env["WEBHOST_DB_NAME"]
                )
            elif "WEBHOST_CLUSTER_SIZE" in env:  # a cluster, the first or a restore
                state["stdout"] = create_output(env["WEBHOST_PG_APP"])
            else:
                state["stdout"] = ""
        if args.typ == MACHINES:
            # What MachineCountsProvider._converge answers once the counts are right.
            state["observed"] = {r: n for r, n in args.inputs["counts"].items() if n}
        if args.typ == REDIS:
            state["url"] = f"redis://default:{SENSITIVE}@fly-{args.inputs['name']}.upstash.io:6379"
        if args.typ == CERT:
            hostname = args.inputs["hostname"]
            state["status"] = "pending_validation"
            state["configured"] = False
            state["dns_requirements"] = {
                "aaaa": [ADDRESSES["v6"]],
                "acme_challenge": {
                    "name": f"_acme-challenge.{hostname}",
                    "target": acme_target(hostname),
                },
                # Fly's shape: superfly/docs machines/api/certificates-resource.html.markerb
                # @ 5c22c8c (POST .../certificates/acme), fly-go types.go OwnershipRequirement.
                "ownership": {
                    "name": f"_fly-ownership.{hostname}",
                    "app_value": OWNERSHIP_APP_VALUE,
                    "org_value": "org-k2x9",
                },
            }
            # What CertificateProvider._outs derives from it (fly/providers/certificate.py).
            state["ownership_txt_name"] = f"_fly-ownership.{hostname}"
            state["ownership_txt_value"] = OWNERSHIP_APP_VALUE
        if args.typ == ORIGIN_KEY:
            # components/tls.py OriginKeyProvider.create
            state.update(
                private_key_pem=ORIGIN_KEY_PEM,
                csr_pem=ORIGIN_CSR_PEM,
                public_key_fingerprint="9f" * 32,
            )
        if args.typ == ORIGIN_CERT:
            # The Origin CA's answer (pulumi_cloudflare origin_ca_certificate.py outputs).
            state.update(certificate=ORIGIN_CERT_PEM, expiresOn=ORIGIN_EXPIRES)
            state.setdefault("requestedValidity", 5475)
        if args.typ == CUSTOM_CERT:
            # providers/custom_certificate.py CustomCertificateProvider._outs after an import.
            hostname = args.inputs["hostname"]
            state.pop("private_key", None)  # never an output
            state.update(
                fingerprint="c3" * 32,
                issuer=ORIGIN_ISSUER,
                expires_at=ORIGIN_EXPIRES,
                ownership_txt_name=f"_fly-ownership.{hostname}",
                ownership_txt_value=OWNERSHIP_APP_VALUE,
            )
        if args.typ == CUSTOM_CHECK:
            # components/fly/customcheck.py once the import is verified.
            state.update(
                status="active",
                issued=True,
                issuer=ORIGIN_ISSUER,
                expires_at=ORIGIN_EXPIRES,
                missing=[],
            )
        if args.typ == CERT_CHECK:
            # What CertificateCheckProvider answers for a certificate still validating
            # when the wait only warns (components/fly/providers/certificate_check.py).
            state.update(status="pending_validation", issued=False, issuer=None, expires_at=None)
            state["missing"] = []
        return resource_id, state

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == GET_ZONE:
            return {"id": LOOKED_UP_ZONE_ID, "zoneId": LOOKED_UP_ZONE_ID, "name": "x"}, []
        return super().call(args)
