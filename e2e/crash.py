"""`make e2e`'s crash phase (issue 19): `pulumi up` killed across the graph, then recovered.

On a fresh stack of its own, `pulumi up` runs with `--event-log` (the engine's events as
JSON lines, one per event as it happens: pulumi/pulumi pkg/cmd/pulumi/operations/up.go,
a flag shown only with PULUMI_DEBUG_COMMANDS, sdk/go/common/env/env.go). Each run is
killed at the first kill point whose step starts (a `resourcePreEvent` for its URN and
op, sdk/go/common/apitype/events.go), once the far side has acted where the point names
a sign of it in the fakes' logs (the `fly` call, the Fly API request, the provider
plugin's Create): points are chosen by event, never by time. Kinds of kill: SIGKILL of
the CLI alone (its plugins and scripts live on), SIGKILL of the whole process group, and
SIGINT (the engine's own cancellation).

After each kill the operator's runbook (README, "The deploy job was cancelled"):
`pulumi cancel --yes` (a SIGKILLed CLI leaves the stack's lock: pkg/backend/diy/
backend.go CancelCurrentUpdate deletes it), `webhost-infra recover --stack S --yes`
(against the fakes' read APIs, e2e/fakeprovider/rest.py), then the next `pulumi up` -
itself killed at the next point, until the last runs to the end. The same for an
update (a new image). Then: `up` succeeds, a second `up --expect-no-changes` passes,
the fakes hold exactly what the state holds, the app's Postgres credentials are the
fake cluster's, and the export holds no plaintext secret.

A point converges when its recovery exits 0 and the run after it reports no failed
step and no error. One line per point, then `N/M kill points converged`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from e2e.checks import app_name, check_fakes_hold_stack
from e2e.harness import NEW_IMAGE, ROOT, Failure, Stack, output
from e2e.phases import phase_export
from tests.fakes import fly_api

RECOVER = ROOT / ".venv" / "bin" / "webhost-infra"
TIMEOUT = 900.0


@dataclass(frozen=True)
class Marks:
    """How far the fake Fly's logs were when a run started."""

    fly: int
    api: int


def marks(s: Stack) -> Marks:
    return Marks(len(s.fly_calls()), len(s.api.state.requests))


Sign = Callable[[Stack, Marks, str], bool]


def fly_ran(*words: str) -> Sign:
    """The fake `fly` was called with these words (it logs each call as it starts)."""
    return lambda s, m, _name: any(all(w in argv for w in words) for argv in s.fly_calls()[m.fly :])


class FlyAnswers:
    """Holds the fake Fly API's answer to one write, after it acted, until released.

    The fake API runs in this process (tests/fakes/fly_api/); its handler's `_send`
    answers once the request has done its work. While armed with a path pattern, a
    write matching it is answered only after `release()`: a kill then lands after the
    far side acted and before the provider can report it, the window a real API's
    latency opens.
    """

    def __init__(self) -> None:
        self.pattern: str | None = None
        self.held = threading.Event()
        self.released = threading.Event()
        self.original = fly_api._Handler._send
        hold = self

        def send(handler: Any, status: int, *args: Any, **kwargs: Any) -> None:
            path = urlsplit(handler.path).path
            if hold.pattern and handler.command != "GET" and re.search(hold.pattern, path):
                hold.held.set()
                hold.released.wait(TIMEOUT)
            hold.original(handler, status, *args, **kwargs)

        self.send = send

    def arm(self, pattern: str | None) -> None:
        self.pattern = pattern
        self.held.clear()
        self.released.clear()

    def release(self) -> None:
        self.pattern = None
        self.released.set()

    def __enter__(self) -> FlyAnswers:
        fly_api._Handler._send = self.send  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
        fly_api._Handler._send = self.original  # type: ignore[method-assign]


ANSWERS: list[FlyAnswers] = []  # the one in force during the phase


def fly_answer_held(pattern: str) -> Sign:
    """The fake Fly API acted on a write to `pattern` and holds its answer."""

    def sign(s: Stack, m: Marks, name: str) -> bool:
        return bool(ANSWERS) and ANSWERS[0].held.is_set()

    sign.pattern = pattern  # type: ignore[attr-defined]
    return sign


def plugin_created(s: Stack, m: Marks, name: str) -> bool:
    """The provider plugin made the point's resource and holds its answer
    (e2e/fakeprovider/provider.py hold_after_create)."""
    return (s.work.parent / "holds" / f"{name}.held").exists()


@dataclass(frozen=True)
class Point:
    label: str
    name: str  # the resource's name, the URN's last part
    kill: str  # cli | tree | sigint
    sign: Sign | None = None  # the far side has acted
    op: str = "create"


FRESH = [
    Point("Postgres create", "webhost-db", "tree", fly_ran("postgres", "create")),
    Point("IP allocation", "webhost-v4", "cli", fly_answer_held(r"/ip_assignments$")),
    Point(
        "Cloudflare record",
        "webhost-aaaa-webhost.example",
        "cli",
        plugin_created,
    ),
    Point("Grafana data source", "webhost-fly-prometheus", "tree", plugin_created),
    Point("Grafana synthetic check", "webhost-probe-health", "cli", plugin_created),
    Point("Postgres attach", "webhost-db-attach", "cli", fly_ran("postgres", "attach")),
    Point("certificate check", "webhost-cert-check-webhost.example", "sigint"),
    Point("app secrets", "webhost-secrets", "tree", fly_answer_held(r"/secrets$")),
    Point("deploy", "webhost-deploy", "cli", fly_ran("deploy")),
    Point("MachineCounts", "webhost-machines", "tree", fly_ran("scale", "count")),
]
UPDATE = [Point("deploy (update)", "webhost-deploy", "tree", fly_ran("deploy"), op="update")]


@dataclass
class Run:
    """One `pulumi up`: where it was killed, and what it reported failing."""

    point: Point | None = None
    moment: str = ""  # when the kill landed: at the step's start, after the far side
    # acted, or after the engine recorded the step
    errors: list[str] = field(default_factory=list)
    code: int | None = None


def _events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    if not path.exists():
        return [], offset
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1  # whole lines only: the engine may be mid-write
    lines = data[:end].decode().splitlines()
    return [json.loads(line) for line in lines if line.strip()], offset + end


def _errors(event: dict[str, Any]) -> list[str]:
    if failed := event.get("resOpFailedEvent"):
        return [f"{failed['metadata']['urn'].rsplit('::', 1)[-1]}: step failed"]
    diag = event.get("diagnosticEvent") or {}
    if diag.get("severity") == "error":
        return [str(diag.get("message", "")).strip()[:400]]
    return []


def _kill(proc: subprocess.Popen[str], how: str) -> None:
    if how == "cli":
        proc.send_signal(signal.SIGKILL)
    elif how == "tree":
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the group is the run's
    else:
        proc.send_signal(signal.SIGINT)


def killed_up(s: Stack, remaining: list[Point], n: int, groups: list[int]) -> Run:
    """`pulumi up`, killed at the first remaining point it reaches (or run to its end)."""
    log = s.work.parent / f"events-{n}.jsonl"
    holds = s.work.parent / "holds"
    holds.mkdir(exist_ok=True)
    held = [p.name for p in remaining if p.sign is plugin_created]
    env = {
        **s.env,
        "PULUMI_DEBUG_COMMANDS": "true",
        "FAKE_HOLD_AFTER_CREATE": ",".join(held),
        "FAKE_HOLD_DIR": str(holds),
    }
    start = marks(s)
    run = Run()
    with (s.work.parent / f"up-{n}.log").open("w") as out:
        proc = subprocess.Popen(
            [
                "pulumi",
                "up",
                "--yes",
                "--skip-preview",
                "--stack",
                s.name,
                "--non-interactive",
                "--event-log",
                str(log),
                # One step at a time: while a run is held for its point's far-side sign,
                # no other point's step can start and finish unkilled, so every point is
                # reached in some run (the engine's order, pkg/resource/deploy/
                # step_executor.go, workers = parallel).
                "--parallel",
                "1",
            ],
            cwd=s.work,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        groups.append(proc.pid)
        offset, target, finished = 0, None, False
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            events, offset = _events(log, offset)
            for event in events:
                run.errors += _errors(event)
                pre = (event.get("resourcePreEvent") or {}).get("metadata") or {}
                done = (event.get("resOutputsEvent") or {}).get("metadata") or {}
                name = str(pre.get("urn", "")).rsplit("::", 1)[-1]
                if target is None and pre:
                    target = next(
                        (p for p in remaining if p.name == name and p.op == pre.get("op")), None
                    )
                    if target is not None and ANSWERS:
                        ANSWERS[0].arm(getattr(target.sign, "pattern", None))
                if target and str(done.get("urn", "")).endswith(f"::{target.name}"):
                    finished = True  # recorded already: the kill lands just after
            acted = (
                target is not None
                and target.sign is not None
                and target.sign(s, start, target.name)
            )
            if target and (finished or acted or target.sign is None):
                _kill(proc, target.kill)
                run.point = target
                run.moment = (
                    "after it was recorded"
                    if finished
                    else "after the far side"
                    if acted
                    else "at the step's start"
                )
                break
            time.sleep(0.01)  # polling the event log between reads
        if ANSWERS:
            ANSWERS[0].release()  # the answer goes to a killed caller, or to none
        run.code = proc.wait(timeout=TIMEOUT)
        if run.point is None:  # after a kill, the errors are the kill's own
            events, offset = _events(log, offset)
            for event in events:
                run.errors += _errors(event)
    if run.point is None and run.code != 0:
        tail = (s.work.parent / f"up-{n}.log").read_text().strip().splitlines()[-3:]
        run.errors.append(f"up exited {run.code}: " + " / ".join(tail))
    return run


def recover(s: Stack, env: dict[str, str], n: int) -> tuple[int, str, int]:
    """The runbook after a kill: `recover` (it removes an empty sidecar, and names a lock
    left behind), `pulumi cancel` when it names one (no run of ours is going), then
    `recover` again. Returns its exit status and output, and how many operations
    were pending."""
    argv = [str(RECOVER), "recover", "--stack", s.name, "--yes"]

    def recover() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=s.work, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )

    first = recover()
    log = first.stdout + first.stderr
    if "stack lock:" in first.stdout:
        cancel = s.pulumi("cancel", "--yes", ok=False)
        log += f"$ pulumi cancel\n{cancel.stdout}{cancel.stderr}"
    exported = s.pulumi("stack", "export", ok=False)
    pending = -1
    if exported.returncode == 0:
        pending = len(json.loads(exported.stdout)["deployment"].get("pending_operations") or [])
    done = recover()
    text = (done.stdout + done.stderr).strip()
    (s.work.parent / f"recover-{n}.log").write_text(f"{log}\n$ recover\n{text}\n")
    return done.returncode, text, pending


def read_apis(s: Stack) -> dict[str, str]:
    """The environment `recover` finds the fakes' REST faces by (e2e/world.py serves them:
    Grafana's under the names recover reads, which the plugin's config must not see)."""
    grafana = s.env["WEBHOST_GRAFANA_BASE_URL"]
    return {**s.env, "GRAFANA_URL": grafana, "GRAFANA_SM_URL": grafana}


@dataclass
class Verdict:
    point: Point
    how: str  # the kill, when it landed, how many operations were pending
    why: list[str] = field(default_factory=list)  # empty: converged

    def line(self) -> str:
        said = "converged" if not self.why else "FAILED: " + "; ".join(self.why)
        return f"  kill {self.point.label:24} {self.how}  {said}"


def crash_runs(
    s: Stack, points: list[Point], env: dict[str, str], groups: list[int]
) -> list[Verdict]:
    """Kill, recover, and go on until a run ends: a verdict per point."""
    remaining, n = list(points), len(groups)
    verdicts: list[Verdict] = []
    for _ in range(len(points) + 2):
        run = killed_up(s, remaining, n, groups)
        if verdicts:
            verdicts[-1].why += [f"the next up: {e}" for e in run.errors]
        if run.point is None:
            break
        remaining.remove(run.point)
        code, text, pending = recover(s, env, n)
        how = f"{run.point.kill:6} {run.moment:22} pending {pending:2}"
        verdicts.append(Verdict(run.point, how))
        if code != 0:
            verdicts[-1].why.append(f"recover exited {code}: {text[-300:]}")
        n += 1
    verdicts += [Verdict(p, "", ["not reached: the run ended first"]) for p in remaining]
    return verdicts


# Which point a difference between the fakes and the state belongs to (its resource).
OWNERS = {
    "Postgres clusters": "Postgres create",
    "volumes": "Postgres create",
    "Fly IPs": "IP allocation",
    "dnsRecords": "Cloudflare record",
    "dataSources": "Grafana data source",
    "Grafana checks": "Grafana synthetic check",
    "attachments": "Postgres attach",
    "DATABASE_URL": "Postgres attach",
    "certificates": "certificate check",
    "app secrets": "app secrets",
    "machines": "MachineCounts",
}


def fakes_match_state(s: Stack) -> list[str]:
    """What the fakes hold that the state does not, or the other way round: type by type,
    one line each (empty when they match)."""
    state = json.loads(s.pulumi("stack", "export").stdout)["deployment"]
    ids: dict[str, set[str]] = {}
    outputs: dict[str, list[dict[str, Any]]] = {}
    for res in state.get("resources", []):
        if res.get("id"):
            ids.setdefault(res["type"], set()).add(str(res["id"]))
            outputs.setdefault(res["type"], []).append(res.get("outputs") or {})
    app = app_name(s)
    problems: list[str] = []

    def same(what: str, held: set[str], want: set[str]) -> None:
        if held != want:
            problems.append(
                f"{what}: at the fake only {sorted(held - want)}, "
                f"in state only {sorted(want - held)}"
            )

    # The IpAddress resource's id is "<app>/<address>", a Certificate's "<app>/<host>"
    # (components/fly/providers/ip_address.py).
    same(
        "Fly IPs",
        {f"{app}/{ip['ip']}" for ip in s.api.state.ips.get(app, [])},
        ids.get("pulumi-python:dynamic/fly:IpAddress", set()),
    )
    same(
        "Fly certificates",
        {f"{app}/{h}" for h in s.api.state.certificates.get(app, {})},
        ids.get("pulumi-python:dynamic/fly:Certificate", set()),
    )
    secrets = outputs.get("pulumi-python:dynamic/fly:AppSecrets", [])
    owned = {str(k) for out in secrets for k in out.get("keys") or []}
    same("Fly app secrets", set(s.api.state.secrets.get(app, {})), owned)
    cf = s.cloudflare()
    for key, token in (
        ("dnsRecords", "cloudflare:index/dnsRecord:DnsRecord"),
        ("rulesets", "cloudflare:index/ruleset:Ruleset"),
        ("originCaCertificates", "cloudflare:index/originCaCertificate:OriginCaCertificate"),
    ):
        same(f"Cloudflare {key}", set(cf.get(key, {})), ids.get(token, set()))
    grafana = json.loads(Path(s.env["FAKE_GRAFANA_STATE"]).read_text())
    for key, token in (
        ("dataSources", "grafana:oss/dataSource:DataSource"),
        ("folders", "grafana:oss/folder:Folder"),
        ("dashboards", "grafana:oss/dashboard:Dashboard"),
        ("checks", "grafana:syntheticMonitoring/check:Check"),
        ("contactPoints", "grafana:alerting/contactPoint:ContactPoint"),
    ):
        # Grafana's ids are "<org>:<uid>" (a check's is its number).
        want = {i.split(":", 1)[-1] for i in ids.get(token, set())}
        same(f"Grafana {key}", set(grafana.get(key, {})), want)
    groups = len(ids.get("grafana:alerting/ruleGroup:RuleGroup", set()))
    if len(grafana.get("ruleGroups", {})) != groups:
        problems.append(f"Grafana rule groups: {sorted(grafana['ruleGroups'])}, {groups} in state")
    fly = s.fly()
    if len(fly["pg"]) != 1:
        problems.append(f"Postgres clusters at Fly: {sorted(fly['pg'])}")
        return problems
    ((pg_name, cluster),) = fly["pg"].items()
    mine = [a for a in cluster.get("attachments", []) if a.get("app") == app]
    if len(mine) != 1:
        problems.append(f"{len(mine)} attachments of {app} to {pg_name}")
    for name, held in fly["apps"].items():
        loose = [v["id"] for v in held.get("volumes", []) if not v.get("attached_machine_id")]
        if loose:
            problems.append(f"{name}: volumes attached to no machine {loose}")
    url = urlsplit(s.api.state.secrets.get(app, {}).get("DATABASE_URL", ""))
    if not url.username or cluster["users"].get(url.username) != url.password:
        problems.append(
            "the app's DATABASE_URL is not a user of the fake cluster with its password"
        )
    return problems


# The engine starts each plugin in a process group of its own (pulumi sdk/go/common/util/
# cmdutil RegisterProcessGroup), so a kill of the CLI's group leaves them: found by the
# stack's own PULUMI_HOME in their environment.
# A plugin as the engine started it, also after its wrapper's exec: the language host,
# a provider binary, the dynamic providers' host, the fakes (e2e/fake_*/bin exec
# `python -m fakecf|fakegrafana`) and the stand-ins (tools/providers/*_provider.py).
PLUGIN = re.compile(
    r"pulumi-language-|pulumi-resource-|-m pulumi\.dynamic|-m fake(cf|grafana)\b"
    r"|tools/providers/\w+_provider\.py"
)


def reap_plugins(home: str) -> int:
    """SIGKILL the plugin processes of this stack's killed runs; how many there were."""
    marker = f"PULUMI_HOME={home}".encode()
    reaped = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not ours to read
            continue
        if PLUGIN.search(argv) and marker in environ:
            with suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                reaped += 1
    return reaped


def phase_crash(s: Stack) -> None:
    verdicts: list[Verdict] = []
    groups: list[int] = []
    try:
        env = read_apis(s)
        with FlyAnswers() as answers:
            ANSWERS[:] = [answers]
            verdicts += crash_runs(s, FRESH, env, groups)
            s.config_set("webhost:image", NEW_IMAGE)
            verdicts += crash_runs(s, UPDATE, env, groups)
    finally:
        for pgid in groups:  # what a CLI-only kill left running, started by this phase
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        reaped = reap_plugins(s.env["PULUMI_HOME"])
        print(f"  {s.name:8} crash: {reaped} plugin process(es) of killed runs reaped", flush=True)
    problems: list[str] = []
    for argv in (("up",), ("up", "--expect-no-changes")):
        done = s.pulumi(*argv, "--yes", "--skip-preview", ok=False)
        if done.returncode != 0:
            last = (output(done).splitlines() or [""])[-1]
            problems.append(f"pulumi {' '.join(argv)} exited {done.returncode}: {last}")
    try:
        check_fakes_hold_stack(s)
    except Failure as failure:
        problems.append(f"machines or secrets: {failure}")
    problems += fakes_match_state(s)
    for problem in problems:
        owners = [p for key, p in OWNERS.items() if key in problem] or [
            v.point.label for v in verdicts
        ]
        for v in verdicts:
            if v.point.label in owners:
                v.why.append(problem)
    for v in verdicts:
        print(v.line(), flush=True)
    converged = sum(1 for v in verdicts if not v.why)
    print(f"  {converged}/{len(verdicts)} kill points converged", flush=True)
    phase_export(s)
    if converged != len(verdicts):
        raise Failure(f"{len(verdicts) - converged} kill point(s) did not converge")
