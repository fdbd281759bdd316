"""The fake Cloudflare's REST API, for the reads `webhost-infra preflight` makes.

The provider plugin (provider.py) is this fake's other face; both work on the same
state (store.py), so a record the plugin made is one this API lists. Answers follow the
v4 envelope (`{"result", "success", "errors", "messages"}`, developers.cloudflare.com
/fundamentals/api/): GET /user/tokens/verify answers the token's `status`
(active, disabled, expired) or 401 with code 1000 "Invalid API Token"; a token without a
permission gets 403 with code 10000 "Authentication error"; GET /zones?name= lists the
zones of that name; GET /zones/{id}/dns_records?name= lists the records whose full name
is exactly that name (the API's default `name` match is exact).

Only reads: anything else is a 405, so preflight cannot write here by mistake.
`fail_next` answers a path with a status, or `hang` (no answer until the test is over).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakecf import api
from fakecf.store import Store


@dataclass
class RestState:
    token: str
    token_status: str = "active"  # noqa: S105 - a status
    # path regexes the token has no permission for (403)
    denied: list[str] = field(default_factory=list)
    faults: list[tuple[str, int | None]] = field(default_factory=list)  # (regex, status/None)
    requests: list[tuple[str, str]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def fail_next(self, path: str, status: int | None) -> None:
        """The next GET of `path` (a regex) answers `status`, or never (None)."""
        self.faults.append((path, status))


def envelope(result: Any, status: int = 200, code: int = 0, message: str = "") -> tuple[int, Any]:
    if status >= 400:
        error = {"code": code, "message": message}
        return status, {"result": None, "success": False, "errors": [error], "messages": []}
    return status, {"result": result, "success": True, "errors": [], "messages": []}


def _zone(found: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": found["id"], "name": found["name"], "status": found["status"]}


def _record(record_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    shown = api.public(record)
    return {
        "id": record_id,
        "zone_id": record.get("zoneId"),
        "name": record.get("_fqdn"),
        "type": record.get("type"),
        "content": record.get("content"),
        "data": shown.get("data"),
        "proxied": bool(record.get("proxied")),
        "comment": record.get("comment"),
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        path = split.path.removeprefix("/client/v4")
        query = {k: v[0] for k, v in parse_qs(split.query).items()}
        state = self.server.state
        state.requests.append(("GET", self.path))
        for fault in list(state.faults):
            if re.fullmatch(fault[0], path):
                state.faults.remove(fault)
                if fault[1] is None:
                    state.released.wait()
                    return
                self._answer(*envelope(None, fault[1], 0, "injected failure"))
                return
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            self._answer(*envelope(None, 401 if path == "/user/tokens/verify" else 400,
                                   1000, "Invalid API Token"))  # fmt: skip
            return
        if any(re.fullmatch(p, path) for p in state.denied):
            self._answer(*envelope(None, 403, 10000, "Authentication error"))
            return
        self._answer(*self._route(path, query))

    def _route(self, path: str, query: Mapping[str, str]) -> tuple[int, Any]:
        if path == "/user/tokens/verify":
            return envelope({"id": "f" * 32, "status": self.server.state.token_status})
        snapshot = self.server.store.snapshot()
        if path == "/zones":
            found = api.find_zones(snapshot, {"name": query.get("name")})
            return envelope([_zone(z) for z in found])
        m = re.fullmatch(r"/zones/([^/]+)(/.*)?", path)
        if m is None:
            return envelope(None, 404, 7000, "No route for that URI")
        try:
            found_zone = api.zone(snapshot, m[1], "GET", m[2] or "")
        except api.CloudflareError as exc:
            return envelope(None, exc.status, exc.code or 0, str(exc))
        return self._zone_route(snapshot, found_zone, m[2] or "", query)

    @staticmethod
    def _zone_route(
        snapshot: Mapping[str, Any],
        zone: Mapping[str, Any],
        rest: str,
        query: Mapping[str, str],
    ) -> tuple[int, Any]:
        wanted = (query.get("name") or "").rstrip(".").lower()
        answers: dict[str, Any] = {
            "": _zone(zone),
            "/dns_records": [
                _record(record_id, record)
                for record_id, record in snapshot["dnsRecords"].items()
                if record.get("zoneId") == zone["id"]
                and (not wanted or record.get("_fqdn") == wanted)
            ],
            "/settings/ssl": {
                "id": "ssl",
                "value": (zone.get("settings") or {}).get("ssl", {}).get("value", "full"),
                "editable": True,
            },
            "/rulesets": [],
        }
        if rest not in answers:
            return envelope(None, 404, 7000, "No route for that URI")
        return envelope(answers[rest])

    def _refuse(self) -> None:
        self._answer(405, {"success": False, "errors": [{"code": 10405, "message": "read only"}]})

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: RestState, store: Store) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.store = store


class FakeCloudflareApi:
    """`with FakeCloudflareApi(store, token) as cf:` serves on `cf.url` (base, /client/v4)."""

    def __init__(self, store: Store, token: str) -> None:
        self.state = RestState(token)
        self.store = store
        self._server = _Server(self.state, store)
        # shutdown() waits out one poll: 0.5 s by default, at every test's teardown
        poll = {"poll_interval": 0.02}
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs=poll, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/client/v4"

    def __enter__(self) -> FakeCloudflareApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.released.set()
        self._server.shutdown()
        self._server.server_close()
