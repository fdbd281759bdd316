"""`webhost-infra recover`: resolve what an interrupted `pulumi up` left pending.

A run killed while the engine waited on a provider leaves the operation in the state
as `deployment.pending_operations` (pulumi/pulumi sdk/go/common/apitype/core.go
OperationV2: `resource` (ResourceV3) and `type`: creating, updating, deleting, reading).
The engine keeps pending CREATEs across runs "because these must require user
intervention" (pkg/backend/journal.go) and tells the operator to confirm at the
provider whether each completed (pkg/resource/deploy/deployment_executor.go
printPendingOperationsWarning). This command does that confirmation for the
Cloudflare and Grafana resources, whose providers we cannot change:

- found at the far side: `pulumi import <type> <name> <id> --parent ... --provider ...`
  with the id in the provider's import format, then the state is exported again and
  the URN must be there with that id (an exit status 0 is not taken as proof);
- answered absent (an explicit not-found): the pending create is cleared;
- any lookup that failed is "unknown": nothing is cleared while one is left.

The program's own Fly resources (dynamic providers, flyctl scripts) find and adopt
what a cut-off create made on the next `pulumi up`, by the handle each keeps (see the
README); their pending creates are cleared. Pending updates and deletes are cleared by
`pulumi refresh` (pkg/backend/journal.go carries only CREATEs forward).

Exit: 0 nothing pending or everything resolved, 1 something left, 2 bad usage.
Tokens are read from the environment and never printed.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, TextIO
from urllib.parse import unquote, urlparse

from cli import httpclient
from cli.httpclient import NoAnswer

EXIT_OK = 0
EXIT_LEFT = 1

TIMEOUT = 20.0

DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
ORIGIN_CERT = "cloudflare:index/originCaCertificate:OriginCaCertificate"
DATA_SOURCE = "grafana:oss/dataSource:DataSource"
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
NOTIFICATION_POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
CHECK = "grafana:syntheticMonitoring/check:Check"
# Resources of the program's own providers: a cut-off create is adopted by `up`.
ADOPTED = ("pulumi-python:dynamic", "command:local:Command")


Inputs = Mapping[str, Any]


class Unknown(NoAnswer):
    """A lookup that got no answer: never read as "absent" (as a far side's NoAnswer)."""


class Pending(NamedTuple):
    """One pending operation: the resource's identity and inputs, and where it sits."""

    urn: str
    type: str
    op: str
    inputs: Mapping[str, Any]
    # `pulumi import`'s options that put it back where the program had it
    placement: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Pending:
        res = raw.get("resource") or {}
        placement = []
        if parent := str(res.get("parent") or ""):
            placement += ["--parent", f"parent={parent}"]
        if provider := str(res.get("provider") or ""):
            # A provider reference is "<urn>::<id>"; `pulumi import --provider` takes
            # the URN (pkg/cmd/pulumi/operations/import.go parseResourceSpec).
            placement += ["--provider", f"provider={provider.rsplit('::', 1)[0]}"]
        # `pulumi import` protects by default (import.go --protect): keep what the
        # program set.
        placement.append(f"--protect={str(bool(res.get('protect', False))).lower()}")
        return cls(
            urn=str(res.get("urn", "")),
            type=str(res.get("type", "")),
            op=str(raw.get("type", "")),
            inputs=res.get("inputs") or {},
            placement=tuple(placement),
        )


@dataclass
class Finding:
    pending: Pending
    verdict: str  # import | clear | adopt | refresh | unknown
    detail: str
    import_id: str = ""


@dataclass
class Plan:
    findings: list[Finding] = field(default_factory=list)
    sidecars: list[Path] = field(default_factory=list)

    @property
    def unknown(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == "unknown"]


Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


def _secret(value: Any) -> Any:
    """A plain value from a state property (a secret shows as its ciphertext envelope:
    it is never an identifying handle, so it reads as None)."""
    if isinstance(value, dict) and "4dabf18193072939515e22adb298388d" in value:
        return None
    return value


# -- the far side -------------------------------------------------------------------------
def _one(candidates: list[str], what: str) -> str | None:
    if len(candidates) > 1:
        raise Unknown(f"{len(candidates)} candidates for {what}: {', '.join(candidates)}")
    return candidates[0] if candidates else None


class Lookups:
    """For each pending create, the id it has at the far side, or None when absent."""

    def __init__(
        self,
        cloudflare: httpclient.Cloudflare | None,
        grafana: httpclient.Reader | None,
        sm: httpclient.Reader | None,
        held: Mapping[str, set[str]],
    ) -> None:
        self.cloudflare, self.grafana, self.sm = cloudflare, grafana, sm
        # Ids state already holds per type: a far-side object owned by another
        # resource is not this pending create's.
        self.held = held

    def cf(self) -> httpclient.Cloudflare:
        if self.cloudflare is None:
            raise Unknown("CLOUDFLARE_API_TOKEN is not set")
        return self.cloudflare

    def gf(self) -> httpclient.Reader:
        if self.grafana is None:
            raise Unknown("GRAFANA_AUTH or the Grafana URL is not set")
        return self.grafana

    def find(self, p: Pending) -> str | None:
        """The import id (the provider's format), None when absent; raises Unknown."""
        lookup = self.BY_TYPE.get(p.type)
        if lookup is None:
            raise Unknown(f"no lookup for {p.type}")
        inputs = {k: _secret(v) for k, v in p.inputs.items()}
        return lookup(self, inputs, self.held.get(p.type, set()))

    # -- Cloudflare: import ids from pulumi_cloudflare 6.23.1 (dns_record.py,
    # ruleset.py, zone_setting.py, origin_ca_certificate.py "Import" sections).
    def _dns_record(self, i: Inputs, held: set[str]) -> str | None:
        zone = str(i.get("zoneId") or "")
        zone_info = self.cf().found(f"/zones/{zone}")
        if zone_info is None:
            raise Unknown(f"zone {zone} not found")
        name, zname = str(i.get("name", "")), str(zone_info.get("name", ""))
        full = zname if name in ("@", zname) else name
        if not full.endswith(f".{zname}") and full != zname:
            full = f"{name}.{zname}"
        # DNS records list: GET /zones/{zone_id}/dns_records, filters `type` and
        # `name.exact` (developers.cloudflare.com/api/resources/dns/subresources/
        # records/methods/list).
        query = {"type": str(i.get("type", "")), "name.exact": full}
        found = self.cf().found(f"/zones/{zone}/dns_records", **query)
        records = [r for r in found or [] if r.get("id") not in held]
        if i.get("content") is not None:
            records = [r for r in records if r.get("content") == i.get("content")]
        rid = _one([str(r["id"]) for r in records], f"{full} {i.get('type')}")
        return f"{zone}/{rid}" if rid else None  # '<zone_id>/<dns_record_id>'

    def _ruleset(self, i: Inputs, held: set[str]) -> str | None:
        zone = str(i.get("zoneId") or "")
        # One entry-point ruleset per phase: GET /zones/{zone_id}/rulesets/phases/
        # {phase}/entrypoint, 404 when the phase has none (developers.cloudflare.com/
        # ruleset-engine/rulesets-api/view).
        got = self.cf().found(f"/zones/{zone}/rulesets/phases/{i.get('phase')}/entrypoint")
        if got is None or got.get("id") in held:
            return None
        return f"zones/{zone}/{got['id']}"  # '<{accounts|zones}/{zone_id}>/<ruleset_id>'

    def _zone_setting(self, i: Inputs, held: set[str]) -> str | None:
        zone, setting = str(i.get("zoneId") or ""), str(i.get("settingId") or "")
        # A zone always has each setting (GET /zones/{zone_id}/settings/{setting_id}):
        # the create only PATCHed a value, so the resource is imported as it stands.
        if self.cf().found(f"/zones/{zone}/settings/{setting}") is None:
            raise Unknown(f"zone {zone} has no setting {setting}")
        return f"{zone}/{setting}"  # '<zone_id>/<setting_id>'

    def _origin_cert(self, i: Inputs, held: set[str]) -> str | None:
        hosts = sorted(str(h) for h in i.get("hostnames") or [])
        zones = self.cf().found("/zones") or []
        zone = next(
            (
                str(z["id"])
                for z in zones
                if hosts and all(h.removeprefix("*.").endswith(str(z.get("name"))) for h in hosts)
            ),
            None,
        )
        if zone is None:
            raise Unknown(f"no zone for {hosts}")
        # Origin CA list: GET /certificates?zone_id= (developers.cloudflare.com/api/
        # resources/origin_ca_certificates/methods/list); a revoked one leaves the list.
        found = self.cf().found("/certificates", zone_id=zone) or []
        ids = [
            str(c["id"])
            for c in found
            if sorted(c.get("hostnames") or []) == hosts
            and c.get("request_type") == i.get("requestType")
            and str(c.get("id")) not in held
        ]
        return _one(ids, f"an Origin CA certificate for {hosts}")  # '<certificate_id>'

    # -- Grafana: import ids from pulumiverse_grafana 2.44.0 oss/data_source.py,
    # oss/folder.py, oss/dashboard.py ("{{ uid }}"), alerting/rule_group.py
    # ("{{ folderUID }}:{{ title }}"), alerting/contact_point.py ("{{ name }}"),
    # alerting/notification_policy.py ("{{ anyString }}"), syntheticmonitoring/check.py
    # ("{{ id }}"). Routes: grafana/grafana docs/sources/developers/http_api/
    # {data_source,folder,dashboard,alerting_provisioning}.md; the SM API's
    # /api/v1/check/list.
    @staticmethod
    def _unheld(key: str, held: set[str]) -> str | None:
        return None if key in held or f"1:{key}" in held else key

    def _data_source(self, i: Inputs, held: set[str]) -> str | None:
        got = self.gf().found(f"/api/datasources/name/{i.get('name', '')}")
        return None if got is None else self._unheld(str(got["uid"]), held)

    def _folder(self, i: Inputs, held: set[str]) -> str | None:
        if uid := i.get("uid"):
            got = self.gf().found(f"/api/folders/{uid}")
            return None if got is None else self._unheld(str(got["uid"]), held)
        folders = self.gf().found("/api/folders") or []
        ids = [str(f["uid"]) for f in folders if f.get("title") == i.get("title")]
        return _one([u for u in ids if self._unheld(u, held)], f"folder {i.get('title')}")

    def _dashboard(self, i: Inputs, held: set[str]) -> str | None:
        try:
            uid = json.loads(str(i.get("configJson") or "{}")).get("uid")
        except ValueError:
            uid = None
        if not uid:
            raise Unknown("the dashboard's configJson names no uid")
        got = self.gf().found(f"/api/dashboards/uid/{uid}")
        return None if got is None else self._unheld(str(uid), held)

    def _rule_group(self, i: Inputs, held: set[str]) -> str | None:
        folder, group = i.get("folderUid"), i.get("name")
        got = self.gf().found(f"/api/v1/provisioning/folder/{folder}/rule-groups/{group}")
        return None if got is None else self._unheld(f"{folder}:{group}", held)

    def _contact_point(self, i: Inputs, held: set[str]) -> str | None:
        name = str(i.get("name", ""))
        got = self.gf().found("/api/v1/provisioning/contact-points", name=name) or []
        return self._unheld(name, held) if any(c.get("name") == name for c in got) else None

    def _policy(self, i: Inputs, held: set[str]) -> str | None:
        # One policy tree per org, always present: import it as it stands.
        self.gf().found("/api/v1/provisioning/policies")
        return "policy"

    def _check(self, i: Inputs, held: set[str]) -> str | None:
        if self.sm is None:
            raise Unknown("GRAFANA_SM_ACCESS_TOKEN is not set")
        checks = self.sm.found("/api/v1/check/list") or []
        ids = [
            str(c["id"])
            for c in checks
            if c.get("job") == i.get("job") and c.get("target") == i.get("target")
        ]
        return _one([x for x in ids if x not in held], f"check {i.get('job')}")

    BY_TYPE: ClassVar[dict[str, Callable[[Lookups, Inputs, set[str]], str | None]]] = {
        DNS_RECORD: _dns_record,
        RULESET: _ruleset,
        ZONE_SETTING: _zone_setting,
        ORIGIN_CERT: _origin_cert,
        DATA_SOURCE: _data_source,
        FOLDER: _folder,
        DASHBOARD: _dashboard,
        RULE_GROUP: _rule_group,
        CONTACT_POINT: _contact_point,
        NOTIFICATION_POLICY: _policy,
        CHECK: _check,
    }


# -- the stack ------------------------------------------------------------------------------
def pending_of(export: Mapping[str, Any]) -> list[Pending]:
    deployment = export.get("deployment") or {}
    return [Pending.of(op) for op in deployment.get("pending_operations") or []]


def held_ids(export: Mapping[str, Any]) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for res in (export.get("deployment") or {}).get("resources") or []:
        if res.get("id"):
            held.setdefault(str(res.get("type")), set()).add(str(res["id"]))
    return held


def in_state(export: Mapping[str, Any], urn: str, resource_id: str) -> bool:
    """The URN is a resource of the stack with this id (the provider may normalise an
    import id to its own: the record id of '<zone>/<record>', so the tail counts)."""
    for res in (export.get("deployment") or {}).get("resources") or []:
        if res.get("urn") == urn:
            rid = str(res.get("id") or "")
            return bool(rid) and (rid == resource_id or resource_id.endswith(rid))
    return False


def empty_sidecars(backend_url: str) -> list[Path]:
    """Empty `.attrs` sidecars a killed write left in a file backend.

    The file backend writes through gocloud.dev's fileblob, which creates
    `<key>.attrs` (os.Create, then the JSON) before it renames the new file in
    (blob/fileblob/fileblob.go writerWithSidecar.Close, attrs.go setAttrs). A kill in
    between leaves it empty, and every later read of that key fails decoding it;
    a missing sidecar is read as no attributes (attrs.go getAttrs), so the empty one
    can go: it holds nothing.
    """
    if not backend_url.startswith("file://"):
        return []
    root = Path(unquote(urlparse(backend_url).path)).expanduser() / ".pulumi"
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.attrs") if p.is_file() and p.stat().st_size == 0)


def stack_locks(backend_url: str, stack: str) -> list[str]:
    """A file backend's locks on the stack, as "<file>: pid P on H since T".

    The backend locks a stack with `.pulumi/locks/<org>/<project>/<stack>/<id>.json`
    ({pid, username, hostname, timestamp}: pulumi/pulumi pkg/backend/diy/lock.go); a
    SIGKILLed CLI leaves it behind, and every later update refuses to start.
    """
    if not backend_url.startswith("file://"):
        return []
    root = Path(unquote(urlparse(backend_url).path)).expanduser() / ".pulumi" / "locks"
    found = []
    for path in sorted(root.glob(f"**/{stack}/*.json")) if root.is_dir() else []:
        try:
            lock = json.loads(path.read_text())
            found.append(
                f"{path}: pid {lock.get('pid')} on {lock.get('hostname')} "
                f"since {lock.get('timestamp')}"
            )
        except (OSError, ValueError):
            found.append(f"{path}: unreadable")
    return found


def plan(export: Mapping[str, Any], lookups: Lookups) -> Plan:
    result = Plan()
    for p in pending_of(export):
        if p.op != "creating":
            result.findings.append(
                Finding(p, "refresh", f"interrupted while {p.op}: `pulumi refresh` clears it")
            )
            continue
        if p.type.startswith(ADOPTED):
            result.findings.append(
                Finding(p, "adopt", "the program's own provider adopts it on the next up")
            )
            continue
        try:
            found = lookups.find(p)
        except NoAnswer as exc:
            result.findings.append(Finding(p, "unknown", str(exc)))
            continue
        if found is None:
            result.findings.append(Finding(p, "clear", "absent at the far side"))
        else:
            result.findings.append(Finding(p, "import", f"exists as {found}", found))
    return result


def import_argv(stack: str, f: Finding) -> list[str]:
    p = f.pending
    argv = ["pulumi", "import", p.type, p.name, f.import_id, "--stack", stack, "--yes"]
    return [*argv, *p.placement, "--generate-code=false"]


def commands(stack: str, result: Plan) -> list[list[str]]:
    out = [import_argv(stack, f) for f in result.findings if f.verdict == "import"]
    creates = [f for f in result.findings if f.pending.op == "creating"]
    others = [f for f in result.findings if f.pending.op != "creating"]
    if (creates or others) and not result.unknown:
        # pkg/cmd/pulumi/operations/refresh.go: --clear-pending-creates drops every
        # pending create (the imported ones are in state by then); the refresh clears
        # pending updates and deletes.
        clear = ["--clear-pending-creates"] if creates else []
        out.append(["pulumi", "refresh", "--stack", stack, "--yes", "--skip-preview", *clear])
    return out


# -- running it ---------------------------------------------------------------------------
def _default_runner(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


def export_stack(stack: str, runner: Runner) -> dict[str, Any]:
    done = runner(["pulumi", "stack", "export", "--stack", stack])
    if done.returncode != 0:
        raise Unknown(f"pulumi stack export exited {done.returncode}: {done.stderr.strip()[-300:]}")
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise Unknown("pulumi stack export printed no JSON") from None
    return result


def lookups_from_env(env: Mapping[str, str], export: Mapping[str, Any]) -> Lookups:
    cf = gf = sm = None
    if token := env.get("CLOUDFLARE_API_TOKEN"):
        cf = httpclient.Cloudflare(token, env, timeout=TIMEOUT)
    provider_inputs: dict[str, Any] = {}
    for res in (export.get("deployment") or {}).get("resources") or []:
        if str(res.get("type", "")).startswith("pulumi:providers:grafana"):
            provider_inputs = res.get("inputs") or {}
    # pulumiverse_grafana 2.44.0 provider.py: the env names the provider reads for url,
    # auth and the synthetic monitoring API, and what the stack gave the provider.
    url = env.get("GRAFANA_URL") or _secret(provider_inputs.get("url"))
    if (auth := env.get("GRAFANA_AUTH")) and url:
        gf = httpclient.Reader(
            "Grafana", str(url), auth=httpclient.authorization(auth), timeout=TIMEOUT
        )
    if sm_token := env.get("GRAFANA_SM_ACCESS_TOKEN"):
        sm_url = (
            env.get(httpclient.GRAFANA_SM_URL_ENV)
            or _secret(provider_inputs.get("smUrl"))
            or httpclient.GRAFANA_SM_DEFAULT_URL
        )
        sm = httpclient.Reader(
            "Grafana synthetic monitoring", str(sm_url), auth=f"Bearer {sm_token}", timeout=TIMEOUT
        )
    return Lookups(cf, gf, sm, held_ids(export))


def _sidecars(env: Mapping[str, str], yes: bool, out: TextIO) -> bool:
    """Name (with --yes remove) the empty sidecars; True when none is left."""
    found = empty_sidecars(env.get("PULUMI_BACKEND_URL", ""))
    for path in found:
        print(
            f"empty checkpoint sidecar: {path} (an empty .attrs; a missing one reads "
            "as none: remove it)",
            file=out,
        )
        if yes:
            path.unlink()
    return yes or not found


def _apply(stack: str, result: Plan, steps: list[list[str]], runner: Runner, out: TextIO) -> None:
    """Run the steps; every import must be in the exported state before the clear."""
    imports = [f for f in result.findings if f.verdict == "import"]
    for f, argv in zip(imports, steps, strict=False):
        done = runner(argv)
        if done.returncode != 0 or not in_state(
            export_stack(stack, runner), f.pending.urn, f.import_id
        ):
            raise Unknown(
                f"the import of {f.pending.urn} did not land in state (exit {done.returncode})"
            )
        print(f"imported {f.pending.urn} as {f.import_id}: in state", file=out)
    if result.unknown:
        raise Unknown(f"{len(result.unknown)} pending operation(s) left unanswered")
    for argv in steps[len(imports) :]:
        if (code := runner(argv).returncode) != 0:
            raise Unknown(f"{shlex.join(argv)} exited {code}")
    if left := pending_of(export_stack(stack, runner)):
        raise Unknown(f"{len(left)} pending operation(s) left")


def run(
    stack: str,
    yes: bool,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    runner: Runner = _default_runner,
    env: Mapping[str, str] | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> int:
    env = os.environ if env is None else env
    if not _sidecars(env, yes, out):
        print("error: the backend cannot read the stack until the empty sidecars go", file=err)
        return EXIT_LEFT
    if locks := stack_locks(env.get("PULUMI_BACKEND_URL", ""), stack):
        for lock in locks:
            print(f"stack lock: {lock}", file=out)
        # Releasing it is the operator's call: only they know no run is still going.
        print(
            f"error: stack {stack} is locked; when no `pulumi up` of it is running, "
            f"`pulumi cancel --stack {stack} --yes`, then run this again",
            file=err,
        )
        return EXIT_LEFT
    try:
        export = export_stack(stack, runner)
        result = plan(export, lookups_from_env(env, export))
        if not result.findings:
            print(f"stack {stack}: no pending operations", file=out)
            return EXIT_OK
        for f in result.findings:
            print(f"{f.pending.op:9} {f.pending.urn}: {f.verdict}: {f.detail}", file=out)
        steps = commands(stack, result)
        for argv in steps:
            print("  " + shlex.join(argv), file=out)
        if result.unknown:
            raise Unknown(
                f"{len(result.unknown)} pending operation(s) could not be looked "
                "up; nothing is cleared until each is answered"
            )
        if not yes:
            return EXIT_LEFT
        if not (confirm or _ask)(f"run {len(steps)} command(s) on stack {stack}?"):
            raise Unknown("nothing run")
        _apply(stack, result, steps, runner, out)
    except NoAnswer as exc:
        print(f"error: {exc}", file=err)
        return EXIT_LEFT
    print(f"stack {stack}: every pending operation resolved", file=out)
    return EXIT_OK


def _ask(question: str) -> bool:
    """--yes still asks on a terminal; without one (CI) --yes is the confirmation."""
    if not sys.stdin.isatty():
        return True
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
