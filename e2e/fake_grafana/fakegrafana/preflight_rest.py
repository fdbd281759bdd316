"""The fake Grafana's HTTP API, for the reads `webhost-infra preflight` makes.

One server answers both Grafana's API and the synthetic monitoring API (their paths do
not overlap), with the probes of the fake's state (store.py PUBLIC_PROBES):

- GET /api/health answers without authentication (grafana pkg/api/api.go registers it
  outside the signed-in group) `{"database": "ok", "version": ...}`;
- GET /api/org needs a signed-in principal: a service account token as a Bearer
  (grafana pkg/services/contexthandler: 401 `{"message": "Invalid API key"}` otherwise);
- GET /api/v1/probe/list needs the synthetic monitoring access token as a Bearer
  (grafana/synthetic-monitoring-api-go-client: `Authorization: Bearer <token>`).

Only reads: anything else is a 405. `fail_next` answers a path with a status, or
`hang` (None: no answer until the test is over).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from fakegrafana.store import PUBLIC_PROBES


@dataclass
class RestState:
    auth: str
    sm_token: str
    faults: list[tuple[str, int | None]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def fail_next(self, path: str, status: int | None) -> None:
        self.faults.append((path, status))


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
        path = urlsplit(self.path).path
        state = self.server.state
        state.requests.append(("GET", self.path))
        for fault in list(state.faults):
            if re.fullmatch(fault[0], path):
                state.faults.remove(fault)
                if fault[1] is None:
                    state.released.wait()
                    return
                self._answer(fault[1], {"message": "injected failure"})
                return
        given = self.headers.get("Authorization")
        if path == "/api/health":
            self._answer(200, {"database": "ok", "version": "12.0.0"})
        elif path == "/api/org":
            if given != f"Bearer {state.auth}":
                self._answer(401, {"message": "Invalid API key"})
            else:
                self._answer(200, {"id": 1, "name": "Main Org."})
        elif path == "/api/v1/probe/list":
            if given != f"Bearer {state.sm_token}":
                self._answer(401, {"code": 401, "msg": "invalid authentication token"})
            else:
                self._answer(200, [{"id": i, "name": n} for n, i in PUBLIC_PROBES.items()])
        else:
            self._answer(404, {"message": "Not found"})

    def _refuse(self) -> None:
        self._answer(405, {"message": "read only"})

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: RestState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class FakeGrafanaApi:
    def __init__(self, auth: str, sm_token: str) -> None:
        self.state = RestState(auth, sm_token)
        self._server = _Server(self.state)
        # shutdown() waits out one poll: 0.5 s by default, at every test's teardown
        poll = {"poll_interval": 0.02}
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs=poll, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeGrafanaApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.state.released.set()
        self._server.shutdown()
        self._server.server_close()
