"""`webhost-infra preflight`: what the first `up` of a stack needs, checked before any change.

Read-only: every call is a GET or HEAD (and GraphQL queries, never a mutation), so it
can run with the read-only tokens of a preview. Each problem is one line that says what
is wrong and how to fix it; a call that gets no answer (a refused connection, a timeout,
a 5xx) is a problem too, never a traceback and never taken for "absent". Absent is only
ever an explicit not-found (a 404, Fly's NOT_FOUND, an empty Cloudflare list).

"Ours" (an app name or a DNS record that already exists): Fly apps carry no label and
every stack writes the same record comment, so neither is proof that *this* stack made
it. The proof is the stack's state: `--state` takes `pulumi stack export` (a file, or
`-` for stdin); an existing app whose name is a value in a resource of that state, or
a record whose id is a DnsRecord's id there, is the stack's own. Without it, anything
that exists is reported with the step that adopts it or the refusal that names it.

The app contract (README.md, "The app contract") is checked where the registry shows
it: the image exists, has a linux/amd64 manifest (the architecture Fly Machines run),
and its config's entrypoint or command is set and its exposed ports, where it lists
any, include the HTTP and metrics ports the stack configures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

import httpx

from cli.httpclient import CLOUDFLARE_BASE_ENV, NoAnswer, said
from cli.preflight.base import DNS_RECORD_TYPE, Owned, Report, owned_from_export
from cli.preflight.cloudflare import check_cloudflare
from cli.preflight.fly import check_fly
from cli.preflight.grafana import GRAFANA_BASE_ENV, GRAFANA_SM_BASE_ENV, check_grafana
from cli.preflight.image import REGISTRY_BASE_ENV, split_image
from components.config import StackConfig

__all__ = [
    "CLOUDFLARE_BASE_ENV",
    "DNS_RECORD_TYPE",
    "GRAFANA_BASE_ENV",
    "GRAFANA_SM_BASE_ENV",
    "REGISTRY_BASE_ENV",
    "Owned",
    "Report",
    "owned_from_export",
    "print_report",
    "run",
    "split_image",
]

Check = Callable[[Report], None]


def run(cfg: StackConfig, *, stack: str, project: str, owned: Owned) -> Report:
    report = Report()
    checks: Iterable[Check] = (
        lambda r: check_fly(cfg, owned, r),
        lambda r: check_cloudflare(cfg, owned, stack, project, r),
        lambda r: check_grafana(cfg, r),
    )
    for check in checks:
        try:
            check(report)
        except NoAnswer as exc:  # a call no check above caught
            report.problem(str(exc))
        except httpx.HTTPError as exc:  # a transport failure no check above caught
            report.problem(f"{said(exc)}: run preflight again")
    return report


def print_report(report: Report, stack: str, out: TextIO, err: TextIO) -> None:
    for line in report.passed:
        print(f"ok: {line}", file=out)
    for line in report.notes:
        print(f"note: {line}", file=out)
    for line in report.problems:
        print(f"problem: {line}", file=err)
    verdict = (
        f"preflight {stack}: {len(report.problems)} problem(s)"
        if report.problems
        else f"preflight {stack}: ready"
    )
    print(verdict, file=err if report.problems else out)
