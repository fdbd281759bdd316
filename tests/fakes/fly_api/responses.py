"""The wire: the HTTP handler that routes each request to the state and answers as Fly
does (shapes and sources in the package docstring), faults injected first."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.fly_api import graphql
from tests.fakes.fly_api.certificates import custom_certificate, dns_validation
from tests.fakes.fly_api.exceptions import (
    APP_NOT_FOUND,
    CERTIFICATE_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    NAME_TAKEN,
    UNAUTHORIZED,
    error,
    registry_error,
)
from tests.fakes.fly_api.models import (
    ECHOES,
    ORG_TOKENS,
    TOKEN,
    FlyState,
    Request,
    _new_hostname,
    _now,
    _secret_list,
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        payload = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        path = urlsplit(self.path).path
        state = self.server.state
        with state.lock:
            state.requests.append(
                Request(method, self.path, body, self.headers.get("Authorization"))
            )
            fault = next(
                (
                    f
                    for f in state.faults
                    if f.method == method
                    and re.fullmatch(f.path, path)
                    and (f.containing is None or f.containing.encode() in raw)
                ),
                None,
            )
            if fault is not None:
                state.faults.remove(fault)
                if fault.echo is not None:
                    quoted = ECHOES[fault.echo](raw, self.headers.get("Authorization", ""))
                    self._send(fault.status, {"error": f"Validation failed: {quoted}"})
                    return
                if not fault.lose_answer:
                    self._send(
                        fault.status, fault.body, fault.headers, fault.raw, fault.content_type
                    )
                    return
            if path.startswith("/v2/"):
                if fault is not None and fault.lose_answer:
                    self.close_connection = True  # a read: nothing to do, no answer
                    return
                self._registry(method, path)
                return
            if self.headers.get("Authorization") not in (f"Bearer {TOKEN}", *ORG_TOKENS):
                self._send(*error(401, UNAUTHORIZED))
                return
            status, answer = self._route(method, path, body or {})
        if fault is not None and fault.lose_answer:
            self.close_connection = True  # done, and the answer never leaves
            return
        self._send(status, answer)

    def _registry(self, method: str, path: str) -> None:
        """The OCI distribution API (see the module docstring); the state lock is held."""
        state = self.server.state
        expected = {f"x:{TOKEN}", *(f"x:{t.removeprefix('FlyV1 ')}" for t in ORG_TOKENS)}
        given = self.headers.get("Authorization", "")
        try:
            user = base64.b64decode(given.removeprefix("Basic ")).decode()
        except ValueError:
            user = ""
        if not given.startswith("Basic ") or user not in expected:
            self._send(
                401,
                registry_error("UNAUTHORIZED", "authentication required"),
                {"WWW-Authenticate": 'Basic realm="registry.fly.io"'},
            )
            return
        if m := re.fullmatch(r"/v2/(.+)/manifests/([^/]+)", path):
            found = state.manifests.get((m[1], unquote(m[2])))
            if found is None:
                self._send(404, registry_error("MANIFEST_UNKNOWN"))
                return
            media, raw = found
            digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
            headers = {"Docker-Content-Digest": digest}
            # A HEAD answers the headers alone (distribution-spec "Checking if content exists").
            self._send(200, None, headers, b"" if method == "HEAD" else raw, media)
            return
        if m := re.fullmatch(r"/v2/(.+)/blobs/([^/]+)", path):
            blob = state.blobs.get(unquote(m[2]))
            if blob is None:
                self._send(404, registry_error("BLOB_UNKNOWN"))
                return
            self._send(200, None, None, blob, "application/octet-stream")
            return
        self._send(404, registry_error("NAME_UNKNOWN"))

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.server.state
        if path == "/v1/apps" and method == "POST":
            name, org = body.get("name") or body.get("app_name"), body.get("org_slug")
            if not name or not org:
                return 400, {"error": "app name and org_slug are required"}
            if name in state.apps:
                return 422, dict(NAME_TAKEN)
            app = state.add_app(name, org)
            return 201, {"id": app["id"], "created_at": int(time.time() * 1000)}
        if m := re.fullmatch(r"/v1/apps/([^/]+)", path):
            app = state.apps.get(unquote(m[1]))
            if app is None:
                return error(404, APP_NOT_FOUND)
            if app["organization"]["slug"] in state.invisible_orgs:
                return error(403, UNAUTHORIZED)
            if method == "GET":
                return 200, app
            if method == "DELETE":
                del state.apps[app["name"]]
                state.secrets.pop(app["name"], None)
                return 202, None
        if m := re.fullmatch(r"/v1/apps/([^/]+)/secrets", path):
            if m[1] not in state.apps:
                return error(404, APP_NOT_FOUND)
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
            authorization = self.headers.get("Authorization", "")
            return 200, graphql.answer(
                state, body["query"], body.get("variables") or {}, authorization
            )
        if m := re.fullmatch(r"/v1/apps/([^/]+)/ip_assignments(?:/([^/]+))?", path):
            return self._ips(method, m[1], m[2], body)
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates/([^/]+)/check", path):
            return self._check(method, m[1], unquote(m[2]))
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates/custom", path):
            return self._import(method, m[1], body)
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates/([^/]+)/(custom|acme)", path):
            return self._delete_source(method, m[1], unquote(m[2]), m[3])
        if m := re.fullmatch(r"/v1/apps/([^/]+)/certificates(?:/acme|/([^/]+))", path):
            return self._certificates(method, m[1], m[2], body)
        return 404, {"error": f"no route {method} {path}"}

    def _ips(self, method: str, app: str, ip: str | None, body: dict[str, Any]) -> tuple[int, Any]:
        state = self.server.state
        if app not in state.apps:
            return error(404, APP_NOT_FOUND)
        listed = state.ips.setdefault(app, [])
        if method == "GET" and ip is None:
            return 200, {"ips": listed}
        if method == "POST" and ip is None:
            kind = body["type"]
            if kind == "shared_v4":
                if any(a["shared"] for a in listed):
                    return 409, {"error": "app already has a shared ipv4"}
                address, shared = "66.241.124.17", True
            elif kind in ("v6", "v4", "private_v6"):
                n = state._next_ip
                state._next_ip += 1
                prefix = {"v6": "2a09:8280:1::", "private_v6": "fdaa:0:1:a7b::"}
                address = f"{prefix[kind]}{n:x}" if kind in prefix else f"137.66.0.{n}"
                shared = False
            else:
                return 400, {"error": f"invalid ip type {kind}"}
            assignment = {
                "ip": address,
                "region": "global",
                "service_name": "",
                "shared": shared,
                "created_at": _now(),
            }
            listed.append(assignment)
            return 200, assignment
        if method == "DELETE" and ip is not None:
            before = len(listed)
            listed[:] = [a for a in listed if a["ip"] != unquote(ip)]
            return (204, None) if len(listed) < before else (404, {"error": "ip not found"})
        return error(405, METHOD_NOT_ALLOWED)

    def _certificate(self, app: str, cert: dict[str, Any]) -> dict[str, Any]:
        """The certificate as Fly answers it: what it asks for follows the app's addresses."""
        state = self.server.state
        listed = state.ips.get(app, [])
        name = cert["hostname"]
        return {
            **cert,
            "certificates": [
                {k: v for k, v in c.items() if not k.startswith("_")}
                for c in cert.get("certificates") or []
            ],
            "dns_requirements": {
                "a": [a["ip"] for a in listed if "." in a["ip"]],
                "aaaa": [
                    a["ip"] for a in listed if ":" in a["ip"] and not a["ip"].startswith("fdaa:")
                ],
                "cname": f"{app}.fly.dev",
                # ACME validates a wildcard on its base name (RFC 8555 7.1.3, 8.4), the
                # record flyctl prints for a wildcard (flyctl internal/command/
                # certificates/root.go, "Wildcard certificates require DNS validation").
                "acme_challenge": {
                    "name": f"_acme-challenge.{name.removeprefix('*.')}",
                    "target": f"{name}.k3v9x.flydns.net",
                },
                # Fly's documented `_fly-ownership.<hostname>` (docs machines/api/
                # certificates-resource); for a wildcard no source says otherwise
                # (flyctl prints the name it is given): unconfirmed for `*.` hosts.
                "ownership": {
                    "name": f"_fly-ownership.{name}",
                    "app_value": f"app-{hashlib.sha256(app.encode()).hexdigest()[:10]}",
                    "org_value": "org-5e1f0c3a9d",
                },
            },
        }

    def _certificates(
        self, method: str, app: str, hostname: str | None, body: dict[str, Any]
    ) -> tuple[int, Any]:
        state = self.server.state
        if app not in state.apps:
            return error(404, APP_NOT_FOUND)
        certs = state.certificates.setdefault(app, {})
        if method == "POST" and hostname is None:
            name = body["hostname"]
            if name in certs and not certs[name]["acme_requested"]:
                certs[name]["acme_requested"] = True  # beside an imported certificate
                return 201, self._certificate(app, certs[name])
            if name in certs:
                return 409, {"error": f"hostname {name} already exists on this app"}
            certs[name] = _new_hostname(name, acme_requested=True, status="pending_validation")
            return 201, self._certificate(app, certs[name])
        name = unquote(hostname or "")
        if name not in certs:
            return error(404, CERTIFICATE_NOT_FOUND)
        if method == "GET":
            return 200, self._certificate(app, certs[name])
        if method == "DELETE":
            del certs[name]
            return 204, None
        return error(405, METHOD_NOT_ALLOWED)

    def _import(self, method: str, app: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST .../certificates/custom, refused as the docs say Fly refuses.

        superfly/docs machines/api/certificates-resource.html.markerb @ 5c22c8c, "Import
        custom certificate": the certificate must not be expired, the key must match
        it, the hostname must be in its SAN or CN (wildcards supported); the answer is
        201 with the detail, the custom certificate `pending_ownership` until the
        `_fly-ownership` record is seen. Refusals are 422 "Validation failed" (docs
        machines/api/working-with-machines-api, Response Codes) with `{"error": ...}`.
        Importing again replaces the custom certificate. The key is kept only as its
        public half's fingerprint, and no answer or error quotes what was sent.
        """
        state = self.server.state
        if method != "POST":
            return error(405, METHOD_NOT_ALLOWED)
        if app not in state.apps:
            return error(404, APP_NOT_FOUND)
        name = str(body.get("hostname") or "")
        missing = [k for k in ("hostname", "fullchain", "private_key") if not body.get(k)]
        if missing:
            return 400, {"error": f"{', '.join(missing)} required"}
        problem, custom = custom_certificate(name, body["fullchain"], body["private_key"])
        if custom is None:
            return 422, {"error": f"Validation failed: {problem}"}
        certs = state.certificates.setdefault(app, {})
        if name not in certs:
            certs[name] = _new_hostname(name, acme_requested=False, status="pending_ownership")
        cert = certs[name]
        others = [c for c in cert["certificates"] if c["source"] != "custom"]
        cert["certificates"] = [custom, *others]
        if not others:
            cert["status"] = "pending_ownership"
        return 201, self._certificate(app, cert)

    def _hostname(self, allowed: bool, app: str, name: str) -> dict[str, Any] | tuple[int, Any]:
        """The app's hostname `name`, or Fly's error: 405 for a method the route does not
        take, 404 for a missing app, then for a missing certificate."""
        state = self.server.state
        if not allowed:
            return error(405, METHOD_NOT_ALLOWED)
        if app not in state.apps:
            return error(404, APP_NOT_FOUND)
        cert = state.certificates.get(app, {}).get(name)
        if cert is None:
            return error(404, CERTIFICATE_NOT_FOUND)
        return cert

    def _delete_source(self, method: str, app: str, name: str, source: str) -> tuple[int, Any]:
        """DELETE .../{hostname}/custom or /acme: one kind goes, the hostname stays (docs
        "Delete custom certificate", "Delete ACME certificates")."""
        cert = self._hostname(method == "DELETE", app, name)
        if isinstance(cert, tuple):
            return cert
        if source == "custom":
            if not any(c["source"] == "custom" for c in cert["certificates"]):
                return 404, {"error": "custom certificate not found"}
            cert["certificates"] = [c for c in cert["certificates"] if c["source"] != "custom"]
        else:
            cert["acme_requested"] = False
            cert["certificates"] = [c for c in cert["certificates"] if c["source"] == "custom"]
        active = any(c["status"] == "active" for c in cert["certificates"])
        cert["status"] = "active" if active else "pending_validation"
        return 200, self._certificate(app, cert)

    def _check(self, method: str, app: str, name: str) -> tuple[int, Any]:
        """POST .../check: look at the records again; activate and issue what they allow.

        Shapes from superfly/docs machines/api/certificates-resource (Check certificate
        status): the detail with `certificates[]` ({source, status, expires_at,
        issuer, issued[]}), the `validation` flags and `dns_records`; while pending, the
        flags of what is missing are false and `validation_errors` says what. An
        imported certificate turns active once the ownership TXT record is seen (docs,
        "Import custom certificate"); Let's Encrypt issues over DNS-01, or over HTTP-01
        with the ownership record in place (`dns_validation`). TLS-ALPN-01 (a DNS-only
        host's A/AAAA alone) is reported but issues nothing here: the program relies
        on the `_acme-challenge` CNAME, and a fake issuing over ALPN would hide a wrong
        one. A certificate once issued stays issued. Without a Dns (`FlyState.dns`),
        every record counts as seen from check `issue_at_check` on, none before.
        """
        state = self.server.state
        cert = self._hostname(method == "POST", app, name)
        if isinstance(cert, tuple):
            return cert
        seen = state.checks_seen[name] = state.checks_seen.get(name, 0) + 1
        at = state.issue_at_check.get(name, 1)
        due = at is not None and seen >= at
        wanted = self._certificate(app, cert)["dns_requirements"]
        if state.dns is not None:
            found = dns_validation(state.dns, name, wanted)
            ownership, dns_ok, http, alpn = (
                found.ownership and due,
                found.dns and due,
                found.http and due,
                found.alpn and due,
            )
            errors, resolved = found.errors, found.resolved
        else:
            ownership = dns_ok = http = alpn = due
            errors = (
                []
                if due
                else [
                    {
                        "code": None,
                        "message": f"_fly-ownership.{name} TXT record not found",
                        "remediation": f"Add a TXT record _fly-ownership.{name}",
                        "timestamp": _now(),
                    }
                ]
            )
            resolved = {"a": [], "aaaa": [], "cname": []}
        certificates = [
            {**c, "status": "active"} if c["source"] == "custom" and ownership else c
            for c in cert["certificates"]
        ]
        issues = cert.get("acme_requested", True) and (dns_ok or (ownership and http))
        if issues and not any(c["source"] == "fly" for c in certificates):
            certificates.append(
                {
                    "source": "fly",
                    "status": "active",
                    "created_at": "2026-01-15T12:00:00Z",
                    "expires_at": "2026-04-15T12:00:00Z",
                    "issuer": None,
                    "issued": [
                        {
                            "type": "ecdsa",
                            "expires_at": "2026-04-15T12:00:00Z",
                            "certificate_authority": "lets_encrypt",
                        }
                    ],
                }
            )
        active = any(c["status"] == "active" for c in certificates)
        cert.update(
            certificates=certificates,
            validation={
                "dns_configured": dns_ok,
                "alpn_configured": alpn,
                "http_configured": http,
                "ownership_txt_configured": ownership,
            },
            validation_errors=errors,
        )
        if active:
            cert.update(status="active", configured=True)
        detail = self._certificate(app, cert)
        return 200, {**detail, "dns_records": resolved}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_HEAD(self) -> None:
        self._handle("HEAD")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FlyState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
