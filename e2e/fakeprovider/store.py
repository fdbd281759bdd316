"""A fake's "cloud": one JSON file shared by every plugin process, and a call log.

The engine may start several instances of a provider plugin in one run (one per
provider reference, a fresh one per command), so every read-modify-write holds an
exclusive `flock` on a lock file beside the state, and writes land with an atomic
rename: a reader (the e2e driver) never sees half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any


class JsonStore:
    """The state file, read and written only under its lock.

    `empty` makes the layout of a state with nothing in it; `_seed` (for a subclass)
    adds what exists before any resource is made (a Cloudflare zone, say).
    """

    def __init__(self, path: Path, empty: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.empty = empty

    @staticmethod
    def path_from_env(variable: str, what: str) -> Path:
        raw = os.environ.get(variable)
        if not raw:
            raise SystemExit(f"{variable} is not set: the fake {what} needs a state file")
        return Path(raw).resolve()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _seed(self, state: dict[str, Any]) -> None:
        """Fill in what exists before any resource (nothing, unless a subclass says)."""

    def _load(self) -> dict[str, Any]:
        state = self.empty()
        if self.path.exists():
            text = self.path.read_text()
            if text.strip():
                state.update(json.loads(text))
        self._seed(state)
        return state

    def _save(self, state: Mapping[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(state, out, indent=2, sort_keys=True)
            out.write("\n")
        Path(tmp).replace(self.path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        """The whole state, to change in place; saved when the block ends without error."""
        with self._locked():
            state = self._load()
            yield state
            self._save(state)

    def snapshot(self) -> dict[str, Any]:
        """The state as it is now (seeded parts included), for reads."""
        with self._locked():
            state = self._load()
            if not self.path.exists():
                self._save(state)
            return state


class CallLog:
    """JSON lines, one per provider call: the method, what it touched, whether it wrote.

    Only names, ids and property *names* are logged, never a value: the engine may send
    secrets (provider config such as an API token, secret inputs).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @staticmethod
    def path_from_env(variable: str) -> Path | None:
        raw = os.environ.get(variable)
        return Path(raw).resolve() if raw else None

    def write(self, method: str, *, wrote: bool, **fields: Any) -> None:
        if self.path is None:
            return
        entry = {"time": time.time(), "pid": os.getpid(), "method": method, "wrote": wrote}
        entry.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(entry, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            fcntl.flock(out, fcntl.LOCK_EX)
            try:
                out.write(line)
            finally:
                fcntl.flock(out, fcntl.LOCK_UN)

    def entries(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]
