"""Fly's GraphQL API, the add-on operations flyctl's `fly redis` commands send, and the
organization and viewer queries the preflight asks (fly-go schema.graphql, flyctl
gql/genqclient.graphql)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from tests.fakes.fly_api.exceptions import graphql_error
from tests.fakes.fly_api.models import FlyState


def answer(state: FlyState, query: str, v: dict[str, Any], authorization: str) -> dict[str, Any]:
    """The add-on operations flyctl's `fly redis` commands send, as Fly answers them."""
    plan_of = {p["id"]: p for p in state.plans}

    def plan(plan_id: str) -> dict[str, Any]:
        return {k: plan_of[plan_id][k] for k in ("id", "displayName")}

    if "createAddOn" in query:
        if plan_of.get(v["planId"], {}).get("type") != "upstash_redis":
            return graphql_error(f"createAddOn Validation failed: plan {v['planId']} is not a plan")
        if v["name"] in state.add_ons:
            return graphql_error("createAddOn Validation failed: Name has already been taken")
        org = next(s for s, i in state.organizations.items() if i == v["organizationId"])
        state.add_ons[v["name"]] = {
            "id": f"addon_{v['name']}",
            "name": v["name"],
            "publicUrl": f"redis://default:{secrets.token_hex(8)}@fly-{v['name']}.upstash.io:6379",
            "primaryRegion": v["primaryRegion"],
            "readRegions": list(v["readRegions"]),
            "options": dict(v["options"]),
            "metadata": {"upstash_id": secrets.token_hex(4)},
            "addOnPlan": plan(v["planId"]),
            "organization": {"slug": org},
        }
        return {"data": {"createAddOn": {"addOn": {"id": f"addon_{v['name']}"}}}}
    if "updateAddOn" in query:
        add_on = next(a for a in state.add_ons.values() if a["id"] == v["addOnId"])
        if plan_of.get(v["planId"], {}).get("type") != "upstash_redis":
            return graphql_error(f"updateAddOn Validation failed: plan {v['planId']} is not a plan")
        # An option left out keeps its state (flyctl internal/command/redis/update.go:
        # "Omit the key so the server keeps its state").
        add_on["options"] = {**add_on["options"], **dict(v["options"])}
        if "metadata" in v:
            add_on["metadata"] = dict(v["metadata"])
        add_on |= {"readRegions": list(v["readRegions"]), "addOnPlan": plan(v["planId"])}
        return {"data": {"updateAddOn": {"addOn": {"id": add_on["id"]}}}}
    if ("addOn(" in query or "deleteAddOn" in query) and v.get("provider") != "upstash_redis":
        return graphql_error("provider must name the add-on kind")
    if "deleteAddOn" in query:
        if v["name"] not in state.add_ons:
            return graphql_error("Could not find AddOn", "NOT_FOUND")
        del state.add_ons[v["name"]]
        return {"data": {"deleteAddOn": {"deletedAddOnName": v["name"]}}}
    if "addOnPlans" in query:
        kind = None
        if m := re.search(r"addOnPlans\(\s*type:\s*\$(\w+)", query):
            kind = v.get(m[1])
        elif m := re.search(r"addOnPlans\(\s*type:\s*(\w+)", query):
            kind = m[1]
        nodes = [plan(p["id"]) for p in state.plans if kind in (None, p["type"])]
        return {"data": {"addOnPlans": {"nodes": nodes}}}
    if "organization(" in query:
        if v["slug"] not in state.organizations:
            return graphql_error("Could not find Organization", "NOT_FOUND")
        org = {
            "id": state.organizations[v["slug"]],
            "slug": v["slug"],
            "name": v["slug"],
            "agreedToProviderTos": v["slug"] in state.tos_agreed_orgs,
        }
        return {"data": {"organization": org}}
    if "viewer" in query:
        if authorization.startswith("FlyV1 "):
            return {"data": {"viewer": {"__typename": "Macaroon"}}}
        agreed = state.user_agreed_tos
        return {"data": {"viewer": {"__typename": "User", "agreedToProviderTos": agreed}}}
    if "addOn(" in query:
        if v["name"] not in state.add_ons:
            return graphql_error("Could not find AddOn", "NOT_FOUND")
        return {"data": {"addOn": state.add_ons[v["name"]]}}
    return graphql_error(f"the fake does not know this query: {query[:40]}")
