"""Monitoring (`webhost:monitoring:Monitoring`): the runbook's targets, watched in Grafana.

A Grafana provider of its own (the stack's `webhost:monitoring.url`; its token from
GRAFANA_AUTH), a Prometheus data source on the org's Fly Prometheus, a folder, a
dashboard generated from code, the alert rules (components/monitoring/alerts.py),
contact points and their notification policy, and synthetic HTTP checks of the
app's health paths from Grafana's public probes.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from components import catalog
from components.config import ContactPoint as ContactPointConfig
from components.config import Monitoring as MonitoringConfig
from components.config import StackConfig, offline
from components.config import fly_authorization as fly_header
from components.monitoring import alerts, dashboard

# The expression engine's datasource uid in a rule stage (pulumiverse_grafana 2.44.0
# alerting/rule_group.py, `datasource_uid`: "-100" if this stage is an expression).
EXPRESSION_UID = "-100"
UID_MAX = 40  # Grafana refuses longer uids (dashboards, folders, data sources)
OPTED_OUT = "not set; allowMissingFlyToken: the data source keeps the header it has"
OFFLINE_HEADER = f"FlyV1 (from {catalog.FLY_METRICS_TOKEN_ENV} at pulumi up)"


@dataclass(frozen=True)
class MonitoringArgs:
    config: StackConfig
    url: pulumi.Input[str]  # the app's public URL, which the probes check


def _uid(text: str) -> str:
    return text[:UID_MAX]


def fly_authorization(opted_out: bool) -> pulumi.Output[str] | None:
    """The data source's `Authorization` value from FLY_METRICS_TOKEN, as a secret, or
    None when it is unset and the stack opted out (`allowMissingFlyToken`; without it
    config.from_pulumi refuses the run before anything is registered, except offline).

    From the environment, like FLY_API_TOKEN: a Fly token that CI's environments
    hold and rotate, which no stack file, plan or diff then has to carry.
    """
    token = os.environ.get(catalog.FLY_METRICS_TOKEN_ENV, "")
    if token.strip():
        # Normalised as Fly's client does: `fly tokens create` prints `FlyV1 fm2_...`,
        # which must not become `FlyV1 FlyV1 fm2_...`.
        return pulumi.Output.secret(fly_header(token))
    if not opted_out and offline():
        # The offline plan holds no credential: the header is a secret as under `up`,
        # whose value (never shown) says where `up` takes it from.
        return pulumi.Output.secret(OFFLINE_HEADER)
    # Never clear a working header on a run that lacks the variable: the data source
    # then ignores changes to it (see Monitoring).
    pulumi.log.warn(
        f"webhost:monitoring: {catalog.FLY_METRICS_TOKEN_ENV} is not set and "
        "allowMissingFlyToken is true: the Fly data source keeps the header it has (a new "
        "one gets none)"
    )
    return None


def probe_ids(available: Mapping[str, int] | None, wanted: list[str]) -> list[int]:
    """Probe ids by name, case-insensitively; a name Grafana lacks is an error naming it."""
    if not available:
        # No answer at all (not a list without the name): nothing to pick from; Grafana
        # then refuses a check without probes, naming it.
        pulumi.log.warn("webhost:monitoring.probes: Grafana listed no probes")
        return []
    by_name = {name.lower(): probe for name, probe in available.items()}
    missing = [name for name in wanted if name.lower() not in by_name]
    if missing:
        raise pulumi.RunError(
            f"webhost:monitoring.probes: {', '.join(missing)} not among Grafana's probes "
            f"({', '.join(sorted(available)) or 'none'})"
        )
    return [by_name[name.lower()] for name in wanted]


class Monitoring(pulumi.ComponentResource):
    """Grafana resources watching one stack's app and data tier."""

    data_source_uid: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        config = args.config
        monitoring = config.monitoring
        if monitoring is None:
            raise ValueError("Monitoring needs webhost:monitoring")
        token = fly_authorization(monitoring.allow_missing_fly_token)
        # The opt-out in effect is an input of the component, so a plan and a diff show
        # it (a token that is set shows nothing: it is a secret, never an input here).
        super().__init__(
            "webhost:monitoring:Monitoring",
            name,
            {"flyMetricsToken": OPTED_OUT} if token is None else None,
            opts,
        )
        app = config.app_name
        # pulumiverse_grafana 2.44.0 provider.py: `url` is the Grafana root URL; `auth`
        # and `sm_access_token`, left unset, come from GRAFANA_AUTH and
        # GRAFANA_SM_ACCESS_TOKEN, which the SDK marks secret.
        provider = grafana.Provider(f"{name}-grafana", url=monitoring.url, opts=self._child())
        child = self._child(provider)

        # superfly/docs monitoring/metrics.html.md @ 5c22c8c, "External or self-hosted
        # Grafana": URL https://api.fly.io/prometheus/<org-slug>/, header Authorization
        # `FlyV1 <token>` for tokens from `fly tokens create`. oss/data_source.py:
        # http_headers is "Custom HTTP headers", sent by Grafana, stored secret.
        source = grafana.oss.DataSource(
            f"{name}-fly-prometheus",
            type="prometheus",
            name=f"Fly Prometheus ({config.org})",
            uid=_uid(f"{app}-fly-prom"),
            url=catalog.FLY_PROMETHEUS_URL.format(org=config.org),
            access_mode="proxy",
            http_headers=(
                token.apply(lambda value: {"Authorization": value}) if token is not None else None
            ),
            # Fly's docs: MetricsQL behind a Prometheus-compatible query API.
            json_data_encoded=json.dumps({"httpMethod": "POST", "timeInterval": "15s"}),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(ignore_changes=["httpHeaders"] if token is None else None),
            ),
        )
        folder = grafana.oss.Folder(
            f"{name}-folder",
            title=f"{monitoring.folder} {app}",
            uid=_uid(f"{app}-monitoring"),
            opts=child,
        )
        board_uid = _uid(f"{app}-overview")
        board = grafana.oss.Dashboard(
            f"{name}-dashboard",
            folder=folder.uid,
            config_json=source.uid.apply(
                lambda uid: dashboard.model(config, monitoring, board_uid, uid)
            ),
            overwrite=True,
            opts=child,
        )
        self._alerting(
            name, config=config, monitoring=monitoring, source=source, folder=folder, child=child
        )
        if monitoring.synthetic:
            self._probes(
                name,
                config=config,
                monitoring=monitoring,
                url=args.url,
                folder=folder,
                provider=provider,
                child=child,
            )

        self.data_source_uid = source.uid
        self.dashboard_url = board.url
        self.register_outputs(
            {"data_source_uid": self.data_source_uid, "dashboard_url": self.dashboard_url}
        )

    def _child(self, provider: pulumi.ProviderResource | None = None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=provider)

    def _alerting(
        self,
        name: str,
        *,
        config: StackConfig,
        monitoring: MonitoringConfig,
        source: grafana.oss.DataSource,
        folder: grafana.oss.Folder,
        child: pulumi.ResourceOptions,
    ) -> None:
        rules = [
            grafana.alerting.RuleGroupRuleArgs(
                name=rule.name,
                condition="B",
                for_=rule.for_,
                no_data_state=rule.no_data,
                exec_err_state="Error",
                labels={"severity": rule.severity, "app": config.app_name},
                annotations={"summary": rule.summary},
                datas=[
                    grafana.alerting.RuleGroupRuleDataArgs(
                        ref_id="A",
                        datasource_uid=source.uid,
                        relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                            from_=rule.lookback_s, to=0
                        ),
                        model=source.uid.apply(functools.partial(_query_model, rule.expr)),
                    ),
                    grafana.alerting.RuleGroupRuleDataArgs(
                        ref_id="B",
                        datasource_uid=EXPRESSION_UID,
                        relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                            from_=0, to=0
                        ),
                        model=json.dumps(
                            {
                                "refId": "B",
                                "type": "threshold",
                                "expression": "A",
                                "conditions": [
                                    {"evaluator": {"type": rule.op, "params": [rule.threshold]}}
                                ],
                                "datasource": {"type": "__expr__", "uid": EXPRESSION_UID},
                            },
                            sort_keys=True,
                        ),
                    ),
                ],
            )
            for rule in alerts.rules(config, monitoring)
        ]
        grafana.alerting.RuleGroup(
            f"{name}-alerts",
            name=f"{config.app_name} targets",
            folder_uid=folder.uid,
            interval_seconds=60,
            rules=rules,
            opts=child,
        )
        points = [
            grafana.alerting.ContactPoint(
                f"{name}-contact-{index}",
                name=point.name,
                webhooks=(
                    [grafana.alerting.ContactPointWebhookArgs(url=pulumi.Output.secret(target))]
                    if point.kind == "webhook"
                    else None
                ),
                emails=(
                    [
                        grafana.alerting.ContactPointEmailArgs(
                            addresses=pulumi.Output.secret(_addresses(target))
                        )
                    ]
                    if point.kind == "email"
                    else None
                ),
                # A renamed contact point is replaced (`name` is ForceNew,
                # terraform-provider-grafana resource_alerting_contact_point.go), and the
                # bridge asks to delete first since the name is ours, not an autoname
                # (pulumi-terraform-bridge pkg/tfbridge/schema.go
                # nameRequiresDeleteBeforeReplace). Grafana refuses to delete one the
                # policy routes to (409, pulumiverse/pulumi-grafana#264). Overridden
                # (pulumi/pulumi pkg/resource/deploy/step_generator.go: the option wins
                # over the provider), the engine creates the new one, updates the policy
                # that depends on it, and deletes the old one last (deletes are post
                # steps, pkg/resource/deploy/deployment_executor.go performPostSteps).
                # Interrupted in between, the old one stays in state as pending delete:
                # the next `up` re-points the policy first, again, then deletes it.
                # The resource name is the position, never the contact point's name.
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(delete_before_replace=False)
                ),
            )
            for index, point in enumerate(monitoring.contact_points)
            for target in [contact_target(point)]
        ]
        if points:
            # Grafana keeps one notification policy tree per org: this owns it.
            grafana.alerting.NotificationPolicy(
                f"{name}-policy",
                contact_point=points[0].name,
                group_bies=["alertname", "app"],
                opts=child,
            )

    def _probes(
        self,
        name: str,
        *,
        config: StackConfig,
        monitoring: MonitoringConfig,
        url: pulumi.Input[str],
        folder: grafana.oss.Folder,
        provider: grafana.Provider,
        child: pulumi.ResourceOptions,
    ) -> None:
        found = grafana.syntheticmonitoring.get_probes_output(
            opts=pulumi.InvokeOutputOptions(provider=provider, parent=self)
        )
        ids = found.probes.apply(lambda probes: probe_ids(probes, monitoring.probes))
        paths = {"health": config.http.health_check.path}
        if config.http.deep_check.enabled:
            paths["deep-health"] = config.http.deep_check.path
        alert = alerts.probe_alert(monitoring)
        for kind, path in paths.items():
            check = grafana.syntheticmonitoring.Check(
                f"{name}-probe-{kind}",
                job=f"{config.app_name} {kind}",
                target=pulumi.Output.from_input(url).apply(functools.partial(_join, path=path)),
                probes=ids,
                frequency=monitoring.probe_frequency_ms,
                # The probe's own budget: a response slower than this is a failure.
                timeout=catalog.probe_timeout_ms(monitoring.latency_p95_ms),
                labels={"app": config.app_name},
                settings=grafana.syntheticmonitoring.CheckSettingsArgs(
                    http=grafana.syntheticmonitoring.CheckSettingsHttpArgs(
                        method="GET", fail_if_not_ssl=True, valid_status_codes=[200]
                    )
                ),
                folder_uid=folder.uid,
                opts=child,
            )
            # What the probes see pages someone: Synthetic Monitoring's own alert on the
            # check's failed executions (components/monitoring/alerts.py PROBE_FAILED).
            # Its rules carry no notification settings, so Grafana routes them through
            # the org's default policy tree (grafana/synthetic-monitoring-app
            # src/components/CheckForm/AlertsPerCheck/AlertRoutingPreview.tsx @ b12d206),
            # the tree `_alerting` sets to the stack's first contact point. Named after
            # its check, which is how the policy pairs the two (the check's id is
            # unknown in a preview). The API replaces the check's whole alert list (PUT
            # /check/<id>/alerts, resource_check_alerts.go), so an `up` interrupted
            # after it acted repeats it to the same result.
            grafana.syntheticmonitoring.CheckAlerts(
                f"{name}-probe-{kind}-alerts",
                check_id=check.id.apply(int),
                alerts=[
                    grafana.syntheticmonitoring.CheckAlertsAlertArgs(
                        name=alerts.PROBE_FAILED,
                        threshold=alert.threshold,
                        period=alert.period,
                        runbook_url="",
                    )
                ],
                opts=child,
            )


def contact_target(point: ContactPointConfig) -> str:
    """A contact point's URL or addresses: from the stack's secret, or from the
    environment variable `fromEnv` names (config.from_pulumi refuses it unset, except
    offline, where the value says where `up` takes it from, as the Fly header does)."""
    secret = point.url if point.kind == "webhook" else point.addresses
    if secret is not None:
        return secret.get_secret_value()
    variable = point.from_env or ""
    value = os.environ.get(variable, "").strip()
    return value or f"(from {variable} at pulumi up)"


def _addresses(text: str) -> list[str]:
    return [a.strip() for a in text.replace(";", ",").split(",") if a.strip()]


def _query_model(expr: str, uid: str) -> str:
    """Stage A: an instant PromQL query on the Fly data source."""
    return json.dumps(
        {
            "refId": "A",
            "expr": expr,
            "instant": True,
            "datasource": {"type": "prometheus", "uid": uid},
        },
        sort_keys=True,
    )


def _join(base: str, path: str) -> str:
    return f"{base.rstrip('/')}{path}"
