"""`webhost-infra`: the offline tools around the Pulumi program.

Exit codes: 0 success; 1 a check failed (a stale or missing backup); 2 invalid
input (stack file or config; one line per problem on stderr); 3 a mandatory
policy is violated.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from cli import stackfile
from components import config
from components.config import ConfigError, StackConfig

# Each subcommand imports what it alone needs, inside its function: `plan` pays for
# neither boto3 (backups), nor git and dill (diff), nor the Fly clients (drift).

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_POLICY = 3

# cli.diff.RENDER's keys (a test holds them equal), named here so that the parser
# does not import the diff.
DIFF_FORMATS = ("text", "markdown", "json")

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"


def _stack_path(args: argparse.Namespace) -> Path:
    if args.stack_file is not None:
        return Path(args.stack_file)
    return PROJECT_DIR / f"Pulumi.{args.stack}.yaml"


def _error(message: object, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _invalid(args: argparse.Namespace, exc: ConfigError | stackfile.StackFileError) -> int:
    if isinstance(exc, stackfile.StackFileError):
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
    else:
        print(f"error: invalid config in {_stack_path(args)}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
    return EXIT_INVALID


Command = Callable[[argparse.Namespace], int]


def _with_config(
    command: Callable[[argparse.Namespace, stackfile.StackFile, StackConfig], int],
) -> Command:
    """The subcommand, given the stack file and its parsed config; bad input is exit 2
    before it runs."""

    def run(args: argparse.Namespace) -> int:
        try:
            stack = stackfile.load(_stack_path(args), project_file=PROJECT_FILE)
            parsed = config.parse(stack.config, stack.secret_keys, stack.secure_paths)
        except (ConfigError, stackfile.StackFileError) as exc:
            return _invalid(args, exc)
        return command(args, stack, parsed)

    return run


def _plan(args: argparse.Namespace) -> int:
    from cli import checks, plan, program

    try:
        loaded, _, evaluation = program.evaluate(PROJECT_DIR, _stack_path(args))
    except (ConfigError, stackfile.StackFileError) as exc:
        return _invalid(args, exc)
    policy_config = (
        Path(args.policy_config)
        if args.policy_config
        else (PROJECT_DIR / "policies" / "config" / f"{loaded.stack}.json")
    )
    try:
        pack_config = checks.load_config(policy_config, required=args.policy_config is not None)
        source = str(policy_config) if policy_config.exists() else "the pack's defaults"
        pack = checks.run(evaluation, pack_config, source)
    except checks.PolicyConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    render = plan.as_json if args.format == "json" else plan.as_text
    print(render(evaluation, pack))
    if names := pack.blocking:
        return _error(f"mandatory policies violated: {', '.join(names)}", EXIT_POLICY)
    return EXIT_OK


@_with_config
def _cost(args: argparse.Namespace, _: stackfile.StackFile, parsed: StackConfig) -> int:
    from components import cost

    render = cost.as_json if args.format == "json" else cost.report
    print(render(cost.estimate(parsed), parsed.tier))
    return EXIT_OK


@_with_config
def _backups_check(
    args: argparse.Namespace, stack: stackfile.StackFile, parsed: StackConfig
) -> int:
    from cli import backups

    # The cluster the app uses (postgres.active): its backups are the ones that count.
    pg, cluster = parsed.postgres, parsed.postgres_active
    if pg is None or cluster is None or not pg.backups.enabled:
        return _error(f"stack {stack.stack} has no webhost:postgres with backups", EXIT_INVALID)
    try:
        fresh, line = backups.check(cluster, pg.backups.objective, args.bucket)
    except backups.BackupCheckError as exc:
        return _error(exc, EXIT_FAILED)
    print(line, file=sys.stdout if fresh else sys.stderr)
    return EXIT_OK if fresh else EXIT_FAILED


@_with_config
def _restore_drill(
    args: argparse.Namespace, stack: stackfile.StackFile, parsed: StackConfig
) -> int:
    from cli import drill

    try:
        report = drill.run(parsed, stack.stack, scratch=args.scratch)
    except drill.DrillInputError as exc:
        return _error(exc, EXIT_INVALID)
    drill.write(report, Path(args.figures))
    print(report.markdown(), end="")
    for failure in report.failures:
        print(f"error: {failure}", file=sys.stderr)
    return EXIT_OK if report.passed else EXIT_FAILED


def _diff(args: argparse.Namespace) -> int:
    from cli import diff

    return diff.run(PROJECT_DIR, args.base, args.stack, args.format, out=sys.stdout, err=sys.stderr)


@_with_config
def _drift(args: argparse.Namespace, _: stackfile.StackFile, parsed: StackConfig) -> int:
    from cli import drift

    try:
        found = drift.check(parsed)
    except drift.DriftInputError as exc:
        return _error(exc, EXIT_INVALID)
    except drift.DriftReadError as exc:
        # Not an answer: the check failed, and says what it could not read.
        return _error(exc, EXIT_FAILED)
    print(drift.as_json(parsed, found) if args.format == "json" else drift.as_text(parsed, found))
    return EXIT_FAILED if found else EXIT_OK


def _recover(args: argparse.Namespace) -> int:
    from cli import recover

    return recover.run(args.stack, args.yes)


@_with_config
def _preflight(args: argparse.Namespace, stack: stackfile.StackFile, parsed: StackConfig) -> int:
    from cli import preflight

    owned = preflight.Owned()
    if args.state is not None:
        try:
            text = sys.stdin.read() if args.state == "-" else Path(args.state).read_text()
            owned = preflight.owned_from_export(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return _error(f"--state {args.state}: {exc}", EXIT_INVALID)
    report = preflight.run(parsed, stack=stack.stack, project=stack.project, owned=owned)
    preflight.print_report(report, stack.stack, sys.stdout, sys.stderr)
    return EXIT_FAILED if report.problems else EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    from cli import rollback

    if args.check:
        return rollback.check(PROJECT_DIR, args.stack, out=sys.stdout, err=sys.stderr)
    return rollback.rollback(PROJECT_DIR, args.stack, args.image, out=sys.stdout, err=sys.stderr)


def _reference(_args: argparse.Namespace) -> int:
    from cli import reference

    print(reference.block())
    return EXIT_OK


def _stack_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--stack", default="staging", help="stack name (Pulumi.<NAME>.yaml)")
    where.add_argument("--stack-file", metavar="PATH", help="a stack file anywhere")


FORMATS = ("text", "json")


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    run: Command,
    summary: str,
    description: str | None = None,
    *,
    formats: Sequence[str] = (),
    stack_file: bool = True,
) -> argparse.ArgumentParser:
    """A subcommand: `--stack`/`--stack-file` when it reads a stack file, `--format`
    when it has several (the first is the default)."""
    p = commands.add_parser(name, help=summary, description=description)
    if stack_file:
        _stack_options(p)
    if formats:
        p.add_argument("--format", choices=formats, default=formats[0])
    p.set_defaults(run=run)
    return p


# Built once per process: parsing never changes it, and building it (eleven subcommands,
# each help text looked up through gettext) is a third of a refused stack file's run.
@functools.cache
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="webhost-infra", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    p = _command(
        commands,
        "plan",
        _plan,
        "evaluate the program offline and print what it would create",
        "Run the Pulumi program in-process against mocks: no credentials, "
        "no network, no Pulumi CLI. Secrets are never decrypted.",
        formats=FORMATS,
    )
    p.add_argument(
        "--policy-config",
        metavar="PATH",
        help="policy pack config (default: policies/config/<stack>.json)",
    )
    _command(
        commands,
        "cost",
        _cost,
        "print the stack's estimated monthly cost, revenue and margin",
        formats=FORMATS,
    )
    b = commands.add_parser("backups", help="Postgres backup checks")
    c = _command(
        b.add_subparsers(dest="check", required=True),
        "check",
        _backups_check,
        "fail when the newest base backup is older than the recovery point objective",
        "Lists the base backups in the stack's backup bucket (S3-compatible: "
        "AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from the environment) "
        "and exits 1 when the newest is older than webhost:postgres.backups."
        "recoveryPointObjective, or when there is none.",
    )
    c.add_argument("--bucket", help="bucket name (default: $BUCKET_NAME or $AWS_BUCKET_NAME)")
    rd = _command(
        commands,
        "restore-drill",
        _restore_drill,
        "restore the newest backup into a scratch cluster, smoke-test it, destroy it",
        "Restore the active cluster's newest backup with `fly postgres backup "
        "restore` into a scratch cluster (<cluster>-drill-<minute>), run smoke queries, "
        "record the recovery point and recovery time, then destroy the scratch cluster and "
        "nothing else (FLY_API_TOKEN; flyctl on PATH). Exit 1 when a step fails or a figure "
        "is past postgres.backups.recoveryPointObjective / recoveryTimeObjective.",
    )
    rd.add_argument("--scratch", help="the scratch cluster's name (must contain -drill-)")
    rd.add_argument(
        "--figures",
        default="restore-drill.json",
        metavar="PATH",
        help="where the figures go as JSON (default: restore-drill.json)",
    )
    d = _command(
        commands,
        "diff",
        _diff,
        "what the working tree changes in a stack against a git ref, offline",
        "Evaluate the program at GIT-REF and in the working tree, both offline, "
        "and print each resource's step (create, update, replace and why, delete), the policy "
        "findings that appear or go away, and the monthly cost before and after. Exit 0 when "
        "computed, 2 on bad input on either side, 3 when the working tree violates a "
        "mandatory policy.",
        stack_file=False,
    )
    d.add_argument("--stack", default="staging", help="stack name (Pulumi.<NAME>.yaml)")
    d.add_argument("--base", required=True, metavar="GIT-REF", help="what to compare with")
    d.add_argument("--format", choices=DIFF_FORMATS, default="text")
    _command(
        commands,
        "drift",
        _drift,
        "compare the live Fly platform with the stack (what refresh cannot see)",
        "Read machines, secrets, IPs, certificates, Postgres and Redis with the "
        "program's own clients (FLY_API_TOKEN; flyctl on PATH) and print one line per "
        "difference naming the config key. Exit 1 on drift, 0 in step, 2 on bad input.",
        formats=FORMATS,
    )
    rc = _command(
        commands,
        "recover",
        _recover,
        "resolve the pending operations an interrupted `pulumi up` left",
        "Read the stack's pending operations (pulumi stack export), look each up "
        "at Cloudflare, Grafana or Fly, and print the commands that resolve them: an import "
        "with the found id, or a clear. --yes runs them (after a confirmation on a terminal) "
        "and checks each import landed in state. Exit 0 nothing pending or all resolved, 1 "
        "something left, 2 bad usage.",
        stack_file=False,
    )
    rc.add_argument("--stack", required=True, help="the stack (as pulumi names it)")
    rc.add_argument("--yes", action="store_true", help="run the commands")
    pf = _command(
        commands,
        "preflight",
        _preflight,
        "check, read-only, everything the first `up` of a stack needs",
        "Tokens (FLY_API_TOKEN, CLOUDFLARE_API_TOKEN, GRAFANA_AUTH, "
        "GRAFANA_SM_ACCESS_TOKEN), the Fly org, free app names, the image in its registry, "
        "the Tigris agreement, the zone and the records the stack makes, Grafana. One line "
        "per problem with its fix; exit 1 on any, 2 on bad input. Reads only.",
    )
    pf.add_argument(
        "--state",
        metavar="PATH",
        help="`pulumi stack export` output (`-`: stdin): what already exists and is this stack's",
    )
    rb = _command(
        commands,
        "rollback",
        _rollback,
        "deploy an image the stack ran before (by digest), the deploy alone",
        "With the Pulumi CLI (the stack's backend and secrets from the "
        "environment): refuse an image that is not pinned by digest or that no succeeded "
        "update of the stack deployed, preview the stack with that image (policy pack on), "
        "refuse anything but an update of the deploy's image, apply that plan and record "
        "the rollback in the stack's history. --check: exit 1 while the stack file's image "
        "is the one the last rollback left. Exit 0 done, 1 refused or failed, 2 bad input.",
        stack_file=False,
    )
    rb.add_argument("--stack", required=True, help="stack name (Pulumi.<NAME>.yaml)")
    what = rb.add_mutually_exclusive_group(required=True)
    what.add_argument("--image", metavar="NAME@sha256:DIGEST", help="the image to go back to")
    what.add_argument(
        "--check", action="store_true", help="would an up of the stack file undo a rollback?"
    )
    _command(
        commands,
        "config-reference",
        _reference,
        "print the stack config reference (the README's table)",
        stack_file=False,
    )
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


def run() -> NoReturn:
    """The console script: main(), then the process's exit.

    The interpreter's last act is a collector pass over the whole heap, most of it the
    SDKs' modules and classes: about 0.5 s of CPU, a fifth of a plan (bench/plan.py).
    The process is ending, so the heap is frozen out of that pass first (gc.freeze):
    atexit handlers and the streams' flushes run as before; only the finalizers of
    objects in reference cycles are skipped, and none of ours relies on one (the diff's
    and rollback's temporary directories are removed by their `with` blocks). Tests
    call main() and keep a collected heap."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
