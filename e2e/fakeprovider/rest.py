"""A fake's read-only HTTP API over its state file: the reads `webhost-infra preflight`
and `webhost-infra recover` make, answered from the same JSON the provider plugin
writes (read under its lock), so a resource the plugin made is one this API lists.

Each fake names its routes (a regex over the path, and a function of the state, the
match and the query that answers `(status, body)`) and how it refuses a request its
token does not open (`authorise`, the fake's own wording); this serves them on
127.0.0.1 in a thread, under the fake's API root (`prefix`, as the real API's URL has
one: Cloudflare's /client/v4). Only reads: any other method is refused, so a reader
cannot write here by mistake. `state.fail_next(path, status)` answers the next GET of
`path` (a regex) with that status, or never (None: a hang until the server stops).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

Answer = tuple[int, Any]
Handler = Callable[[Mapping[str, Any], "re.Match[str]", Mapping[str, str]], Answer]
Route = tuple["re.Pattern[str]", Handler]
# (path, the Authorization header or None) -> the refusal, or None to answer
Authorise = Callable[[str, "str | None"], "Answer | None"]


@dataclass
class RestState:
    """What a test arranges and reads: faults to inject, the requests that came."""

    faults: list[tuple[str, int | None]] = field(default_factory=list)  # (regex, status/None)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)
    released: threading.Event = field(default_factory=threading.Event)

    def fail_next(self, path: str, status: int | None) -> None:
        """The next GET of `path` (a regex) answers `status`, or never (None)."""
        self.faults.append((path, status))

    def fault(self, path: str) -> tuple[bool, int | None]:
        """(whether a fault was armed for `path`, its status) and disarms it."""
        for armed in list(self.faults):
            if re.fullmatch(armed[0], path):
                self.faults.remove(armed)
                return True, armed[1]
        return False, None


@dataclass(frozen=True)
class Wording:
    """How the fake's API words its answers that no route gives."""

    not_found: Answer  # a path it does not have
    read_only: Answer  # a write (this face only reads)
    injected: Callable[[int], Any]  # the body of an injected failure with that status


class RestServer:
    """`with RestServer(...) as api:` serves on `api.url` until the block ends."""

    def __init__(
        self,
        routes: Sequence[Route],
        snapshot: Callable[[], Mapping[str, Any]],
        *,
        authorise: Authorise,
        wording: Wording,
        prefix: str = "",
        state: RestState | None = None,
    ) -> None:
        self.routes = routes
        self.snapshot = snapshot
        self.authorise = authorise
        self.wording = wording
        self.prefix = prefix
        self.state = state or RestState()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.state.requests.append(("GET", self.path))
                parts = urlsplit(self.path)
                if not parts.path.startswith(outer.prefix):
                    self._send(*outer.wording.not_found)
                    return
                path = unquote(parts.path).removeprefix(outer.prefix)
                injected, status = outer.state.fault(path)
                if injected and status is None:
                    outer.state.released.wait()  # the hang: no answer at all
                    return
                if injected and status is not None:
                    self._send(status, outer.wording.injected(status))
                    return
                auth = self.headers.get("Authorization")
                self._send(*outer.answer(path, dict(parse_qsl(parts.query)), auth))

            def _refuse(self) -> None:
                outer.state.requests.append((self.command, self.path))
                self._send(*outer.wording.read_only)

            do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

            def _send(self, status: int, body: Any) -> None:
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
        """The API root, as the client's base URL takes it."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def answer(self, path: str, query: Mapping[str, str], auth: str | None) -> Answer:
        refused = self.authorise(path, auth)
        if refused is not None:
            return refused
        for pattern, handler in self.routes:
            if match := pattern.fullmatch(path):
                return handler(self.snapshot(), match, query)
        return self.wording.not_found

    def __enter__(self) -> RestServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.state.released.set()
        self.server.shutdown()
        self.server.server_close()
