"""The inputs the real Grafana provider accepts, as a small table, and a checker.

Sources, unless a line says otherwise:
- the installed Python SDK, pulumiverse_grafana 2.44.0: each resource's `__init__`
  (the properties it raises TypeError for when missing are the required ones:
  oss/data_source.py `type`, oss/folder.py `title`, oss/dashboard.py `config_json`,
  alerting/rule_group.py `folder_uid`/`interval_seconds`/`rules`,
  alerting/notification_policy.py `contact_point`/`group_bies`,
  syntheticmonitoring/check.py `job`/`probes`/`settings`/`target`,
  syntheticmonitoring/check_alerts.py `alerts`/`check_id`), the nested input
  types' required keyword arguments (alerting/_inputs.py RuleGroupRuleArgs `name`,
  `datas`; RuleGroupRuleDataArgs `ref_id`, `datasource_uid`, `model`,
  `relative_time_range`; ContactPointWebhookArgs `url`; ContactPointEmailArgs
  `addresses`) and their docstrings for enums, ranges and defaults (no_data_state
  "Options are OK, NoData, KeepLast, and Alerting", exec_err_state "OK, Error,
  KeepLast, and Alerting", access_mode "`proxy` or `direct`", the check's frequency
  1000..3600000 ms and timeout 1000..180000 ms, HTTP settings' method and ip_version);
- ForceNew (a replacement) from the Terraform provider the Pulumi one bridges,
  grafana/terraform-provider-grafana `internal/resources/grafana/`:
  resource_data_source.go @ 056e8f1 (`uid` ForceNew; `type` is not), resource_dashboard.go
  @ 3f9621f (`folder` is not ForceNew: a dashboard moves folder in place; a CustomizeDiff
  forces `config_json` new when the model's `uid` changes), resource_alerting_rule_group.go
  @ 00a5280 (`name`, `folder_uid` ForceNew; `rule` MinItems 1; `data` MinItems 1),
  resource_alerting_contact_point.go @ 3f9621f (`name` and `disable_provenance` ForceNew),
  and `internal/resources/syntheticmonitoring/resource_check_alerts.go` @ 3f9621f
  (`check_id` ForceNew; `alerts` a set whose `name` and `period` are StringInSlice).

Names are the wire (Pulumi) names, camelCase; each field keeps its Terraform name,
which the provider's messages quote. Failure wording follows terraform-plugin-sdk/v2
(Terraform's "Missing required argument", helper/validation's StringInSlice
"expected %s to be one of %q, got %s", IntBetween "expected %s to be in the range
(%d - %d), got %d", StringIsJSON "%q contains an invalid JSON"), with the bridge's
suffix "Examine values at '<resource>.<pulumi path>'."
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fakeprovider.schema import Checker, Failure, Field, Kind, go_quote_list
from fakeprovider.schema import string as _s
from fakeprovider.values import is_unknown

# The table's kinds (e2e/fakeprovider/schema.py Field) beyond the shared ones: string,
# int, json (a string holding JSON).

DATA_SOURCE_TYPE = "grafana:oss/dataSource:DataSource"
FOLDER_TYPE = "grafana:oss/folder:Folder"
DASHBOARD_TYPE = "grafana:oss/dashboard:Dashboard"
RULE_GROUP_TYPE = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT_TYPE = "grafana:alerting/contactPoint:ContactPoint"
NOTIFICATION_POLICY_TYPE = "grafana:alerting/notificationPolicy:NotificationPolicy"
CHECK_TYPE = "grafana:syntheticMonitoring/check:Check"
CHECK_ALERTS_TYPE = "grafana:syntheticMonitoring/checkAlerts:CheckAlerts"
GET_PROBES_FUNCTION = "grafana:syntheticMonitoring/getProbes:getProbes"

_ORG = _s("org_id", computed=True, replace=True)

DATA_SOURCE: dict[str, Field] = {
    "type": _s("type", required=True),
    "name": _s("name", required=True),
    "uid": _s("uid", computed=True, replace=True),
    "url": _s("url"),
    "accessMode": _s("access_mode", enum=("proxy", "direct"), default="proxy"),
    "basicAuthEnabled": Field("basic_auth_enabled", "bool", default=False),
    "basicAuthUsername": _s("basic_auth_username", default=""),
    "databaseName": _s("database_name", default=""),
    "isDefault": Field("is_default", "bool", default=False),
    "username": _s("username", default=""),
    "httpHeaders": Field("http_headers", "map", item="string"),
    "jsonDataEncoded": Field("json_data_encoded", "json"),
    "secureJsonDataEncoded": Field("secure_json_data_encoded", "json"),
    "privateDataSourceConnectNetworkId": _s("private_data_source_connect_network_id"),
    "orgId": _ORG,
}

FOLDER: dict[str, Field] = {
    "title": _s("title", required=True),
    "uid": _s("uid", computed=True, replace=True),
    "parentFolderUid": _s("parent_folder_uid"),
    "preventDestroyIfNotEmpty": Field("prevent_destroy_if_not_empty", "bool"),
    "url": _s("url", output_only=True),
    "orgId": _ORG,
}

DASHBOARD: dict[str, Field] = {
    "configJson": Field("config_json", "json", required=True),
    "folder": _s("folder"),
    "message": _s("message"),
    "overwrite": Field("overwrite", "bool"),
    "uid": _s("uid", output_only=True),
    "url": _s("url", output_only=True),
    "dashboardId": Field("dashboard_id", "int", output_only=True),
    "version": Field("version", "int", output_only=True),
    "orgId": _ORG,
}

_TIME_RANGE: dict[str, Field] = {
    "from": Field("from", "int", required=True),
    "to": Field("to", "int", required=True),
}

_RULE_DATA: dict[str, Field] = {
    "refId": _s("ref_id", required=True),
    "datasourceUid": _s("datasource_uid", required=True),
    "model": Field("model", "json", required=True),
    "queryType": _s("query_type", default=""),
    "relativeTimeRange": Field("relative_time_range", "object", required=True, fields=_TIME_RANGE),
}

_RULE: dict[str, Field] = {
    "name": _s("name", required=True),
    "datas": Field("data", "list", required=True, min_items=1, fields=_RULE_DATA),
    "condition": _s("condition"),
    "for": _s("for", default="0"),
    "noDataState": _s(
        "no_data_state", enum=("OK", "NoData", "KeepLast", "Alerting"), default="NoData"
    ),
    "execErrState": _s(
        "exec_err_state", enum=("OK", "Error", "KeepLast", "Alerting"), default="Alerting"
    ),
    "labels": Field("labels", "map", item="string"),
    "annotations": Field("annotations", "map", item="string"),
    "isPaused": Field("is_paused", "bool", default=False),
    "uid": _s("uid", computed=True),
}

RULE_GROUP: dict[str, Field] = {
    "name": _s("name", required=True, replace=True),
    "folderUid": _s("folder_uid", required=True, replace=True),
    "intervalSeconds": Field("interval_seconds", "int", required=True),
    "rules": Field("rule", "list", required=True, min_items=1, fields=_RULE),
    "disableProvenance": Field("disable_provenance", "bool", default=False),
    "orgId": _ORG,
}

_WEBHOOK: dict[str, Field] = {
    "url": _s("url", required=True),
    "httpMethod": _s("http_method", enum=("POST", "PUT")),
    "disableResolveMessage": Field("disable_resolve_message", "bool", default=False),
    "uid": _s("uid", computed=True),
}

_EMAIL: dict[str, Field] = {
    "addresses": Field("addresses", "list", required=True, item="string"),
    "singleEmail": Field("single_email", "bool", default=False),
    "disableResolveMessage": Field("disable_resolve_message", "bool", default=False),
    "uid": _s("uid", computed=True),
}

CONTACT_POINT: dict[str, Field] = {
    "name": _s("name", required=True, replace=True),
    "webhooks": Field("webhook", "list", fields=_WEBHOOK),
    "emails": Field("email", "list", fields=_EMAIL),
    "disableProvenance": Field("disable_provenance", "bool", default=False, replace=True),
    "orgId": _ORG,
}

NOTIFICATION_POLICY: dict[str, Field] = {
    "contactPoint": _s("contact_point", required=True),
    "groupBies": Field("group_by", "list", required=True, item="string"),
    "groupWait": _s("group_wait"),
    "groupInterval": _s("group_interval"),
    "repeatInterval": _s("repeat_interval"),
    "disableProvenance": Field("disable_provenance", "bool", default=False),
    "orgId": _ORG,
}

_HTTP_METHODS = ("GET", "CONNECT", "DELETE", "HEAD", "OPTIONS", "POST", "PUT", "TRACE")

_CHECK_HTTP: dict[str, Field] = {
    "method": _s("method", enum=_HTTP_METHODS, default="GET"),
    "ipVersion": _s("ip_version", enum=("V4", "V6", "Any"), default="V4"),
    "failIfNotSsl": Field("fail_if_not_ssl", "bool", default=False),
    "failIfSsl": Field("fail_if_ssl", "bool", default=False),
    "noFollowRedirects": Field("no_follow_redirects", "bool", default=False),
    "validStatusCodes": Field("valid_status_codes", "list", item="int"),
    "validHttpVersions": Field("valid_http_versions", "list", item="string"),
    "compression": _s("compression", enum=("none", "identity", "br", "gzip", "deflate")),
}

CHECK: dict[str, Field] = {
    "job": _s("job", required=True),
    "target": _s("target", required=True),
    "probes": Field("probes", "list", required=True, item="int", min_items=1),
    "settings": Field(
        "settings",
        "object",
        required=True,
        fields={"http": Field("http", "object", fields=_CHECK_HTTP)},
    ),
    "enabled": Field("enabled", "bool", default=True),
    "frequency": Field("frequency", "int", between=(1_000, 3_600_000), default=60_000),
    "timeout": Field("timeout", "int", between=(1_000, 180_000), default=3_000),
    "labels": Field("labels", "map", item="string"),
    "basicMetricsOnly": Field("basic_metrics_only", "bool", default=True),
    "alertSensitivity": _s("alert_sensitivity", default="none"),
    "folderUid": _s("folder_uid"),
    "tenantId": Field("tenant_id", "int", output_only=True),
}

# resource_check_alerts.go: the alert names and periods it accepts ("" is its default:
# no period, which only TLSTargetCertificateCloseToExpiring goes without).
_CHECK_ALERT: dict[str, Field] = {
    "name": _s(
        "name",
        required=True,
        enum=(
            "ProbeFailedExecutionsTooHigh",
            "TLSTargetCertificateCloseToExpiring",
            "HTTPRequestDurationTooHighAvg",
            "PingRequestDurationTooHighAvg",
            "DNSRequestDurationTooHighAvg",
        ),
    ),
    "threshold": Field("threshold", "number", required=True),
    "period": _s("period", enum=("", "5m", "10m", "15m", "20m", "30m", "1h"), default=""),
    "runbookUrl": _s("runbook_url", default=""),
}

CHECK_ALERTS: dict[str, Field] = {
    "checkId": Field("check_id", "int", required=True, replace=True),
    "alerts": Field("alerts", "list", required=True, fields=_CHECK_ALERT),
}

# Resources whose `name` the bridge autonames (pulumiverse/pulumi-grafana
# provider/resources.go @ 80b6fd7 calls SetAutonaming(255, "-"): every resource with a
# string input `name`, pulumi-terraform-bridge pkg/tfbridge/info/autonaming.go @
# 59de6c6). When the program sets that name itself, a replacement deletes first:
# nameRequiresDeleteBeforeReplace (pkg/tfbridge/schema.go), used by Diff
# (pkg/tfbridge/provider.go). Resources without a `name` are created before the old
# one is deleted, the engine's default.
AUTONAMED = frozenset({DATA_SOURCE_TYPE, RULE_GROUP_TYPE, CONTACT_POINT_TYPE})

RESOURCES: dict[str, dict[str, Field]] = {
    DATA_SOURCE_TYPE: DATA_SOURCE,
    FOLDER_TYPE: FOLDER,
    DASHBOARD_TYPE: DASHBOARD,
    RULE_GROUP_TYPE: RULE_GROUP,
    CONTACT_POINT_TYPE: CONTACT_POINT,
    NOTIFICATION_POLICY_TYPE: NOTIFICATION_POLICY,
    CHECK_TYPE: CHECK,
    CHECK_ALERTS_TYPE: CHECK_ALERTS,
}

# Provider configuration the SDK's Provider accepts (pulumiverse_grafana 2.44.0
# provider.py `_internal_init`), wire names; `version` is the engine's own key.
PROVIDER_CONFIG = frozenset(
    {
        "auth", "caCert", "cloudAccessPolicyToken", "cloudApiUrl", "cloudProviderAccessToken",
        "cloudProviderUrl", "connectionsApiAccessToken", "connectionsApiUrl",
        "fleetManagementAuth", "fleetManagementUrl", "frontendO11yApiAccessToken",
        "frontendO11yApiUrl", "httpHeaders", "insecureSkipVerify", "k6AccessToken", "k6Url",
        "oncallAccessToken", "oncallUrl", "orgId", "retries", "retryStatusCodes", "retryWait",
        "smAccessToken", "smUrl", "stackId", "storeDashboardSha256", "tlsCert", "tlsKey", "url",
        "version",
    }
)  # fmt: skip


class _Checker(Checker):
    """terraform-plugin-sdk/v2's wording: one message, no summary; a list element's
    Terraform path is `<list>.<index>`."""

    def missing(self, path: str, tf_path: str) -> None:
        self.fail(
            path,
            f'Missing required argument: The argument "{tf_path}" is required, '
            "but no definition was found",
        )

    def element_tf_path(self, tf_path: str, index: int) -> str:
        return f"{tf_path}.{index}"

    def too_few_items(self, count: int, spec: Field, path: str, tf_path: str) -> None:
        self.fail(
            path,
            f"Not enough list items: Attribute {tf_path} requires {spec.min_items} item "
            f"minimum, but config has only {count} declared",
        )

    def kinds(self) -> dict[str, Kind]:
        return {
            **super().kinds(),
            "string": self._string,
            "int": self._int,
            "number": self._number,
            "json": self._json,
        }

    def _number(self, value: Any, spec: Field, path: str, tf: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.wrong_type(path, tf, "number")
        return value

    def _string(self, value: Any, spec: Field, path: str, tf: str) -> Any:
        if self.typed(value, path, tf, "string", str) and spec.enum and value not in spec.enum:
            self.fail(path, f"expected {tf} to be one of {go_quote_list(spec.enum)}, got {value}")
        return value

    def _int(self, value: Any, spec: Field, path: str, tf: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            self.wrong_type(path, tf, "number")
        elif spec.between and not spec.between[0] <= value <= spec.between[1]:
            low, high = spec.between
            self.fail(path, f"expected {tf} to be in the range ({low} - {high}), got {int(value)}")
        return value

    def _json(self, value: Any, spec: Field, path: str, tf: str) -> Any:
        if not self.typed(value, path, tf, "string", str):
            return value
        try:
            json.loads(value)
        except ValueError as error:
            self.fail(path, f'"{tf}" contains an invalid JSON: {error}')
        return value


def check(
    token: str, resource_name: str, inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate a resource's inputs; return them with defaults applied, and the failures."""
    checker = _Checker(resource_name)
    out = checker.object(inputs, RESOURCES[token], "", "")
    if token == CONTACT_POINT_TYPE and not inputs.get("webhooks") and not inputs.get("emails"):
        # The provider's contact point needs at least one notifier (of any kind); of the
        # kinds modelled here, a webhook or an email. Wording ours.
        checker.fail("", "at least one contact point notifier (webhook, email, ...) is required")
    return out, checker.failures


def check_config(inputs: Mapping[str, Any]) -> list[Failure]:
    """Provider configuration: keys the provider has, `url` a string."""
    checker = _Checker("grafana")
    for key in sorted(inputs):
        if key not in PROVIDER_CONFIG:
            checker.fail(
                key, f"could not validate provider configuration: Invalid or unknown key {key}"
            )
    url = inputs.get("url")
    if (
        url is not None
        and not is_unknown(url)
        and not (isinstance(url, str) and url.startswith(("http://", "https://")))
    ):
        checker.fail("url", f"expected url to have a host and an http or https scheme, got {url}")
    return checker.failures
