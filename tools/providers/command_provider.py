"""Stand-in for pulumi-resource-command: `command:local:Command` only.

Semantics kept from pulumi-command (pulumi/pulumi-command, provider/pkg/provider/
local/commandController.go and commandOutputs.go, v1.2.x):
- create runs `create` (nothing in preview); update runs `update`, else `create`;
  delete runs `delete` with the last state's inputs and outputs;
- argv is `interpreter + [command]`, default `/bin/sh -c`; the working directory is
  `dir`, else the provider's; the environment is the provider's plus `environment`,
  plus PULUMI_COMMAND_STDOUT/STDERR (previous outputs) unless
  `addPreviousOutputInEnv` is false; `stdin` is fed when set;
- stdout and stderr lose one trailing newline; a non-zero exit fails the step;
- a change of `triggers` replaces the resource, any other input change updates it
  (common/inputs.go `provider:"replaceOnChanges"`); refresh reads nothing back.
Not kept: assetPaths/archivePaths and streaming output to the engine's log.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import standin

LOGGING = {"stdout", "stderr", "stdoutAndStderr", "none"}


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
            return self._run_script(script, inputs, previous)
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

    def _run_script(
        self, script: str, inputs: standin.Props, previous: standin.Props
    ) -> standin.Props:
        argv = [*list(inputs.get("interpreter") or ["/bin/sh", "-c"]), script]
        env = dict(os.environ)
        env.update({k: str(v) for k, v in (inputs.get("environment") or {}).items()})
        if inputs.get("addPreviousOutputInEnv", True):
            if previous.get("stdout"):
                env["PULUMI_COMMAND_STDOUT"] = previous["stdout"]
            if previous.get("stderr"):
                env["PULUMI_COMMAND_STDERR"] = previous["stderr"]
        done = subprocess.run(
            argv,
            input=inputs.get("stdin") or None,
            capture_output=True,
            text=True,
            cwd=inputs.get("dir") or os.getcwd(),
            env=env,
            check=False,
        )
        if done.returncode != 0:
            # The real provider's message carries the command and its output; ours
            # names the exit status and the output only (the scripts print no secret).
            raise RuntimeError(
                f"exit status {done.returncode}:\n{done.stdout}{done.stderr}".rstrip()
            )
        return {
            "stdout": done.stdout.removesuffix("\n"),
            "stderr": done.stderr.removesuffix("\n"),
        }

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
        script = news.get("update") or news.get("create")
        if preview or not script:
            return {**news, **previous}
        return {**news, **self._run(script, news, previous)}

    def delete(self, state: standin.Props) -> None:
        if state.get("delete"):
            self._run(state["delete"], state, state)


if __name__ == "__main__":
    standin.serve(
        lambda: standin.Provider(
            "command", os.environ["STANDIN_VERSION"], {"command:local:Command": Command()}
        )
    )
