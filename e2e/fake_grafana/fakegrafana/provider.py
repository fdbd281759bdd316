"""The Pulumi side: a resource provider answering the engine as pulumiverse-grafana would.

The engine's calls (Check/Diff/Create/Read/Update/Delete) are plumbed by the fakes'
shared base (e2e/fakeprovider/provider.py), like e2e/fake_cloudflare's; the state
file, log, value conversions and server are shared too (e2e/fakeprovider). The input
rules live in `schema`; what "Grafana" does with a resource, and getProbes, are here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from fakeprovider import values
from fakeprovider.provider import FakeProvider
from fakeprovider.schema import Failure
from fakeprovider.values import UNKNOWN, plain_map, type_token, wrap
from pulumi.provider.experimental.provider import (
    ConfigureRequest,
    DiffRequest,
    DiffResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
)

from fakegrafana import schema
from fakegrafana.schema import (
    AUTONAMED,
    CHECK,
    CHECK_ALERTS_TYPE,
    CHECK_TYPE,
    CONTACT_POINT_TYPE,
    DASHBOARD_TYPE,
    DATA_SOURCE_TYPE,
    FOLDER_TYPE,
    GET_PROBES_FUNCTION,
    NOTIFICATION_POLICY_TYPE,
    RESOURCES,
    RULE_GROUP_TYPE,
)
from fakegrafana.store import CallLog, Store

ORG = 1  # the provider's default org_id
SM_HTTP_TIMEOUT_MS = (1_000, 60_000)  # checks_extra.go minCheckTimeout, maxCheckTimeout
# Resources served by the Synthetic Monitoring API.
SM_TOKENS = frozenset({CHECK_TYPE, CHECK_ALERTS_TYPE})

# Where each resource lives in the state file.
COLLECTION = {
    DATA_SOURCE_TYPE: "dataSources",
    FOLDER_TYPE: "folders",
    DASHBOARD_TYPE: "dashboards",
    RULE_GROUP_TYPE: "ruleGroups",
    CONTACT_POINT_TYPE: "contactPoints",
    CHECK_TYPE: "checks",
    CHECK_ALERTS_TYPE: "checkAlerts",
}


class GrafanaError(Exception):
    """An answer of Grafana's API (or the provider's own refusal), as the provider words it."""


def digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def _org_id(key: str) -> str:
    # MakeOrgResourceID: "<org id>:<resource id>" (terraform-provider-grafana
    # internal/resources/grafana/oss_org_id.go).
    return f"{ORG}:{key}"


def _key_of(resource_id: str) -> str:
    return resource_id.split(":", 1)[1] if ":" in resource_id else resource_id


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str) -> float | str:
    """A rule's `for` as seconds: the provider suppresses a diff between equal durations
    (resource_alerting_rule_group.go, `for` DiffSuppressFunc); "0" is zero."""
    if text.strip() == "0":
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return text
    return sum(float(n) * _UNIT[u] for n, u in parts)


def _dashboard_model(config_json: str) -> dict[str, Any]:
    """NormalizeDashboardConfigJSON (resource_dashboard.go): `id` and `version` (Grafana's)
    and each panel's `id` are not managed in code."""
    model: dict[str, Any] = json.loads(config_json)
    model.pop("id", None)
    model.pop("version", None)
    for panel in model.get("panels") or []:
        if isinstance(panel, dict):
            panel.pop("id", None)
    return model


def _rule_model(model: str) -> Any:
    """normalizeModelJSON (resource_alerting_rule_group.go): Grafana's defaults
    maxDataPoints 43200 and intervalMs 1000 are dropped."""
    parsed = json.loads(model)
    if isinstance(parsed, dict):
        if parsed.get("maxDataPoints") == 43200:
            parsed.pop("maxDataPoints")
        if parsed.get("intervalMs") == 1000:
            parsed.pop("intervalMs")
    return parsed


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) and text != UNKNOWN else text
    except ValueError:
        return text


def _canonical_model(model: Any) -> Any:
    with contextlib.suppress(ValueError):
        return _rule_model(model) if isinstance(model, str) else model
    return model


def _canonical_rule(rule: Any) -> Any:
    if not isinstance(rule, Mapping):
        return rule
    out = dict(rule)
    if isinstance(out.get("for"), str):
        out["for"] = _seconds(out["for"])
    out["datas"] = [
        {**stage, "model": _canonical_model(stage.get("model"))}
        if isinstance(stage, Mapping)
        else stage
        for stage in out.get("datas") or []
    ]
    return out


def canonical(token: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """Values compared as the provider compares them: JSON by meaning, not by text
    (SuppressEquivalentJSONDiffs, diffSuppressJSON), durations by length."""
    out = dict(props)
    for key, spec in RESOURCES[token].items():
        if spec.kind == "json" and key in out:
            out[key] = _json(out[key])
    if token == DASHBOARD_TYPE and isinstance(props.get("configJson"), str):
        with contextlib.suppress(ValueError):
            out["configJson"] = _dashboard_model(props["configJson"])
    if token == RULE_GROUP_TYPE and isinstance(props.get("rules"), list):
        out["rules"] = [_canonical_rule(rule) for rule in props["rules"]]
    if token == CHECK_ALERTS_TYPE and isinstance(props.get("alerts"), list):
        # `alerts` is a schema.TypeSet (resource_check_alerts.go): its order is no change.
        out["alerts"] = sorted(props["alerts"], key=lambda alert: json.dumps(alert, sort_keys=True))
    return out


class FakeGrafana(FakeProvider):
    """A stateful stand-in for pulumiverse-grafana: the OSS, alerting and synthetic
    monitoring resources the monitoring component uses, and getProbes."""

    name = "grafana"
    sdk_package = "pulumiverse_grafana"  # 2.44.0
    resources = RESOURCES
    schema_check = schema.check
    errors = (GrafanaError,)

    def __init__(self, store: Store, log: CallLog) -> None:
        super().__init__(store, log)
        self.url = "https://grafana.invalid"
        self.has_auth = False
        self.has_sm_token = False

    async def diff(self, request: DiffRequest) -> DiffResponse:
        response = await super().diff(request)
        token = type_token(request.type)
        olds, news = plain_map(request.old_state), plain_map(request.new_inputs)
        old_uid, new_uid = _model_uid(olds), _model_uid(news)
        if token == DASHBOARD_TYPE and None not in (old_uid, new_uid) and old_uid != new_uid:
            # resource_dashboard.go CustomizeDiff: a new uid in the model is a new
            # dashboard (ForceNew on config_json); a new folder alone is a move.
            response.replaces = sorted({*response.replaces, "configJson"})
            response.detailed_diff = {
                **(response.detailed_diff or {}),
                "configJson": PropertyDiff(PropertyDiffKind.UPDATE_REPLACE, input_diff=True),
            }
            response.changes = True
        # The bridge deletes first only where the program set an autonamed `name`
        # (schema.AUTONAMED); elsewhere the engine's create-before-delete holds.
        response.delete_before_replace = bool(response.replaces) and token in AUTONAMED
        return response

    def config_failures(self, inputs: Mapping[str, Any]) -> list[Failure]:
        return schema.check_config(inputs)

    def configured(self, request: ConfigureRequest) -> list[str]:
        # Names only: `auth` and `smAccessToken` are secrets (the SDK reads them from
        # GRAFANA_AUTH and GRAFANA_SM_ACCESS_TOKEN when the program leaves them unset).
        variables = {k.rsplit(":", 1)[-1]: values.to_plain(v) for k, v in request.args.items()} or {
            k.rsplit(":", 1)[-1]: v for k, v in request.variables.items()
        }
        url = variables.get("url")
        if isinstance(url, str) and url and url != UNKNOWN:
            self.url = url.rstrip("/")
        self.has_auth = bool(variables.get("auth"))
        self.has_sm_token = bool(variables.get("smAccessToken"))
        return sorted(variables)

    def comparable(self, token: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
        return canonical(token, props)

    def require_client(self, token: str) -> None:
        """The provider builds an API client only from what it was configured with; a
        resource whose client is missing fails (wording the fake's own)."""
        if token in SM_TOKENS:
            if not self.has_sm_token:
                raise GrafanaError(
                    "the Synthetic Monitoring client is not configured: set sm_access_token "
                    "(or GRAFANA_SM_ACCESS_TOKEN) on the provider"
                )
        elif not self.has_auth:
            raise GrafanaError(
                "the Grafana API client is not configured: set auth (or GRAFANA_AUTH) "
                "on the provider"
            )

    def create_in(
        self, state: dict[str, Any], token: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        return self._put(state, token, None, inputs)

    def update_in(
        self, state: dict[str, Any], token: str, resource_id: str, news: dict[str, Any]
    ) -> dict[str, Any]:
        return self._put(state, token, resource_id, news)[1]

    def import_id(self, token: str, import_id: str) -> tuple[str, dict[str, Any]]:
        # pulumiverse_grafana 2.44.0 alerting/rule_group.py imports by "{{ folderUID }}:
        # {{ title }}" or "{{ orgID }}:{{ folderUID }}:{{ title }}"; the fake keys a group
        # by packGroupID "<folder uid>;<group name>" under the org.
        if token == RULE_GROUP_TYPE and ";" not in import_id:
            parts = import_id.split(":")
            if len(parts) in (2, 3):
                return _org_id(f"{parts[-2]};{parts[-1]}"), {}
        return import_id, {}

    def read_in(
        self, state: Mapping[str, Any], token: str, resource_id: str, known: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        held = self._get(state, token, resource_id)
        # Gone: the provider's CheckReadError clears the id on a 404.
        return None if held is None else self._outputs(token, held, known)

    def delete_in(
        self, state: dict[str, Any], token: str, resource_id: str, props: Mapping[str, Any]
    ) -> None:
        if token == NOTIFICATION_POLICY_TYPE:
            # Deleting the policy tree resets it to Grafana's default.
            state.pop("notificationPolicy", None)
        elif token == CONTACT_POINT_TYPE:
            self._delete_contact_point(state, _key_of(resource_id))
        elif token == CHECK_TYPE:
            # A check goes with its alerts (the fake's assumption: the API's code is not
            # public; nothing the program does depends on it).
            state["checks"].pop(resource_id, None)
            state.setdefault("checkAlerts", {}).pop(resource_id, None)
        else:
            state[COLLECTION[token]].pop(_key_of(resource_id), None)

    # --- "Grafana" ---------------------------------------------------------------------

    def _get(self, state: Mapping[str, Any], token: str, resource_id: str) -> Any:
        if token == NOTIFICATION_POLICY_TYPE:
            return state.get("notificationPolicy")
        if token == CHECK_ALERTS_TYPE:
            return self._get_check_alerts(state, resource_id)
        return state[COLLECTION[token]].get(_key_of(resource_id))

    def _get_check_alerts(self, state: Mapping[str, Any], check_id: str) -> Any:
        """GET /check/<id>/alerts (synthetic-monitoring-api-go-client smapi.go
        GetCheckAlerts). The provider's Read returns any error as is: it never takes an
        answer for "gone" (resource_check_alerts.go resourceCheckAlertRead), so alerts of
        a check that is no more fail the read (status wording the fake's own)."""
        if check_id not in state["checks"]:
            raise GrafanaError(
                f"sending check alerts get request: status 404: check {check_id} not found"
            )
        return state.get("checkAlerts", {}).get(check_id)

    def _put(
        self, state: dict[str, Any], token: str, resource_id: str | None, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Create (resource_id None) or update one resource; returns its id and outputs."""
        held = dict(inputs)
        if "orgId" in RESOURCES[token]:  # Grafana's org; a synthetic check has none
            held["orgId"] = str(ORG)
        if token == NOTIFICATION_POLICY_TYPE:
            if inputs["contactPoint"] not in state["contactPoints"]:
                raise GrafanaError(
                    "[PUT /v1/provisioning/policies][400] "
                    f'{{"message":"receiver \'{inputs["contactPoint"]}\' does not exist"}}'
                )
            state["notificationPolicy"] = held
            return "policy", held
        putters = {
            DATA_SOURCE_TYPE: self._put_data_source,
            FOLDER_TYPE: self._put_folder,
            DASHBOARD_TYPE: self._put_dashboard,
            RULE_GROUP_TYPE: self._put_rule_group,
            CONTACT_POINT_TYPE: self._put_contact_point,
            CHECK_TYPE: self._put_check,
            CHECK_ALERTS_TYPE: self._put_check_alerts,
        }
        key, held = putters[token](state, resource_id, inputs, held)
        state.setdefault(COLLECTION[token], {})[key] = held
        rid = key if token in SM_TOKENS else _org_id(key)
        return rid, self._outputs(token, held, inputs)

    def _put_data_source(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        key = str(inputs.get("uid") or (rid and _key_of(rid)) or _new_uid())
        taken = [u for u, ds in state["dataSources"].items() if ds["name"] == inputs["name"]]
        if [u for u in taken if u != key] or (rid is None and key in state["dataSources"]):
            raise GrafanaError(
                "[POST /datasources][409] addDataSourceConflict "
                '{"message":"data source with the same name already exists"}'
            )
        held["uid"] = key
        # Header values: only a digest, never the secret itself (see store.py).
        held["httpHeaders"] = {
            k: digest(v) for k, v in (inputs.get("httpHeaders") or {}).items()
        } or None
        return key, held

    def _put_folder(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        key = str(inputs.get("uid") or (rid and _key_of(rid)) or _new_uid())
        held["uid"] = key
        held["url"] = f"{self.url}/dashboards/f/{key}/"
        return key, held

    def _put_dashboard(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        model = _dashboard_model(str(inputs["configJson"]))
        folder = inputs.get("folder")
        if folder and _key_of(str(folder)) not in state["folders"]:
            raise GrafanaError(
                '[POST /dashboards/db][400] postDashboardBadRequest {"message":"folder not found"}'
            )
        key = str(model.get("uid") or (rid and _key_of(rid)) or _new_uid())
        before = state["dashboards"].get(key)
        held["uid"] = key
        held["configJson"] = json.dumps(model, sort_keys=True)
        held["version"] = (before["version"] + 1) if before else 1
        held["dashboardId"] = before["dashboardId"] if before else _next_id(state)
        slug = re.sub(r"[^a-z0-9]+", "-", str(model.get("title", "")).lower()).strip("-")
        held["url"] = f"{self.url}/d/{key}/{slug}"
        return key, held

    def _put_rule_group(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if inputs["folderUid"] not in state["folders"]:
            raise GrafanaError(
                "[PUT /v1/provisioning/folder/{FolderUID}/rule-groups/{Group}][400] "
                '{"message":"folder does not exist"}'
            )
        # packGroupID: "<folder uid>;<group name>" (resource_alerting_rule_group.go).
        key = f"{inputs['folderUid']};{inputs['name']}"
        old = state["ruleGroups"].get(key, {}).get("rules", [])
        uids = {r.get("name"): r.get("uid") for r in old}
        held["rules"] = [
            {**rule, "uid": rule.get("uid") or uids.get(rule["name"]) or _new_uid()}
            for rule in inputs["rules"]
        ]
        return key, held

    def _put_contact_point(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        key = str(inputs["name"])
        old = state["contactPoints"].get(key, {})
        for kind, secret in _NOTIFIER_SECRETS.items():
            olds = old.get(kind) or []
            items = inputs.get(kind) or []
            if rid is None:
                # Create POSTs each notifier; Grafana files one under the receiver of the
                # same name when there is one (grafana/grafana pkg/services/ngalert/
                # provisioning/contactpoints.go CreateContactPoint, `receiverFound`), so
                # that receiver then holds its old notifiers and these.
                kept, fresh = olds, [{**item, "uid": _new_uid()} for item in items]
            else:
                kept = []
                fresh = [
                    {**item, "uid": (olds[i].get("uid") if i < len(olds) else None) or _new_uid()}
                    for i, item in enumerate(items)
                ]
            # A notifier's settings (a webhook URL, addresses) are secret: digests only.
            digested = [{**item, secret: digest(item.get(secret))} for item in fresh]
            held[kind] = [*kept, *digested] or None
        return key, held

    def _delete_contact_point(self, state: dict[str, Any], name: str) -> None:
        """The provider deletes every notifier of the name (resource_alerting_contact_point.go
        deleteContactPoint); removing a receiver's last one while a route of the policy
        tree still names it is refused (contactpoints.go DeleteContactPoint: fullRemoval
        and isContactPointInUse -> ErrContactPointReferenced, errutil.Conflict, public
        message from pkg/services/ngalert/provisioning/errors.go)."""
        policy = state.get("notificationPolicy")
        if name in state["contactPoints"] and policy and policy.get("contactPoint") == name:
            raise GrafanaError(
                "[DELETE /v1/provisioning/contact-points/{UID}][409] "
                '{"message":"Contact point is currently referenced by a notification policy.",'
                '"messageId":"alerting.notifications.contact-points.referenced","statusCode":409}'
            )
        state["contactPoints"].pop(name, None)

    def _put_check(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        known = set(state["probes"].values())
        unknown = sorted(int(p) for p in inputs["probes"] if int(p) not in known)
        if unknown:
            raise GrafanaError(f"invalid probe ids: {unknown}")
        # The API, past the provider's schema (1000..180000): an HTTP check's timeout is
        # 1 s..1 min and at most its frequency (grafana/synthetic-monitoring-agent
        # pkg/pb/synthetic_monitoring/checks_extra.go @ bff8060 validateTimeout,
        # ErrInvalidCheckTimeout "invalid check timeout"). Defaults: the schema's.
        frequency = int(inputs.get("frequency") or CHECK["frequency"].default)
        timeout = int(inputs.get("timeout") or CHECK["timeout"].default)
        if not SM_HTTP_TIMEOUT_MS[0] <= timeout <= min(frequency, SM_HTTP_TIMEOUT_MS[1]):
            raise GrafanaError("invalid check timeout")
        key = _key_of(rid) if rid else str(_next_id(state))
        held["tenantId"] = 1
        held["id"] = key
        return key, held

    def _put_check_alerts(
        self, state: dict[str, Any], rid: str | None, inputs: dict[str, Any], held: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """PUT /check/<id>/alerts (smapi.go UpdateCheckAlerts): the check's whole alert
        list, replaced; the resource's id is the check's (resource_check_alerts.go SetId).
        An unknown check is refused (status wording the fake's own)."""
        key = str(int(inputs["checkId"]))
        if key not in state["checks"]:
            raise GrafanaError(
                f"sending check alerts update request: status 404: check {key} not found"
            )
        held["checkId"] = int(key)
        return key, held

    def _outputs(
        self, token: str, held: Mapping[str, Any], known: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What Read answers: the held resource, with secrets taken from what the engine
        already knows (the API never returns them), where Grafana still has them."""
        out = {k: v for k, v in held.items() if k != "id"}
        if token == DATA_SOURCE_TYPE:
            known_headers = known.get("httpHeaders") or {}
            headers = {
                k: known_headers[k]
                for k, d in (held.get("httpHeaders") or {}).items()
                if k in known_headers and digest(known_headers[k]) == d
            }
            # A header Grafana has with another value than the engine's: the engine's is
            # stale, so the value reads as changed (its digest; never a plaintext).
            headers |= {
                k: d for k, d in (held.get("httpHeaders") or {}).items() if k not in headers
            }
            out["httpHeaders"] = headers or None
        elif token == CONTACT_POINT_TYPE:
            for kind in ("webhooks", "emails"):
                items = held.get(kind) or []
                old = known.get(kind) or []
                out[kind] = [
                    _restore(item, old[i] if i < len(old) else {}) for i, item in enumerate(items)
                ] or None
        return {k: v for k, v in out.items() if v is not None}

    # --- functions -------------------------------------------------------------------

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        if request.tok != GET_PROBES_FUNCTION:
            raise GrafanaError(f"fake grafana provider does not model {request.tok}")
        self.require_client(CHECK_TYPE)
        probes = dict(self.store.snapshot()["probes"])
        self.log.write("Invoke", wrote=False, token=request.tok, found=len(probes))
        args = plain_map(request.args)
        result = {
            "id": "probes",
            "probes": probes,
            "filterDeprecated": args.get("filterDeprecated", True)
            if args.get("filterDeprecated") is not None
            else True,
        }
        return InvokeResponse(return_value=wrap(result, set()))


def _model_uid(props: Mapping[str, Any]) -> str | None:
    """A dashboard model's `uid` (extractUID in resource_dashboard.go: "" when unset), or
    None while the model is unknown (a preview)."""
    text = props.get("configJson")
    if not isinstance(text, str) or text == UNKNOWN:
        return None
    try:
        model = json.loads(text)
    except ValueError:
        return None
    return str(model.get("uid") or "") if isinstance(model, dict) else ""


def _new_uid() -> str:
    # Grafana generates a short uid when none is given (14 characters, URL-safe).
    return uuid.uuid4().hex[:14]


def _next_id(state: dict[str, Any]) -> int:
    value = int(state.get("nextId", 1))
    state["nextId"] = value + 1
    return value


_NOTIFIER_SECRETS = {"webhooks": "url", "emails": "addresses"}


def _restore(item: Mapping[str, Any], known: Mapping[str, Any]) -> dict[str, Any]:
    """A notifier as Read reports it: its secret setting from the engine's state when
    Grafana holds the same one (by digest), else the digest (reads as changed)."""
    out = dict(item)
    for key in _NOTIFIER_SECRETS.values():
        if key in out and key in known and digest(known[key]) == out[key]:
            out[key] = known[key]
    return out
