"""The fake Cloudflare's REST API: the reads `webhost-infra preflight` and
`webhost-infra recover` make, over the state the provider plugin (provider.py) keeps,
so a record the plugin made is one this API lists (fakecf/api.py answers each route).

Served under /client/v4 (the v4 API's root, developers.cloudflare.com/api) by
e2e/fakeprovider/rest.py. Every answer is the v4 envelope (`{"result", "success",
"errors", "messages"}`). GET /user/tokens/verify answers the token's `status`
(active, disabled, expired); a wrong token gets 401 with code 1000 "Invalid API Token"
there and 400 elsewhere; a path the token has no permission for (`denied`) gets 403
with code 10000 "Authentication error" (developers.cloudflare.com/fundamentals/api/
troubleshooting). GET /zones?name= lists the zones of that name; GET
/zones/{id}/dns_records?name= the records whose full name is exactly that name (the
API's default `name` match is exact).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakeprovider.rest import Answer, RestServer, RestState, Route, Wording

from fakecf import api
from fakecf.store import Store

Read = Callable[[Mapping[str, Any], "re.Match[str]", Mapping[str, str]], Answer]


# -- the answers, from the state -------------------------------------------------
# Shapes: Cloudflare API v4 reference, developers.cloudflare.com/api: every answer is the
# envelope {"result", "success", "errors", "messages"} (lists add "result_info"); DNS
# records (dns/subresources/records/methods/list: filters `type`, `name.exact`, the
# plain `name` being exact too), zones (zones/methods/get, list), zone settings
# (zones/subresources/settings/methods/get: {id, value, editable, modified_on}),
# entry-point rulesets (rulesets/subresources/phases/methods/get: 404 when the phase
# has none), Origin CA certificates (origin_ca_certificates/methods/list, `zone_id`).
def envelope(result: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"result": result, "success": True, "errors": [], "messages": []}
    if isinstance(result, list):
        body["result_info"] = {
            "page": 1,
            "per_page": 100,
            "count": len(result),
            "total_count": len(result),
            "total_pages": 1,
        }
    return body


def failure(code: int | None, message: str) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message} if code else {"message": message}
    return {"result": None, "success": False, "errors": [error], "messages": []}


def rest_zone(state: Mapping[str, Any], zone_id: str) -> dict[str, Any] | None:
    found = state["zones"].get(zone_id)
    if found is None:
        return None
    return {
        "id": found["id"],
        "name": found["name"],
        "status": found["status"],
        "name_servers": found["nameServers"],
        "created_on": found["createdOn"],
    }


def rest_zones(state: Mapping[str, Any], name: str | None) -> list[dict[str, Any]]:
    found = api.find_zones(state, {"name": name})
    return [z for z in (rest_zone(state, f["id"]) for f in found) if z is not None]


def rest_records(
    state: Mapping[str, Any], zone_id: str, query: Mapping[str, str]
) -> list[dict[str, Any]]:
    name = query.get("name.exact") or query.get("name")
    zone_name = state["zones"][zone_id]["name"]
    out = []
    for record_id, record in state["dnsRecords"].items():
        if record.get("zoneId") != zone_id:
            continue
        if name is not None and record.get("_fqdn") != name:
            continue
        if query.get("type") and record["type"] != query["type"].upper():
            continue
        out.append(
            {
                "id": record_id,
                "zone_id": zone_id,
                "zone_name": zone_name,
                "name": record.get("_fqdn"),
                "type": record["type"],
                "content": record.get("content"),
                "data": api.public(record).get("data"),
                "proxiable": record.get("proxiable"),
                "proxied": bool(record.get("proxied")),
                "ttl": record.get("ttl", 1),
                "comment": record.get("comment"),
                "tags": record.get("tags") or [],
                "created_on": record.get("createdOn"),
                "modified_on": record.get("modifiedOn"),
            }
        )
    return out


def rest_setting(state: Mapping[str, Any], zone_id: str, setting_id: str) -> dict[str, Any]:
    entry = api.get_setting(state, zone_id, setting_id)
    return {
        "id": setting_id,
        "value": entry.get("value"),
        "editable": True,
        "modified_on": entry.get("modifiedOn"),
    }


def rest_rulesets(state: Mapping[str, Any], zone_id: str) -> list[dict[str, Any]]:
    """GET /zones/{zone}/rulesets (rulesets/methods/list): the zone's rulesets, no rules."""
    return [
        {
            "id": ruleset_id,
            "name": ruleset.get("name"),
            "kind": ruleset["kind"],
            "phase": ruleset["phase"],
            "version": ruleset["version"],
            "last_updated": ruleset["lastUpdated"],
        }
        for ruleset_id, ruleset in state["rulesets"].items()
        if ruleset.get("zoneId") == zone_id
    ]


def rest_entrypoint(state: Mapping[str, Any], zone_id: str, phase: str) -> dict[str, Any] | None:
    for ruleset_id, ruleset in state["rulesets"].items():
        if (
            ruleset.get("zoneId") == zone_id
            and ruleset["kind"] == "zone"
            and ruleset["phase"] == phase
        ):
            return {
                "id": ruleset_id,
                "name": ruleset.get("name"),
                "kind": "zone",
                "phase": phase,
                "version": ruleset["version"],
                "last_updated": ruleset["lastUpdated"],
                "rules": ruleset["rules"],
            }
    return None


def rest_certificates(state: Mapping[str, Any], zone_id: str) -> list[dict[str, Any]]:
    zone_name = state["zones"][zone_id]["name"]

    def in_zone(host: str) -> bool:
        bare = host.removeprefix("*.")
        return bare == zone_name or bare.endswith(f".{zone_name}")

    return [
        {
            "id": cert_id,
            "hostnames": cert["hostnames"],
            "request_type": cert["requestType"],
            "requested_validity": cert["requestedValidity"],
            "expires_on": cert["expiresOn"],
            "certificate": cert["certificate"],
        }
        for cert_id, cert in state.get("originCaCertificates", {}).items()
        if any(in_zone(h) for h in cert["hostnames"])
    ]


# -- the routes -----------------------------------------------------------
# 7003 "Could not route" for a path the API does not have (api.py zone()); 10405 for a
# write to this read-only face.
WORDING = Wording(
    not_found=(404, failure(7003, "Could not route to the requested path")),
    read_only=(405, failure(10405, "read only")),
    injected=lambda status: failure(None, "injected failure"),
)


def _zoned(handler: Read) -> Read:
    """A route under /zones/{zone}: the API's answer for a bad or unknown zone id first."""

    def wrapped(state: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
        try:
            api.zone(state, m["zone"], "GET", "")
        except api.CloudflareError as exc:
            return exc.status, failure(exc.code, str(exc))
        return handler(state, m, q)

    return wrapped


def _entrypoint(state: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    found = rest_entrypoint(state, m["zone"], m["phase"])
    if found is None:
        return 404, failure(
            None, "could not find entrypoint ruleset in the " + m["phase"] + " phase"
        )
    return 200, envelope(found)


def _certificates(state: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    zone_id = q.get("zone_id", "")
    if zone_id not in state["zones"]:
        return 404, failure(1001, "Invalid zone identifier")
    return 200, envelope(rest_certificates(state, zone_id))


def _ok(read: Callable[[Mapping[str, Any], re.Match[str], Mapping[str, str]], Any]) -> Read:
    return lambda s, m, q: (200, envelope(read(s, m, q)))


ZONE = r"/zones/(?P<zone>[^/]+)"
ROUTES: list[Route] = [
    (re.compile(r"/zones"), _ok(lambda s, m, q: rest_zones(s, q.get("name")))),
    (re.compile(ZONE), _zoned(_ok(lambda s, m, q: rest_zone(s, m["zone"])))),
    (
        re.compile(ZONE + r"/dns_records"),
        _zoned(_ok(lambda s, m, q: rest_records(s, m["zone"], q))),
    ),
    (
        re.compile(ZONE + r"/settings/(?P<setting>[a-z_0-9]+)"),
        _zoned(_ok(lambda s, m, q: rest_setting(s, m["zone"], m["setting"]))),
    ),
    (re.compile(ZONE + r"/rulesets"), _zoned(_ok(lambda s, m, q: rest_rulesets(s, m["zone"])))),
    (re.compile(ZONE + r"/rulesets/phases/(?P<phase>[a-z_0-9]+)/entrypoint"), _zoned(_entrypoint)),
    (re.compile(r"/certificates"), _certificates),
]


@dataclass
class CloudflareState(RestState):
    token: str = ""
    token_status: str = "active"  # noqa: S105 - a status
    denied: list[str] = field(default_factory=list)  # path regexes without permission (403)


class FakeCloudflareApi(RestServer):
    """`with FakeCloudflareApi(store, token) as cf:` serves on `cf.url` (its /client/v4)."""

    state: CloudflareState

    def __init__(self, store: Store, token: str) -> None:
        verify: Route = (
            re.compile(r"/user/tokens/verify"),
            lambda s, m, q: (200, envelope({"id": "f" * 32, "status": self.state.token_status})),
        )
        super().__init__(
            [verify, *ROUTES],
            store.snapshot,
            authorise=self._authorise,
            wording=WORDING,
            prefix="/client/v4",
            state=CloudflareState(token=token),
        )

    def _authorise(self, path: str, auth: str | None) -> Answer | None:
        if auth != f"Bearer {self.state.token}":
            status = 401 if path == "/user/tokens/verify" else 400
            return status, failure(1000, "Invalid API Token")
        if any(re.fullmatch(p, path) for p in self.state.denied):
            return 403, failure(10000, "Authentication error")
        return None
