"""`webhost-infra recover` (cli/recover.py) against the fakes' read APIs.

The far side is the fake Cloudflare's and the fake Grafana's state, made by their
provider classes as `pulumi up` makes it and read back through their REST routes
(e2e/fakeprovider/rest.py) over HTTP; the `pulumi` binary is the boundary the runner
stands in for (its `stack export` answers and the commands it is asked to run).
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from pulumi.provider.experimental.provider import ReadRequest

from cli import main as cli_main
from cli import recover
from tests.fakeprovider_client import Engine, fly_data_source, plain, rule_group, run, use_fake

use_fake("fake_cloudflare")
use_fake("fake_grafana")
from fakecf.provider import FakeCloudflare  # noqa: E402
from fakecf.rest import FakeCloudflareApi  # noqa: E402
from fakecf.store import CallLog, Store, zone_id_for  # noqa: E402
from fakegrafana.provider import FakeGrafana  # noqa: E402
from fakegrafana.rest import FakeGrafanaApi  # noqa: E402
from fakegrafana.store import CallLog as GfLog  # noqa: E402
from fakegrafana.store import Store as GfStore  # noqa: E402

ZONE = "webhost.example"
ZONE_ID = zone_id_for(ZONE)
CF_TOKEN = "cf-token-must-not-leak"
GF_TOKEN = "glsa_token-must-not-leak"
EDGE = Engine("prod", "webhost:edge:Edge")
MON = Engine("prod", "webhost:monitoring:Monitoring")
PARENT = "urn:pulumi:prod::webhost::webhost:edge:Edge::edge"
CF_PROVIDER = "urn:pulumi:prod::webhost::pulumi:providers:cloudflare::default_6_23_1"


def aaaa(content: str = "2a09:8280:1::1") -> dict[str, Any]:
    return {
        "zoneId": ZONE_ID,
        "name": ZONE,
        "type": "AAAA",
        "content": content,
        "proxied": True,
        "ttl": 1,
    }


@pytest.fixture
def cf(tmp_path: Path) -> Iterator[tuple[FakeCloudflare, str]]:
    store = Store(tmp_path / "cf.json", {ZONE: ZONE_ID})
    with FakeCloudflareApi(store, CF_TOKEN) as api:
        yield FakeCloudflare(store, CallLog(tmp_path / "cf.jsonl")), api.url


@pytest.fixture
def gf(tmp_path: Path) -> Iterator[tuple[FakeGrafana, str]]:
    from pulumi.provider.experimental.provider import ConfigureRequest

    store = GfStore(tmp_path / "gf.json")
    fake = FakeGrafana(store, GfLog(tmp_path / "gf.jsonl"))
    config = {
        "grafana:config:url": "https://webhost.grafana.net",
        "grafana:config:auth": GF_TOKEN,
        "grafana:config:smAccessToken": GF_TOKEN,
    }
    run(fake.configure(ConfigureRequest(config, {}, True, True)))
    with FakeGrafanaApi(GF_TOKEN, GF_TOKEN, store) as api:
        yield fake, api.url


def op(
    token: str, name: str, inputs: Mapping[str, Any], engine: Engine = EDGE, kind: str = "creating"
) -> dict[str, Any]:
    return {
        "type": kind,
        "resource": {
            "urn": engine.urn(token, name),
            "type": token,
            "custom": True,
            "inputs": dict(inputs),
            "parent": PARENT,
            "provider": f"{CF_PROVIDER}::0b7c",
            "protect": False,
        },
    }


def export(
    ops: Sequence[Mapping[str, Any]], resources: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    return {
        "version": 3,
        "deployment": {"resources": list(resources), "pending_operations": list(ops)},
    }


def lookups(cf_url: str | None, gf_url: str | None = None, held: Any = None) -> recover.Lookups:
    env = {}
    if cf_url:
        env |= {"CLOUDFLARE_API_TOKEN": CF_TOKEN, "CLOUDFLARE_BASE_URL": cf_url}
    if gf_url:
        env |= {
            "GRAFANA_URL": gf_url,
            "GRAFANA_AUTH": GF_TOKEN,
            "GRAFANA_SM_URL": gf_url,
            "GRAFANA_SM_ACCESS_TOKEN": GF_TOKEN,
        }
    return recover.lookups_from_env(env, held or export([]))


# --- lookups -------------------------------------------------------------------------------
def test_a_record_created_before_the_kill_is_imported_by_zone_and_record_id(
    cf: tuple[FakeCloudflare, str],
) -> None:
    fake, url = cf
    made = EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa())
    found = recover.plan(export([op(recover.DNS_RECORD, "edge-aaaa", aaaa())]), lookups(url))
    (f,) = found.findings
    assert (f.verdict, f.import_id) == ("import", f"{ZONE_ID}/{made.resource_id}")
    argv = recover.commands("prod", found)
    assert argv[0][:6] == [
        "pulumi",
        "import",
        recover.DNS_RECORD,
        "edge-aaaa",
        f"{ZONE_ID}/{made.resource_id}",
        "--stack",
    ]
    assert f"parent={PARENT}" in argv[0] and f"provider={CF_PROVIDER}" in argv[0]
    assert "--protect=false" in argv[0]
    assert argv[-1][-1] == "--clear-pending-creates"


def test_a_record_the_state_already_holds_is_not_taken_for_the_pending_one(
    cf: tuple[FakeCloudflare, str],
) -> None:
    fake, url = cf
    made = EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa())
    held = export([], [{"type": recover.DNS_RECORD, "id": made.resource_id, "urn": "u"}])
    found = recover.plan(
        export([op(recover.DNS_RECORD, "other", aaaa())]), lookups(url, None, held)
    )
    assert [f.verdict for f in found.findings] == ["clear"]


def test_a_record_never_made_is_cleared_and_another_content_is_not_it(
    cf: tuple[FakeCloudflare, str],
) -> None:
    fake, url = cf
    EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa("2a09:8280:1::9"))
    found = recover.plan(export([op(recover.DNS_RECORD, "edge-aaaa", aaaa())]), lookups(url))
    assert [f.verdict for f in found.findings] == ["clear"]
    assert recover.commands("prod", found) == [
        [
            "pulumi",
            "refresh",
            "--stack",
            "prod",
            "--yes",
            "--skip-preview",
            "--clear-pending-creates",
        ]
    ]


@pytest.mark.parametrize("failure", ["no token", "refused", "no server", "unknown zone"])
def test_a_lookup_that_fails_is_unknown_and_nothing_is_cleared(
    cf: tuple[FakeCloudflare, str], failure: str
) -> None:
    _, url = cf
    inputs = aaaa()
    if failure == "no token":
        look = lookups(None)
    elif failure == "refused":
        look = lookups(url)
        assert look.cloudflare is not None
        look.cloudflare.auth = None  # the request goes without Authorization
    elif failure == "no server":
        look = lookups("http://127.0.0.1:9")
    else:
        inputs["zoneId"] = "0" * 32
        look = lookups(url)
    found = recover.plan(export([op(recover.DNS_RECORD, "edge-aaaa", inputs)]), look)
    assert [f.verdict for f in found.findings] == ["unknown"]
    assert recover.commands("prod", found) == []


def test_rulesets_settings_and_origin_certificates_are_found(
    cf: tuple[FakeCloudflare, str],
) -> None:
    fake, url = cf
    rules = {
        "zoneId": ZONE_ID,
        "kind": "zone",
        "phase": "http_request_cache_settings",
        "name": "static",
        "rules": [
            {
                "action": "set_cache_settings",
                "expression": "true",
                "actionParameters": {"cache": True},
            }
        ],
    }
    ruleset = EDGE.create(fake, recover.RULESET, "cache", rules)
    setting = {"zoneId": ZONE_ID, "settingId": "ssl", "value": "strict"}
    pending = [op(recover.RULESET, "cache", rules), op(recover.ZONE_SETTING, "ssl", setting)]
    found = recover.plan(export(pending), lookups(url))
    assert [(f.verdict, f.import_id) for f in found.findings] == [
        ("import", f"zones/{ZONE_ID}/{ruleset.resource_id}"),
        ("import", f"{ZONE_ID}/ssl"),
    ]
    other = dict(rules, phase="http_request_firewall_custom")
    absent = recover.plan(export([op(recover.RULESET, "waf", other)]), lookups(url))
    assert [f.verdict for f in absent.findings] == ["clear"]


def test_the_fake_reads_each_import_id_as_the_provider_parses_it(
    cf: tuple[FakeCloudflare, str],
) -> None:
    fake, _ = cf
    made = EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa())
    urn = EDGE.urn(recover.DNS_RECORD, "edge-aaaa")
    read = run(fake.read(ReadRequest(urn, f"{ZONE_ID}/{made.resource_id}", {}, {})))
    assert read.resource_id == made.resource_id
    assert plain(read.properties)["content"] == "2a09:8280:1::1"
    EDGE.create(
        fake,
        recover.ZONE_SETTING,
        "ssl",
        {"zoneId": ZONE_ID, "settingId": "ssl", "value": "strict"},
    )
    setting_urn = EDGE.urn(recover.ZONE_SETTING, "ssl")
    read = run(fake.read(ReadRequest(setting_urn, f"{ZONE_ID}/ssl", {}, {})))
    assert read.resource_id == "ssl" and plain(read.properties)["value"] == "strict"


def test_grafana_objects_are_found_by_their_handles(gf: tuple[FakeGrafana, str]) -> None:
    fake, url = gf
    ds = fly_data_source()
    MON.create(fake, recover.DATA_SOURCE, "ds", ds)
    MON.create(fake, recover.FOLDER, "folder", {"title": "Monitoring", "uid": "f1"})
    MON.create(
        fake,
        recover.CONTACT_POINT,
        "cp",
        {"name": "ops", "webhooks": [{"url": "https://hooks.example/a"}]},
    )
    board = {"configJson": json.dumps({"uid": "board1", "title": "Overview"}), "folder": "f1"}
    MON.create(fake, recover.DASHBOARD, "board", board)
    group = rule_group("f1")
    MON.create(fake, recover.RULE_GROUP, "alerts", group)
    probe = {
        "job": "webhost health",
        "target": "https://webhost.example/health",
        "probes": [4],
        "frequency": 60000,
        "timeout": 3000,
        "settings": {"http": {"method": "GET"}},
    }
    made = MON.create(fake, recover.CHECK, "probe", probe)
    pending = [
        op(recover.DATA_SOURCE, "ds", ds, MON),
        op(recover.FOLDER, "folder", {"uid": "f1"}, MON),
        op(recover.CONTACT_POINT, "cp", {"name": "ops"}, MON),
        op(recover.DASHBOARD, "board", board, MON),
        op(recover.RULE_GROUP, "alerts", group, MON),
        op(recover.CHECK, "probe", probe, MON),
        op(recover.DATA_SOURCE, "gone", dict(ds, name="Other"), MON),
        op(recover.CONTACT_POINT, "gone-cp", {"name": "nobody"}, MON),
    ]
    found = recover.plan(export(pending), lookups(None, url))
    assert [(f.verdict, f.import_id) for f in found.findings] == [
        ("import", "webhost-fly-prom"),
        ("import", "f1"),
        ("import", "ops"),
        ("import", "board1"),
        ("import", "f1:webhost targets"),
        ("import", str(made.resource_id)),
        ("clear", ""),
        ("clear", ""),
    ]
    # The fake reads the rule group's import id as the provider documents it.
    read = run(
        fake.read(ReadRequest(MON.urn(recover.RULE_GROUP, "alerts"), "f1:webhost targets", {}, {}))
    )
    assert plain(read.properties)["name"] == "webhost targets"


def test_updates_deletes_and_our_own_resources_are_not_looked_up() -> None:
    pending = [
        op(recover.DNS_RECORD, "a", aaaa(), kind="updating"),
        op("pulumi-python:dynamic/fly:IpAddress", "webhost-v4", {}),
        op("command:local:Command", "attach", {}),
    ]
    found = recover.plan(export(pending), lookups(None))
    assert [f.verdict for f in found.findings] == ["refresh", "adopt", "adopt"]


# --- running the commands ----------------------------------------------------------------
class FakePulumi:
    """The `pulumi` binary: its exports in turn, and the argv it was asked to run."""

    def __init__(self, exports: list[dict[str, Any]], import_code: int = 0) -> None:
        self.exports, self.import_code = exports, import_code
        self.ran: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.ran.append(list(argv))
        if argv[1:3] == ["stack", "export"]:
            current = self.exports[0] if len(self.exports) == 1 else self.exports.pop(0)
            return subprocess.CompletedProcess(argv, 0, json.dumps(current), "")
        code = self.import_code if argv[1] == "import" else 0
        return subprocess.CompletedProcess(argv, code, "", "")


def _run(pulumi: FakePulumi, env: Mapping[str, str], yes: bool = True) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = recover.run(
        "prod", yes, out=out, err=err, runner=pulumi, env=env, confirm=lambda _q: True
    )
    return code, out.getvalue() + err.getvalue()


def test_yes_imports_checks_the_state_then_clears(cf: tuple[FakeCloudflare, str]) -> None:
    fake, url = cf
    made = EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa())
    pending = op(recover.DNS_RECORD, "edge-aaaa", aaaa())
    landed = {"urn": pending["resource"]["urn"], "type": recover.DNS_RECORD, "id": made.resource_id}
    env = {"CLOUDFLARE_API_TOKEN": CF_TOKEN, "CLOUDFLARE_BASE_URL": url}
    pulumi = FakePulumi([export([pending]), export([pending], [landed]), export([], [landed])])
    code, text = _run(pulumi, env)
    assert code == 0, text
    assert [a[1] for a in pulumi.ran] == ["stack", "import", "stack", "refresh", "stack"]
    assert CF_TOKEN not in text and "every pending operation resolved" in text


def test_an_import_that_exits_0_but_is_not_in_state_is_not_resolved(
    cf: tuple[FakeCloudflare, str],
) -> None:
    fake, url = cf
    EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa())
    pending = op(recover.DNS_RECORD, "edge-aaaa", aaaa())
    env = {"CLOUDFLARE_API_TOKEN": CF_TOKEN, "CLOUDFLARE_BASE_URL": url}
    pulumi = FakePulumi([export([pending])])
    code, text = _run(pulumi, env)
    assert code == 1 and "did not land in state" in text
    assert not any(a[1] == "refresh" for a in pulumi.ran)


def test_without_yes_it_prints_and_runs_nothing(cf: tuple[FakeCloudflare, str]) -> None:
    _, url = cf
    pulumi = FakePulumi([export([op(recover.DNS_RECORD, "edge-aaaa", aaaa())])])
    code, text = _run(
        pulumi, {"CLOUDFLARE_API_TOKEN": CF_TOKEN, "CLOUDFLARE_BASE_URL": url}, yes=False
    )
    assert code == 1 and "pulumi refresh --stack prod" in text
    assert [a[1] for a in pulumi.ran] == ["stack"]


def test_nothing_pending_exits_0() -> None:
    assert _run(FakePulumi([export([])]), {})[0] == 0


def test_an_unknown_leaves_exit_1_and_runs_no_clear() -> None:
    pulumi = FakePulumi([export([op(recover.DNS_RECORD, "edge-aaaa", aaaa())])])
    code, text = _run(pulumi, {})
    assert code == 1 and "CLOUDFLARE_API_TOKEN is not set" in text
    assert [a[1] for a in pulumi.ran] == ["stack"]


def test_an_export_that_fails_is_exit_1() -> None:
    def broken(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 255, "", "error: the stack is locked")

    out, err = io.StringIO(), io.StringIO()
    assert recover.run("prod", True, out=out, err=err, runner=broken, env={}) == 1
    assert "stack is locked" in err.getvalue()


def test_an_empty_checkpoint_sidecar_is_named_and_removed_with_yes(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "webhost"
    stacks.mkdir(parents=True)
    (stacks / "prod.json").write_text("{}")
    (stacks / "prod.json.attrs").write_text("")
    (stacks / "staging.json.attrs").write_text('{"user.cache_control":""}')
    env = {"PULUMI_BACKEND_URL": f"file://{tmp_path}"}
    code, text = _run(FakePulumi([export([])]), env, yes=False)
    assert code == 1 and "prod.json.attrs" in text and "staging" not in text
    assert _run(FakePulumi([export([])]), env)[0] == 0
    assert not (stacks / "prod.json.attrs").exists() and (stacks / "staging.json.attrs").exists()


def test_recover_without_a_stack_is_bad_usage() -> None:
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["recover"])
    assert exc.value.code == 2


def test_a_left_lock_is_named_and_not_released(tmp_path: Path) -> None:
    locks = tmp_path / ".pulumi" / "locks" / "organization" / "webhost" / "prod"
    locks.mkdir(parents=True)
    lock = {
        "pid": 4242,
        "username": "ci",
        "hostname": "runner",
        "timestamp": "2026-12-06T06:46:52Z",
    }
    (locks / "07b05f88.json").write_text(json.dumps(lock))
    pulumi = FakePulumi([export([])])
    code, text = _run(pulumi, {"PULUMI_BACKEND_URL": f"file://{tmp_path}"})
    assert code == 1 and "pid 4242 on runner" in text and "pulumi cancel --stack prod" in text
    assert pulumi.ran == [] and (locks / "07b05f88.json").exists()


def test_the_fakes_hold_a_named_create_after_acting_until_released(
    cf: tuple[FakeCloudflare, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash phase's seam (e2e/fakeprovider/provider.py hold_after_create)."""
    import threading

    fake, _ = cf
    monkeypatch.setenv("FAKE_HOLD_AFTER_CREATE", "edge-aaaa")
    monkeypatch.setenv("FAKE_HOLD_DIR", str(tmp_path))
    EDGE.create(fake, recover.DNS_RECORD, "other", aaaa("2a09:8280:1::7"))
    assert not (tmp_path / "other.held").exists()
    done = threading.Event()

    def make() -> None:
        EDGE.create(fake, recover.DNS_RECORD, "edge-aaaa", aaaa())
        done.set()

    worker = threading.Thread(target=make)
    worker.start()
    while not (tmp_path / "edge-aaaa.held").exists():
        assert worker.is_alive()
        worker.join(0.05)
    assert not done.is_set()
    assert len(json.loads((tmp_path / "cf.json").read_text())["dnsRecords"]) == 2  # acted
    (tmp_path / "edge-aaaa.release").write_text("")
    worker.join(30)
    assert done.is_set()
