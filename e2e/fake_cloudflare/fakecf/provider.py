"""The Pulumi side: a resource provider answering the engine as pulumi-cloudflare would.

The engine's calls (Check/Diff/Create/Read/Update/Delete) are plumbed by the fakes'
shared base (e2e/fakeprovider/provider.py); this module says which Cloudflare call
each resource's Create/Read/Update/Delete makes, and answers the invokes. The
Cloudflare behaviour lives in `api` and `origin_ca`, the input rules in `schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fakeprovider.provider import FakeProvider, failures_of
from fakeprovider.values import plain_map, wrap
from pulumi.provider.experimental.provider import InvokeRequest, InvokeResponse

from fakecf import api, origin_ca, schema
from fakecf.schema import (
    DNS_RECORD_TYPE,
    ORIGIN_CA_CERTIFICATE_TYPE,
    RESOURCES,
    RULESET_TYPE,
    ZONE_SETTING_TYPE,
)

GET_ZONE_FUNCTION = "cloudflare:index/getZone:getZone"
GET_RULESETS_FUNCTION = "cloudflare:index/getRulesets:getRulesets"


class FakeCloudflare(FakeProvider):
    """A stateful stand-in for pulumi-cloudflare: DnsRecord, ZoneSetting, Ruleset,
    OriginCaCertificate, getZone, getRulesets."""

    name = "cloudflare"
    sdk_package = "pulumi_cloudflare"  # 6.23.1
    resources = RESOURCES
    schema_check = schema.check
    errors = (api.CloudflareError,)
    # The provider's Delete does nothing: a zone setting cannot be removed, the zone
    # keeps its value (zone_setting/resource.go Delete is empty).
    forget_on_delete = frozenset({ZONE_SETTING_TYPE})

    def error_code(self, error: Exception) -> Any:
        return error.code if isinstance(error, api.CloudflareError) else None

    # --- "Cloudflare" ------------------------------------------------------------------

    def create_in(
        self, state: dict[str, Any], token: str, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        if token == DNS_RECORD_TYPE:
            return api.create_record(state, inputs)
        if token == ZONE_SETTING_TYPE:
            return str(inputs["settingId"]), api.put_setting(state, inputs)
        if token == ORIGIN_CA_CERTIFICATE_TYPE:
            return origin_ca.create(state, inputs)
        return api.create_ruleset(state, inputs)

    def import_id(self, token: str, import_id: str) -> tuple[str, dict[str, Any]]:
        # pulumi_cloudflare 6.23.1 import ids: dns_record.py '<zone_id>/<dns_record_id>',
        # zone_setting.py '<zone_id>/<setting_id>', ruleset.py '<{accounts|zones}/
        # {account_id|zone_id}>/<ruleset_id>', origin_ca_certificate.py '<certificate_id>';
        # the provider keeps the last part as the id and the rest as attributes
        # (terraform-provider-cloudflare internal/services/*/resource.go ImportState).
        parts = import_id.split("/")
        if token in (DNS_RECORD_TYPE, ZONE_SETTING_TYPE) and len(parts) == 2:
            return parts[1], {"zoneId": parts[0]}
        if token == RULESET_TYPE and len(parts) == 3:
            scope = "zoneId" if parts[0] == "zones" else "accountId"
            return parts[2], {scope: parts[1]}
        return import_id, {}

    def read_in(
        self, state: Mapping[str, Any], token: str, resource_id: str, known: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        try:
            if token == DNS_RECORD_TYPE:
                return api.get_record(state, resource_id)
            if token == ZONE_SETTING_TYPE:
                return api.get_setting(state, str(known.get("zoneId", "")), resource_id)
            if token == ORIGIN_CA_CERTIFICATE_TYPE:
                return origin_ca.get(state, resource_id)
            return api.get_ruleset(state, resource_id)
        except api.NotFoundError:
            # Gone: the provider removes it from state on a 404 (dns_record/resource.go
            # Read).
            return None

    def update_in(
        self, state: dict[str, Any], token: str, resource_id: str, news: dict[str, Any]
    ) -> dict[str, Any]:
        if token == DNS_RECORD_TYPE:
            return api.update_record(state, resource_id, news)
        if token == ZONE_SETTING_TYPE:
            return api.put_setting(state, news)
        if token == ORIGIN_CA_CERTIFICATE_TYPE:
            # Every input forces a new certificate: the engine never updates one.
            raise ValueError("an Origin CA certificate is replaced, never updated")
        return api.update_ruleset(state, resource_id, news)

    def delete_in(
        self, state: dict[str, Any], token: str, resource_id: str, props: Mapping[str, Any]
    ) -> None:
        if token == DNS_RECORD_TYPE:
            api.delete_record(state, resource_id, str(props.get("zoneId")))
        elif token == ORIGIN_CA_CERTIFICATE_TYPE:
            origin_ca.revoke(state, resource_id)
        else:
            api.delete_ruleset(state, resource_id, props)

    # --- functions -------------------------------------------------------------------

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        args = {k: v for k, v in plain_map(request.args).items() if v is not None}
        if request.tok == GET_ZONE_FUNCTION:
            failures = schema.check_get_zone(args)
        elif request.tok == GET_RULESETS_FUNCTION:
            failures = schema.check_get_rulesets(args)
        else:
            raise ValueError(f"fake cloudflare provider does not model {request.tok}")
        if failures:
            self.log.write("Invoke", wrote=False, token=request.tok, failures=len(failures))
            return InvokeResponse(failures=failures_of(failures))
        snapshot = self.store.snapshot()
        try:
            if request.tok == GET_RULESETS_FUNCTION:
                result = api.list_rulesets(snapshot, args)
            else:
                result = self._get_zone(snapshot, args)
        except (api.CloudflareError, ZoneLookupError):
            self.log.write("Invoke", wrote=False, token=request.tok, found=0)
            raise
        self.log.write("Invoke", wrote=False, token=request.tok, found=1)
        return InvokeResponse(return_value=wrap(result, set()))

    def _get_zone(self, snapshot: Mapping[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
        filt = args.get("filter")
        if not isinstance(filt, Mapping):
            return api.zone_result(api.zone(snapshot, str(args["zoneId"]), "GET", ""), None)
        matches = api.find_zones(snapshot, filt)
        if len(matches) != 1:
            # zone/data_source.go Read: AddError("failed to find exactly one result",
            # "<n> found").
            raise ZoneLookupError(f"failed to find exactly one result: {len(matches)} found")
        return api.zone_result(matches[0], filt)


class ZoneLookupError(Exception):
    """getZone's filter matched no zone, or several."""
