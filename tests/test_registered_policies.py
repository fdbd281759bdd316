"""Issue 21: every safety property is judged on what the stack registers.

Each test changes, with Pulumi `transforms` on Platform (which the README offers
for adjusting children), an input after the config was validated, and the pack
must catch it: the spec still says all is well. Several members of each class.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pulumi
import pulumiverse_grafana as grafana
import pytest

from policies import backups, rollout
from tests.test_policies import refused_pack, registered, stack_violations

COMMAND = "command:local:Command"
MACHINE_COUNTS = "pulumi-python:dynamic/fly:MachineCounts"
RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CHECK = "grafana:syntheticMonitoring/check:Check"
CHECK_ALERTS = "grafana:syntheticMonitoring/checkAlerts:CheckAlerts"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
Edit = Callable[[dict[str, Any]], None]


def on(type_: str, suffix: str, edit: Edit) -> Any:
    """A transform that edits the props of `type_` resources named `*suffix`."""

    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != type_ or not args.name.endswith(suffix):
            return None
        props = dict(args.props)
        edit(props)
        return pulumi.ResourceTransformationResult(props, args.opts)

    return transform


def env(key: str, value: str | None) -> Edit:
    def edit(props: dict[str, Any]) -> None:
        environment = dict(props["environment"])
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
        props["environment"] = environment

    return edit


def fly_toml(change: Callable[[dict[str, Any]], None]) -> Any:
    import tomllib

    import tomli_w

    def edit(props: dict[str, Any]) -> None:
        environment = dict(props["environment"])
        document = tomllib.loads(environment["WEBHOST_FLY_TOML"])
        change(document)
        environment["WEBHOST_FLY_TOML"] = tomli_w.dumps(document)
        props["environment"] = environment

    return on(COMMAND, "-deploy", edit)


def counts(value: dict[str, int]) -> Any:
    return on(MACHINE_COUNTS, "-machines", lambda p: p.__setitem__("counts", value))


def service(**changes: Any) -> Any:
    return fly_toml(lambda d: d["http_service"].update(changes))


# -- declared versus registered --------------------------------------------------------------


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (
            counts({"iad": 1, "fra": 2, "sin": 1}),
            "app webhost-prod: 1 machine(s) in the primary region iad; production needs at least 2",
        ),
        (
            service(force_https=False),
            "app webhost-prod: HTTPS is not forced (http.forceHttps)",
        ),
        (
            service(auto_stop_machines="stop", min_machines_running=0),
            "app webhost-prod: http.autoStopMachines stop keeps 0 machine(s) running in iad "
            "when idle (http.minMachinesRunning); production needs at least 2",
        ),
        (
            fly_toml(lambda d: d["http_service"]["checks"][0].update(path="/")),
            "app webhost-prod: no real health check: http.healthCheck.path '/' is the site "
            "root, not a health endpoint",
        ),
        (
            on(COMMAND, "-db", env("WEBHOST_CLUSTER_SIZE", "1")),
            "postgres webhost-prod-db: 1 member(s) in the primary region; production needs at "
            "least 3 for failover",
        ),
    ],
    ids=["machines", "force-https", "autostop", "check-path", "cluster-size"],
)
def test_a_transform_after_validation_is_judged_as_registered(transform: Any, message: str) -> None:
    assert registered() and stack_violations("production-safety", registered()) == []
    assert message in stack_violations("production-safety", registered(transforms=[transform]))


# -- rollout safety ---------------------------------------------------------------------------


def test_prod_rolls_out_safely() -> None:
    assert stack_violations("rollout-safety", registered()) == []
    assert stack_violations("emergency-deploy", registered()) == []


def _no_checks(d: dict[str, Any]) -> None:
    d["http_service"].pop("checks", None)
    d.pop("checks", None)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ({"transforms": [fly_toml(_no_checks)]}, "every health check is off"),
        (
            {"http__healthCheck__enabled": False, "http__deepCheck__enabled": False},
            "every health check is off",
        ),
        ({"deployStrategy": "immediate"}, "the immediate strategy replaces every machine"),
        (
            {"transforms": [on(COMMAND, "-deploy", env("WEBHOST_STRATEGY", "immediate"))]},
            "the immediate strategy replaces every machine",
        ),
        ({"deploy__maxUnavailable": 6}, "deploy.maxUnavailable 6 takes 6 of its 6 machine(s)"),
        ({"deploy__maxUnavailable": 50}, "deploy.maxUnavailable 50 takes 50 of its 6 machine(s)"),
        # ceil(6 x 0.9) = 6: a fraction that rounds up to every machine.
        ({"deploy__maxUnavailable": 0.9}, "deploy.maxUnavailable 0.9 takes 6 of its 6"),
        (
            {"transforms": [fly_toml(lambda d: d["deploy"].update(max_unavailable=1.0))]},
            "deploy.maxUnavailable 1 takes 1 of its 1",
        ),
    ],
    ids=[
        "toml-checks",
        "spec-checks",
        "immediate",
        "immediate-flag",
        "count",
        "over",
        "fraction",
        "one-machine",
    ],
)
def test_a_rollout_that_stops_serving_is_refused(how: dict[str, Any], expected: str) -> None:
    transforms = list(how.pop("transforms", []))
    if expected.endswith("of its 1"):
        transforms.append(counts({"iad": 1}))
    found = stack_violations("rollout-safety", registered(transforms=transforms, **how))
    assert any(expected in f for f in found), found


def test_a_fraction_that_leaves_one_machine_up_passes() -> None:
    # ceil(6 x 0.83) = 5 of 6.
    assert rollout.pool_size(0.83, 6) == 5
    assert stack_violations("rollout-safety", registered(deploy__maxUnavailable=0.83)) == []


def test_an_emergency_deploy_passes_and_shows_on_the_plan() -> None:
    found = registered(deployStrategy="immediate", deploy__emergency="INC-42 hotfix")
    assert stack_violations("rollout-safety", found) == []
    (shown,) = stack_violations("emergency-deploy", found)
    assert "INC-42 hotfix" in shown and "immediate" in shown


def test_an_emergency_reason_without_the_immediate_strategy_is_invalid_config() -> None:
    from components import config

    with pytest.raises(ValueError, match=r"deploy\.emergency"):
        config.StackConfig.model_validate({**_prod_spec(), "deploy": {"emergency": "left behind"}})


def _prod_spec() -> dict[str, Any]:
    from tests.test_policies import spec

    return spec()


# -- backups on paper --------------------------------------------------------------------------


def test_prod_backups_meet_the_minimums() -> None:
    assert stack_violations("backups", registered()) == []


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ({"postgres__backups__recoveryWindow": "1d"}, "recovery window '1d' restores less"),
        (
            {
                "postgres__backups__fullBackupFrequency": "720h",
                "postgres__backups__recoveryPointObjective": "30d",
            },
            "a base backup every '720h'",
        ),
        ({"postgres__backups__recoveryPointObjective": "7d"}, "recovery point objective 7d"),
        ({"postgres__backups__enabled": False}, "no backups are registered"),
        (
            {"transforms": [on(COMMAND, "-db-backups", env("WEBHOST_RECOVERY_WINDOW", "2d"))]},
            "recovery window '2d' restores less",
        ),
        (
            {
                "transforms": [
                    on(COMMAND, "-db-backups", env("WEBHOST_FULL_BACKUP_FREQUENCY", "168h"))
                ]
            },
            "a base backup every '168h'",
        ),
    ],
    ids=["window", "frequency", "objective", "off", "window-transform", "frequency-transform"],
)
def test_backups_on_paper_are_refused(how: dict[str, Any], expected: str) -> None:
    transforms = list(how.pop("transforms", []))
    found = stack_violations("backups", registered(transforms=transforms, **how))
    assert any(expected in f for f in found), found


def _drill(**figures: Any) -> dict[str, Any]:
    return {"date": "2026-11-30", "recoveryPointMinutes": 5, "restoreMinutes": 40, **figures}


@pytest.mark.parametrize(
    ("drill", "expected"),
    [
        (_drill(recoveryPointMinutes=2000), "lost 2000 minutes of data"),
        (_drill(restoreMinutes=600), "took 600 minutes to restore"),
        (_drill(date="2026-01-01"), "days old"),
    ],
)
def test_a_restore_drill_s_figures_are_what_the_policy_reads(
    monkeypatch: pytest.MonkeyPatch, drill: dict[str, Any], expected: str
) -> None:
    from datetime import UTC, datetime

    monkeypatch.setattr(backups, "today", lambda: datetime(2026, 12, 6, tzinfo=UTC))
    good = registered(postgres__backups__lastDrill=_drill())
    assert stack_violations("backups", good) == []
    found = stack_violations("backups", registered(postgres__backups__lastDrill=drill))
    assert any(expected in f for f in found), found
    assert date.fromisoformat(drill["date"])


# -- capacity under the proxy's limits ---------------------------------------------------------


def test_prod_capacity_holds() -> None:
    assert stack_violations("capacity", registered()) == []


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        # 50 customers on 6 machines: 100 each at 750 connections, 4 each at 30.
        (
            {"http__concurrency__softLimit": 30, "http__concurrency__hardLimit": 30},
            "6 machines host 24 professional customers (4 each)",
        ),
        (
            {
                "http__concurrency__type": "requests",
                "http__concurrency__softLimit": 50,
                "http__concurrency__hardLimit": 60,
            },
            "(6 each)",
        ),
        (
            {
                "transforms": [
                    service(
                        concurrency={"type": "connections", "soft_limit": 750, "hard_limit": 10}
                    )
                ]
            },
            "(1 each)",
        ),
        ({"transforms": [service(concurrency={"type": "connections"})]}, "(2 each)"),
    ],
    ids=["soft", "requests", "hard-transform", "unset-soft-is-20"],
)
def test_capacity_counts_the_proxy_s_concurrency_limits(how: dict[str, Any], expected: str) -> None:
    transforms = list(how.pop("transforms", []))
    found = stack_violations("capacity", registered(transforms=transforms, **how))
    assert len(found) == 1 and expected in found[0], found


def test_capacity_counts_registered_machines() -> None:
    found = stack_violations("capacity", registered(transforms=[counts({"iad": 1})], customers=150))
    assert len(found) == 1 and "1 machines host 100" in found[0], found


# -- monitoring that pages ---------------------------------------------------------------------


def _first_rule(edit: Callable[[Any], None]) -> Any:
    """Edits the first rule of the rule group (the SDK's RuleGroupRuleArgs, as a
    transformation receives it; pulumi.set writes its snake_case properties)."""

    def change(props: dict[str, Any]) -> None:
        # In place: each evaluation builds its own args objects, which hold outputs
        # that cannot be copied.
        edit(props["rules"][0])

    return on(RULE_GROUP, "-alerts", change)


def _threshold(value: float) -> Callable[[Any], None]:
    def edit(rule: Any) -> None:
        stage = pulumi.get(rule, "datas")[1]
        model = json.loads(pulumi.get(stage, "model"))
        model["conditions"][0]["evaluator"]["params"] = [value]
        pulumi.set(stage, "model", json.dumps(model))

    return edit


def _probe_alert(edit: Callable[[list[Any]], None]) -> Any:
    """Edits the alerts of every synthetic check's CheckAlerts (the SDK's
    CheckAlertsAlertArgs, as a transformation receives them)."""
    return on(CHECK_ALERTS, "-alerts", lambda props: edit(props["alerts"]))


def _set(key: str, value: Any) -> Callable[[list[Any]], None]:
    def edit(found: list[Any]) -> None:
        for alert in found:
            pulumi.set(alert, key, value)

    return edit


def test_prod_monitoring_pages() -> None:
    assert stack_violations("monitoring", registered()) == []


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        # 14.4 x (1 - 0.9) = 1.44: a 5xx share never gets there.
        ({"monitoring__availabilityTarget": 0.9}, "which a share between 0 and 1 never is"),
        ({"transforms": [_first_rule(_threshold(1.0))]}, "gt 1, which a share"),
        ({"transforms": [_first_rule(lambda r: pulumi.set(r, "is_paused", True))]}, "is paused"),
        (
            {"transforms": [_first_rule(lambda r: pulumi.set(r, "condition", "C"))]},
            "names no stage",
        ),
        ({"monitoring__synthetic": False}, "nothing watches the public URL from outside"),
        (
            {
                "transforms": [
                    on(
                        "grafana:syntheticMonitoring/check:Check",
                        "",
                        lambda p: p.__setitem__("enabled", False),
                    )
                ]
            },
            "is disabled",
        ),
        ({"transforms": [_probe_alert(lambda a: a.clear())]}, "raises no Probe"),
        ({"transforms": [_probe_alert(_set("name", "TLSTargetCertificateCloseToExpiring"))]},
         "raises no ProbeFailedExecutionsTooHigh alert"),
        ({"transforms": [_probe_alert(_set("threshold", 10_000))]},
         "threshold 10000 is more failures than the 20 executions its probes make in 5m"),
        ({"transforms": [_probe_alert(_set("threshold", 0))]}, "threshold 0 is not a whole"),
        ({"transforms": [_probe_alert(_set("threshold", 2.5))]}, "threshold 2.5 is not a whole"),
        ({"transforms": [_probe_alert(_set("period", "2m"))]}, "its period '2m' is none of"),
        ({"transforms": [_probe_alert(_set("period", None))]}, "its period None is none of"),
    ],
    ids=["target", "threshold", "paused", "condition", "synthetic-off", "probe-disabled",
         "probe-no-alert", "probe-other-alert", "probe-unreachable", "probe-zero",
         "probe-fraction", "probe-period", "probe-no-period"],
)  # fmt: skip
def test_monitoring_that_cannot_page_is_refused(how: dict[str, Any], expected: str) -> None:
    transforms = list(how.pop("transforms", []))
    found = stack_violations("monitoring", registered(transforms=transforms, **how))
    assert any(expected in f for f in found), found


def test_probe_alerts_not_known_yet_are_judged_when_they_are() -> None:
    """In a preview a check's alerts may be unknown (pulumi_policy proxy.py): that check
    is skipped, never read as having none; the other check is still judged."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    from tests.test_policies import resource

    found = registered(transforms=[_probe_alert(_set("threshold", 10_000))])
    first, second = [
        r for r in found if r.resource_type == "grafana:syntheticMonitoring/check:Check"
    ]
    unknown = {"checkId": UNKNOWN_STRING_VALUE, "alerts": UNKNOWN_STRING_VALUE}
    monitoring = next(r for r in found if r.urn == first.opts.parent)
    name = f"{first.name}-alerts"
    pending = resource(CHECK_ALERTS, name, unknown_checking_proxy(unknown), parent=monitoring)
    kept = [r for r in found if r.name != name]
    messages = stack_violations("monitoring", [*kept, pending])
    probes = [m for m in messages if "ProbeFailedExecutionsTooHigh" in m]
    assert len(probes) == 1 and f"probe {second.name}'s" in probes[0], messages


@pytest.mark.parametrize(
    "target",
    [
        "oncall@example.com",
        "https://hooks.example/x",
        "a@b.invalid",
        "http://localhost:9/x",
        "<example@email.com>".replace("email.com", "example.org"),
    ],
)
def test_a_placeholder_contact_is_no_contact(target: str) -> None:
    from policies import monitoring

    assert monitoring.placeholder(target)
    assert not monitoring.placeholder("oncall@webhost-systems.com")


# -- the pack's config: every value the engine refuses, refused in one line ----------------------

BAD_PACK_TEXTS = [
    '{"backups": {"maxRestoreMinutes": null}}',
    '{"backups": {"maxRestoreMinutes": {"value": 240}}}',
    '{"backups": {"maxRestoreMinutes": [240]}}',
    '{"backups": {"maxRestoreMinutes": "240"}}',
    '{"backups": {"maxRestoreMinutes": 240.5}}',
    '{"backups": {"maxRestoreMinutes": true}}',
    '{"backups": {"maxDrillAgeDays": 0}}',
    '{"margin": {"minimumMargin": {"a": 1}}}',
    '{"regions": {"allowedRegions": null}}',
    '{"regions": {"allowedRegions": [null]}}',
    '{"rollout-safety": null}',
    '{"rollout-safety": []}',
    '{"rollout-safety": 1}',
    '{"rollout-safety": {"maxUnavailable": 1}}',
    '{"all": {"enforcementLevel": "mandatory", "minimumMargin": 0.5}}',
    "",
    "   \n",
    "null",
    "7",
    '"mandatory"',
    "[]",
    '{"backups": "disabled", "backups": "mandatory"}',
    '{"backups": {"enforcementLevel": "disabled", "enforcementLevel": "mandatory"}}',
    "\ufeff{}",
    '{"backups": {"maxRestoreMinutes": NaN}}',
    "[" * 5000 + "]" * 5000,
    '{"backups": ',
]


@pytest.mark.parametrize("text", BAD_PACK_TEXTS, ids=range(len(BAD_PACK_TEXTS)))
def test_a_pack_config_the_engine_refuses_exits_2_in_one_line(tmp_path: Any, text: str) -> None:
    path = tmp_path / "pack.json"
    err = refused_pack(path, text)
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: "), err


# -- tier sizing on the registered machines -----------------------------------------------------


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        (
            fly_toml(lambda d: d["vm"][0].update(cpu_kind="shared", cpus=1, memory="1024mb")),
            "professional runs on performance CPUs, not shared",
        ),
        (
            fly_toml(lambda d: d["vm"][0].update(memory="2048mb")),
            "professional needs at least 4096 MB per machine, not 2048",
        ),
        (counts({"iad": 1}), "professional needs at least 2 machines, not 1"),
    ],
    ids=["cpu-kind", "memory", "machines"],
)
def test_tier_floors_are_judged_on_the_registered_machines(transform: Any, expected: str) -> None:
    assert stack_violations("tier-sizing", registered()) == []
    found = stack_violations("tier-sizing", registered(transforms=[transform]))
    assert f"app webhost-prod: {expected}" in found, found


def _nested(contact_point: str) -> Edit:
    """A nested route taking Synthetic Monitoring's alerts to `contact_point`."""

    def edit(props: dict[str, Any]) -> None:
        matcher = grafana.alerting.NotificationPolicyPolicyMatcherArgs(
            label="namespace", match="=", value="synthetic_monitoring"
        )
        props["policies"] = [
            grafana.alerting.NotificationPolicyPolicyArgs(
                contact_point=contact_point, matchers=[matcher]
            )
        ]

    return edit


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ({"monitoring__contactPoints": []}, "alerts go to Grafana's default receiver"),
        (
            {
                "transforms": [
                    on(
                        "grafana:alerting/notificationPolicy:NotificationPolicy",
                        "-policy",
                        lambda p: p.__setitem__("contact_point", "grafana-default-email"),
                    )
                ]
            },
            "routes alerts to 'grafana-default-email'",
        ),
        (
            {
                "transforms": [
                    on(
                        "grafana:alerting/contactPoint:ContactPoint",
                        "-contact-0",
                        lambda p: p.__setitem__("webhooks", []),
                    )
                ]
            },
            "contact point oncall sends to no one",
        ),
        (
            # The probes' alerts (label namespace=synthetic_monitoring, grafana/
            # synthetic-monitoring-app alertRoutingUtils.ts) taken off to the default.
            {"transforms": [on(POLICY, "-policy", _nested("grafana-default-email"))]},
            "routes alerts to 'grafana-default-email'",
        ),
        (
            {"transforms": [on(POLICY, "-policy", _nested("pager-nobody-declared"))]},
            "routes alerts to 'pager-nobody-declared', not a contact point this stack",
        ),
    ],
    ids=["no-contact-point", "default-receiver", "no-target", "probes-default", "probes-elsewhere"],
)
def test_alerts_that_reach_no_one_are_refused(how: dict[str, Any], expected: str) -> None:
    transforms = list(how.pop("transforms", []))
    found = stack_violations("monitoring", registered(transforms=transforms, **how))
    assert any(expected in f for f in found), found
