"""The fake Cloudflare provider plugin (e2e/fake_cloudflare), driven in-process.

The engine's calls are made directly on the provider class with the request types
the SDK's provider base receives, so these run without a Pulumi CLI. One test starts
the plugin through its launcher and speaks gRPC to it, as the engine does.
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pulumi_cloudflare
import pytest
from google.protobuf import empty_pb2
from pulumi.provider.experimental.provider import (
    ConfigureRequest,
    CreateRequest,
    PropertyDiffKind,
)
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

from tests.fakeprovider_client import (
    Engine,
    invoke,
    launched,
    log_entries,
    plain,
    props,
    run,
    sdk_version,
    state_paths,
    stored,
    struct,
    use_fake,
)

FAKE = use_fake("fake_cloudflare")

from fakecf import api  # noqa: E402
from fakecf.api import CloudflareError  # noqa: E402
from fakecf.provider import FakeCloudflare, ZoneLookupError  # noqa: E402
from fakecf.schema import UNKNOWN  # noqa: E402
from fakecf.store import CallLog, Store, zone_id_for  # noqa: E402
from fakecf.world import ZoneRecords  # noqa: E402

ZONE = "webhost.example"
ZONE_ID = zone_id_for(ZONE)
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
GET_ZONE = "cloudflare:index/getZone:getZone"
GET_RULESETS = "cloudflare:index/getRulesets:getRulesets"


EDGE = Engine("staging", "webhost:edge:Edge")  # children carry its type, as in the program


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return state_paths(tmp_path, "cloudflare")


@pytest.fixture
def fake(paths: tuple[Path, Path]) -> FakeCloudflare:
    state, log = paths
    return FakeCloudflare(Store(state, {ZONE: ZONE_ID}), CallLog(log))


def aaaa(**over: Any) -> dict[str, Any]:
    record = {
        "zoneId": ZONE_ID,
        "name": ZONE,
        "type": "AAAA",
        "content": "2a09:8280:1::1",
        "proxied": True,
        "ttl": 1,
        "comment": "managed by webhost-infra (Pulumi)",
    }
    record.update(over)
    return record


def cache_ruleset(**over: Any) -> dict[str, Any]:
    ruleset = {
        "zoneId": ZONE_ID,
        "kind": "zone",
        "phase": "http_request_cache_settings",
        "name": "webhost static assets",
        "rules": [
            {
                "action": "set_cache_settings",
                "expression": '(http.host in {"webhost.example"})',
                "actionParameters": {
                    "cache": True,
                    "edgeTtl": {"mode": "override_origin", "default": 31536000},
                    "browserTtl": {"mode": "respect_origin"},
                },
            }
        ],
    }
    ruleset.update(over)
    return ruleset


check = EDGE.check
create = EDGE.create


# --- Check: the schema's rules -----------------------------------------------------------


def test_missing_required_field_is_a_check_failure_naming_it(fake: FakeCloudflare) -> None:
    inputs = aaaa()
    del inputs["type"]
    result = check(fake, RECORD, "edge-aaaa", inputs)
    assert [f.property for f in result.failures] == ["type"]
    reason = result.failures[0].reason
    assert "Missing Configuration for Required Attribute" in reason
    assert "Examine values at 'edge-aaaa.type'." in reason


def test_bad_enum_is_a_check_failure_naming_the_value(fake: FakeCloudflare) -> None:
    result = check(fake, RECORD, "edge-aaaa", aaaa(type="AAAAA"))
    assert [f.property for f in result.failures] == ["type"]
    assert 'must be one of: ["A" "AAAA" "CNAME"' in result.failures[0].reason
    assert 'got: "AAAAA"' in result.failures[0].reason


def test_enum_match_ignores_case_like_the_provider(fake: FakeCloudflare) -> None:
    assert not check(fake, RECORD, "edge-aaaa", aaaa(type="aaaa")).failures


def test_nested_enum_failure_names_the_full_path(fake: FakeCloudflare) -> None:
    ruleset = cache_ruleset()
    ruleset["rules"][0]["actionParameters"]["edgeTtl"]["mode"] = "forever"
    result = check(fake, RULESET, "edge-cache", ruleset)
    assert [f.property for f in result.failures] == ["rules[0].actionParameters.edgeTtl.mode"]
    assert "rules[0].action_parameters.edge_ttl.mode value must be one of" in (
        result.failures[0].reason
    )


def test_wrong_type_is_a_check_failure(fake: FakeCloudflare) -> None:
    result = check(fake, RECORD, "edge-aaaa", aaaa(ttl="auto", proxied="yes"))
    assert sorted(f.property for f in result.failures) == ["proxied", "ttl"]
    assert "number required" in next(f.reason for f in result.failures if f.property == "ttl")


def test_content_and_data_conflict(fake: FakeCloudflare) -> None:
    result = check(fake, RECORD, "edge-caa", aaaa(type="CAA", data={"flags": 0, "tag": "issue"}))
    assert sorted(f.property for f in result.failures) == ["content", "data"]


def test_ruleset_zone_id_must_be_32_hex(fake: FakeCloudflare) -> None:
    result = check(fake, RULESET, "edge-cache", cache_ruleset(zoneId=ZONE))
    assert [f.property for f in result.failures] == ["zoneId"]
    assert "32-character hexadecimal" in result.failures[0].reason


def test_unknown_values_pass_check_in_preview(fake: FakeCloudflare) -> None:
    # In a preview the address of a not-yet-allocated IP is unknown.
    assert not check(fake, RECORD, "edge-aaaa", aaaa(content=UNKNOWN)).failures


def test_check_fills_the_schema_defaults(fake: FakeCloudflare) -> None:
    inputs = aaaa()
    del inputs["proxied"]
    result = check(fake, RECORD, "edge-aaaa", inputs)
    assert plain(result.inputs)["proxied"] is False


# --- records: create, read, update, delete ------------------------------------------------


def test_create_read_update_delete_a_record(fake: FakeCloudflare, paths: tuple[Path, Path]) -> None:
    created = create(fake, RECORD, "edge-aaaa", aaaa())
    record_id = created.resource_id
    assert len(record_id) == 32
    assert stored(paths)["dnsRecords"][record_id]["content"] == "2a09:8280:1::1"
    assert plain(created.properties)["proxiable"] is True

    read = EDGE.read(fake, RECORD, "edge-aaaa", record_id, created.properties)
    assert read.resource_id == record_id
    assert plain(read.properties)["content"] == "2a09:8280:1::1"

    changed = aaaa(content="2a09:8280:1::2")
    diff = EDGE.diff(fake, RECORD, "a", record_id, read.properties, props(changed))
    assert diff.changes is True
    assert diff.diffs == ["content"]
    assert diff.replaces == []
    updated = EDGE.update(fake, RECORD, "a", record_id, read.properties, props(changed))
    assert plain(updated.properties)["content"] == "2a09:8280:1::2"
    assert stored(paths)["dnsRecords"][record_id]["content"] == "2a09:8280:1::2"

    EDGE.delete(fake, RECORD, "a", record_id, updated.properties)
    assert stored(paths)["dnsRecords"] == {}
    gone = EDGE.read(fake, RECORD, "a", record_id, updated.properties)
    assert gone.resource_id is None


def test_refresh_sees_an_out_of_band_change(fake: FakeCloudflare, paths: tuple[Path, Path]) -> None:
    created = create(fake, RECORD, "edge-aaaa", aaaa())
    state = stored(paths)
    state["dnsRecords"][created.resource_id]["proxied"] = False  # someone clicked the cloud
    paths[0].write_text(json.dumps(state))
    read = EDGE.read(fake, RECORD, "a", created.resource_id, created.properties)
    assert plain(read.properties)["proxied"] is False
    assert plain(read.inputs)["proxied"] is False
    diff = EDGE.diff(fake, RECORD, "a", created.resource_id, read.properties, props(aaaa()))
    assert diff.diffs == ["proxied"]


def test_same_inputs_make_no_diff_even_with_provider_filled_fields(fake: FakeCloudflare) -> None:
    caa = {
        "zoneId": ZONE_ID,
        "name": ZONE,
        "type": "CAA",
        "data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"},
        "ttl": 1,
    }
    created = create(fake, RECORD, "edge-caa", caa)
    assert plain(created.properties)["content"] == '0 issue "letsencrypt.org"'
    checked = check(fake, RECORD, "edge-caa", caa)
    diff = EDGE.diff(fake, RECORD, "c", created.resource_id, created.properties, checked.inputs)
    assert diff.changes is False


def test_changing_the_zone_replaces_the_record(fake: FakeCloudflare) -> None:
    created = create(fake, RECORD, "edge-aaaa", aaaa())
    other = aaaa(zoneId="f" * 32)
    diff = EDGE.diff(fake, RECORD, "a", created.resource_id, created.properties, props(other))
    assert diff.replaces == ["zoneId"]
    assert diff.detailed_diff["zoneId"].kind is PropertyDiffKind.UPDATE_REPLACE


def test_an_identical_record_is_refused_like_the_api(fake: FakeCloudflare) -> None:
    create(fake, RECORD, "edge-aaaa", aaaa())
    with pytest.raises(api.CloudflareError) as raised:
        create(fake, RECORD, "edge-aaaa-again", aaaa())
    assert raised.value.code == 81058
    assert "An identical record already exists." in str(raised.value)


def test_a_cname_beside_an_address_record_is_refused(fake: FakeCloudflare) -> None:
    create(fake, RECORD, "edge-aaaa", aaaa())
    with pytest.raises(api.CloudflareError) as raised:
        create(fake, RECORD, "edge-cname", aaaa(type="CNAME", content="app.fly.dev"))
    assert raised.value.code == 81053


def test_a_record_type_cloudflare_cannot_proxy_is_refused_when_proxied(
    fake: FakeCloudflare,
) -> None:
    caa = aaaa(type="CAA", content=None, data={"flags": 0, "tag": "issue", "value": "x.org"})
    with pytest.raises(api.CloudflareError, match="CAA records cannot be proxied"):
        create(fake, RECORD, "edge-caa", {k: v for k, v in caa.items() if v is not None})


def test_a_record_in_an_unknown_zone_is_refused(fake: FakeCloudflare) -> None:
    with pytest.raises(api.CloudflareError) as raised:
        create(fake, RECORD, "edge-aaaa", aaaa(zoneId="e" * 32))
    assert raised.value.code == 1001


# --- zone settings and rulesets -----------------------------------------------------------


def test_deleting_a_zone_setting_only_forgets_it(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    setting = {"zoneId": ZONE_ID, "settingId": "ssl", "value": "strict"}
    created = create(fake, SETTING, "edge-ssl", setting)
    assert created.resource_id == "ssl"
    assert stored(paths)["zones"][ZONE_ID]["settings"]["ssl"]["value"] == "strict"
    EDGE.delete(fake, SETTING, "edge-ssl", "ssl", created.properties)
    assert stored(paths)["zones"][ZONE_ID]["settings"]["ssl"]["value"] == "strict"
    assert log_entries(paths)[-1] == {**log_entries(paths)[-1], "method": "Delete", "wrote": False}


HSTS = {"enabled": True, "maxAge": 31536000, "includeSubdomains": False, "preload": False}


def refreshed_value(fake: FakeCloudflare, created: Any, name: str) -> Any:
    """The setting's value after `pulumi refresh`: Read's outputs and inputs."""
    read = EDGE.read(fake, SETTING, name, created.resource_id, created.properties)
    outputs, inputs = plain(read.properties)["value"], plain(read.inputs)["value"]
    assert outputs == inputs
    return outputs


def test_security_header_in_cloudflare_names_reads_back_as_sent(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    value = {
        "strict_transport_security": {
            "enabled": True,
            "max_age": 31536000,
            "include_subdomains": False,
            "preload": False,
            "nosniff": True,
        }
    }
    setting = {"zoneId": ZONE_ID, "settingId": "security_header", "value": value}
    created = create(fake, SETTING, "edge-security-header", setting)
    assert plain(created.properties)["value"] == value
    assert refreshed_value(fake, created, "edge-security-header") == value
    held = stored(paths)["zones"][ZONE_ID]["settings"]["security_header"]["value"]
    assert held["strict_transport_security"]["enabled"] is True


def test_security_header_in_camel_case_is_taken_but_not_held(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    """pulumi/pulumi-cloudflare#1579: the API takes camelCase keys without an error, holds
    none of them, and answers its own shape on refresh: a diff on every refresh, and HSTS
    never on."""
    value = {"strictTransportSecurity": {**HSTS, "nosniff": True}}
    setting = {"zoneId": ZONE_ID, "settingId": "security_header", "value": value}
    created = create(fake, SETTING, "edge-security-header", setting)
    assert plain(created.properties)["value"] == value  # up alone shows nothing wrong
    read = refreshed_value(fake, created, "edge-security-header")
    assert read == {
        "strict_transport_security": {
            "enabled": False,
            "include_subdomains": False,
            "max_age": 0,
            "nosniff": False,
            "preload": False,
        }
    }
    olds = {**plain(created.properties), "value": read}
    diff = EDGE.diff(fake, SETTING, "edge-security-header", "security_header", olds, setting)
    assert diff.changes is True
    assert diff.diffs == ["value"]


def test_security_header_keeps_what_the_zone_held_for_keys_not_sent(
    fake: FakeCloudflare,
) -> None:
    first = {"strict_transport_security": {"enabled": True, "max_age": 600, "nosniff": True}}
    setting = {"zoneId": ZONE_ID, "settingId": "security_header", "value": first}
    create(fake, SETTING, "edge-security-header", setting)
    then = {"strict_transport_security": {"max_age": 1200}}
    created = create(fake, SETTING, "edge-security-header", {**setting, "value": then})
    hsts = refreshed_value(fake, created, "edge-security-header")["strict_transport_security"]
    assert (hsts["enabled"], hsts["max_age"], hsts["nosniff"]) == (True, 1200, True)


@pytest.mark.parametrize(
    ("setting_id", "value"),
    [
        ("ssl", "very_strict"),
        ("ssl", 1),
        ("always_use_https", True),
        ("always_use_https", "yes"),
        ("min_tls_version", "1.4"),
        ("min_tls_version", 1.2),
        ("security_header", "on"),
        ("security_header", {"strict_transport_security": True}),
        ("security_header", {"strict_transport_security": {"enabled": "true"}}),
        ("security_header", {"strict_transport_security": {"max_age": "31536000"}}),
        ("security_header", {"strict_transport_security": {"max_age": -1}}),
        ("security_header", {"strict_transport_security": {"nosniff": 1}}),
    ],
)
def test_a_value_outside_the_settings_shape_is_refused_like_the_api(
    fake: FakeCloudflare, setting_id: str, value: Any
) -> None:
    setting = {"zoneId": ZONE_ID, "settingId": setting_id, "value": value}
    with pytest.raises(CloudflareError) as raised:
        create(fake, SETTING, f"edge-{setting_id}", setting)
    assert raised.value.code == 1007
    assert f"Invalid value for zone setting {setting_id}" in str(raised.value)
    assert f'PATCH "https://api.cloudflare.com/client/v4/zones/{ZONE_ID}/settings/' in str(
        raised.value
    )
    assert setting_id not in fake.store.snapshot()["zones"][ZONE_ID]["settings"]


@pytest.mark.parametrize(
    ("setting_id", "value"),
    [("ssl", "strict"), ("always_use_https", "on"), ("min_tls_version", "1.2")],
)
def test_the_programs_string_settings_read_back_as_sent(
    fake: FakeCloudflare, setting_id: str, value: str
) -> None:
    setting = {"zoneId": ZONE_ID, "settingId": setting_id, "value": value}
    created = create(fake, SETTING, f"edge-{setting_id}", setting)
    assert refreshed_value(fake, created, f"edge-{setting_id}") == value


def test_a_second_entry_point_ruleset_in_a_phase_fails_like_cloudflare(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    first = create(fake, RULESET, "edge-cache", cache_ruleset())
    rules = plain(first.properties)["rules"]
    assert len(rules[0]["id"]) == 32
    with pytest.raises(api.CloudflareError) as raised:
        create(fake, RULESET, "edge-cache-2", cache_ruleset(name="another"))
    assert raised.value.code == 20217
    message = str(raised.value)
    assert "400 Bad Request" in message
    assert (
        "'zone' is not a valid value for kind because exceeded maximum number of zone "
        "rulesets for phase http_request_cache_settings"
    ) in message
    assert list(stored(paths)["rulesets"]) == [first.resource_id]
    # Another phase is another entry point.
    create(fake, RULESET, "edge-redirects", cache_ruleset(phase="http_request_dynamic_redirect"))


def test_ruleset_update_keeps_its_id_and_counts_versions(fake: FakeCloudflare) -> None:
    first = create(fake, RULESET, "edge-cache", cache_ruleset())
    changed = check(fake, RULESET, "c", cache_ruleset(description="static files")).inputs
    updated = EDGE.update(fake, RULESET, "c", first.resource_id, first.properties, changed)
    assert plain(updated.properties)["version"] == "2"
    diff = EDGE.diff(fake, RULESET, "c", first.resource_id, updated.properties, changed)
    assert diff.changes is False


# --- getZone --------------------------------------------------------------------------------


def missing_required(result: Any, path: str = "") -> list[str]:
    """Fields an SDK output type declares as always present (a getter not typed Optional)
    that are None, walking into nested output types."""
    missing = []
    values = dict(result) if isinstance(result, dict) else vars(result)
    for name, value in values.items():
        getter = getattr(type(result), name, None)
        returns = str(getattr(getattr(getter, "fget", None), "__annotations__", {}).get("return"))
        if value is None and "Optional" not in returns:
            missing.append(f"{path}{name}")
        elif isinstance(value, dict) and type(value) is not dict:
            missing += missing_required(value, f"{path}{name}.")
    return missing


def test_get_zone_answers_in_the_shape_the_sdk_reads(fake: FakeCloudflare) -> None:
    args = props({"filter": {"name": ZONE, "match": "all"}})
    result = invoke(fake, GET_ZONE, args)
    assert not result.failures
    raw = plain(result.return_value)
    # What pulumi.runtime.invoke does with the engine's answer, typ=GetZoneResult.
    # (pulumi/runtime/invoke.py). A key it lacks would silently read as None.
    zone = rpc.translate_output_properties(raw, lambda p: p, pulumi_cloudflare.GetZoneResult)
    assert isinstance(zone, pulumi_cloudflare.GetZoneResult)
    assert missing_required(zone) == []
    assert zone.zone_id == ZONE_ID
    assert zone.name == ZONE
    assert zone.account.id


def test_get_zone_fails_like_the_provider_when_there_is_no_such_zone(
    fake: FakeCloudflare,
) -> None:
    args = props({"filter": {"name": "nowhere.example", "match": "all"}})
    with pytest.raises(ZoneLookupError, match="failed to find exactly one result: 0 found"):
        invoke(fake, GET_ZONE, args)


def test_get_zone_checks_its_filter(fake: FakeCloudflare) -> None:
    args = props({"filter": {"name": ZONE, "match": "most"}})
    result = invoke(fake, GET_ZONE, args)
    assert [f.property for f in result.failures] == ["filter.match"]


def test_get_rulesets_lists_the_zone_entry_points_in_the_sdk_shape(fake: FakeCloudflare) -> None:
    made = create(fake, RULESET, "edge-cache", cache_ruleset())
    result = invoke(fake, GET_RULESETS, props({"zoneId": ZONE_ID}))
    assert not result.failures
    listed = rpc.translate_output_properties(
        plain(result.return_value), lambda p: p, pulumi_cloudflare.GetRulesetsResult
    )
    assert missing_required(listed) == []
    [ruleset] = listed.rulesets
    assert (ruleset.id, ruleset.kind, ruleset.phase) == (
        made.resource_id,
        "zone",
        "http_request_cache_settings",
    )


def test_get_rulesets_of_an_unknown_zone_fails_like_the_api(fake: FakeCloudflare) -> None:
    with pytest.raises(api.CloudflareError) as raised:
        invoke(fake, GET_RULESETS, props({"zoneId": "e" * 32}))
    assert raised.value.code == 1001


# --- the log: writes and secrets -----------------------------------------------------------


def test_the_log_tells_writes_apart_and_never_holds_a_secret(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    token = "cf-token-do-not-log"
    run(fake.configure(ConfigureRequest({"cloudflare:config:apiToken": token}, {}, True, True)))
    secret_comment = "comment-secret-value"
    inputs = aaaa(comment=secret_comment)
    assert check(fake, RECORD, "a", inputs, {"comment"}).inputs["comment"].is_secret
    created = create(fake, RECORD, "a", inputs, {"comment"})
    assert created.properties["comment"].is_secret
    writes_after_up = [e for e in log_entries(paths) if e["wrote"]]
    assert [e["method"] for e in writes_after_up] == ["Create"]

    # A second `up`: Check and Diff again, nothing to change, nothing written.
    again = check(fake, RECORD, "a", inputs, {"comment"})
    diff = EDGE.diff(fake, RECORD, "a", created.resource_id, created.properties, again.inputs)
    assert diff.changes is False
    assert [e for e in log_entries(paths) if e["wrote"]] == writes_after_up

    text = paths[1].read_text()
    assert token not in text
    assert secret_comment not in text


# --- several plugin processes, one state ------------------------------------------------------


def _create_in_another_process(state: str, log: str, index: int) -> str:
    fake = FakeCloudflare(Store(Path(state), {ZONE: ZONE_ID}), CallLog(Path(log)))
    inputs = aaaa(name=f"host{index}.{ZONE}")
    result = asyncio.run(
        fake.create(CreateRequest(EDGE.urn(RECORD, f"h{index}"), props(inputs), 60, False))
    )
    return str(result.resource_id)


def test_concurrent_plugin_processes_lose_no_write(paths: tuple[Path, Path]) -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        ids = list(
            pool.map(_create_in_another_process, [str(paths[0])] * 8, [str(paths[1])] * 8, range(8))
        )
    assert sorted(stored(paths)["dnsRecords"]) == sorted(ids)


# --- the launcher, as the engine starts it ------------------------------------------------------


def test_the_engine_can_load_the_plugin_from_path(tmp_path: Path) -> None:
    # The engine finds `pulumi-resource-cloudflare` on PATH; link it from elsewhere to show
    # the launcher finds the checkout's virtualenv from its own location.
    env = {"FAKE_CLOUDFLARE_STATE": str(tmp_path / "cf.json"), "FAKE_CLOUDFLARE_ZONES": ZONE}
    with launched(tmp_path, FAKE, "pulumi-resource-cloudflare", env) as stub:
        assert stub.GetPluginInfo(empty_pb2.Empty()).version == sdk_version(pulumi_cloudflare)
        args = struct({"filter": {"name": "nowhere.example"}})
        with pytest.raises(grpc.RpcError) as raised:
            stub.Invoke(provider_pb2.InvokeRequest(tok=GET_ZONE, args=args))
        # The provider's message alone, no Python traceback.
        assert raised.value.details() == "failed to find exactly one result: 0 found"

        config = struct({"version": "6.23.1"})
        changed = struct({"version": "6.23.1", "baseUrl": "https://api.example"})
        same = stub.DiffConfig(provider_pb2.DiffRequest(olds=config, news=config))
        assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
        differs = stub.DiffConfig(provider_pb2.DiffRequest(olds=config, news=changed))
        assert differs.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert os.path.exists(tmp_path / "cf.json")


# --- the DNS other fakes see (fakecf/world.py) ------------------------------------------------


def test_records_made_through_the_provider_are_what_the_world_resolves(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    create(fake, RECORD, "edge-aaaa", aaaa())
    txt = {**aaaa(), "name": "_fly-ownership", "type": "TXT", "content": "app-1", "proxied": False}
    create(fake, RECORD, "edge-txt", txt)
    world = ZoneRecords(paths[0])
    assert world.records("WebHost.Example.") == [
        {"type": "AAAA", "content": "2a09:8280:1::1", "proxied": True}
    ]
    assert world.records(f"_fly-ownership.{ZONE}") == [
        {"type": "TXT", "content": "app-1", "proxied": False}
    ]
    assert world.records(f"www.{ZONE}") == []


def test_a_deleted_record_is_gone_from_the_world(
    fake: FakeCloudflare, paths: tuple[Path, Path]
) -> None:
    created = create(fake, RECORD, "edge-aaaa", aaaa())
    EDGE.delete(fake, RECORD, "edge-aaaa", created.resource_id, created.properties)
    assert ZoneRecords(paths[0]).records(ZONE) == []
