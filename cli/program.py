"""The program evaluated offline for one stack file: the stack file read, its config
checked, then `__main__.py` run under the mock engine (cli/engine.py). `plan` runs the
working tree's program; `diff` runs each side's with that side's own config module."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from cli import engine, stackfile
from components import config


def evaluate(
    root: Path, stack_path: Path, config_module: ModuleType | None = None
) -> tuple[stackfile.StackFile, Any, engine.Evaluation]:
    """(the stack file, its parsed config, the evaluation) of the program under `root`.

    The config is checked with the stack file's finer view of which values are secure
    (the engine only says which keys hold one) before the program runs. Raises
    stackfile.StackFileError, or the config module's ConfigError (from the check, or
    from the program refusing its config)."""
    config_module = config_module or config
    loaded = stackfile.load(stack_path, project_file=root / "Pulumi.yaml")
    parsed = config_module.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)
    evaluation = engine.evaluate(
        root / "__main__.py",
        project=loaded.project,
        stack=loaded.stack,
        config=loaded.config,
        secret_keys=sorted(loaded.secret_keys),
    )
    return loaded, parsed, evaluation
