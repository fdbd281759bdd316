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
from typing import Any

from fakeprovider import values
from fakeprovider.schema import Checker, Failure, Field, Kind, go_quote_list, present
from fakeprovider.schema import string as _s

# The engine's marker for a value unknown at preview (e2e/fakeprovider/values.py),
# re-exported for the provider and the tests.
UNKNOWN = values.UNKNOWN

HEX32 = re.compile(r"^[0-9a-f]{32}$")

# The table's kinds (e2e/fakeprovider/schema.py Field) beyond the shared ones: string,
# number (a float64), string_or_number (a CAA record's flags).

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


def _fmt_num(value: float) -> str:
    # Go prints float64 with %f in Between's message.
    return f"{value:f}"


class _Checker(Checker):
    """terraform-plugin-framework's wording: a summary, then the validator's detail."""

    type_summary = "Incorrect attribute value type"

    def missing(self, path: str, tf_path: str) -> None:
        self.fail(
            path,
            f"Must set a configuration value for the {tf_path} attribute as the "
            "provider has marked it as required",
            summary="Missing Configuration for Required Attribute",
        )

    def exactly_one_of(
        self, inputs: Mapping[str, Any], first: tuple[str, str], second: tuple[str, str]
    ) -> None:
        """ExactlyOneOf between two root attributes, each (wire name, Terraform name),
        reported on the first as the validator on it does."""
        if present(inputs, first[0]) == present(inputs, second[0]):
            self.fail(
                first[0],
                f"Exactly one of these attributes must be configured: [{first[1]},{second[1]}]",
                summary="Invalid Attribute Combination",
            )

    def kinds(self) -> dict[str, Kind]:
        return {
            **super().kinds(),
            "string": self._string,
            "number": self._number,
            "string_or_number": self._string_or_number,
        }

    def _string_or_number(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        self.typed(value, path, tf_path, "string or number", str, float, int)
        return value

    def _string(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not self.typed(value, path, tf_path, "string", str):
            return value
        if spec.enum and value.lower() not in {e.lower() for e in spec.enum}:
            self.fail(
                path,
                f"Attribute {tf_path} value must be one of: {go_quote_list(spec.enum)}, "
                f'got: "{value}"',
                summary="Invalid Attribute Value Match",
            )
        if spec.min_length is not None and len(value) < spec.min_length:
            self.fail(
                path,
                f"Attribute {tf_path} string length must be at least {spec.min_length}, "
                f"got: {len(value)}",
                summary="Invalid Attribute Value Length",
            )
        if spec.pattern is not None and not spec.pattern[0].match(value):
            self.fail(
                path,
                f"Attribute {tf_path} {spec.pattern[1]}, got: {value}",
                summary="Invalid Attribute Value Match",
            )
        return value

    def _number(self, value: Any, spec: Field, path: str, tf_path: str) -> Any:
        if not self.typed(value, path, tf_path, "number", int, float):
            return value
        if spec.between is not None:
            low, high = spec.between
            if not low <= value <= high:
                self.fail(
                    path,
                    f"Attribute {tf_path} value must be between {_fmt_num(low)} and "
                    f"{_fmt_num(high)}, got: {_fmt_num(value)}",
                    summary="Invalid Attribute Value",
                )
        if spec.one_of and value not in spec.one_of:
            choices = " ".join(f"{v:g}" for v in spec.one_of)
            self.fail(
                path,
                f"Attribute {tf_path} value must be one of: [{choices}], got: {value:g}",
                summary="Invalid Attribute Value Match",
            )
        if spec.at_least is not None and value < spec.at_least:
            self.fail(
                path,
                f"Attribute {tf_path} value must be at least {int(spec.at_least)}, got: {value:g}",
                summary="Invalid Attribute Value",
            )
        return value


_ACCOUNT_ID = ("accountId", "account_id")
_ZONE_ID = ("zoneId", "zone_id")


def check(
    token: str, resource_name: str, inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Failure]]:
    """Validate a resource's inputs; return them with defaults applied, and the failures."""
    checker = _Checker(resource_name)
    out = checker.object(inputs, RESOURCES[token], "", "")
    if token == DNS_RECORD_TYPE and present(inputs, "content") and present(inputs, "data"):
        # ConflictsWith(path.MatchRoot("data")) on content, and the reverse on data.
        for key, other in (("content", "data"), ("data", "content")):
            checker.fail(
                key,
                f'Attribute "{other}" cannot be specified when "{key}" is specified',
                summary="Invalid Attribute Combination",
            )
    if token == RULESET_TYPE:
        # ExactlyOneOf(path.MatchRoot("zone_id")) on account_id.
        checker.exactly_one_of(inputs, _ACCOUNT_ID, _ZONE_ID)
    return out, checker.failures


def check_get_zone(args: Mapping[str, Any]) -> list[Failure]:
    """getZone: the filter's enums, and ExactlyOneOf(zone_id, filter)
    (zone/data_source_schema.go)."""
    checker = _Checker("getZone")
    filt = args.get("filter")
    if isinstance(filt, Mapping):
        checker.object(filt, GET_ZONE_FILTER, "filter", "filter")
    checker.exactly_one_of(args, _ZONE_ID, ("filter", "filter"))
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
    checker.exactly_one_of(args, _ACCOUNT_ID, _ZONE_ID)
    return checker.failures
