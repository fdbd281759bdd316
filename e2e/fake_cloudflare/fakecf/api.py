"""What Cloudflare's API does with the calls the provider makes, on the fake's state.

Each operation takes the state dict (inside a Store transaction) and either changes
it or raises CloudflareError worded the way the real provider reports an API error:
terraform-provider-cloudflare adds the diagnostic "failed to make http request" with
the Go client's error, `<METHOD> "<url>": <status> <body>` (b2277b8b,
internal/services/*/resource.go; cloudflare-go v6's apierror).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fakecf import settings
from fakecf.schema import HEX32
from fakecf.store import now

API = "https://api.cloudflare.com/client/v4"
STATUS_TEXT = {400: "Bad Request", 404: "Not Found"}

# DNS record types Cloudflare can proxy (the `proxiable` output); the other types are
# DNS-only. Cloudflare docs, dns/proxy-status: "Only records used for IP address
# resolution - A, AAAA, and CNAME records - can be proxied."
PROXIABLE = frozenset({"A", "AAAA", "CNAME"})
ADDRESS_TYPES = frozenset({"A", "AAAA"})


class CloudflareError(Exception):
    """An API failure, as the provider would surface it."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        *,
        code: int | None,
        message: str,
        pointer: str | None = None,
    ) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if code is None:
            del error["code"]
        if pointer is not None:
            error["source"] = {"pointer": pointer}
        body = json.dumps(
            {"result": None, "success": False, "errors": [error], "messages": []},
            separators=(",", ":"),
        )
        self.status = status
        self.code = code
        super().__init__(
            f'failed to make http request: {method} "{API}{path}": '
            f"{status} {STATUS_TEXT.get(status, '')} {body}"
        )


class NotFoundError(Exception):
    """The thing asked for is gone (Read turns this into "deleted")."""


def new_id() -> str:
    return uuid.uuid4().hex


def zone(state: Mapping[str, Any], zone_id: str, method: str, suffix: str) -> dict[str, Any]:
    """The zone a call addresses, or the API's answer for a bad or unknown zone id."""
    path = f"/zones/{zone_id}{suffix}"
    if not HEX32.match(zone_id):
        # 7003: timothymiller/cloudflare-ddns#152, K0p1-Git/cloudflare-ddns-updater#61
        # (a zone name where the id belongs).
        raise CloudflareError(
            method,
            path,
            400,
            code=7003,
            message=f"Could not route to /client/v4{path}, "
            "perhaps your object identifier is invalid?",
        )
    found: dict[str, Any] | None = state["zones"].get(zone_id)
    if found is None:
        # 1001 "Invalid zone identifier": cloudflare/terraform-provider-cloudflare#192.
        raise CloudflareError(method, path, 400, code=1001, message="Invalid zone identifier")
    return found


# --- zones (getZone) ---------------------------------------------------------------


def find_zones(state: Mapping[str, Any], filt: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GET /zones with the data source's filter: name (operator `equal`), status, match."""
    conditions: list[Callable[[Mapping[str, Any]], bool]] = []
    name = filt.get("name")
    if isinstance(name, str):
        conditions.append(lambda z: z["name"] == name.rstrip(".").lower())
    status = filt.get("status")
    if isinstance(status, str):
        conditions.append(lambda z: z["status"] == status.lower())
    combine = any if str(filt.get("match") or "all").lower() == "any" else all
    zones: list[dict[str, Any]] = list(state["zones"].values())
    if not conditions:
        return zones
    return [z for z in zones if combine(c(z) for c in conditions)]


def zone_result(found: Mapping[str, Any], filt: Mapping[str, Any] | None) -> dict[str, Any]:
    """getZone's result with every key the SDK's GetZoneResult and its nested output types
    require (pulumi_cloudflare 6.23.1 outputs.py: GetZoneAccountResult, GetZoneMetaResult,
    GetZoneOwnerResult, GetZonePlanResult, GetZoneTenantResult, GetZoneTenantUnitResult
    take their fields as required keyword arguments)."""
    created = found.get("createdOn", now())
    result: dict[str, Any] = {
        "id": found["id"],
        "zoneId": found["id"],
        "name": found["name"],
        "status": found["status"],
        "type": "full",
        "paused": False,
        "developmentMode": 0.0,
        "nameServers": list(found.get("nameServers", [])),
        "originalNameServers": [],
        "originalDnshost": "",
        "originalRegistrar": "",
        "vanityNameServers": [],
        "verificationKey": "",
        "cnameSuffix": "",
        "permissions": [],
        "createdOn": created,
        "modifiedOn": created,
        "activatedOn": created,
        "account": {"id": "0" * 32, "name": "fake account"},
        "owner": {"id": "0" * 32, "name": "fake account", "type": "organization"},
        "meta": {
            "cdnOnly": False,
            "customCertificateQuota": 0.0,
            "dnsOnly": False,
            "foundationDns": False,
            "pageRuleQuota": 3.0,
            "phishingDetected": False,
            "step": 2.0,
        },
        "plan": {
            "canSubscribe": False,
            "currency": "USD",
            "externallyManaged": False,
            "frequency": "",
            "id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            "isSubscribed": True,
            "legacyDiscount": False,
            "legacyId": "free",
            "name": "Free Website",
            "price": 0.0,
        },
        "tenant": {"id": "", "name": ""},
        "tenantUnit": {"id": ""},
    }
    if filt is not None:
        result["filter"] = {"match": "all", **filt}
    return result


# --- DNS records ---------------------------------------------------------------------


def fqdn(name: str, zone_name: str) -> str:
    """The API stores full names: `@` is the apex, a bare label is under the zone."""
    name = name.rstrip(".").lower()
    if name in {"@", zone_name}:
        return zone_name
    return name if name.endswith("." + zone_name) else f"{name}.{zone_name}"


def _caa_content(data: Mapping[str, Any]) -> str:
    flags = data.get("flags", 0)
    flags_text = str(int(flags)) if isinstance(flags, (int, float)) else str(flags)
    return f'{flags_text} {data.get("tag", "")} "{data.get("value", "")}"'


def _same_name_conflict(
    records: Mapping[str, Any], zone_id: str, record: Mapping[str, Any], own_id: str | None
) -> None:
    """The API's rules for several records at one name.

    Sources: Cloudflare docs dns/manage-dns-records/troubleshooting/records-with-same-name;
    81058 "An identical record already exists." (jeessy2/ddns-go#1378, HTTP 400);
    81054 "A CNAME record with that host already exists." (favonia/cloudflare-ddns#990);
    81053 "An A, AAAA, or CNAME record with that host already exists." (the same docs page).
    """
    path = f"/zones/{zone_id}/dns_records" + (f"/{own_id}" if own_id else "")
    method = "PUT" if own_id else "POST"
    for other_id, other in records.items():
        if other_id == own_id or other["zoneId"] != zone_id:
            continue
        if other["_fqdn"] != record["_fqdn"]:
            continue
        if other["type"] == record["type"] and other.get("content") == record.get("content"):
            raise CloudflareError(
                method, path, 400, code=81058, message="An identical record already exists."
            )
        if record["type"] == "CNAME" and other["type"] in PROXIABLE:
            raise CloudflareError(
                method,
                path,
                400,
                code=81053,
                message="An A, AAAA, or CNAME record with that host already exists.",
            )
        if record["type"] in ADDRESS_TYPES and other["type"] == "CNAME":
            raise CloudflareError(
                method,
                path,
                400,
                code=81054,
                message="A CNAME record with that host already exists.",
            )


def _refuse_unproxiable(record: Mapping[str, Any], zone_id: str, own_id: str | None) -> None:
    """The API refuses `proxied` on a type it cannot proxy. Our sources give the rule
    (dns/proxy-status, above) but not the error code, so the fake reports none."""
    if record.get("proxied") is True and not record["proxiable"]:
        path = f"/zones/{zone_id}/dns_records" + (f"/{own_id}" if own_id else "")
        raise CloudflareError(
            "PUT" if own_id else "POST",
            path,
            400,
            code=None,
            message=f"{record['type']} records cannot be proxied.",
        )


def _record(zone_found: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    record = dict(inputs)
    record["type"] = str(inputs["type"]).upper()
    record["_fqdn"] = fqdn(str(inputs["name"]), zone_found["name"])
    data = inputs.get("data")
    if record.get("content") is None and record["type"] == "CAA" and isinstance(data, Mapping):
        record["content"] = _caa_content(data)
    record["proxiable"] = record["type"] in PROXIABLE
    record["meta"] = "{}"
    return record


def create_record(state: dict[str, Any], inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    zone_id = str(inputs["zoneId"])
    found = zone(state, zone_id, "POST", "/dns_records")
    record = _record(found, inputs)
    records: dict[str, Any] = state["dnsRecords"]
    _refuse_unproxiable(record, zone_id, None)
    _same_name_conflict(records, zone_id, record, None)
    stamp = now()
    record_id = new_id()
    record.update(createdOn=stamp, modifiedOn=stamp)
    if record.get("comment") is not None:
        record["commentModifiedOn"] = stamp
    records[record_id] = record
    return record_id, public(record)


def get_record(state: Mapping[str, Any], record_id: str) -> dict[str, Any]:
    record = state["dnsRecords"].get(record_id)
    if record is None:
        raise NotFoundError(record_id)
    return public(record)


def _missing_record(method: str, zone_id: str, record_id: str) -> CloudflareError:
    # 81044 "Record does not exist.": Cloudflare's answer for an unknown record id.
    return CloudflareError(
        method,
        f"/zones/{zone_id}/dns_records/{record_id}",
        404,
        code=81044,
        message="Record does not exist.",
    )


def update_record(
    state: dict[str, Any], record_id: str, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    zone_id = str(inputs["zoneId"])
    found = zone(state, zone_id, "PUT", f"/dns_records/{record_id}")
    records: dict[str, Any] = state["dnsRecords"]
    old = records.get(record_id)
    if old is None:
        raise _missing_record("PUT", zone_id, record_id)
    record = _record(found, inputs)
    _refuse_unproxiable(record, zone_id, record_id)
    _same_name_conflict(records, zone_id, record, record_id)
    stamp = now()
    record.update(createdOn=old["createdOn"], modifiedOn=stamp)
    if record.get("comment") is not None:
        same = record.get("comment") == old.get("comment")
        record["commentModifiedOn"] = old.get("commentModifiedOn", stamp) if same else stamp
    records[record_id] = record
    return public(record)


def delete_record(state: dict[str, Any], record_id: str, zone_id: str) -> None:
    if state["dnsRecords"].pop(record_id, None) is None:
        raise _missing_record("DELETE", zone_id, record_id)


def public(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored object without the fake's own bookkeeping keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


# --- zone settings -------------------------------------------------------------------


def put_setting(state: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH /zones/{zone}/settings/{id}: a setting always exists; this sets its value.

    The zone holds the value as the API takes it (fakecf/settings.py); the outputs keep
    the value as sent, because the provider's Create and Update read back only the
    computed attributes (apijson.UnmarshalComputed in zone_setting/resource.go, and
    `value` is not computed): only a Read shows what the API holds.
    """
    zone_id, setting_id = str(inputs["zoneId"]), str(inputs["settingId"])
    path = f"/settings/{setting_id}"
    found = zone(state, zone_id, "PATCH", path)
    before = found["settings"].get(setting_id, {})
    try:
        value = settings.held(setting_id, inputs["value"], before.get("value"))
    except settings.InvalidValue:
        # 1007: pulumi/pulumi-cloudflare#1319 ("Invalid value for zone setting ...").
        raise CloudflareError(
            "PATCH",
            f"/zones/{zone_id}{path}",
            400,
            code=1007,
            message=f"Invalid value for zone setting {setting_id}",
        ) from None
    entry = {"value": value, "modifiedOn": now()}
    if inputs.get("enabled") is not None:
        entry["enabled"] = inputs["enabled"]
    found["settings"][setting_id] = entry
    return setting_outputs(zone_id, setting_id, {**entry, "value": inputs["value"]})


def get_setting(state: Mapping[str, Any], zone_id: str, setting_id: str) -> dict[str, Any]:
    """GET /zones/{zone}/settings/{id}: the value in the API's own shape."""
    found = state["zones"].get(zone_id)
    if found is None:
        raise NotFoundError(zone_id)
    entry = dict(found["settings"].get(setting_id, {}))
    if "value" in entry:
        entry["value"] = settings.answered(setting_id, entry["value"])
    return setting_outputs(zone_id, setting_id, entry)


def setting_outputs(zone_id: str, setting_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    out = {"zoneId": zone_id, "settingId": setting_id, "editable": True, **entry}
    return {k: v for k, v in out.items() if v is not None}


# --- rulesets ------------------------------------------------------------------------


def _ruleset_path(inputs: Mapping[str, Any]) -> str:
    if inputs.get("zoneId"):
        return f"/zones/{inputs['zoneId']}/rulesets"
    return f"/accounts/{inputs.get('accountId')}/rulesets"


def _with_rule_ids(rules: Any) -> list[Any]:
    out = []
    for rule in rules or []:
        item = dict(rule) if isinstance(rule, Mapping) else rule
        if isinstance(item, dict):
            item.setdefault("id", new_id())
        out.append(item)
    return out


def create_ruleset(state: dict[str, Any], inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    path = _ruleset_path(inputs)
    zone_id = inputs.get("zoneId")
    if zone_id:
        zone(state, str(zone_id), "POST", "/rulesets")
    kind, phase = str(inputs["kind"]).lower(), str(inputs["phase"]).lower()
    rulesets: dict[str, Any] = state["rulesets"]
    if kind in {"zone", "root"}:
        # One entry point ruleset per phase and scope (Cloudflare docs,
        # ruleset-engine/about/rulesets, "Entry point ruleset"). A second POST fails
        # with 20217 on /kind: cloudflare/terraform-provider-cloudflare#6273 (v5.10.1),
        # #2004, #2634.
        scope = ("zoneId", zone_id) if zone_id else ("accountId", inputs.get("accountId"))
        for other in rulesets.values():
            same_scope = other.get(scope[0]) == scope[1]
            if same_scope and other["kind"] == kind and other["phase"] == phase:
                raise CloudflareError(
                    "POST",
                    path,
                    400,
                    code=20217,
                    message=f"'{kind}' is not a valid value for kind because exceeded "
                    f"maximum number of {kind} rulesets for phase {phase}",
                    pointer="/kind",
                )
    ruleset = dict(inputs)
    ruleset.update(
        kind=kind,
        phase=phase,
        rules=_with_rule_ids(inputs.get("rules")),
        version="1",
        lastUpdated=now(),
    )
    ruleset_id = new_id()
    rulesets[ruleset_id] = ruleset
    return ruleset_id, dict(ruleset)


def list_rulesets(state: Mapping[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """GET /{zones|accounts}/{id}/rulesets: every ruleset of the scope, without its rules
    (the list data source's `rulesets`; the SDK also reads the deprecated `results`)."""
    if args.get("zoneId"):
        zone(state, str(args["zoneId"]), "GET", "/rulesets")
        scope = ("zoneId", args["zoneId"])
    else:
        scope = ("accountId", args.get("accountId"))
    listed = [
        {
            "id": ruleset_id,
            "name": ruleset["name"],
            "description": ruleset.get("description", ""),
            "kind": ruleset["kind"],
            "phase": ruleset["phase"],
            "version": ruleset["version"],
            "lastUpdated": ruleset["lastUpdated"],
        }
        for ruleset_id, ruleset in state["rulesets"].items()
        if ruleset.get(scope[0]) == scope[1]
    ]
    # list_data_source.go: max_items defaults to 1000 when unset or not positive.
    limit = int(args.get("maxItems") or 0)
    listed = listed[: limit if limit > 0 else 1000]
    return {**args, "rulesets": listed, "results": listed}


def get_ruleset(state: Mapping[str, Any], ruleset_id: str) -> dict[str, Any]:
    ruleset = state["rulesets"].get(ruleset_id)
    if ruleset is None:
        raise NotFoundError(ruleset_id)
    return dict(ruleset)


def _missing_ruleset(method: str, inputs: Mapping[str, Any], ruleset_id: str) -> CloudflareError:
    # The API's code for an unknown ruleset id is not in our sources: the status is.
    return CloudflareError(
        method,
        f"{_ruleset_path(inputs)}/{ruleset_id}",
        404,
        code=None,
        message="could not find ruleset",
    )


def update_ruleset(
    state: dict[str, Any], ruleset_id: str, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    rulesets: dict[str, Any] = state["rulesets"]
    old = rulesets.get(ruleset_id)
    if old is None:
        raise _missing_ruleset("PUT", inputs, ruleset_id)
    ruleset = dict(inputs)
    ruleset.update(
        kind=str(inputs["kind"]).lower(),
        phase=str(inputs["phase"]).lower(),
        rules=_with_rule_ids(inputs.get("rules")),
        version=str(int(old.get("version", "1")) + 1),
        lastUpdated=now(),
    )
    rulesets[ruleset_id] = ruleset
    return dict(ruleset)


def delete_ruleset(state: dict[str, Any], ruleset_id: str, inputs: Mapping[str, Any]) -> None:
    if state["rulesets"].pop(ruleset_id, None) is None:
        raise _missing_ruleset("DELETE", inputs, ruleset_id)
