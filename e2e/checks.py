"""What the phases read back from the stack and the fakes: its config, the machines
the fake Fly holds per region, what a preview would change."""

from __future__ import annotations

import json

from e2e.harness import Stack, expect

# No phase sets webhost:appName: read once per stack copy (a CLI start per read saved).
_APP_NAMES: dict[tuple[str, str], str] = {}


def app_name(s: Stack) -> str:
    key = (str(s.work), s.name)
    if key not in _APP_NAMES:
        _APP_NAMES[key] = s.pulumi("config", "get", "webhost:appName").stdout.strip()
    return _APP_NAMES[key]


def regions(s: Stack) -> dict[str, int]:
    raw = s.pulumi("config", "get", "webhost:regions", "--json").stdout
    value = json.loads(raw)
    parsed: dict[str, int] = json.loads(value["value"]) if "value" in value else value
    return parsed


def machine_counts(s: Stack, app: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for machine in s.fly()["apps"].get(app, {}).get("machines", []):
        counts[machine["region"]] = counts.get(machine["region"], 0) + 1
    return counts


def check_fakes_hold_stack(s: Stack) -> None:
    app = app_name(s)
    outputs = s.outputs()
    expect(app in s.api.state.apps, f"the Fly API has no app {app}")
    secret_names = set(outputs.get("secretNames") or [])
    held = set(s.api.state.secrets.get(app, {}))
    expect(secret_names <= held, f"app secrets missing: {sorted(secret_names - held)}")
    expect(machine_counts(s, app) == regions(s), f"machines {machine_counts(s, app)}")
    expect(bool(s.api.state.ips.get(app)), f"no IP address on {app}")
    expect(bool(s.fly()["pg"]), "no Postgres cluster in the fake fly")
    for zone in s.cloudflare()["zones"].values():
        # The program only ever turns HSTS on; the zone holds what the API took of it.
        held = zone["settings"].get("security_header")
        hsts = (held or {}).get("value", {}).get("strict_transport_security", {})
        expect(
            held is None or hsts.get("enabled") is True,
            f"zone {zone['name']}: Cloudflare holds security_header {hsts}, HSTS off",
        )


def machine_counts_output(s: Stack) -> dict[str, int]:
    """MachineCounts' `observed` output in the stack's state (components/fly/machines.py)."""
    state = json.loads(s.pulumi("stack", "export").stdout)
    found = [
        r.get("outputs", {}).get("observed") or {}
        for r in state["deployment"].get("resources", [])
        if r["type"] == "pulumi-python:dynamic/fly:MachineCounts"
    ]
    expect(len(found) == 1, f"{len(found)} MachineCounts resources in the state")
    return {region: int(n) for region, n in found[0].items()}


def previewed_changes(s: Stack) -> list[tuple[str, str]]:
    """(op, name) of each custom resource `pulumi preview` would change. Components
    (the Platform declares its spec) change no cloud object: their "update" is
    bookkeeping, so only custom resources count."""
    steps = json.loads(s.pulumi("preview", "--json").stdout).get("steps", [])
    return [
        (st["op"], st["urn"].split("::")[-1])
        for st in steps
        if st["op"] != "same" and (st.get("newState") or st.get("oldState") or {}).get("custom")
    ]
