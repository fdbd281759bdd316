"""The fake Grafana's read routes, over the state file the plugin writes.

Shapes, from grafana/grafana docs/sources/developers/http_api: data_source.md (GET
/api/datasources/name/:name, 404 "Data source not found"), folder.md (GET /api/folders,
GET /api/folders/:uid, 404 "folder not found"), dashboard.md (GET /api/dashboards/uid/
:uid: {"dashboard", "meta"}, 404 "Dashboard not found"), alerting_provisioning.md (GET
/api/v1/provisioning/folder/:folderUid/rule-groups/:group, GET .../contact-points?name=,
one entry per notifier, GET .../policies); the synthetic monitoring API's GET
/api/v1/check/list (grafana/synthetic-monitoring-api-go-client client.go ListChecks).
Without a token Grafana answers 401 {"message": "Unauthorized"}.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from fakeprovider.rest import Answer, RestServer, Route

from fakegrafana.store import Store

UNAUTHORISED: Answer = (401, {"message": "Unauthorized"})
NOT_FOUND: Answer = (404, {"message": "Not found"})
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


def server(store: Store) -> RestServer:
    """One server for both roots: Grafana's (GRAFANA_URL) and the SM API's (GRAFANA_SM_URL)."""
    return RestServer(ROUTES, store.snapshot, UNAUTHORISED, NOT_FOUND)
