"""The Pulumi side: a resource provider answering the engine as pulumi-cloudflare would.

Built on the Python SDK's provider base (pulumi 3.272.0,
pulumi/provider/experimental/provider.py): the engine's gRPC calls arrive as
Check/Diff/Create/Read/Update/Delete/Invoke requests carrying PropertyValues; the
Cloudflare behaviour lives in `api`, the input rules in `schema`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fakeprovider import values
from fakeprovider.values import plain_map, secret_keys, wrap
from fakeprovider.values import type_token as _token
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from fakecf import api, origin_ca, schema
from fakecf.schema import (
    DNS_RECORD_TYPE,
    ORIGIN_CA_CERTIFICATE_TYPE,
    RESOURCES,
    RULESET_TYPE,
    UNKNOWN,
    ZONE_SETTING_TYPE,
)
from fakecf.store import CallLog, Store

# Re-exported: the tests build and read values with them.
from_plain = values.from_plain
to_plain = values.to_plain

NAME = "cloudflare"
GET_ZONE_FUNCTION = "cloudflare:index/getZone:getZone"
GET_RULESETS_FUNCTION = "cloudflare:index/getRulesets:getRulesets"


def sdk_version() -> str:
    """The version the Python SDK asks the engine for (pulumi_cloudflare 6.23.1)."""
    return values.sdk_version("pulumi_cloudflare")


def _inputs_of(token: str, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs that produce these outputs: what Read hands back for refresh."""
    fields = RESOURCES[token]
    return {
        k: v
        for k, v in outputs.items()
        if k in fields and not fields[k].output_only and not k.startswith("_")
    }


class FakeCloudflare(Provider):
    """A stateful stand-in for pulumi-cloudflare: DnsRecord, ZoneSetting, Ruleset,
    OriginCaCertificate, getZone, getRulesets."""

    def __init__(self, store: Store, log: CallLog) -> None:
        self.store = store
        self.log = log

    # --- provider-level calls --------------------------------------------------------

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        # The engine asks only when generating code or converting; a name and version
        # suffice for that to fail clearly rather than hang.
        self.log.write("GetSchema", wrote=False)
        return GetSchemaResponse(json.dumps({"name": NAME, "version": sdk_version()}))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        self.log.write("CheckConfig", wrote=False, keys=sorted(request.new_inputs))
        return CheckResponse(inputs=request.new_inputs)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        old, new = plain_map(request.old_state), plain_map(request.new_inputs)
        changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
        self.log.write("DiffConfig", wrote=False, changed=changed)
        return DiffResponse(changes=bool(changed), diffs=changed)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        # Names only: `cloudflare:config:apiToken` is a secret.
        self.log.write("Configure", wrote=False, keys=sorted(request.variables))
        # Output values and resource references are not modelled (no input takes them).
        return ConfigureResponse(
            accept_secrets=True,
            supports_preview=True,
            accept_resources=False,
            accept_outputs=False,
        )

    # --- resources -------------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        token = _token(request.type)
        if token not in RESOURCES:
            failure = CheckFailure("", f"fake cloudflare provider does not model {token}")
            self.log.write("Check", wrote=False, token=token, name=request.name, failures=1)
            return CheckResponse(inputs=request.new_inputs, failures=[failure])
        inputs, failures = schema.check(token, request.name, plain_map(request.new_inputs))
        self.log.write(
            "Check",
            wrote=False,
            token=token,
            name=request.name,
            failures=len(failures) or None,
        )
        return CheckResponse(
            inputs=wrap(inputs, secret_keys(request.new_inputs)),
            failures=[CheckFailure(f.path, f.reason) for f in failures],
        )

    async def diff(self, request: DiffRequest) -> DiffResponse:
        token = _token(request.type)
        fields = RESOURCES[token]
        news = plain_map(request.new_inputs)
        olds = schema.input_view(plain_map(request.old_state), fields, news)
        news_view = schema.input_view(news, fields, news)
        ignored = set(request.ignore_changes)
        detailed: dict[str, PropertyDiff] = {}
        replaces: list[str] = []
        for key in sorted(olds.keys() | news_view.keys()):
            if key in ignored or olds.get(key) == news_view.get(key):
                continue
            spec = fields.get(key)
            replace = spec is not None and spec.replace
            if key not in olds:
                kind = PropertyDiffKind.ADD_REPLACE if replace else PropertyDiffKind.ADD
            elif key not in news_view:
                kind = PropertyDiffKind.DELETE_REPLACE if replace else PropertyDiffKind.DELETE
            else:
                kind = PropertyDiffKind.UPDATE_REPLACE if replace else PropertyDiffKind.UPDATE
            detailed[key] = PropertyDiff(kind, input_diff=True)
            if replace:
                replaces.append(key)
        self.log.write(
            "Diff",
            wrote=False,
            token=token,
            name=request.name,
            id=request.resource_id,
            changed=sorted(detailed) or None,
            replaces=replaces or None,
        )
        return DiffResponse(
            changes=bool(detailed),
            replaces=replaces,
            diffs=sorted(detailed),
            detailed_diff=detailed,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        token = _token(request.type)
        inputs = plain_map(request.properties)
        secrets = secret_keys(request.properties)
        if request.preview:
            self.log.write("Create", wrote=False, preview=True, token=token, name=request.name)
            return CreateResponse(None, wrap(self._planned(token, inputs), secrets))
        creators: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
            DNS_RECORD_TYPE: lambda state: api.create_record(state, inputs),
            ZONE_SETTING_TYPE: lambda state: (
                str(inputs["settingId"]),
                api.put_setting(state, inputs),
            ),
            RULESET_TYPE: lambda state: api.create_ruleset(state, inputs),
            ORIGIN_CA_CERTIFICATE_TYPE: lambda state: origin_ca.create(state, inputs),
        }
        try:
            with self.store.transaction() as state:
                resource_id, outputs = creators[token](state)
        except api.CloudflareError as error:
            self.log.write("Create", wrote=False, token=token, name=request.name, error=error.code)
            raise
        self.log.write("Create", wrote=True, token=token, name=request.name, id=resource_id)
        return CreateResponse(resource_id, wrap(outputs, secrets))

    def _planned(self, token: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Preview: the inputs, and every output the API will fill as unknown."""
        planned = dict(inputs)
        for key, spec in RESOURCES[token].items():
            if spec.output_only or (spec.computed and planned.get(key) is None):
                planned[key] = UNKNOWN
        return planned

    async def read(self, request: ReadRequest) -> ReadResponse:
        token = _token(request.type)
        props = plain_map(request.properties)
        try:
            snapshot = self.store.snapshot()
            if token == DNS_RECORD_TYPE:
                outputs = api.get_record(snapshot, request.resource_id)
            elif token == ZONE_SETTING_TYPE:
                zone_id = str(props.get("zoneId", ""))
                outputs = api.get_setting(snapshot, zone_id, request.resource_id)
            elif token == ORIGIN_CA_CERTIFICATE_TYPE:
                outputs = origin_ca.get(snapshot, request.resource_id)
            else:
                outputs = api.get_ruleset(snapshot, request.resource_id)
        except api.NotFoundError:
            # Gone: an empty id tells the engine the resource no longer exists
            # (the provider removes it from state on a 404, dns_record/resource.go Read).
            self.log.write("Read", wrote=False, token=token, id=request.resource_id, found=False)
            return ReadResponse()
        self.log.write("Read", wrote=False, token=token, id=request.resource_id, found=True)
        secrets = secret_keys(request.properties) | secret_keys(request.inputs)
        return ReadResponse(
            request.resource_id,
            wrap(outputs, secrets),
            wrap(_inputs_of(token, outputs), secrets),
        )

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        token = _token(request.type)
        news = plain_map(request.news)
        secrets = secret_keys(request.news)
        name = request.urn.split("::")[-1]
        if request.preview:
            self.log.write("Update", wrote=False, preview=True, token=token, name=name)
            return UpdateResponse(wrap(self._planned(token, news), secrets))
        try:
            with self.store.transaction() as state:
                if token == DNS_RECORD_TYPE:
                    outputs = api.update_record(state, request.resource_id, news)
                elif token == ZONE_SETTING_TYPE:
                    outputs = api.put_setting(state, news)
                elif token == ORIGIN_CA_CERTIFICATE_TYPE:
                    # Every input forces a new certificate: the engine never updates one.
                    raise ValueError("an Origin CA certificate is replaced, never updated")
                else:
                    outputs = api.update_ruleset(state, request.resource_id, news)
        except api.CloudflareError as error:
            self.log.write("Update", wrote=False, token=token, name=name, error=error.code)
            raise
        self.log.write("Update", wrote=True, token=token, name=name, id=request.resource_id)
        return UpdateResponse(wrap(outputs, secrets))

    async def delete(self, request: DeleteRequest) -> None:
        token = _token(request.type)
        props = plain_map(request.properties)
        name = request.urn.split("::")[-1]
        if token == ZONE_SETTING_TYPE:
            # The provider's Delete does nothing: a zone setting cannot be removed, the
            # zone keeps its value (zone_setting/resource.go Delete is empty).
            self.log.write("Delete", wrote=False, token=token, name=name, id=request.resource_id)
            return
        try:
            with self.store.transaction() as state:
                if token == DNS_RECORD_TYPE:
                    api.delete_record(state, request.resource_id, str(props.get("zoneId")))
                elif token == ORIGIN_CA_CERTIFICATE_TYPE:
                    origin_ca.revoke(state, request.resource_id)
                else:
                    api.delete_ruleset(state, request.resource_id, props)
        except api.CloudflareError as error:
            self.log.write("Delete", wrote=False, token=token, name=name, error=error.code)
            raise
        self.log.write("Delete", wrote=True, token=token, name=name, id=request.resource_id)

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
            return InvokeResponse(failures=[CheckFailure(f.path, f.reason) for f in failures])
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
