"""`webhost-infra`: the offline tools around the Pulumi program.

Exit codes: 0 success, 2 invalid input (stack file or config; one line per
problem on stderr).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cli import engine, plan, reference, stackfile
from components.config import ConfigError

EXIT_OK = 0
EXIT_INVALID = 2

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _stack_path(args: argparse.Namespace) -> Path:
    if args.stack_file is not None:
        return Path(args.stack_file)
    return PROJECT_DIR / f"Pulumi.{args.stack}.yaml"


def _plan(args: argparse.Namespace) -> int:
    try:
        stack = stackfile.load(_stack_path(args), project_file=PROJECT_DIR / "Pulumi.yaml")
    except stackfile.StackFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        evaluation = engine.evaluate(
            PROJECT_DIR / "__main__.py",
            project=stack.project,
            stack=stack.stack,
            config=stack.config,
            secret_keys=sorted(stack.secret_keys),
        )
    except ConfigError as exc:
        print(f"error: invalid config in {_stack_path(args)}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INVALID
    render = plan.as_json if args.format == "json" else plan.as_text
    print(render(evaluation))
    return EXIT_OK


def _reference(_args: argparse.Namespace) -> int:
    print(reference.block())
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="webhost-infra", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    p = commands.add_parser(
        "plan",
        help="evaluate the program offline and print what it would create",
        description="Run the Pulumi program in-process against mocks: no credentials, "
        "no network, no Pulumi CLI. Secrets are never decrypted.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--stack", default="staging", help="stack name (Pulumi.<NAME>.yaml)")
    where.add_argument("--stack-file", metavar="PATH", help="a stack file anywhere")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(run=_plan)
    r = commands.add_parser(
        "config-reference", help="print the stack config reference (the README's table)"
    )
    r.set_defaults(run=_reference)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of ours, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
