"""The fake Cloudflare's read routes (fakecf/api.py answers them from the state file)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fakeprovider.rest import Answer, RestServer, Route

from fakecf import api
from fakecf.store import Store

# 404s: 81044 for a record (api.py _missing_record); 7003 "Could not route" for a path
# the API does not have; 1001 for an unknown zone (cloudflare/terraform-provider-
# cloudflare#192). 10000 "Authentication error" without a token (developers.cloudflare.
# com/fundamentals/api/troubleshooting).
UNAUTHORISED: Answer = (401, api.failure(10000, "Authentication error"))
NO_ROUTE: Answer = (404, api.failure(7003, "Could not route to the requested path"))
NO_ZONE: Answer = (404, api.failure(1001, "Invalid zone identifier"))


def _zoned(handler: Any) -> Any:
    def wrapped(state: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
        if m["zone"] not in state["zones"]:
            return NO_ZONE
        return handler(state, m, q)  # type: ignore[no-any-return]

    return wrapped


def _entrypoint(state: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    found = api.rest_entrypoint(state, m["zone"], m["phase"])
    if found is None:
        return 404, api.failure(
            None, "could not find entrypoint ruleset in the " + m["phase"] + " phase"
        )
    return 200, api.envelope(found)


def _certificates(state: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    zone_id = q.get("zone_id", "")
    if zone_id not in state["zones"]:
        return NO_ZONE
    return 200, api.envelope(api.rest_certificates(state, zone_id))


ROUTES: list[Route] = [
    (re.compile(r"/zones"), lambda s, m, q: (200, api.envelope(api.rest_zones(s)))),
    (
        re.compile(r"/zones/(?P<zone>[^/]+)"),
        _zoned(lambda s, m, q: (200, api.envelope(api.rest_zone(s, m["zone"])))),
    ),
    (
        re.compile(r"/zones/(?P<zone>[^/]+)/dns_records"),
        _zoned(lambda s, m, q: (200, api.envelope(api.rest_records(s, m["zone"], q)))),
    ),
    (
        re.compile(r"/zones/(?P<zone>[^/]+)/settings/(?P<setting>[a-z_0-9]+)"),
        _zoned(lambda s, m, q: (200, api.envelope(api.rest_setting(s, m["zone"], m["setting"])))),
    ),
    (
        re.compile(r"/zones/(?P<zone>[^/]+)/rulesets/phases/(?P<phase>[a-z_0-9]+)/entrypoint"),
        _zoned(_entrypoint),
    ),
    (re.compile(r"/certificates"), _certificates),
]


def server(store: Store) -> RestServer:
    """`with server(store) as url:` the API root is url (CLOUDFLARE_BASE_URL)."""
    return RestServer(ROUTES, store.snapshot, UNAUTHORISED, NO_ROUTE)
