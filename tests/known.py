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

SENSITIVE = "SENSITIVE-VALUE"
LOOKED_UP_ZONE_ID = "0123456789abcdef0123456789abcdef"
ADDRESSES = {"v6": "2a09:8280:1::4e:1f2", "v4": "137.66.9.9", "shared_v4": "66.241.124.17"}


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
            }
        return resource_id, state

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == GET_ZONE:
            return {"id": LOOKED_UP_ZONE_ID, "zoneId": LOOKED_UP_ZONE_ID, "name": "x"}, []
        return super().call(args)
