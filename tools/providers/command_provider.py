"""Stand-in for pulumi-resource-command: `command:local:Command` only.

Semantics kept from pulumi-command v1.2.1 (pulumi/pulumi-command, provider/pkg/
provider/local/commandController.go and commandOutputs.go) over pulumi-go-provider
v1.3.0 (its provider/go.mod; pulumi/pulumi-go-provider infer/resource.go):
- create runs `create` (nothing in preview); update runs `update`, else `create`;
  delete runs `delete` with the last state's inputs and outputs;
- argv is `interpreter + [command]`, default `/bin/sh -c`; the working directory is
  `dir`, else the provider's; the environment is the provider's plus `environment`,
  plus PULUMI_COMMAND_STDOUT/STDERR (previous outputs) unless
  `addPreviousOutputInEnv` is false; `stdin` is fed when set and non-empty, else
  the command reads /dev/null (os/exec: a nil Cmd.Stdin);
- stdout and stderr lose one trailing newline; a non-zero exit fails the step with
  `exit status N: running "<command, Go-quoted>":` and, on the next lines, stdout and
  stderr interleaved as they were written (commandOutputs.go `run`);
- in the preview of an update, stdout and stderr are unknown when an input changed
  or is unknown (infer `markComputed`, below);
- a change of `triggers` replaces the resource, any other input change updates it
  (common/inputs.go `provider:"replaceOnChanges"`); refresh reads nothing back.
Not kept: assetPaths/archivePaths and streaming output lines to the engine's log
(util.LogOutput, ephemeral status messages).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

if __name__ == "__main__":  # a plugin process: the protocol modules alone (protos.py)
    import protos

    protos.load_without_sdk()

import standin

LOGGING = {"stdout", "stderr", "stdoutAndStderr", "none"}

# The fields of CommandInputs (common/inputs.go ResourceInputs and local/base.go
# BaseInputs), which infer's default computedness flow makes every output depend on
# (infer/resource.go ensureDefaultComputed: "every output depends on each input").
INPUTS = (
    "triggers",
    "create",
    "update",
    "delete",
    "stdin",
    "logging",
    "interpreter",
    "dir",
    "environment",
    "assetPaths",
    "archivePaths",
    "addPreviousOutputInEnv",
)

# os/exec copies each pipe through io.Copy, whose buffer is 32 KiB: the combined
# output interleaves the two streams at the grain of one read.
_CHUNK = 32 * 1024


def go_quote(text: str) -> str:
    """Go's `%q` of a string (strconv.Quote, quote.go appendEscapedRune)."""
    out = ['"']
    named = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t"}
    named["\v"] = r"\v"
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char.isprintable():
            # Python's printable (not Other, not Separator, but space) is Go's
            # unicode.IsPrint (L, M, N, P, S and the ASCII space).
            out.append(char)
        elif char in named:
            out.append(named[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(r"\ufffd")  # not a valid rune: Go writes U+FFFD
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def exit_error(returncode: int) -> str:
    """os.ProcessState.String() of a failed command (os/exec_posix.go): `exit status N`,
    or `signal: <name>` for a process a signal ended (Go's names are glibc's strsignal
    text with a lower-case first letter: "killed", "terminated", "interrupt")."""
    if returncode >= 0:
        return f"exit status {returncode}"
    name = signal.strsignal(-returncode) or f"signal {-returncode}"
    return f"signal: {name[:1].lower()}{name[1:]}"


def mark_computed(olds: standin.Props, news: standin.Props, outs: standin.Props) -> standin.Props:
    """The preview of an update, as infer marks it (infer/resource.go markComputed, called
    from derivedResourceController.Update with the old state as `oldInputs`): an output
    that mirrors an input in name and value stays; any other is unknown when an input
    is unknown or differs from the old state's value (an input the old state lacks
    counts only when it is unknown)."""
    changed = any(
        news.get(k) == standin.UNKNOWN or (k in olds and news.get(k) != olds[k]) for k in INPUTS
    )
    marked = {}
    for key, value in outs.items():
        mirrored = key in news and news[key] == value
        unknown = value == standin.UNKNOWN
        marked[key] = standin.UNKNOWN if changed and not (mirrored or unknown) else value
    return marked


def _pump(source: IO[bytes], own: bytearray, both: bytearray, lock: threading.Lock) -> None:
    while chunk := os.read(source.fileno(), _CHUNK):
        with lock:
            own.extend(chunk)
            both.extend(chunk)


def _feed(sink: IO[bytes], data: bytes) -> None:
    # os/exec ignores EPIPE on stdin: a command may exit before reading it all.
    with contextlib.suppress(BrokenPipeError):
        sink.write(data)
    with contextlib.suppress(BrokenPipeError):
        sink.close()


class Failed(RuntimeError):
    """The command ran and failed: the real provider's error text."""


class Command(standin.Resource):
    replace_on = frozenset({"triggers"})

    def check(self, news: standin.Props) -> tuple[standin.Props, list[tuple[str, str]]]:
        failures = []
        for key in ("create", "update", "delete", "dir", "stdin"):
            value = news.get(key)
            if value is not None and not isinstance(value, str):
                failures.append((key, f"{key} must be a string"))
        interpreter = news.get("interpreter")
        if interpreter is not None and not (
            isinstance(interpreter, list) and all(isinstance(a, str) for a in interpreter)
        ):
            failures.append(("interpreter", "interpreter must be a list of strings"))
        logging = news.get("logging")
        if logging is not None and logging not in LOGGING and logging != standin.UNKNOWN:
            failures.append(("logging", f"logging must be one of {sorted(LOGGING)}"))
        return news, failures

    def _run(self, script: str, inputs: standin.Props, previous: standin.Props) -> standin.Props:
        started = time.time()
        try:
            return run(script, inputs, previous)
        finally:
            # bench/engine.py: when each command ran, to weigh the dependency graph.
            if log := os.environ.get("STANDIN_TIMING_LOG"):
                with open(log, "a") as out:
                    entry = {
                        "urn": getattr(standin.current, "urn", ""),
                        "start": started,
                        "end": time.time(),
                    }
                    out.write(json.dumps(entry) + "\n")

    def create(self, name: str, inputs: standin.Props, preview: bool) -> tuple[str, standin.Props]:
        id_ = f"{name}{secrets.token_hex(4)}"
        if preview:
            return id_, {**inputs, "stdout": standin.UNKNOWN, "stderr": standin.UNKNOWN}
        outs = {"stdout": "", "stderr": ""}
        if inputs.get("create"):
            outs = self._run(inputs["create"], inputs, {})
        return id_, {**inputs, **outs}

    def update(self, olds: standin.Props, news: standin.Props, preview: bool) -> standin.Props:
        previous = {"stdout": olds.get("stdout", ""), "stderr": olds.get("stderr", "")}
        if preview:
            return mark_computed(olds, news, {**news, **previous})
        script = news.get("update") or news.get("create")
        if not script:
            return {**news, **previous}
        return {**news, **self._run(script, news, previous)}

    def delete(self, state: standin.Props) -> None:
        if state.get("delete"):
            self._run(state["delete"], state, state)


def run(script: str, inputs: standin.Props, previous: standin.Props) -> standin.Props:
    """Run one script as commandOutputs.go `run` does; its stdout and stderr, or Failed."""
    argv = [*list(inputs.get("interpreter") or ["/bin/sh", "-c"]), script]
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (inputs.get("environment") or {}).items()})
    if inputs.get("addPreviousOutputInEnv", True):
        if previous.get("stdout"):
            env["PULUMI_COMMAND_STDOUT"] = previous["stdout"]
        if previous.get("stderr"):
            env["PULUMI_COMMAND_STDERR"] = previous["stderr"]
    stdin = inputs.get("stdin") or ""
    cwd = inputs.get("dir") or os.getcwd()
    if "/" not in argv[0] and shutil.which(argv[0]) is None:
        # exec.Command looks a bare name up in the provider's PATH (os/exec lp_unix.go).
        start = f"exec: {go_quote(argv[0])}: executable file not found in $PATH"
        raise Failed(f"{start}: running {go_quote(script)}:\n")
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
    except OSError as error:
        # os.StartProcess's error (os/exec_posix.go: a *PathError, "chdir <dir>" for the
        # working directory, else "fork/exec <path>"; Go's errno text is lower-case).
        where = f"chdir {cwd}" if error.filename == cwd else f"fork/exec {argv[0]}"
        reason = (error.strerror or str(error)).lower()
        raise Failed(f"{where}: {reason}: running {go_quote(script)}:\n") from None
    out, err, both = bytearray(), bytearray(), bytearray()
    lock = threading.Lock()
    assert process.stdout is not None and process.stderr is not None
    workers: list[tuple[Callable[..., None], tuple[Any, ...]]] = [
        (_pump, (process.stdout, out, both, lock)),
        (_pump, (process.stderr, err, both, lock)),
    ]
    if stdin:
        assert process.stdin is not None
        workers.append((_feed, (process.stdin, stdin.encode())))
    threads = [threading.Thread(target=target, args=args) for target, args in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    returncode = process.wait()
    process.stdout.close()
    process.stderr.close()
    if returncode != 0:
        combined = both.decode(errors="replace")
        raise Failed(f"{exit_error(returncode)}: running {go_quote(script)}:\n{combined}")
    return {
        "stdout": out.decode(errors="replace").removesuffix("\n"),
        "stderr": err.decode(errors="replace").removesuffix("\n"),
    }


if __name__ == "__main__":
    standin.serve(
        lambda: standin.Provider(
            "command", os.environ["STANDIN_VERSION"], {"command:local:Command": Command()}
        )
    )
