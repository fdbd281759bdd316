"""`webhost-infra diff`: what a change does to a stack, computed offline.

Both sides are evaluated in this process under the mock engine: the base from a git
ref (its own program, stack file, policy pack and catalog, extracted to a temporary
directory and imported under the same package names, with the working tree's
modules set aside meanwhile), the head from the working tree. Resources are matched
by URN and their inputs compared; whether a change updates or replaces comes from
what the program declares: `replace_on_changes` options, the dynamic providers' own
`diff`, pulumi-command's `triggers`, and the providers' immutable inputs below.

Offline there is no state: the base stands in for what is deployed, and values only
a provider knows are unknown on both sides. Secret values are compared in memory
(sealed by a digest that is never printed) and shown only as changed or unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from cli import checks
from cli.diff.compare import Diff, compute
from cli.diff.render import OFFLINE_NOTE, RENDER, marker, summary
from cli.diff.sides import DiffInputError, evaluate_base, evaluate_side

__all__ = ["OFFLINE_NOTE", "RENDER", "Diff", "between", "compute", "marker", "run", "summary"]

EXIT_OK, EXIT_INVALID, EXIT_POLICY = 0, 2, 3


def between(repo: Path, base_ref: str, stack: str) -> Diff:
    """The base at `base_ref` against the head in `repo`'s working tree, whose modules
    are the ones this process imported (the working tree's own); DiffInputError."""
    base = evaluate_base(repo, base_ref, stack)
    head = evaluate_side(repo, stack, "working tree", checks, None)
    if head.evaluation is None:
        raise DiffInputError(f"no stack file Pulumi.{stack}.yaml in the working tree")
    return compute(base, head, stack, base_ref)


def run(repo: Path, base_ref: str, stack: str, fmt: str, *, out: TextIO, err: TextIO) -> int:
    """The command: the diff rendered as `fmt`; exit 2 on bad input on either side, 3
    when the working tree violates a mandatory policy."""
    try:
        result = between(repo, base_ref, stack)
    except DiffInputError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_INVALID
    print(RENDER[fmt](result), file=out)
    if result.head_blocking:
        print(f"error: mandatory policies violated: {', '.join(result.head_blocking)}", file=err)
        return EXIT_POLICY
    return EXIT_OK
