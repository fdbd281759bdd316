"""A stateful fake of the Fly Machines REST endpoints this program uses, over real HTTP.

Served on 127.0.0.1 from a thread. Keeps apps and secrets like Fly does, checks
the bearer token, logs every request, and can be told to answer the next
matching requests with a failure (status, headers) before behaving again.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

TOKEN = "fake-fly-token"


@dataclass
class Fault:
    method: str
    path: str  # regex, full match
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"error": "injected failure"})


@dataclass
class Request:
    method: str
    path: str
    body: Any
    authorization: str | None


class FlyState:
    def __init__(self) -> None:
        self.apps: dict[str, dict[str, Any]] = {}
        self.secrets: dict[str, dict[str, str]] = {}
        self.secrets_version: dict[str, int] = {}
        self.ips: dict[str, list[dict[str, Any]]] = {}
        self.certificates: dict[str, dict[str, dict[str, Any]]] = {}
        # GraphQL add-ons (Upstash Redis), organizations and plans
        self.add_ons: dict[str, dict[str, Any]] = {}
        self.organizations = {"webhost-systems": "org_WebHost1", "other-org": "org_Other2"}
        self.plans = [
            {"id": "plan_payg", "displayName": "Pay-as-you-go"},
            {"id": "plan_250", "displayName": "Fixed 250MB"},
        ]
        self._next_ip = 1
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def fail_next(
        self, method: str, path: str, status: int, times: int = 1, **headers: str
    ) -> None:
        for _ in range(times):
            self.faults.append(Fault(method, path, status, dict(headers)))

    def calls(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]


def _secret_list(values: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "digest": hashlib.sha256(value.encode()).hexdigest()[:16]}
        for name, value in sorted(values.items())
    ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        state = self.server.state
        with state.lock:
            state.requests.append(
                Request(method, self.path, body, self.headers.get("Authorization"))
            )
            for fault in state.faults:
                if fault.method == method and re.fullmatch(fault.path, self.path):
                    state.faults.remove(fault)
                    self._send(fault.status, fault.body, fault.headers)
                    return
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"error": "unauthorized"})
                return
            status, answer = self._route(method, self.path, body or {})
        self._send(status, answer)

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.server.state
        if path == "/v1/apps" and method == "POST":
            name, org = body["app_name"], body["org_slug"]
            if name in state.apps:
                return 409, {"error": f"app {name} already exists"}
            state.apps[name] = {
                "id": f"id-{name}",
                "name": name,
                "status": "pending",
                "organization": {"slug": org, "name": org},
            }
            return 201, None
        if m := re.fullmatch(r"/v1/apps/([^/]+)", path):
            app = state.apps.get(m[1])
            if app is None:
                return 404, {"error": "app not found"}
            if method == "GET":
                return 200, app
            if method == "DELETE":
                del state.apps[m[1]]
                state.secrets.pop(m[1], None)
                return 202, None
        if m := re.fullmatch(r"/v1/apps/([^/]+)/secrets", path):
            if m[1] not in state.apps:
                return 404, {"error": "app not found"}
            values = state.secrets.setdefault(m[1], {})
            if method == "GET":
                return 200, {"secrets": _secret_list(values)}
            if method == "POST":
                for name, value in body["values"].items():
                    if value is None:
                        values.pop(name, None)
                    else:
                        values[name] = value
                version = state.secrets_version.get(m[1], 0) + 1
                state.secrets_version[m[1]] = version
                return 200, {"secrets": _secret_list(values), "version": version}
        if path == "/graphql" and method == "POST":
            return 200, self._graphql(body["query"], body.get("variables") or {})
        if m := re.fullmatch(r"/v1/apps/([^/]+)/ip_assignments(?:/([^/]+))?", path):
            return self._ips(method, m[1], m[2], body)
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates(?:/acme|/([^/]+))", path):
            return self._certificates(method, m[1], m[2], body)
        return 404, {"error": f"no route {method} {path}"}

    def _graphql(self, query: str, v: dict[str, Any]) -> dict[str, Any]:
        """The add-on operations flyctl's `fly redis` commands send, as Fly answers them."""
        state = self.server.state

        def error(message: str, code: str = "") -> dict[str, Any]:
            return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}

        plan_of = {p["id"]: p for p in state.plans}
        if "createAddOn" in query:
            if v["name"] in state.add_ons:
                return error("createAddOn Validation failed: Name has already been taken")
            org = next(s for s, i in state.organizations.items() if i == v["organizationId"])
            state.add_ons[v["name"]] = {
                "id": f"addon_{v['name']}",
                "name": v["name"],
                "publicUrl": f"redis://default:{secrets.token_hex(8)}@fly-{v['name']}.upstash.io:6379",
                "primaryRegion": v["primaryRegion"],
                "readRegions": list(v["readRegions"]),
                "options": dict(v["options"]),
                "addOnPlan": plan_of[v["planId"]],
                "organization": {"slug": org},
            }
            return {"data": {"createAddOn": {"addOn": {"id": f"addon_{v['name']}"}}}}
        if "updateAddOn" in query:
            add_on = next(a for a in state.add_ons.values() if a["id"] == v["addOnId"])
            add_on |= {
                "readRegions": list(v["readRegions"]),
                "options": dict(v["options"]),
                "addOnPlan": plan_of[v["planId"]],
            }
            return {"data": {"updateAddOn": {"addOn": {"id": add_on["id"]}}}}
        if ("addOn(" in query or "deleteAddOn" in query) and v.get("provider") != "upstash_redis":
            return error("provider must name the add-on kind")
        if "deleteAddOn" in query:
            if v["name"] not in state.add_ons:
                return error("Could not find AddOn", "NOT_FOUND")
            del state.add_ons[v["name"]]
            return {"data": {"deleteAddOn": {"deletedAddOnName": v["name"]}}}
        if "addOnPlans" in query:
            return {"data": {"addOnPlans": {"nodes": state.plans}}}
        if "organization(" in query:
            return {"data": {"organization": {"id": state.organizations[v["slug"]]}}}
        if "addOn(" in query:
            if v["name"] not in state.add_ons:
                return error("Could not find AddOn", "NOT_FOUND")
            return {"data": {"addOn": state.add_ons[v["name"]]}}
        return error(f"the fake does not know this query: {query[:40]}")

    def _ips(self, method: str, app: str, ip: str | None, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.server.state
        if app not in state.apps:
            return 404, {"error": "app not found"}
        listed = state.ips.setdefault(app, [])
        if method == "GET" and ip is None:
            return 200, {"ips": listed}
        if method == "POST" and ip is None:
            kind = body["type"]
            if kind == "shared_v4":
                if any(a["shared"] for a in listed):
                    return 409, {"error": "app already has a shared ipv4"}
                address, shared = "66.241.124.17", True
            else:
                n = state._next_ip
                state._next_ip += 1
                address = f"2a09:8280:1::{n:x}" if kind == "v6" else f"137.66.0.{n}"
                shared = False
            assignment = {"ip": address, "region": "global", "shared": shared, "service_name": ""}
            listed.append(assignment)
            return 200, assignment
        if method == "DELETE" and ip is not None:
            before = len(listed)
            listed[:] = [a for a in listed if a["ip"] != unquote(ip)]
            return (204, None) if len(listed) < before else (404, {"error": "ip not found"})
        return 405, {"error": "method not allowed"}

    def _certificates(
        self, method: str, app: str, hostname: str | None, body: dict[str, Any]
    ) -> tuple[int, Any]:
        state = self.server.state
        if app not in state.apps:
            return 404, {"error": "app not found"}
        certs = state.certificates.setdefault(app, {})
        if method == "POST" and hostname is None:
            name = body["hostname"]
            if name in certs:
                return 409, {"error": f"hostname {name} already exists on this app"}
            certs[name] = {
                "hostname": name,
                "configured": False,
                "acme_requested": True,
                "status": "pending_validation",
                "dns_requirements": {
                    "a": [],
                    "aaaa": [a["ip"] for a in state.ips.get(app, []) if ":" in a["ip"]],
                    "cname": f"{app}.fly.dev",
                    "acme_challenge": {
                        "name": f"_acme-challenge.{name}",
                        "target": f"{name}.k3v9x.flydns.net",
                    },
                    "ownership": {"name": f"_fly-ownership.{name}", "app_value": f"app-{app}"},
                },
                "validation_errors": [],
            }
            return 201, certs[name]
        name = unquote(hostname or "")
        if name not in certs:
            return 404, {"error": "certificate not found"}
        if method == "GET":
            return 200, certs[name]
        if method == "DELETE":
            del certs[name]
            return 204, None
        return 405, {"error": "method not allowed"}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FlyState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeFlyApi:
    def __init__(self) -> None:
        self.state = FlyState()
        self._server = _Server(self.state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeFlyApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
