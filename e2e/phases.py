"""The lifecycle phases of `make e2e` (e2e/run.py's table says which run in what
order): up, noop, refresh, drift, image, contact, export and destroy. Each runs the
engine on the stack and checks what the fakes hold after it."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from e2e.checks import (
    app_name,
    check_fakes_hold_stack,
    machine_counts,
    machine_counts_output,
    previewed_changes,
    regions,
)
from e2e.harness import (
    CLOUDFLARE_TOKEN,
    GRAFANA_TOKENS,
    NEW_IMAGE,
    OPERATOR,
    PAGER,
    Skipped,
    Stack,
    expect,
    is_api_write,
    is_fly_write,
    output,
)
from tests.fakes.fly_api import TOKEN


def phase_up(s: Stack) -> None:
    s.pulumi("up", "--yes", "--skip-preview")
    check_fakes_hold_stack(s)


def phase_noop(s: Stack, *, preview: bool = True) -> None:
    """A second `up` changes nothing and writes nothing. The phase runs it as an operator
    does, with its preview; a later no-op check (origin, rollback) may pass
    preview=False: `--expect-no-changes` judges the update's own steps either way
    (pulumi pkg/cmd/pulumi/operations/up.go: NoChangesExpectedError when the update's
    changes are not empty), so skipping the preview drops one evaluation of the program
    and no check."""
    before_fly, before_api = len(s.fly_calls()), len(s.api.state.requests)
    before_cf = len(s.cloudflare_calls())
    before_gf = len(s.cloudflare_calls("FAKE_GRAFANA_LOG"))
    s.pulumi("up", "--yes", "--expect-no-changes", *([] if preview else ["--skip-preview"]))
    writes = [a for a in s.fly_calls()[before_fly:] if is_fly_write(a)]
    api = [
        f"{r.method} {r.path}"
        for r in s.api.state.requests[before_api:]
        if is_api_write(r.method, r.body)
    ]
    expect(not writes, f"the second up ran flyctl writes: {writes}")
    expect(not api, f"the second up sent Fly API writes: {api}")
    cf = [c["method"] for c in s.cloudflare_calls()[before_cf:] if c.get("wrote")]
    expect(not cf, f"the second up wrote to the fake Cloudflare: {cf}")
    gf = [c["method"] for c in s.cloudflare_calls("FAKE_GRAFANA_LOG")[before_gf:] if c["wrote"]]
    expect(not gf, f"the second up wrote to the fake Grafana: {gf}")


def phase_refresh(s: Stack) -> None:
    s.pulumi("refresh", "--yes", "--expect-no-changes")


def phase_drift(s: Stack) -> None:
    """Each out-of-band change alone, then `up --refresh`: each must be put back."""
    app = app_name(s)
    state = s.api.state
    with state.lock:
        removed = sorted(state.secrets[app])[0]
        del state.secrets[app][removed]
    s.pulumi("up", "--yes", "--refresh", "--skip-preview")
    expect(
        removed in state.secrets.get(app, {}), f"secret {removed} removed by hand was not put back"
    )

    with state.lock:
        released = state.ips[app].pop()
    s.pulumi("up", "--yes", "--refresh", "--skip-preview")
    expect(
        any(ip.get("type") == released.get("type") for ip in state.ips.get(app, [])),
        f"{released.get('type')} IP released by hand was not put back",
    )

    wanted = regions(s)
    down = max(wanted, key=lambda r: (wanted[r], r))  # a region with machines to lose
    s.fly_by_hand("scale", "count", str(wanted[down] - 1), "--region", down, "--app", app, "--yes")
    s.pulumi("refresh", "--yes", "--skip-preview")
    observed = machine_counts_output(s)
    expect(
        observed.get(down, 0) == wanted[down] - 1,
        f"refresh did not see {down} scaled down by hand: MachineCounts observed {observed}",
    )
    changed = previewed_changes(s)
    expect(
        len(changed) == 1 and changed[0][0] == "update" and changed[0][1].endswith("-machines"),
        f"{down} scaled down by hand previews as {changed}, not an update of MachineCounts",
    )
    s.pulumi("up", "--yes", "--skip-preview")
    expect(
        machine_counts(s, app) == wanted,
        f"{down} scaled down by hand was not put back: machines {machine_counts(s, app)}",
    )

    up = min(wanted, key=lambda r: (wanted[r], r))
    s.fly_by_hand("scale", "count", str(wanted[up] + 1), "--region", up, "--app", app, "--yes")
    s.pulumi("up", "--yes", "--refresh", "--skip-preview")
    expect(
        machine_counts(s, app) == wanted,
        f"{up} scaled up by hand was not put back: machines {machine_counts(s, app)}",
    )


def phase_image(s: Stack) -> None:
    s.config_set("webhost:image", NEW_IMAGE)
    changed = previewed_changes(s)
    expect(
        len(changed) == 1 and changed[0][0] == "update" and changed[0][1].endswith("-deploy"),
        f"a new image previews as {changed}, not an update of the deploy alone",
    )
    s.pulumi("up", "--yes", "--skip-preview")
    images = [d.get("image") for d in s.fly()["deploys"]]
    expect(images[-1:] == [NEW_IMAGE], f"the last deploy was {images[-1:]}, not {NEW_IMAGE}")


def phase_export(s: Stack) -> None:
    exported = s.pulumi("stack", "export", "--show-secrets=false").stdout
    app = app_name(s)
    values = dict(s.api.state.secrets.get(app, {}))
    secrets = {f"app secret {k}": v for k, v in values.items() if len(v) >= 8}
    secrets |= {f"operator {k}": v for k, v in OPERATOR.items()}
    secrets |= {"FLY_API_TOKEN": TOKEN, "CLOUDFLARE_API_TOKEN": CLOUDFLARE_TOKEN}
    secrets |= GRAFANA_TOKENS
    secrets |= {"the pager URL (fromEnv, then a secret)": PAGER}
    leaked = sorted(name for name, value in secrets.items() if value in exported)
    expect(not leaked, f"the exported state holds in plaintext: {leaked}")
    for name in ("DATABASE_URL", "REDIS_URL"):
        expect(name in values, f"the app has no {name} to look for")
    state = json.loads(exported)
    pickles = [
        (r["urn"], r["outputs"]["__provider"])
        for r in state["deployment"].get("resources", [])
        if isinstance(r.get("outputs"), dict) and "__provider" in r["outputs"]
    ]
    expect(bool(pickles), "no dynamic provider in the state")
    for urn, encoded in pickles:
        raw = encoded if isinstance(encoded, str) else json.dumps(encoded)
        blob = base64.b64decode(raw)
        expect(b"components" in blob, f"{urn}: the provider pickle names no module of ours")
        # cloudpickle pickles a class by value with _make_skeleton_class and its
        # functions with _make_function / CodeType (cloudpickle/cloudpickle.py).
        copied = [m for m in (b"_make_skeleton_class", b"_make_function", b"CodeType") if m in blob]
        expect(not copied, f"{urn}: the provider pickle embeds code ({copied})")


def phase_destroy_staging(s: Stack) -> None:
    s.pulumi("destroy", "--yes", "--skip-preview")
    app = app_name(s)
    left = {
        "api apps": sorted(s.api.state.apps),
        "api ips": {k: v for k, v in s.api.state.ips.items() if v},
        "api add-ons": sorted(s.api.state.add_ons),
        "fly apps": sorted(k for k, v in s.fly()["apps"].items() if v.get("machines")),
        "fly pg": sorted(s.fly()["pg"]),
        "cloudflare records": sorted(s.cloudflare()["dnsRecords"]),
    }
    leftovers = {k: v for k, v in left.items() if v}
    expect(not leftovers, f"destroy left {leftovers} (app {app})")


def phase_destroy_prod(s: Stack) -> None:
    refused = s.pulumi("destroy", "--yes", "--skip-preview", ok=False)
    expect(refused.returncode != 0, "destroy of protected prod was not refused", output(refused))
    expect("protect" in (refused.stdout + refused.stderr), "refusal names no protection")
    pg_before = sorted(s.fly()["pg"])
    s.pulumi("state", "unprotect", "--all", "--yes")
    s.pulumi("destroy", "--yes", "--skip-preview")
    expect(
        bool(pg_before) and sorted(s.fly()["pg"]) == pg_before,
        f"retained Postgres {pg_before} did not stay: {sorted(s.fly()['pg'])}",
    )


def phase_contact(s: Stack) -> None:
    """Issue 17: renaming a contact point takes one `up`. Its `name` forces a replacement
    and Grafana refuses to delete one the notification policy routes to: the new one is
    made and the policy re-pointed before the old one goes."""
    path = Path(s.env["FAKE_GRAFANA_STATE"])
    if "webhost:monitoring" not in (s.work / f"Pulumi.{s.name}.yaml").read_text():
        raise Skipped("the stack declares no monitoring")
    point = "webhost:monitoring.contactPoints[0]"
    # From the environment (the stack file's fromEnv) to a secret in the stack.
    s.pulumi("config", "rm", "--path", f"{point}.fromEnv")
    s.pulumi("config", "set", "--path", f"{point}.kind", "webhook")
    s.pulumi("config", "set", "--path", "--secret", f"{point}.url", PAGER)
    for name in ("oncall", "pager"):
        s.pulumi("config", "set", "--path", f"{point}.name", name)
        s.pulumi("up", "--yes", "--skip-preview")
        grafana = json.loads(path.read_text())
        held = sorted(grafana["contactPoints"])
        routed = grafana.get("notificationPolicy", {}).get("contactPoint")
        expect(held == [name] and routed == name, f"contact points {held}, policy to {routed}")
    # Every check alerts on its failed executions (issue 21), as the fake holds them.
    alerting = {k for k, v in grafana.get("checkAlerts", {}).items() if v.get("alerts")}
    expect(alerting == set(grafana["checks"]), f"checks {sorted(grafana['checks'])} alerting")
    # The data source's header as Fly's client builds it: one scheme, never two.
    token = GRAFANA_TOKENS["FLY_METRICS_TOKEN"]
    header = "sha256:" + hashlib.sha256(f"FlyV1 {token}".encode()).hexdigest()
    headers = [ds.get("httpHeaders") for ds in grafana["dataSources"].values()]
    expect(headers == [{"Authorization": header}], "the data source's header is not FlyV1 <token>")


def phase_destroy(s: Stack) -> None:
    if s.name == "staging":
        phase_destroy_staging(s)
    else:
        phase_destroy_prod(s)
