"""The fake Grafana provider plugin (e2e/fake_grafana), driven in-process and over gRPC.

The engine's calls are made on the provider class with the request types the SDK's
provider base receives; one test starts the plugin through its launcher from PATH and
speaks gRPC to it, as the engine does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pulumiverse_grafana
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.provider.experimental.provider import (
    CheckRequest,
    ConfigureRequest,
    PropertyDiffKind,
)
from pulumi.runtime.proto import provider_pb2

from components import catalog
from tests.fakeprovider_client import (
    Engine,
    fly_data_source,
    invoke,
    launched,
    log_entries,
    plain,
    props,
    rule_group,
    run,
    sdk_version,
    state_paths,
    stored,
    struct,
    use_fake,
)

FAKE = use_fake("fake_grafana")

from fakegrafana.provider import FakeGrafana, GrafanaError  # noqa: E402
from fakegrafana.store import CallLog, Store  # noqa: E402
from fakeprovider.values import UNKNOWN  # noqa: E402

DS = "grafana:oss/dataSource:DataSource"
FOLDER = "grafana:oss/folder:Folder"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
RULES = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
CHECK = "grafana:syntheticMonitoring/check:Check"
GET_PROBES = "grafana:syntheticMonitoring/getProbes:getProbes"
FLY_TOKEN = "FlyV1 fm2_metrics-token-must-not-leak"
AUTH = "glsa_grafana-auth-must-not-leak"
SM_TOKEN = "sm-token-must-not-leak"


MONITORING = Engine("prod", "webhost:monitoring:Monitoring")  # the program's component


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return state_paths(tmp_path, "grafana")


def configured(paths: tuple[Path, Path], **config: str) -> FakeGrafana:
    fake = FakeGrafana(Store(paths[0]), CallLog(paths[1]))
    args = {"url": "https://webhost.grafana.net", "auth": AUTH, "smAccessToken": SM_TOKEN}
    args.update(config)
    variables = {f"grafana:config:{k}": v for k, v in args.items() if v}
    run(fake.configure(ConfigureRequest(variables, {}, True, True)))
    return fake


@pytest.fixture
def fake(paths: tuple[Path, Path]) -> FakeGrafana:
    return configured(paths)


def data_source(**over: Any) -> dict[str, Any]:
    return fly_data_source(
        httpHeaders={"Authorization": FLY_TOKEN},
        jsonDataEncoded=json.dumps({"httpMethod": "POST", "timeInterval": "15s"}),
        **over,
    )


check = MONITORING.check
create = MONITORING.create


def contact(name: str, hook: str = "https://hooks.example/a") -> dict[str, Any]:
    return {"name": name, "webhooks": [{"url": hook}]}


def update(fake: FakeGrafana, token: str, name: str, created: Any, news: dict[str, Any]) -> Any:
    checked = check(fake, token, name, news)
    return MONITORING.update(
        fake, token, name, created.resource_id, created.properties, checked.inputs
    )


def diff(fake: FakeGrafana, token: str, created: Any, news: dict[str, Any], secret=frozenset()):
    checked = check(fake, token, "x", news, secret)
    return MONITORING.diff(
        fake, token, "x", created.resource_id, created.properties, checked.inputs
    )


# --- Check: the SDK's required inputs and enums -------------------------------------------


def test_a_missing_required_input_names_it(fake: FakeGrafana) -> None:
    inputs = data_source()
    del inputs["type"]
    result = check(fake, DS, "fly", inputs)
    assert [f.property for f in result.failures] == ["type"]
    assert 'The argument "type" is required' in result.failures[0].reason
    assert "Examine values at 'fly.type'." in result.failures[0].reason


def test_nested_required_inputs_and_enums_name_their_path(fake: FakeGrafana) -> None:
    group = rule_group("f")
    group["rules"][0]["noDataState"] = "Silence"
    del group["rules"][0]["datas"][0]["model"]
    result = check(fake, RULES, "alerts", group)
    assert sorted(f.property for f in result.failures) == [
        "rules[0].datas[0].model",
        "rules[0].noDataState",
    ]
    enum = next(f.reason for f in result.failures if f.property == "rules[0].noDataState")
    assert 'one of ["OK" "NoData" "KeepLast" "Alerting"], got Silence' in enum


def test_a_rule_group_needs_a_rule_and_a_check_a_range(fake: FakeGrafana) -> None:
    assert [f.property for f in check(fake, RULES, "r", rule_group("f", rules=[])).failures] == [
        "rules"
    ]
    probe = {
        "job": "j",
        "target": "https://x",
        "probes": [1],
        "settings": {"http": {"method": "GET"}},
        "frequency": 10,
    }
    failures = check(fake, CHECK, "c", probe).failures
    assert [f.property for f in failures] == ["frequency"]
    assert "range (1000 - 3600000), got 10" in failures[0].reason


def test_invalid_json_is_refused_and_unknowns_pass(fake: FakeGrafana) -> None:
    bad = check(fake, DASHBOARD, "d", {"configJson": "{not json"})
    assert [f.property for f in bad.failures] == ["configJson"]
    assert not check(fake, DASHBOARD, "d", {"configJson": UNKNOWN, "folder": UNKNOWN}).failures


def test_check_fills_the_provider_defaults(fake: FakeGrafana) -> None:
    result = check(fake, RULES, "r", rule_group("f"))
    rule = plain(result.inputs)["rules"][0]
    assert rule["isPaused"] is False and rule["datas"][0]["queryType"] == ""
    assert plain(check(fake, DS, "d", data_source(accessMode=None)).inputs)["accessMode"] == "proxy"


def test_provider_config_refuses_unknown_keys_and_a_url_without_scheme(fake: FakeGrafana) -> None:
    ok = run(fake.check_config(CheckRequest("urn", {}, props({"url": "https://g.example"}), b"")))
    assert not ok.failures
    bad = run(
        fake.check_config(CheckRequest("urn", {}, props({"url": "g.example", "token": "x"}), b""))
    )
    assert sorted(f.property for f in bad.failures) == ["token", "url"]


# --- lifecycle over the stateful store ------------------------------------------------------


def test_create_read_update_delete_and_the_secret_header(
    fake: FakeGrafana, paths: tuple[Path, Path]
) -> None:
    secret = frozenset({"httpHeaders"})
    created = create(fake, DS, "fly", data_source(), secret)
    assert created.resource_id == "1:webhost-fly-prom"
    assert created.properties["httpHeaders"].is_secret
    held = stored(paths)["dataSources"]["webhost-fly-prom"]
    assert FLY_TOKEN not in paths[0].read_text()
    assert held["httpHeaders"]["Authorization"].startswith("sha256:")

    read = MONITORING.read(fake, DS, "fly", created.resource_id, created.properties)
    assert plain(read.properties)["httpHeaders"] == {"Authorization": FLY_TOKEN}
    assert read.properties["httpHeaders"].is_secret

    changed = diff(fake, DS, created, data_source(name="Fly (renamed)"), secret)
    assert changed.changes and changed.diffs == ["name"] and not changed.replaces
    MONITORING.update(
        fake,
        DS,
        "fly",
        created.resource_id,
        created.properties,
        props(data_source(name="Fly (renamed)"), secret),
    )
    assert stored(paths)["dataSources"]["webhost-fly-prom"]["name"] == "Fly (renamed)"
    MONITORING.delete(fake, DS, "fly", created.resource_id, created.properties)
    assert stored(paths)["dataSources"] == {}
    gone = MONITORING.read(fake, DS, "fly", created.resource_id, created.properties)
    assert gone.resource_id is None


def test_refresh_sees_a_header_changed_out_of_band(
    fake: FakeGrafana, paths: tuple[Path, Path]
) -> None:
    secret = frozenset({"httpHeaders"})
    created = create(fake, DS, "fly", data_source(), secret)
    state = stored(paths)
    state["dataSources"]["webhost-fly-prom"]["httpHeaders"]["Authorization"] = "sha256:other"
    paths[0].write_text(json.dumps(state))
    read = MONITORING.read(fake, DS, "fly", created.resource_id, created.properties)
    assert plain(read.properties)["httpHeaders"] != {"Authorization": FLY_TOKEN}
    again = MONITORING.diff(
        fake, DS, "fly", created.resource_id, read.properties, created.properties
    )
    assert again.diffs == ["httpHeaders"]


def test_replacements_where_the_provider_forces_new(fake: FakeGrafana) -> None:
    ds = create(fake, DS, "fly", data_source())
    uid = diff(fake, DS, ds, data_source(uid="other"))
    assert uid.replaces == ["uid"]
    assert uid.detailed_diff["uid"].kind == PropertyDiffKind.UPDATE_REPLACE
    # A data source's type is updated in place (resource_data_source.go: not ForceNew).
    assert diff(fake, DS, ds, data_source(type="loki")).replaces == []
    folder = create(fake, FOLDER, "f", {"title": "Monitoring", "uid": "f1"})
    create(fake, FOLDER, "g", {"title": "Other", "uid": "f2"})
    assert diff(fake, FOLDER, folder, {"title": "Monitoring", "uid": "f3"}).replaces == ["uid"]
    board = {"configJson": json.dumps({"uid": "b", "title": "B"}), "folder": "f1"}
    created = create(fake, DASHBOARD, "b", board)
    # resource_dashboard.go: `folder` is not ForceNew (a move); a new model uid is.
    moved = diff(fake, DASHBOARD, created, {**board, "folder": "f2"})
    assert moved.diffs == ["folder"] and moved.replaces == []
    renamed = {**board, "configJson": json.dumps({"uid": "b2", "title": "B"})}
    assert diff(fake, DASHBOARD, created, renamed).replaces == ["configJson"]
    retitled = {**board, "configJson": json.dumps({"uid": "b", "title": "C"})}
    assert diff(fake, DASHBOARD, created, retitled).replaces == []
    group = create(fake, RULES, "r", rule_group(plain(folder.properties)["uid"]))
    assert diff(fake, RULES, group, rule_group("f2")).replaces == ["folderUid"]
    point = create(fake, CONTACT, "c", contact("oncall"))
    assert diff(fake, CONTACT, point, contact("pager")).replaces == ["name"]
    assert diff(fake, CONTACT, point, contact("oncall", "https://hooks.example/b")).replaces == []


def test_only_a_named_resource_is_deleted_before_its_replacement(fake: FakeGrafana) -> None:
    """The bridge asks for delete-before-replace where the program set an autonamed
    `name` (data source, rule group, contact point); elsewhere the engine's default."""
    folder = create(fake, FOLDER, "f", {"title": "Monitoring", "uid": "f1"})
    ds = create(fake, DS, "fly", data_source())
    group = create(fake, RULES, "r", rule_group("f1"))
    point = create(fake, CONTACT, "c", contact("oncall"))
    board = {"configJson": json.dumps({"uid": "b", "title": "B"}), "folder": "f1"}
    dashboard = create(fake, DASHBOARD, "b", board)
    replaced = {
        "data source": diff(fake, DS, ds, data_source(uid="other")),
        "rule group": diff(fake, RULES, group, rule_group("f1", name="renamed")),
        "contact point": diff(fake, CONTACT, point, contact("pager")),
        "folder": diff(fake, FOLDER, folder, {"title": "Monitoring", "uid": "f9"}),
        "dashboard": diff(fake, DASHBOARD, dashboard, {
            **board, "configJson": json.dumps({"uid": "b2", "title": "B"})
        }),
    }  # fmt: skip
    assert all(d.replaces for d in replaced.values())
    assert {k: d.delete_before_replace for k, d in replaced.items()} == {
        "data source": True,
        "rule group": True,
        "contact point": True,
        "folder": False,
        "dashboard": False,
    }
    # An update in place never deletes anything first.
    assert not diff(fake, DS, ds, data_source(name="Y")).delete_before_replace


def test_a_dashboard_moves_folder_in_place(fake: FakeGrafana, paths: tuple[Path, Path]) -> None:
    create(fake, FOLDER, "f", {"title": "Monitoring", "uid": "f1"})
    create(fake, FOLDER, "g", {"title": "Other", "uid": "f2"})
    board = {"configJson": json.dumps({"uid": "b", "title": "B"}), "folder": "f1"}
    created = create(fake, DASHBOARD, "b", board)
    before = stored(paths)["dashboards"]["b"]
    update(fake, DASHBOARD, "b", created, {**board, "folder": "f2"})
    after = stored(paths)["dashboards"]["b"]
    assert after["folder"] == "f2" and after["dashboardId"] == before["dashboardId"]
    assert after["version"] == before["version"] + 1


def test_same_inputs_make_no_diff_despite_provider_filled_values(fake: FakeGrafana) -> None:
    folder = create(fake, FOLDER, "f", {"title": "Monitoring", "uid": "f1"})
    group = create(fake, RULES, "r", rule_group("f1"))
    assert plain(group.properties)["rules"][0]["uid"]  # Grafana's uid for the rule
    assert not diff(fake, RULES, group, rule_group("f1")).changes
    model = {"uid": "b", "title": "B", "panels": [{"id": 1, "title": "p"}]}
    board = create(fake, DASHBOARD, "b", {"configJson": json.dumps(model), "folder": "f1"})
    assert plain(board.properties)["url"] == "https://webhost.grafana.net/d/b/b"
    # The same model, keys in another order: no change (JSON compared by meaning).
    same = json.dumps(dict(reversed(list(model.items()))))
    assert not diff(fake, DASHBOARD, board, {"configJson": same, "folder": "f1"}).changes
    assert plain(folder.properties)["url"].endswith("/dashboards/f/f1/")


def test_grafana_refusals(fake: FakeGrafana) -> None:
    with pytest.raises(GrafanaError, match="folder does not exist"):
        create(fake, RULES, "r", rule_group("nowhere"))
    create(fake, DS, "a", data_source())
    with pytest.raises(GrafanaError, match="same name already exists"):
        create(fake, DS, "b", data_source(uid="another"))
    with pytest.raises(GrafanaError, match="does not exist"):
        create(fake, POLICY, "p", {"contactPoint": "oncall", "groupBies": ["alertname"]})


def test_without_auth_the_provider_refuses_to_act(paths: tuple[Path, Path]) -> None:
    fake = configured(paths, auth="", smAccessToken="")
    with pytest.raises(GrafanaError, match="GRAFANA_AUTH"):
        create(fake, FOLDER, "f", {"title": "x"})
    with pytest.raises(GrafanaError, match="GRAFANA_SM_ACCESS_TOKEN"):
        invoke(fake, GET_PROBES, {})


def test_a_contact_point_the_policy_routes_to_is_not_deleted(
    fake: FakeGrafana, paths: tuple[Path, Path]
) -> None:
    old = create(fake, CONTACT, "c", contact("oncall"))
    policy = create(fake, POLICY, "p", {"contactPoint": "oncall", "groupBies": ["alertname"]})
    # Grafana's ErrContactPointReferenced: 409 with its public message.
    with pytest.raises(GrafanaError, match=r"\[409\].*currently referenced by a notification"):
        MONITORING.delete(fake, CONTACT, "c", old.resource_id, old.properties)
    assert "oncall" in stored(paths)["contactPoints"]
    last = log_entries(paths)[-1]
    assert (last["method"], last["name"], last["wrote"], last["error"]) == (
        "Delete", "c", False, True
    )  # fmt: skip
    # Re-pointed first, the old one goes.
    create(fake, CONTACT, "d", contact("pager"))
    update(fake, POLICY, "p", policy, {"contactPoint": "pager", "groupBies": ["alertname"]})
    MONITORING.delete(fake, CONTACT, "c", old.resource_id, old.properties)
    assert sorted(stored(paths)["contactPoints"]) == ["pager"]
    # Without a policy tree routing to it, any contact point can go.
    MONITORING.delete(fake, POLICY, "p", policy.resource_id, policy.properties)
    pager = stored(paths)["contactPoints"]["pager"]
    assert pager["name"] == "pager"


def test_a_new_contact_point_joins_the_receiver_of_its_name(
    fake: FakeGrafana, paths: tuple[Path, Path]
) -> None:
    create(fake, CONTACT, "a", contact("oncall", "https://hooks.example/a"))
    create(fake, CONTACT, "b", contact("oncall", "https://hooks.example/b"))
    hooks = stored(paths)["contactPoints"]["oncall"]["webhooks"]
    assert len(hooks) == 2 and len({h["uid"] for h in hooks}) == 2
    assert all(h["url"].startswith("sha256:") for h in hooks)


def test_contact_point_and_policy(fake: FakeGrafana, paths: tuple[Path, Path]) -> None:
    hook = "https://hooks.example/secret-path-must-not-leak"
    point = create(
        fake, CONTACT, "c", {"name": "oncall", "webhooks": [{"url": hook}]}, frozenset({"webhooks"})
    )
    assert point.properties["webhooks"].is_secret
    assert hook not in paths[0].read_text()
    read = MONITORING.read(fake, CONTACT, "c", point.resource_id, point.properties)
    assert plain(read.properties)["webhooks"][0]["url"] == hook
    assert [f.property for f in check(fake, CONTACT, "c", {"name": "empty"}).failures] == [""]
    create(fake, POLICY, "p", {"contactPoint": "oncall", "groupBies": ["alertname", "app"]})
    assert stored(paths)["notificationPolicy"]["contactPoint"] == "oncall"


# --- getProbes and checks ---------------------------------------------------------------------


def test_get_probes_answers_the_program_defaults_with_ids(fake: FakeGrafana) -> None:
    result = invoke(fake, GET_PROBES, {})
    probes = plain(result.return_value)["probes"]
    lowered = {name.lower(): pid for name, pid in probes.items()}
    assert all(name.lower() in lowered for name in catalog.DEFAULT_PROBES)
    assert all(isinstance(pid, float) and pid > 0 for pid in probes.values())
    check_inputs = {
        "job": "webhost health",
        "target": "https://webhost.example/health",
        "probes": [lowered["ohio"], lowered["london"]],
        "settings": {"http": {"method": "GET", "failIfNotSsl": True}},
        "timeout": 1000,
    }
    created = create(fake, CHECK, "probe", check_inputs)
    assert created.resource_id.isdigit()
    # A second up, and a refresh, find nothing to change (found by make e2e: the check
    # once carried a Grafana org id its schema does not have, and always diffed).
    assert not diff(fake, CHECK, created, check_inputs).changes
    read = MONITORING.read(fake, CHECK, "probe", created.resource_id, created.properties)
    assert plain(read.properties) == plain(created.properties)
    assert not MONITORING.diff(
        fake, CHECK, "probe", created.resource_id, read.properties, read.inputs
    ).changes
    with pytest.raises(GrafanaError, match="invalid probe ids"):
        create(fake, CHECK, "bad", {**check_inputs, "probes": [9999]})


# --- the log: writes and secrets -------------------------------------------------------------


def test_the_log_tells_writes_apart_and_never_holds_a_secret(
    fake: FakeGrafana, paths: tuple[Path, Path]
) -> None:
    secret = frozenset({"httpHeaders"})
    created = create(fake, DS, "fly", data_source(), secret)
    writes = [e for e in log_entries(paths) if e["wrote"]]
    assert [e["method"] for e in writes] == ["Create"]
    assert not diff(fake, DS, created, data_source(), secret).changes
    MONITORING.read(fake, DS, "fly", created.resource_id, created.properties)
    assert [e for e in log_entries(paths) if e["wrote"]] == writes
    text = paths[1].read_text()
    for value in (FLY_TOKEN, AUTH, SM_TOKEN):
        assert value not in text
    assert "Configure" in {e["method"] for e in log_entries(paths)}


def test_an_error_never_carries_the_header(fake: FakeGrafana) -> None:
    create(fake, DS, "a", data_source(), frozenset({"httpHeaders"}))
    with pytest.raises(GrafanaError) as raised:
        create(fake, DS, "b", data_source(uid="x"), frozenset({"httpHeaders"}))
    assert FLY_TOKEN not in str(raised.value)


# --- the launcher, as the engine starts it ------------------------------------------------------


def test_the_engine_can_load_the_plugin_from_path(tmp_path: Path) -> None:
    env = {
        "FAKE_GRAFANA_STATE": str(tmp_path / "grafana.json"),
        "FAKE_GRAFANA_LOG": str(tmp_path / "calls.jsonl"),
    }
    with launched(tmp_path, FAKE, "pulumi-resource-grafana", env) as stub:
        version = stub.GetPluginInfo(empty_pb2.Empty()).version
        assert version == sdk_version(pulumiverse_grafana) == "2.44.0"
        # Not configured with an SM token: the provider's own message, no traceback.
        with pytest.raises(grpc.RpcError) as raised:
            stub.Invoke(provider_pb2.InvokeRequest(tok=GET_PROBES, args=struct_pb2.Struct()))
        assert raised.value.details().startswith("the Synthetic Monitoring client")
        assert "Traceback" not in raised.value.details()
        config = struct({"url": "https://g.example", "smAccessToken": SM_TOKEN})
        stub.Configure(provider_pb2.ConfigureRequest(args=config, acceptSecrets=True))
        probes = stub.Invoke(provider_pb2.InvokeRequest(tok=GET_PROBES, args=struct_pb2.Struct()))
        assert "Ohio" in getattr(probes, "return")["probes"]
        same = stub.DiffConfig(provider_pb2.DiffRequest(olds=config, news=config))
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    log = (tmp_path / "calls.jsonl").read_text()
    assert SM_TOKEN not in log


def http_check(fake: FakeGrafana, frequency: int, timeout: int) -> dict[str, Any]:
    """An HTTP check of the health URL from the first public probe."""
    probes = plain(invoke(fake, GET_PROBES, {}).return_value)["probes"]
    return {
        "job": "webhost health",
        "target": "https://webhost.example/api/health",
        "probes": [next(iter(probes.values()))],
        "settings": {"http": {"method": "GET"}},
        "frequency": frequency,
        "timeout": timeout,
    }


@pytest.mark.parametrize(
    ("frequency", "timeout"),
    [(60_000, 60_001), (60_000, 180_000), (2_000, 3_000), (1_000, 1_001)],
    ids=["over-a-minute", "schema-max", "over-frequency", "just-over-frequency"],
)
def test_the_sm_api_refuses_an_http_timeout_the_schema_takes(
    fake: FakeGrafana, frequency: int, timeout: int
) -> None:
    # checks_extra.go validateTimeout: 1 s..min(frequency, 1 min) for an HTTP check, past
    # the provider schema's 1000..180000.
    inputs = http_check(fake, frequency, timeout)
    assert check(fake, CHECK, "c", inputs).failures == []
    with pytest.raises(GrafanaError, match="invalid check timeout"):
        create(fake, CHECK, "c", inputs)
    assert create(fake, CHECK, "ok", {**inputs, "timeout": min(frequency, 60_000)}).resource_id


@pytest.mark.parametrize(
    ("latency", "frequency"),
    [(200, 60_000), (12_000, 60_000), (12_001, 3_600_000), (20_000, 3_600_000), (300, 1_000)],
)
def test_a_probe_the_plan_takes_the_sm_api_takes(
    fake: FakeGrafana, latency: int, frequency: int
) -> None:
    # The program's check (components/monitoring: frequency, catalog.probe_timeout_ms) for
    # monitoring values of the stack file: the plan refuses them, or Grafana takes them.
    from cli import stackfile
    from components import config
    from tests.conftest import PROJECT_FILE, ROOT

    raw = dict(stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE).config)
    monitoring = json.loads(raw["webhost:monitoring"])
    monitoring |= {"latencyP95Ms": latency, "probeFrequencyMs": frequency}
    try:
        config.parse(raw | {"webhost:monitoring": json.dumps(monitoring)})
    except config.ConfigError as refused:
        assert [line.split(" = ")[0] for line in refused.problems] in (
            ["webhost:monitoring.latencyP95Ms"],
            ["webhost:monitoring.probeFrequencyMs"],
        )
        return
    inputs = http_check(fake, frequency, catalog.probe_timeout_ms(latency))
    assert create(fake, CHECK, "probe", inputs).resource_id
