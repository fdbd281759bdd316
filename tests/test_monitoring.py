"""Monitoring under mocks: what `webhost:monitoring` creates, its wiring, its secrets,
its config errors and the prod policy."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from cli import engine
from cli.main import main
from components import config as config_module
from components.monitoring import OFFLINE_HEADER, OPTED_OUT, probe_ids
from tests.conftest import run, stack_doc, write_stack
from tests.known import KnownMocks
from tests.test_policies import platform, registered, stack_violations

DATA_SOURCE = "grafana:oss/dataSource:DataSource"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
DASHBOARD = "grafana:oss/dashboard:Dashboard"
FOLDER = "grafana:oss/folder:Folder"
CHECK = "grafana:syntheticMonitoring/check:Check"
CHECK_ALERTS = "grafana:syntheticMonitoring/checkAlerts:CheckAlerts"
CONTACT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
PROVIDER = "pulumi:providers:grafana"
GET_PROBES = "grafana:syntheticMonitoring/getProbes:getProbes"
TOKEN = "fm2_fly-metrics-token-that-must-not-leak"
HOOK = "https://hooks.webhost-pager.net/services/T0/B0/secret-hook-path"
PROBES = {"Ohio": 11, "Frankfurt": 22, "London": 33, "Mumbai": 44, "Tokyo": 55}


class GrafanaMocks(KnownMocks):
    """After `up`: data sources and folders answer with their uid, probes are listed."""

    def __init__(self, probes: dict[str, int] | None = None) -> None:
        super().__init__()
        self.probes = PROBES if probes is None else probes

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == GET_PROBES:
            return {"probes": self.probes, "id": "probes"}, []
        return super().call(args)


def with_contact(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc["webhost:monitoring"]["contactPoints"] = [
        {"name": "oncall", "kind": "webhook", "url": {"secure": "v1:ciphertext"}}
    ]
    return doc


@pytest.fixture
def prod(prod_monitored: engine.Evaluation) -> engine.Evaluation:
    """prod after `up`, evaluated once per session for the tests that only read it
    (tests/conftest.py prod_monitored, which tests/test_promql.py reads too)."""
    return prod_monitored


def test_prod_declares_the_data_source_dashboard_rules_and_probes(
    prod: engine.Evaluation,
) -> None:
    for kind in (PROVIDER, DATA_SOURCE, FOLDER, DASHBOARD, RULE_GROUP):
        assert len(prod.by_type(kind)) == 1, kind
    jobs = sorted(r.inputs["job"] for r in prod.by_type(CHECK))
    assert jobs == ["webhost-prod deep-health", "webhost-prod health"]
    component = prod.one("webhost:monitoring:Monitoring")
    assert all(r.parent == component.urn for r in prod.by_type(DATA_SOURCE) + prod.by_type(CHECK))


def test_a_stack_without_monitoring_creates_no_grafana_resource(tmp_path: Path) -> None:
    doc = stack_doc("staging")
    del doc["webhost:monitoring"]
    staging = run(doc, tmp_path, stack="staging")
    assert not [r.type for r in staging.resources if "grafana" in r.type or "monitoring" in r.type]


def test_the_data_source_is_the_orgs_fly_prometheus_with_a_secret_flyv1_header(
    prod: engine.Evaluation,
) -> None:
    source = prod.one(DATA_SOURCE)
    shown, secret_keys = source.rendered_inputs()
    assert shown["url"] == "https://api.fly.io/prometheus/webhost-systems/"
    assert shown["type"] == "prometheus"
    assert "httpHeaders" in secret_keys
    headers = source.inputs["httpHeaders"]["value"]
    assert headers == {"Authorization": f"FlyV1 {TOKEN}"}


def test_the_token_is_in_no_input_shown_and_no_output(prod: engine.Evaluation) -> None:
    for registration in prod.resources:
        shown, _ = registration.rendered_inputs()
        assert TOKEN not in json.dumps(shown), registration.name
    assert TOKEN not in json.dumps(prod.rendered_outputs())


def test_every_rule_queries_the_data_source_by_its_uid(prod: engine.Evaluation) -> None:
    source, group = prod.one(DATA_SOURCE), prod.one(RULE_GROUP)
    uid = source.inputs["uid"]
    assert source.urn in group.dependencies
    for rule in group.inputs["rules"]:
        query, threshold = rule["datas"]
        assert query["datasourceUid"] == uid
        assert json.loads(query["model"])["datasource"]["uid"] == uid
        assert threshold["datasourceUid"] == "-100"
        assert rule["condition"] == threshold["refId"] == "B"


def test_the_dashboard_panels_use_the_data_source(prod: engine.Evaluation) -> None:
    uid = prod.one(DATA_SOURCE).inputs["uid"]
    board = json.loads(prod.one(DASHBOARD).inputs["configJson"])
    titles = [p["title"] for p in board["panels"]]
    assert any("p95 latency by region" in t for t in titles)
    assert any("Postgres replication lag" in t for t in titles)
    assert {t["datasource"]["uid"] for p in board["panels"] for t in p["targets"]} == {uid}


def test_the_rules_cover_availability_latency_oom_restarts_and_postgres(
    prod: engine.Evaluation,
) -> None:
    names = [r["name"] for r in prod.one(RULE_GROUP).inputs["rules"]]
    assert names == [
        "availability-burn-rate-14.4x-1h",
        "availability-burn-rate-6x-6h",
        "latency-p95",
        "oom-killed",
        "restarting",
        "postgres-members-down",
        "postgres-replication-lag",
        "postgres-wal-archiving-failing",
    ]


def test_the_burn_rate_thresholds_follow_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_METRICS_TOKEN", TOKEN)
    doc = copy.deepcopy(stack_doc("prod"))
    doc["webhost:monitoring"]["availabilityTarget"] = 0.99
    found = run(doc, tmp_path, stack="prod", preview=False, mocks=GrafanaMocks())
    rules = {r["name"]: r for r in found.one(RULE_GROUP).inputs["rules"]}
    model = json.loads(rules["availability-burn-rate-14.4x-1h"]["datas"][1]["model"])
    assert model["conditions"][0]["evaluator"]["params"] == [pytest.approx(0.144)]


def test_probes_check_the_health_paths_from_the_configured_probes(
    prod: engine.Evaluation,
) -> None:
    checks = {r.inputs["job"]: r.inputs for r in prod.by_type(CHECK)}
    health = checks["webhost-prod health"]
    assert health["target"] == "https://webhost.example/api/health"
    assert health["probes"] == [11, 22, 33, 44]
    assert health["settings"]["http"]["failIfNotSsl"] is True


@pytest.mark.parametrize(
    ("stack", "frequency", "probes", "period", "threshold"),
    [
        # 5 min of 1/min from 4 probes: 20 executions, a quarter of them 5.
        ("prod", None, None, "5m", 5),
        ("staging", None, None, "5m", 3),  # 10 executions from its 2 probes
        ("prod", 400_000, None, "10m", 1),  # one execution a probe in 10 min: 4
        ("prod", 3_600_000, ["Ohio"], "1h", 1),  # the slowest check, one probe
    ],
)
def test_every_check_alerts_on_its_failed_executions(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stack: str,
    frequency: int | None,
    probes: list[str] | None,
    period: str,
    threshold: int,
) -> None:
    monkeypatch.setenv("FLY_METRICS_TOKEN", TOKEN)
    doc = stack_doc(stack)
    if frequency is not None:
        doc["webhost:monitoring"]["probeFrequencyMs"] = frequency
    if probes is not None:
        doc["webhost:monitoring"]["probes"] = probes
    found = run(doc, tmp_path, stack=stack, preview=False, mocks=GrafanaMocks())
    alerting = found.by_type(CHECK_ALERTS)
    component = found.one("webhost:monitoring:Monitoring")
    assert sorted(a.name for a in alerting) == sorted(
        f"{c.name}-alerts" for c in found.by_type(CHECK)
    )
    assert all(a.parent == component.urn for a in alerting)
    for alert in alerting:
        # The check's id as Synthetic Monitoring's number (the mocks answer one).
        assert alert.inputs["checkId"] == int(alert.inputs["checkId"]) > 0
        assert alert.inputs["alerts"] == [
            {
                "name": "ProbeFailedExecutionsTooHigh",
                "period": period,
                "threshold": threshold,
                "runbookUrl": "",
            }
        ]


def test_a_probe_grafana_lacks_is_one_line_naming_it() -> None:
    with pytest.raises(Exception, match=r"webhost:monitoring.probes: Atlantis not among"):
        probe_ids(PROBES, ["ohio", "Atlantis"])
    assert probe_ids(PROBES, ["ohio", "tokyo"]) == [11, 55]


# -- FLY_METRICS_TOKEN as Fly prints it -----------------------------------------------
MACAROON = "fm2_lJPECAAAAAAAAMnvxBDcf0ejp2+Q/bRQRtE0sUZLwrVodHRwczovL2FwaS5mbHkuaW8"
DISCHARGE = "fm2_lJPEThJPH1Fbgx5L3iOIeQHigO5bxBDtwUVY2LdO8yU+BHdTXyzdwrVodHRwczovL2F1"


@pytest.mark.parametrize(
    ("token", "header"),
    [
        # `fly tokens create readonly` prints the header value itself.
        (f"FlyV1 {MACAROON},{DISCHARGE}", f"FlyV1 {MACAROON},{DISCHARGE}"),
        (f"{MACAROON},{DISCHARGE}", f"FlyV1 {MACAROON},{DISCHARGE}"),
        (f"  FlyV1   {MACAROON} , {DISCHARGE}\n", f"FlyV1 {MACAROON},{DISCHARGE}"),
        (f"flyv1 FlyV1 {MACAROON}", f"FlyV1 {MACAROON}"),
        (f"Bearer {MACAROON}", f"FlyV1 {MACAROON}"),
        (f"bearer FlyV1 {MACAROON}", f"FlyV1 {MACAROON}"),
        ("fm1r_abc,fm1a_def", "FlyV1 fm1r_abc,fm1a_def"),
        # A user token alongside: only the macaroons go, as fly-go sends them.
        (f"{MACAROON},user-oauth-token", f"FlyV1 {MACAROON}"),
    ],
)
def test_the_header_has_one_scheme_whatever_the_token_carries(token: str, header: str) -> None:
    assert config_module.fly_authorization(token) == header


@pytest.mark.parametrize(
    ("token", "rule"),
    [
        ("FlyV1", "no Fly macaroon token"),
        ("FlyV1 ", "no Fly macaroon token"),
        (" , ,", "holds no token"),
        ("Bearer user-oauth-token", "no Fly macaroon token"),
        ("user-oauth-token", "no Fly macaroon token"),
        (f"FlyV1 {MACAROON} {DISCHARGE}", "whitespace inside a token"),
    ],
)
def test_a_token_fly_would_refuse_is_one_line_without_its_value(
    token: str, rule: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_METRICS_TOKEN", token)
    problem = config_module.fly_token_problem(prod_config().monitoring, os.environ)
    assert problem is not None and rule in problem
    assert problem.startswith("webhost:monitoring: FLY_METRICS_TOKEN ")
    assert "\n" not in problem
    for part in token.replace(",", " ").split():
        assert part.lower() in ("flyv1", "bearer") or part not in problem
    # Opting out covers a missing token, never a wrong one.
    opted = prod_config(allowMissingFlyToken=True).monitoring
    assert config_module.fly_token_problem(opted, os.environ) == problem


def prod_config(**monitoring: Any) -> config_module.StackConfig:
    doc = copy.deepcopy(stack_doc("prod"))
    doc["webhost:monitoring"].update(monitoring)
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()}
    return config_module.parse(raw, {k for k, v in doc.items() if isinstance(v, dict)
                                     and "secure" in v})  # fmt: skip


class Recording(GrafanaMocks):
    """Records each resource the program registers."""

    def __init__(self) -> None:
        super().__init__()
        self.registered: list[str] = []

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.registered.append(args.typ)
        return super().new_resource(args)


@pytest.mark.parametrize("value", [None, "", "  \n"])
@pytest.mark.parametrize("preview", [True, False])
def test_a_stack_with_monitoring_and_no_token_is_refused_before_anything(
    value: str | None, preview: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv("FLY_METRICS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FLY_METRICS_TOKEN", value)
    mocks = Recording()
    with pytest.raises(config_module.ConfigError) as caught:
        run(stack_doc("prod"), tmp_path, stack="prod", preview=preview, mocks=mocks, offline=False)
    assert mocks.registered == []
    [problem] = caught.value.problems
    assert problem.startswith("webhost:monitoring: FLY_METRICS_TOKEN is not set")
    assert "allowMissingFlyToken: true" in problem


@pytest.mark.parametrize("token", ["Bearer user-oauth-token", f"FlyV1 FlyV1 {MACAROON} x"])
def test_the_plan_refuses_a_bad_token_with_exit_2(
    token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = write_stack(tmp_path, stack_doc("prod"), "prod")
    monkeypatch.setenv("FLY_METRICS_TOKEN", token)
    assert main(["plan", "--stack-file", str(stack)]) == 2
    out, err = capsys.readouterr()
    problems = [line for line in err.splitlines() if line.startswith("  ")]
    assert out == "" and len(problems) == 1 and "FLY_METRICS_TOKEN" in problems[0]
    assert "user-oauth-token" not in err and MACAROON not in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", [None, "", "  \n"])
def test_the_offline_plan_needs_no_token_and_shows_the_header_as_a_secret(
    value: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Offline, nothing is sent: the plan (and the diff, the cost) needs no credential,
    # and shows the header as `up` would hold it, a secret; `up` itself refuses (above).
    if value is None:
        monkeypatch.delenv("FLY_METRICS_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FLY_METRICS_TOKEN", value)
    stack = write_stack(tmp_path, stack_doc("prod"), "prod")
    assert main(["plan", "--stack-file", str(stack), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    plan = json.loads(out)
    [source] = [r for r in plan["resources"] if r["type"] == DATA_SOURCE]
    assert "httpHeaders" in source["secretInputs"]
    assert OFFLINE_HEADER not in out and OFFLINE_HEADER not in err
    [component] = [r for r in plan["resources"] if r["type"] == "webhost:monitoring:Monitoring"]
    assert component["inputs"] == {}


def test_the_data_source_sends_the_token_as_fly_printed_it_with_one_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_METRICS_TOKEN", f"FlyV1 {MACAROON},{DISCHARGE}\n")
    found = run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=GrafanaMocks())
    headers = found.one(DATA_SOURCE).inputs["httpHeaders"]["value"]
    assert headers == {"Authorization": f"FlyV1 {MACAROON},{DISCHARGE}"}


@pytest.mark.parametrize("preview", [True, False])
def test_opted_out_the_data_source_keeps_its_header_and_the_plan_shows_it(
    preview: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLY_METRICS_TOKEN", raising=False)
    doc = copy.deepcopy(stack_doc("prod"))
    doc["webhost:monitoring"]["allowMissingFlyToken"] = True
    found = run(doc, tmp_path, stack="prod", preview=preview, mocks=GrafanaMocks())
    source = found.one(DATA_SOURCE)
    assert "httpHeaders" not in source.inputs
    assert source.ignore_changes == ("httpHeaders",)
    shown, _ = found.one("webhost:monitoring:Monitoring").rendered_inputs()
    assert shown == {"flyMetricsToken": OPTED_OUT}
    # With the token set, the opt-out changes nothing and the component shows nothing.
    monkeypatch.setenv("FLY_METRICS_TOKEN", MACAROON)
    again = run(doc, tmp_path, stack="prod", preview=preview, mocks=GrafanaMocks())
    assert again.one("webhost:monitoring:Monitoring").rendered_inputs()[0] == {}
    assert again.one(DATA_SOURCE).ignore_changes == ()


def test_a_contact_point_gets_its_secret_url_and_owns_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_METRICS_TOKEN", TOKEN)
    found = run(
        with_contact(stack_doc("prod")), tmp_path, stack="prod", preview=False,
        mocks=GrafanaMocks(),
    )  # fmt: skip
    contact = found.one(CONTACT)
    shown, secret_keys = contact.rendered_inputs()
    assert shown["name"] == "oncall"
    assert "webhooks" in secret_keys
    assert found.one(POLICY).inputs["contactPoint"] == "oncall"


def test_a_renamed_contact_point_is_made_before_the_old_one_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming replaces it; the bridge would delete first, which Grafana refuses while
    the policy routes to it. Created first instead, the policy (which depends on it) is
    re-pointed before the engine deletes the old one."""
    monkeypatch.setenv("FLY_METRICS_TOKEN", TOKEN)
    names = []
    for name in ("oncall", "pager"):
        doc = with_contact(stack_doc("prod"))
        doc["webhost:monitoring"]["contactPoints"][0]["name"] = name
        found = run(doc, tmp_path, stack="prod", preview=False, mocks=GrafanaMocks())
        contact, policy = found.one(CONTACT), found.one(POLICY)
        assert contact.delete_before_replace is False
        assert contact.urn in policy.dependencies
        assert policy.inputs["contactPoint"] == name
        names.append(contact.name)
    # The resource name is the position, not Grafana's name: the same resource, replaced.
    assert names == ["webhost-contact-0", "webhost-contact-0"]


def test_without_contact_points_grafanas_own_policy_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The program leaves Grafana's tree alone; prod's pack refuses such a stack
    # (tests/test_registered_policies.py).
    monkeypatch.setenv("FLY_METRICS_TOKEN", TOKEN)
    doc = copy.deepcopy(stack_doc("prod"))
    doc["webhost:monitoring"].pop("contactPoints")
    found = run(doc, tmp_path, stack="prod", preview=False, mocks=GrafanaMocks())
    assert found.by_type(CONTACT) == [] and found.by_type(POLICY) == []


def test_a_contact_point_from_the_environment_is_a_secret_and_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pulumi.prod.yaml's pager comes from WEBHOST_PAGER_URL (fromEnv): a secret input.
    monkeypatch.setenv("FLY_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOST_PAGER_URL", HOOK)
    found = run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=GrafanaMocks())
    (point,) = found.by_type(CONTACT)
    shown, secret = point.rendered_inputs()
    assert HOOK not in json.dumps(shown) and secret
    assert found.one(POLICY).inputs["contactPoint"] == "oncall"
    # Unset under the real engine: refused before anything is registered, naming it.
    monkeypatch.delenv("WEBHOST_PAGER_URL")
    with pytest.raises(config_module.ConfigError, match="WEBHOST_PAGER_URL is not set"):
        run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=GrafanaMocks(),
            offline=False)  # fmt: skip
    # A placeholder host is refused too, without the value.
    monkeypatch.setenv("WEBHOST_PAGER_URL", "https://hooks.example/x")
    with pytest.raises(config_module.ConfigError, match="placeholder host") as refused:
        run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=GrafanaMocks())
    assert "hooks.example/x" not in str(refused.value)


def _raw(monitoring: dict[str, Any]) -> dict[str, str]:
    doc = stack_doc("staging")
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()}
    raw["webhost:monitoring"] = json.dumps(monitoring)
    return raw


def test_a_contact_url_in_plain_text_is_refused_without_showing_it() -> None:
    point = {"name": "oncall", "kind": "webhook", "url": HOOK}
    with pytest.raises(config_module.ConfigError) as caught:
        config_module.parse(_raw({"url": "https://g.example", "contactPoints": [point]}))
    assert caught.value.problems == [
        "webhost:monitoring.contactPoints.0.url: not encrypted, so it sits in the stack file "
        "in plain text; set it with `pulumi config set --secret --path "
        "'webhost:monitoring.contactPoints[0].url' <value>`"
    ]
    assert HOOK not in str(caught.value)


def test_a_secure_value_elsewhere_in_monitoring_is_refused() -> None:
    raw = _raw({"url": "https://g.example"})
    with pytest.raises(config_module.ConfigError, match=r"webhost:monitoring.url: a secure"):
        config_module.parse(raw, {"webhost:monitoring"}, {("webhost:monitoring", "url")})


def test_a_webhook_without_a_url_names_the_key() -> None:
    raw = _raw({"url": "https://g.example", "contactPoints": [{"name": "x", "kind": "webhook"}]})
    with pytest.raises(config_module.ConfigError) as caught:
        config_module.parse(raw)
    assert any(
        p.startswith("webhost:monitoring.contactPoints.0.url") and "needs url" in p
        for p in caught.value.problems
    )


def test_grafana_url_must_be_https() -> None:
    with pytest.raises(config_module.ConfigError, match=r"webhost:monitoring.url = .*https URL"):
        config_module.parse(_raw({"url": "http://grafana.internal"}))


# -- the prod policy -------------------------------------------------------------------
def test_policy_reports_a_stack_without_monitoring() -> None:
    found = stack_violations("monitoring", [platform(monitoring=None)])
    assert len(found) == 1 and "webhost:monitoring is not set" in found[0]


def _only_rules(*names: str) -> Any:
    """A transformation keeping only the named rules of the registered rule group."""

    def keep(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != RULE_GROUP:
            return None
        rules = [r for r in args.props["rules"] if pulumi.get(r, "name") in names]
        return pulumi.ResourceTransformationResult({**args.props, "rules": rules}, args.opts)

    return keep


def test_policy_reports_a_missing_latency_rule() -> None:
    kept = _only_rules("availability-burn-rate-14.4x-1h")
    found = stack_violations("monitoring", registered(transforms=[kept]))
    assert found == [
        "app webhost-prod: no latency alert rule in the stack's Grafana rule group "
        "(grafana:alerting/ruleGroup:RuleGroup under webhost:monitoring:Monitoring)"
    ]


def test_policy_passes_availability_and_latency_rules() -> None:
    kept = _only_rules("availability-burn-rate-14.4x-1h", "latency-p95")
    assert stack_violations("monitoring", registered(transforms=[kept])) == []


def test_prod_makes_monitoring_mandatory_and_staging_advisory() -> None:
    root = Path(__file__).resolve().parents[1] / "policies" / "config"
    assert json.loads((root / "prod.json").read_text())["monitoring"] == {
        "enforcementLevel": "mandatory"
    }
    assert json.loads((root / "staging.json").read_text())["monitoring"] == {
        "enforcementLevel": "advisory"
    }
