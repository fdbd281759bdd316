"""A fake's read-only HTTP API over its state file: the routes `webhost-infra recover`
asks, answered from the same JSON the provider plugin writes (read under its lock).

Each fake names its routes (a regex over the path, and a function of the state, the
match and the query that answers `(status, body)`); this serves them on 127.0.0.1 in a
thread. A request without `Authorization` is refused 401, as both APIs refuse it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

Answer = tuple[int, Any]
Handler = Callable[[Mapping[str, Any], "re.Match[str]", Mapping[str, str]], Answer]
Route = tuple["re.Pattern[str]", Handler]


class RestServer:
    """`with RestServer(routes, snapshot, unauthorised) as url:` serves until the block ends."""

    def __init__(
        self,
        routes: Sequence[Route],
        snapshot: Callable[[], Mapping[str, Any]],
        unauthorised: Answer,
        not_found: Answer,
    ) -> None:
        self.routes = routes
        self.snapshot = snapshot
        self.unauthorised = unauthorised
        self.not_found = not_found
        self.requests: list[str] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                outer.requests.append(parts.path)
                status, body = outer.answer(
                    unquote(parts.path),
                    dict(parse_qsl(parts.query)),
                    self.headers.get("Authorization"),
                )
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        # shutdown() waits out one poll: 0.5 s by default, at every test's teardown
        poll = {"poll_interval": 0.02}
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs=poll, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, query: Mapping[str, str], auth: str | None) -> Answer:
        if not auth:
            return self.unauthorised
        for pattern, handler in self.routes:
            if match := pattern.fullmatch(path):
                return handler(self.snapshot(), match, query)
        return self.not_found

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
