"""The edge under mocks: per mode, the exact records per host and where their values come from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cli import engine
from components import catalog
from components.edge import cache_expression
from tests.conftest import run, stack_doc
from tests.known import (
    ADDRESSES,
    CERT,
    COMMAND,
    GET_ZONE,
    IP,
    LOOKED_UP_ZONE_ID,
    RECORD,
    RULESET,
    ZONE_SETTING,
    KnownMocks,
    acme_target,
)

ZONE_ID = "fedcba9876543210fedcba9876543210"


def with_domain(stack: str, **domain: Any) -> dict[str, Any]:
    doc = stack_doc(stack)
    doc["webhost:domain"] = {**doc["webhost:domain"], **domain}
    return doc


def after_up(tmp_path: Path, doc: dict[str, Any], stack: str = "test") -> engine.Evaluation:
    return run(doc, tmp_path, stack=stack, preview=False, mocks=KnownMocks())


def records(evaluation: engine.Evaluation) -> dict[tuple[str, str], dict[str, Any]]:
    """(type, name) -> the record's inputs, for every DNS record made."""
    return {
        (r.inputs["type"], r.inputs["name"]): dict(r.inputs) for r in evaluation.by_type(RECORD)
    }


def host_records(evaluation: engine.Evaluation) -> set[tuple[str, str, bool]]:
    return {
        (r.inputs["type"], r.inputs["name"], r.inputs["proxied"])
        for r in evaluation.by_type(RECORD)
        if r.inputs["type"] != "CAA"
    }


# -- DNS-only (staging) -----------------------------------------------------------


def test_dns_only_record_set(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("staging"))
    zone = "webhost-staging.example"
    assert host_records(evaluation) == {
        ("AAAA", zone, False),
        ("A", zone, False),
        ("CNAME", f"_acme-challenge.{zone}", False),
        ("AAAA", f"www.{zone}", False),
        ("A", f"www.{zone}", False),
        ("CNAME", f"_acme-challenge.www.{zone}", False),
    }


def test_dns_only_contents_come_from_the_addresses_and_certificates(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("staging"))
    found = records(evaluation)
    host = "www.webhost-staging.example"
    assert found[("AAAA", host)]["content"] == ADDRESSES["v6"]
    assert found[("A", host)]["content"] == ADDRESSES["shared_v4"]  # staging: shared IPv4
    assert found[("CNAME", f"_acme-challenge.{host}")]["content"] == acme_target(host)
    assert all(r["ttl"] == 1 for r in found.values())


def test_records_depend_on_exactly_what_they_read(tmp_path: Path) -> None:
    evaluation = run(stack_doc("staging"), tmp_path, stack="staging")
    v6, v4 = evaluation.one(IP, "webhost-v6").urn, evaluation.one(IP, "webhost-v4").urn
    for host in ("webhost-staging.example", "www.webhost-staging.example"):
        cert = evaluation.one(CERT, f"webhost-cert-{host}").urn
        assert evaluation.one(RECORD, f"webhost-aaaa-{host}").dependencies == (v6,)
        assert evaluation.one(RECORD, f"webhost-a-{host}").dependencies == (v4,)
        acme = evaluation.one(RECORD, f"webhost-cname-_acme-challenge.{host}")
        assert acme.dependencies == (cert,)


def test_certificates_for_different_hosts_do_not_wait_on_each_other(tmp_path: Path) -> None:
    evaluation = run(stack_doc("prod"), tmp_path, stack="prod")
    app = evaluation.one("pulumi-python:dynamic/fly:App").urn
    certs = evaluation.by_type(CERT)
    assert len(certs) == 2
    assert all(c.dependencies == (app,) for c in certs)


def test_dns_only_has_no_cache_rule(tmp_path: Path) -> None:
    assert after_up(tmp_path, stack_doc("staging")).by_type(RULESET) == []


# -- proxied (prod) ---------------------------------------------------------------


def test_proxied_record_set(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert host_records(evaluation) == {
        ("AAAA", "webhost.example", True),
        ("CNAME", "_acme-challenge.webhost.example", False),
        ("AAAA", "www.webhost.example", True),
        ("CNAME", "_acme-challenge.www.webhost.example", False),
    }


def test_proxied_mode_has_no_a_record_and_no_ipv4(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert not any(r.inputs["type"] == "A" for r in evaluation.by_type(RECORD))
    assert [ip.inputs["type"] for ip in evaluation.by_type(IP)] == ["v6"]


def test_proxied_with_a_dedicated_ipv4_still_makes_no_a_record(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", ipv4="dedicated"), "prod")
    assert sorted(ip.inputs["type"] for ip in evaluation.by_type(IP)) == ["v4", "v6"]
    assert not any(r.inputs["type"] == "A" for r in evaluation.by_type(RECORD))


def test_dns_only_with_a_dedicated_ipv4(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("staging", ipv4="dedicated"))
    v4 = evaluation.one(IP, "webhost-v4")
    assert v4.inputs["type"] == "v4"
    assert records(evaluation)[("A", "webhost-staging.example")]["content"] == ADDRESSES["v4"]


def test_validation_records_are_never_proxied(tmp_path: Path) -> None:
    for stack in ("staging", "prod"):
        evaluation = after_up(tmp_path, stack_doc(stack), stack)
        acme = [r for r in evaluation.by_type(RECORD) if r.inputs["name"].startswith("_acme")]
        assert acme
        assert all(r.inputs["proxied"] is False for r in acme)


def test_cache_rule_for_static_assets(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    ruleset = evaluation.one(RULESET)
    assert ruleset.inputs["phase"] == "http_request_cache_settings"
    assert ruleset.inputs["kind"] == "zone"
    (rule,) = ruleset.inputs["rules"]
    assert rule["action"] == "set_cache_settings"
    assert rule["actionParameters"]["cache"] is True
    assert rule["actionParameters"]["edgeTtl"] == {"mode": "override_origin", "default": 31536000}
    assert rule["expression"] == (
        '(http.host in {"webhost.example" "www.webhost.example"}) and ('
        'starts_with(http.request.uri.path, "/assets/") or '
        'starts_with(http.request.uri.path, "/images/") or '
        'starts_with(http.request.uri.path, "/fonts/") or '
        'http.request.uri.path eq "/favicon.ico" or '
        'http.request.uri.path eq "/robots.txt")'
    )


def test_cache_rule_is_configurable(tmp_path: Path) -> None:
    doc = with_domain("prod", cacheRules={"paths": ["/assets/*"], "edgeTtlSeconds": 86400})
    (rule,) = after_up(tmp_path, doc, "prod").one(RULESET).inputs["rules"]
    assert rule["actionParameters"]["edgeTtl"]["default"] == 86400
    assert rule["expression"].endswith('(starts_with(http.request.uri.path, "/assets/"))')


def test_cache_rule_can_be_turned_off(tmp_path: Path) -> None:
    doc = with_domain("prod", cacheRules={"enabled": False})
    assert after_up(tmp_path, doc, "prod").by_type(RULESET) == []


def test_cache_expression_matches_exact_paths_and_prefixes() -> None:
    assert cache_expression(["a.example"], ["/x/*", "/y.txt"]) == (
        '(http.host in {"a.example"}) and '
        '(starts_with(http.request.uri.path, "/x/") or http.request.uri.path eq "/y.txt")'
    )


# -- zone-wide --------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_zone_settings_and_caa(tmp_path: Path, stack: str) -> None:
    evaluation = after_up(tmp_path, stack_doc(stack), stack)
    settings = {r.inputs["settingId"]: r.inputs["value"] for r in evaluation.by_type(ZONE_SETTING)}
    assert settings == {"ssl": "strict", "always_use_https": "on", "min_tls_version": "1.2"}
    zone = stack_doc(stack)["webhost:domain"]["zone"]
    caa = records(evaluation)[("CAA", zone)]
    assert caa["data"] == {"flags": 0, "tag": "issue", "value": catalog.CAA_ISSUER}


def test_a_stack_that_does_not_own_the_zone_leaves_it_alone(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", ownsZone=False), "prod")
    assert evaluation.by_type(ZONE_SETTING) == []
    assert evaluation.by_type(RULESET) == []
    assert ("CAA", "webhost.example") not in records(evaluation)
    assert len(host_records(evaluation)) == 4  # the hosts' own records stay


def test_zone_is_looked_up_by_name_without_a_zone_id(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert [(i.token, i.args["filter"]["name"]) for i in evaluation.invokes] == [
        (GET_ZONE, "webhost.example")
    ]
    assert {r.inputs["zoneId"] for r in evaluation.by_type(RECORD)} == {LOOKED_UP_ZONE_ID}


def test_zone_id_given_means_no_lookup(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", zoneId=ZONE_ID), "prod")
    assert evaluation.invokes == []
    ids = {
        r.inputs["zoneId"] for r in [*evaluation.by_type(RECORD), *evaluation.by_type(ZONE_SETTING)]
    }
    assert ids == {ZONE_ID}


def test_zone_lookup_is_computed_offline(tmp_path: Path) -> None:
    evaluation = run(stack_doc("prod"), tmp_path, stack="prod")
    shown, _ = evaluation.one(RECORD, "webhost-caa").rendered_inputs()
    assert shown["zoneId"] == engine.COMPUTED


# -- the rest of the graph ----------------------------------------------------------


def test_deploy_waits_for_the_addresses(tmp_path: Path) -> None:
    evaluation = run(stack_doc("staging"), tmp_path, stack="staging")
    deploy = evaluation.one(COMMAND, "webhost-deploy")
    assert {ip.urn for ip in evaluation.by_type(IP)} <= set(deploy.dependencies)
    assert not any(r.urn in deploy.dependencies for r in evaluation.by_type(RECORD))


def test_prod_protects_addresses_and_certificates(tmp_path: Path) -> None:
    evaluation = run(stack_doc("prod"), tmp_path, stack="prod")
    assert all(r.protect for r in [*evaluation.by_type(IP), *evaluation.by_type(CERT)])
    assert not any(r.protect for r in evaluation.by_type(RECORD))


def test_edge_output_per_host(tmp_path: Path) -> None:
    edge = after_up(tmp_path, stack_doc("prod"), "prod").rendered_outputs()["edge"]
    assert set(edge) == {"webhost.example", "www.webhost.example"}
    www = edge["www.webhost.example"]
    assert www["url"] == "https://www.webhost.example"
    assert www["certificate"] == "pending_validation"
    assert www["records"] == [
        {"type": "AAAA", "name": "www.webhost.example", "proxied": True},
        {"type": "CNAME", "name": "_acme-challenge.www.webhost.example", "proxied": False},
    ]


def test_phx_host_is_the_first_host(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", hosts=["www", "@"]), "prod")
    assert 'PHX_HOST = "www.webhost.example"' in evaluation.rendered_outputs()["flyToml"]
