"""The fake Grafana's REST API: the reads `webhost-infra preflight` and
`webhost-infra recover` make, over the state file the plugin writes (served by
e2e/fakeprovider/rest.py). One server answers both Grafana's API and the synthetic
monitoring API (their paths do not overlap).

Authentication: GET /api/health answers without it (grafana pkg/api/api.go registers it
outside the signed-in group) `{"database": "ok", "version": ...}`; Grafana's other
routes need a signed-in principal, a service account token as a Bearer or basic auth
(grafana pkg/services/contexthandler: 401 `{"message": "Invalid API key"}` otherwise);
the synthetic monitoring API's need its access token as a Bearer (grafana/synthetic-
monitoring-api-go-client: `Authorization: Bearer <token>`; 401 `{"code": 401, "msg":
"invalid authentication token"}`). GET /api/org answers the org; GET /api/v1/probe/list
the public probes of the fake's state (store.py PUBLIC_PROBES).

Shapes, from grafana/grafana docs/sources/developers/http_api: data_source.md (GET
/api/datasources/name/:name, 404 "Data source not found"), folder.md (GET /api/folders,
GET /api/folders/:uid, 404 "folder not found"), dashboard.md (GET /api/dashboards/uid/
:uid: {"dashboard", "meta"}, 404 "Dashboard not found"), alerting_provisioning.md (GET
/api/v1/provisioning/folder/:folderUid/rule-groups/:group, GET .../contact-points?name=,
one entry per notifier, GET .../policies); the synthetic monitoring API's GET
/api/v1/check/list (grafana/synthetic-monitoring-api-go-client client.go ListChecks).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakeprovider.rest import Answer, RestServer, RestState, Route, Wording

from fakegrafana.store import PUBLIC_PROBES, Store, empty_state

WORDING = Wording(
    not_found=(404, {"message": "Not found"}),
    read_only=(405, {"message": "read only"}),
    injected=lambda status: {"message": "injected failure"},
)
# The synthetic monitoring API's paths (the rest are Grafana's).
SM_PATHS = re.compile(r"/api/v1/(probe|check)/list")
KINDS = {"webhooks": "webhook", "emails": "email"}


def _datasource(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    for uid, ds in s["dataSources"].items():
        if ds.get("name") == m["name"]:
            return 200, {
                "id": ds.get("id", 0),
                "uid": uid,
                "orgId": 1,
                "name": ds["name"],
                "type": ds.get("type"),
                "access": ds.get("accessMode"),
                "url": ds.get("url"),
            }
    return 404, {"message": "Data source not found"}


def _folder(uid: str, f: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": f.get("id", 0), "uid": uid, "title": f.get("title"), "url": f.get("url")}


def _folder_by_uid(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    f = s["folders"].get(m["uid"])
    return (200, _folder(m["uid"], f)) if f else (404, {"message": "folder not found"})


def _dashboard(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    d = s["dashboards"].get(m["uid"])
    if d is None:
        return 404, {"message": "Dashboard not found"}
    meta = {"url": d.get("url"), "folderUid": d.get("folder"), "version": d.get("version")}
    return 200, {"dashboard": json.loads(d["configJson"]), "meta": meta}


def _rule_group(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    g = s["ruleGroups"].get(f"{m['folder']};{m['group']}")
    if g is None:
        return 404, {"message": "rule group does not exist"}
    return 200, {
        "title": g["name"],
        "folderUid": g["folderUid"],
        "interval": g.get("intervalSeconds"),
        "rules": g.get("rules", []),
    }


def _contact_points(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    out = []
    for name, point in s["contactPoints"].items():
        if q.get("name") not in (None, name):
            continue
        for key, kind in KINDS.items():
            for item in point.get(key) or []:
                out.append(
                    {
                        "uid": item.get("uid"),
                        "name": name,
                        "type": kind,
                        "disableResolveMessage": False,
                    }
                )
    return 200, out


def _policies(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    policy = s.get("notificationPolicy") or {}
    # Without a provisioned tree Grafana answers its default (receiver "grafana-default-email").
    return 200, {"receiver": policy.get("contactPoint", "grafana-default-email")}


def _checks(s: Mapping[str, Any], m: re.Match[str], q: Mapping[str, str]) -> Answer:
    return 200, [
        {
            "id": int(cid),
            "tenantId": c.get("tenantId", 1),
            "job": c.get("job"),
            "target": c.get("target"),
            "frequency": c.get("frequency"),
            "timeout": c.get("timeout"),
            "enabled": c.get("enabled", True),
            "probes": c.get("probes", []),
            "labels": [{"name": k, "value": v} for k, v in (c.get("labels") or {}).items()],
        }
        for cid, c in s["checks"].items()
    ]


ROUTES: list[Route] = [
    (re.compile(r"/api/datasources/name/(?P<name>.+)"), _datasource),
    (
        re.compile(r"/api/folders"),
        lambda s, m, q: (200, [_folder(u, f) for u, f in s["folders"].items()]),
    ),
    (re.compile(r"/api/folders/(?P<uid>[^/]+)"), _folder_by_uid),
    (re.compile(r"/api/dashboards/uid/(?P<uid>[^/]+)"), _dashboard),
    (
        re.compile(r"/api/v1/provisioning/folder/(?P<folder>[^/]+)/rule-groups/(?P<group>.+)"),
        _rule_group,
    ),
    (re.compile(r"/api/v1/provisioning/contact-points"), _contact_points),
    (re.compile(r"/api/v1/provisioning/policies"), _policies),
    (re.compile(r"/api/v1/check/list"), _checks),
]


ROUTES += [
    (re.compile(r"/api/health"), lambda s, m, q: (200, {"database": "ok", "version": "12.0.0"})),
    (re.compile(r"/api/org"), lambda s, m, q: (200, {"id": 1, "name": "Main Org."})),
    (
        re.compile(r"/api/v1/probe/list"),
        lambda s, m, q: (200, [{"id": i, "name": n} for n, i in PUBLIC_PROBES.items()]),
    ),
]


@dataclass
class GrafanaState(RestState):
    auth: str = ""
    sm_token: str = ""


class FakeGrafanaApi(RestServer):
    """`with FakeGrafanaApi(auth, sm_token, store) as gf:` serves both APIs on `gf.url`."""

    state: GrafanaState

    def __init__(self, auth: str, sm_token: str, store: Store | None = None) -> None:
        state = GrafanaState(auth=auth, sm_token=sm_token)
        snapshot = store.snapshot if store is not None else empty_state  # nothing provisioned
        super().__init__(ROUTES, snapshot, authorise=self._authorise, wording=WORDING, state=state)

    def _authorise(self, path: str, given: str | None) -> Answer | None:
        if path == "/api/health":
            return None
        if SM_PATHS.fullmatch(path):
            if given == f"Bearer {self.state.sm_token}":
                return None
            return 401, {"code": 401, "msg": "invalid authentication token"}
        auth = self.state.auth
        basic = "Basic " + base64.b64encode(auth.encode()).decode()
        if given in (f"Bearer {auth}", basic):
            return None
        return 401, {"message": "Invalid API key"}
