"""The input rules the real Cloudflare provider states, as a small table, and a checker.

Source of every rule below, unless a line says otherwise: the Terraform provider the
Pulumi provider bridges, cloudflare/terraform-provider-cloudflare at b2277b8b
(v5.19.1, the `upstream` submodule of pulumi/pulumi-cloudflare at 52f065c5):
`internal/services/<resource>/schema.go` for Required, validators (OneOfCaseInsensitive,
Between, RegexMatches, LengthAtLeast, ConflictsWith, ExactlyOneOf), defaults and
RequiresReplace; plus the installed Python SDK (pulumi_cloudflare 6.23.1,
`dns_record.py`, `zone_setting.py`, `ruleset.py`), whose constructors raise
TypeError for the properties the Pulumi schema makes required (the SDK is stricter
than Terraform on `zoneId` for records and settings).

Names are the wire (Pulumi) names, camelCase; each field also keeps its Terraform
name, because the provider's messages quote the Terraform attribute path.

Failure wording follows terraform-plugin-framework-validators (summary, then
"Attribute <path> value must be ...") with the bridge's suffix
"Examine values at '<resource>.<pulumi path>'." (pulumi/pulumi-terraform-bridge,
pf/tests/provider_checkconfig_test.go, "validators" case).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakeprovider import values
from fakeprovider.values import is_unknown

# The engine's marker for a value unknown at preview (e2e/fakeprovider/values.py),
# re-exported for the provider and the tests.
UNKNOWN = values.UNKNOWN

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Field:
    """One attribute: its wire name's Terraform twin, type and the schema's rules."""

    tf: str
    kind: str  # string | number | bool | object | list | dynamic | string_or_number
    required: bool = False
    enum: tuple[str, ...] = ()  # OneOfCaseInsensitive
    one_of: tuple[float, ...] = ()  # float64validator.OneOf
    between: tuple[float, float] | None = None
    at_least: float | None = None
    min_length: int | None = None
    pattern: tuple[re.Pattern[str], str] | None = None  # RegexMatches and its message
    default: Any = None
    replace: bool = False  # RequiresReplace
    computed: bool = False  # Optional+Computed: the provider fills it when absent
    output_only: bool = False  # Computed only: never an input
    fields: Mapping[str, Field] = field(default_factory=dict)  # object / list of object
    item: str | None = None  # element kind of a list of scalars


def _s(tf: str, **kw: Any) -> Field:
    return Field(tf, "string", **kw)


DNS_TYPES = (
    "A", "AAAA", "CNAME", "MX", "NS", "OPENPGPKEY", "PTR", "TXT", "CAA", "CERT", "DNSKEY",
    "DS", "HTTPS", "LOC", "NAPTR", "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "URI",
)  # fmt: skip

DNS_RECORD: dict[str, Field] = {
    "zoneId": _s("zone_id", required=True, replace=True),
    "name": _s("name", required=True),
    "type": _s("type", required=True, enum=DNS_TYPES, replace=True),
    "ttl": Field("ttl", "number", required=True),
    "content": _s("content", computed=True),
    "data": Field(
        "data",
        "object",
        fields={
            "flags": Field("flags", "string_or_number"),
            "tag": _s("tag"),
            "value": _s("value"),
        },
    ),
    "proxied": Field("proxied", "bool", default=False, computed=True),
    "comment": _s("comment"),
    "priority": Field("priority", "number", between=(0, 65535)),
    "tags": Field("tags", "list", item="string", computed=True),
    "privateRouting": Field("private_routing", "bool"),
    "settings": Field("settings", "object", computed=True),
    "createdOn": _s("created_on", output_only=True),
    "modifiedOn": _s("modified_on", output_only=True),
    "proxiable": Field("proxiable", "bool", output_only=True),
    "commentModifiedOn": _s("comment_modified_on", output_only=True),
    "tagsModifiedOn": _s("tags_modified_on", output_only=True),
    "meta": _s("meta", output_only=True),
}

ZONE_SETTING: dict[str, Field] = {
    "zoneId": _s("zone_id", required=True, replace=True),
    "settingId": _s("setting_id", required=True, replace=True),
    "value": Field("value", "dynamic", required=True),
    "enabled": Field("enabled", "bool", computed=True),
    "editable": Field("editable", "bool", output_only=True),
    "modifiedOn": _s("modified_on", output_only=True),
    "timeRemaining": Field("time_remaining", "number", output_only=True),
}

_HEX32_RULE = (HEX32, "value must be a 32-character hexadecimal string")

RULESET_PHASES = (
    "ddos_l4", "ddos_l7", "http_config_settings", "http_custom_errors",
    "http_log_custom_fields", "http_ratelimit", "http_request_cache_settings",
    "http_request_dynamic_redirect", "http_request_firewall_custom",
    "http_request_firewall_managed", "http_request_late_transform", "http_request_origin",
    "http_request_redirect", "http_request_sanitize", "http_request_sbfm",
    "http_request_transform", "http_response_cache_settings", "http_response_compression",
    "http_response_firewall_managed", "http_response_headers_transform", "magic_transit",
    "magic_transit_ids_managed", "magic_transit_managed", "magic_transit_ratelimit",
)  # fmt: skip

RULE_ACTIONS = (
    "block", "challenge", "compress_response", "ddos_dynamic", "execute",
    "force_connection_close", "js_challenge", "log", "log_custom_field", "managed_challenge",
    "redirect", "rewrite", "route", "score", "serve_error", "set_cache_control",
    "set_cache_settings", "set_cache_tags", "set_config", "skip",
)  # fmt: skip

_TTL_MODES = ("respect_origin", "bypass_by_default", "override_origin")

ACTION_PARAMETERS: dict[str, Field] = {
    "cache": Field("cache", "bool"),
    "edgeTtl": Field(
        "edge_ttl",
        "object",
        fields={
            "mode": _s("mode", required=True, enum=_TTL_MODES),
            "default": Field("default", "number", at_least=0),
        },
    ),
    "browserTtl": Field(
        "browser_ttl",
        "object",
        fields={
            "mode": _s("mode", required=True, enum=(*_TTL_MODES, "bypass")),
            "default": Field("default", "number", at_least=0),
        },
    ),
}

RULE: dict[str, Field] = {
    "id": _s("id", output_only=True),
    "action": _s("action", required=True, enum=RULE_ACTIONS),
    "expression": _s("expression", required=True, min_length=1),
    "description": _s("description", default="", computed=True),
    "enabled": Field("enabled", "bool", default=True, computed=True),
    "ref": _s("ref", computed=True),
    "actionParameters": Field(
        "action_parameters", "object", computed=True, fields=ACTION_PARAMETERS
    ),
}

RULESET: dict[str, Field] = {
    "accountId": _s("account_id", pattern=_HEX32_RULE, replace=True),
    "zoneId": _s("zone_id", pattern=_HEX32_RULE, replace=True),
    "kind": _s("kind", required=True, enum=("managed", "custom", "root", "zone"), replace=True),
    "name": _s("name", required=True, min_length=1, replace=True),
    "phase": _s("phase", required=True, enum=RULESET_PHASES, replace=True),
    "description": _s("description", default="", computed=True),
    "rules": Field("rules", "list", default=[], computed=True, fields=RULE),
    "version": _s("version", output_only=True),
    "lastUpdated": _s("last_updated", output_only=True),
}

# internal/services/origin_ca_certificate/schema.go (the Terraform provider's main): csr,
# hostnames and request_type required and RequiresReplace; request_type one of three
# (case-insensitive); requested_validity Optional+Computed, one of Cloudflare's periods,
# default 5475, RequiresReplaceIfConfigured; certificate and expires_on computed.
ORIGIN_CA_CERTIFICATE: dict[str, Field] = {
    "csr": _s("csr", required=True, replace=True),
    "hostnames": Field("hostnames", "list", required=True, item="string", replace=True),
    "requestType": _s(
        "request_type",
        required=True,
        enum=("origin-rsa", "origin-ecc", "keyless-certificate"),
        replace=True,
    ),
    "requestedValidity": Field(
        "requested_validity",
        "number",
        one_of=(7, 30, 90, 365, 730, 1095, 5475),
        default=5475,
        computed=True,
        replace=True,
    ),
    "certificate": _s("certificate", output_only=True),
    "expiresOn": _s("expires_on", output_only=True),
}

DNS_RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord"
ORIGIN_CA_CERTIFICATE_TYPE = "cloudflare:index/originCaCertificate:OriginCaCertificate"
ZONE_SETTING_TYPE = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET_TYPE = "cloudflare:index/ruleset:Ruleset"

RESOURCES: dict[str, dict[str, Field]] = {
    DNS_RECORD_TYPE: DNS_RECORD,
    ZONE_SETTING_TYPE: ZONE_SETTING,
    RULESET_TYPE: RULESET,
    ORIGIN_CA_CERTIFICATE_TYPE: ORIGIN_CA_CERTIFICATE,
}

GET_ZONE_FILTER: dict[str, Field] = {
    "name": _s("name"),
    "match": _s("match", enum=("any", "all")),
    "status": _s("status", enum=("initializing", "pending", "active", "moved")),
    "direction": _s("direction", enum=("asc", "desc")),
}


@dataclass(frozen=True)
class Failure:
    """One problem, as the provider reports it: the Pulumi path and the reason."""

    path: str  # Pulumi property path, e.g. rules[0].actionParameters.edgeTtl.mode
    reason: str


def _go_quote_list(values: tuple[str, ...]) -> str:
    # Go's %q of a []string, which the framework validator prints: ["a" "b"].
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def _fmt_num(value: float) -> str:
    # Go prints float64 with %f in Between's message.
    return f"{value:f}"


class _Checker:
    def __init__(self, resource_name: str) -> None:
        self.resource_name = resource_name
        self.failures: list[Failure] = []

    def fail(self, path: str, summary: str, detail: str) -> None:
        suffix = f"Examine values at '{self.resource_name}.{path}'."
        self.failures.append(Failure(path, f"{summary}. {detail}. {suffix}"))

    def object(
        self, value: Mapping[str, Any], fields: Mapping[str, Field], path: str, tf_path: str
    ) -> dict[str, Any]:
        """Check one object's fields; return it with the schema's defaults filled in."""
        out = dict(value)
        for key, spec in fields.items():
            sub = f"{path}.{key}" if path else key
            tf_sub = f"{tf_path}.{spec.tf}" if tf_path else spec.tf
            present = key in value and value[key] is not None
            if spec.output_only:
                continue
            if not present:
                if spec.required:
                    self.fail(
                        sub,
                        "Missing Configuration for Required Attribute",
                        f"Must set a configuration value for the {tf_sub} attribute as the "
                        "provider has marked it as required",
                    )
                elif spec.default is not None:
                    out[key] = spec.default
                continue
            out[key] = self.value(value[key], spec, sub, tf_sub)
        return out

    def value(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if is_unknown(value) or spec.kind == "dynamic":
            return value
        checkers = {
            "string": self._string,
            "number": self._number,
            "bool": self._bool,
            "string_or_number": self._string_or_number,
            "object": self._object,
            "list": self._list,
        }
        return checkers[spec.kind](value, spec, path, tf_path)

    def _bool(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not isinstance(value, bool):
            self._type(path, tf_path, "bool")
        return value

    def _string_or_number(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, float, int)):
            self._type(path, tf_path, "string or number")
        return value

    def _object(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not isinstance(value, Mapping):
            self._type(path, tf_path, "object")
            return value
        return self.object(value, spec.fields, path, tf_path)

    def _list(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not isinstance(value, (list, tuple)):
            self._type(path, tf_path, "list")
            return value
        out: list[Any] = []
        for i, item in enumerate(value):
            sub, tf_sub = f"{path}[{i}]", f"{tf_path}[{i}]"
            if spec.fields:
                if isinstance(item, Mapping):
                    out.append(self.object(item, spec.fields, sub, tf_sub))
                elif is_unknown(item):
                    out.append(item)
                else:
                    self._type(sub, tf_sub, "object")
                    out.append(item)
            else:
                out.append(self.value(item, Field(spec.tf, spec.item or "dynamic"), sub, tf_sub))
        return out

    def _string(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not isinstance(value, str):
            self._type(path, tf_path, "string")
            return value
        if spec.enum and value.lower() not in {e.lower() for e in spec.enum}:
            self.fail(
                path,
                "Invalid Attribute Value Match",
                f"Attribute {tf_path} value must be one of: {_go_quote_list(spec.enum)}, "
                f'got: "{value}"',
            )
        if spec.min_length is not None and len(value) < spec.min_length:
            self.fail(
                path,
                "Invalid Attribute Value Length",
                f"Attribute {tf_path} string length must be at least {spec.min_length}, "
                f"got: {len(value)}",
            )
        if spec.pattern is not None and not spec.pattern[0].match(value):
            self.fail(
                path,
                "Invalid Attribute Value Match",
                f"Attribute {tf_path} {spec.pattern[1]}, got: {value}",
            )
        return value

    def _number(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._type(path, tf_path, "number")
            return value
        if spec.between is not None:
            low, high = spec.between
            if not low <= value <= high:
                self.fail(
                    path,
                    "Invalid Attribute Value",
                    f"Attribute {tf_path} value must be between {_fmt_num(low)} and "
                    f"{_fmt_num(high)}, got: {_fmt_num(value)}",
                )
        if spec.one_of and value not in spec.one_of:
            choices = " ".join(f"{v:g}" for v in spec.one_of)
            self.fail(
                path,
                "Invalid Attribute Value Match",
                f"Attribute {tf_path} value must be one of: [{choices}], got: {value:g}",
            )
        if spec.at_least is not None and value < spec.at_least:
            self.fail(
                path,
                "Invalid Attribute Value",
                f"Attribute {tf_path} value must be at least {int(spec.at_least)}, got: {value:g}",
            )
        return value

    def _type(self, path: str, tf_path: str, wanted: str) -> None:
        # Terraform core's wording for a value of the wrong type.
        self.fail(
            path,
            "Incorrect attribute value type",
            f'Inappropriate value for attribute "{tf_path}": {wanted} required',
        )


def _present(inputs: Mapping[str, Any], key: str) -> bool:
    return inputs.get(key) is not None


def check(
    token: str, resource_name: str, inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate a resource's inputs; return them with defaults applied, and the failures."""
    fields = RESOURCES[token]
    checker = _Checker(resource_name)
    out = checker.object(inputs, fields, "", "")
    if token == DNS_RECORD_TYPE and _present(inputs, "content") and _present(inputs, "data"):
        # ConflictsWith(path.MatchRoot("data")) on content, and the reverse on data.
        for key, other in (("content", "data"), ("data", "content")):
            checker.fail(
                key,
                "Invalid Attribute Combination",
                f'Attribute "{other}" cannot be specified when "{key}" is specified',
            )
    if token == RULESET_TYPE and _present(inputs, "accountId") == _present(inputs, "zoneId"):
        # ExactlyOneOf(path.MatchRoot("zone_id")) on account_id.
        checker.fail(
            "accountId",
            "Invalid Attribute Combination",
            "Exactly one of these attributes must be configured: [account_id,zone_id]",
        )
    return out, checker.failures


def check_get_zone(args: Mapping[str, Any]) -> list[Failure]:
    """getZone: the filter's enums, and ExactlyOneOf(zone_id, filter)
    (zone/data_source_schema.go)."""
    checker = _Checker("getZone")
    filt = args.get("filter")
    if isinstance(filt, Mapping):
        checker.object(filt, GET_ZONE_FILTER, "filter", "filter")
    if _present(args, "zoneId") == _present(args, "filter"):
        checker.fail(
            "zoneId",
            "Invalid Attribute Combination",
            "Exactly one of these attributes must be configured: [zone_id,filter]",
        )
    return checker.failures


GET_RULESETS: dict[str, Field] = {
    "accountId": _s("account_id", pattern=_HEX32_RULE),
    "zoneId": _s("zone_id", pattern=_HEX32_RULE),
    "maxItems": Field("max_items", "number", at_least=0),
}


def check_get_rulesets(args: Mapping[str, Any]) -> list[Failure]:
    """getRulesets: 32-hex ids, ExactlyOneOf(account_id, zone_id), max_items >= 0
    (ruleset/list_data_source_schema.go)."""
    checker = _Checker("getRulesets")
    checker.object(args, GET_RULESETS, "", "")
    if _present(args, "accountId") == _present(args, "zoneId"):
        checker.fail(
            "accountId",
            "Invalid Attribute Combination",
            "Exactly one of these attributes must be configured: [account_id,zone_id]",
        )
    return checker.failures


def input_view(value: Any, fields: Mapping[str, Field], news: Any) -> Any:
    """What of a stored object the program controls, shaped like the new inputs.

    Drops output-only fields, and Optional+Computed fields the new inputs leave out,
    so a provider-filled value (a CAA record's content, a rule's id) is not a change.
    """
    if not isinstance(value, Mapping):
        return value
    news_map: Mapping[str, Any] = news if isinstance(news, Mapping) else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        spec = fields.get(key)
        if spec is None:
            out[key] = item
            continue
        if spec.output_only or (spec.computed and news_map.get(key) is None):
            continue
        new_item = news_map.get(key)
        if spec.kind == "object" and spec.fields:
            out[key] = input_view(item, spec.fields, new_item)
        elif spec.kind == "list" and spec.fields and isinstance(item, (list, tuple)):
            new_list = new_item if isinstance(new_item, (list, tuple)) else []
            out[key] = [
                input_view(x, spec.fields, new_list[i] if i < len(new_list) else None)
                for i, x in enumerate(item)
            ]
        else:
            out[key] = item
    return out
