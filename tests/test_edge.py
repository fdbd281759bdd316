"""The edge under mocks: per mode, the exact records per host and where their values come from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import mocks as pulumi_mocks

from cli import engine
from components import catalog
from components.edge import RULESET_NAME, EdgeError, cache_expression
from tests.conftest import run, stack_doc
from tests.fakeprovider_client import use_fake
from tests.known import (
    ADDRESSES,
    CERT,
    COMMAND,
    GET_ZONE,
    IP,
    LOOKED_UP_ZONE_ID,
    OWNERSHIP_APP_VALUE,
    RECORD,
    RULESET,
    ZONE_SETTING,
    KnownMocks,
    acme_target,
)

use_fake("fake_cloudflare")
from fakecf import settings as cf_settings  # noqa: E402

GET_RULESETS = "cloudflare:index/getRulesets:getRulesets"
CACHE_PHASE = "http_request_cache_settings"
FOREIGN_ID = "5c1e3a0b9d8f47e2a6b4c3d2e1f0a9b8"

ZONE_ID = "fedcba9876543210fedcba9876543210"


def dns_only() -> dict[str, Any]:
    """Staging before it rehearsed prod's proxied edge: DNS-only on a zone of its own."""
    doc = stack_doc("staging")
    doc["webhost:domain"] = {
        "zone": "webhost-staging.example",
        "hosts": ["@", "www"],
        "proxied": False,
        "ipv4": "shared",
    }
    return doc


def with_domain(stack: str, **domain: Any) -> dict[str, Any]:
    doc = dns_only() if stack == "staging" else stack_doc(stack)
    doc["webhost:domain"] = {**doc["webhost:domain"], **domain}
    return doc


# The program's evaluations, one per (stack file, stack, preview): the tests only read
# them, and running the program is most of each test's time.
EVALUATIONS: dict[tuple[str, str, bool], engine.Evaluation] = {}


def evaluated(
    tmp_path: Path, doc: dict[str, Any], stack: str = "test", preview: bool = True
) -> engine.Evaluation:
    """The program run on `doc` (as an `up` under KnownMocks when not a preview)."""
    key = (json.dumps(doc, sort_keys=True), stack, preview)
    if key not in EVALUATIONS:
        mocks = None if preview else KnownMocks()
        EVALUATIONS[key] = run(doc, tmp_path, stack=stack, preview=preview, mocks=mocks)
    return EVALUATIONS[key]


def after_up(tmp_path: Path, doc: dict[str, Any], stack: str = "test") -> engine.Evaluation:
    return evaluated(tmp_path, doc, stack, preview=False)


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


def proxied_records(*fqdns: str) -> set[tuple[str, str, bool]]:
    """Per host behind the proxy: AAAA and A proxied, the ownership TXT record not."""
    return {
        record
        for fqdn in fqdns
        for record in (
            ("AAAA", fqdn, True),
            ("A", fqdn, True),
            ("TXT", f"_fly-ownership.{fqdn}", False),
        )
    }


# -- DNS-only (staging) -----------------------------------------------------------


def test_dns_only_record_set(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, dns_only())
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
    evaluation = after_up(tmp_path, dns_only())
    found = records(evaluation)
    host = "www.webhost-staging.example"
    assert found[("AAAA", host)]["content"] == ADDRESSES["v6"]
    assert found[("A", host)]["content"] == ADDRESSES["shared_v4"]  # staging: shared IPv4
    assert found[("CNAME", f"_acme-challenge.{host}")]["content"] == acme_target(host)
    assert all(r["ttl"] == 1 for r in found.values())


def test_records_depend_on_exactly_what_they_read(tmp_path: Path) -> None:
    evaluation = evaluated(tmp_path, dns_only(), "staging")
    v6, v4 = evaluation.one(IP, "webhost-v6").urn, evaluation.one(IP, "webhost-v4").urn
    for host in ("webhost-staging.example", "www.webhost-staging.example"):
        cert = evaluation.one(CERT, f"webhost-cert-{host}").urn
        assert evaluation.one(RECORD, f"webhost-aaaa-{host}").dependencies == (v6,)
        assert evaluation.one(RECORD, f"webhost-a-{host}").dependencies == (v4,)
        acme = evaluation.one(RECORD, f"webhost-cname-_acme-challenge.{host}")
        assert acme.dependencies == (cert,)


def test_certificates_for_different_hosts_do_not_wait_on_each_other(tmp_path: Path) -> None:
    evaluation = evaluated(tmp_path, stack_doc("prod"), "prod")
    app = evaluation.one("pulumi-python:dynamic/fly:App").urn
    certs = evaluation.by_type(CERT)
    assert len(certs) == 2
    assert all(c.dependencies == (app,) for c in certs)


def test_dns_only_has_no_cache_rule(tmp_path: Path) -> None:
    assert after_up(tmp_path, dns_only()).by_type(RULESET) == []


# -- proxied (prod) ---------------------------------------------------------------


def test_proxied_record_set(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert host_records(evaluation) == proxied_records("webhost.example", "www.webhost.example")


def test_proxied_mode_has_no_acme_challenge_record(tmp_path: Path) -> None:
    # DNS-01 conflicts with Cloudflare's Universal SSL: Fly issues over HTTP-01 instead.
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert not any("_acme-challenge" in r.inputs["name"] for r in evaluation.by_type(RECORD))


def test_proxied_mode_allocates_a_shared_ipv4_by_default(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    assert sorted(ip.inputs["type"] for ip in evaluation.by_type(IP)) == ["shared_v4", "v6"]
    found = records(evaluation)
    assert found[("A", "www.webhost.example")]["content"] == ADDRESSES["shared_v4"]
    assert found[("AAAA", "www.webhost.example")]["content"] == ADDRESSES["v6"]


def test_ownership_record_comes_from_the_certificate(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    for host in ("webhost.example", "www.webhost.example"):
        txt = evaluation.one(RECORD, f"webhost-txt-_fly-ownership.{host}")
        assert txt.inputs["name"] == f"_fly-ownership.{host}"  # the mock certificate's name
        assert txt.inputs["content"] == OWNERSHIP_APP_VALUE
        assert txt.inputs["proxied"] is False
        assert txt.dependencies == (evaluation.one(CERT, f"webhost-cert-{host}").urn,)


def test_proxied_with_a_dedicated_ipv4(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", ipv4="dedicated"), "prod")
    assert sorted(ip.inputs["type"] for ip in evaluation.by_type(IP)) == ["v4", "v6"]
    a = records(evaluation)[("A", "webhost.example")]
    assert (a["content"], a["proxied"]) == (ADDRESSES["v4"], True)


def test_proxied_without_ipv4_has_only_the_aaaa_and_ownership(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", ipv4="none"), "prod")
    assert [ip.inputs["type"] for ip in evaluation.by_type(IP)] == ["v6"]
    assert {
        (t, n) for t, n, _ in host_records(evaluation) if n.endswith("www.webhost.example")
    } == {
        ("AAAA", "www.webhost.example"),
        ("TXT", "_fly-ownership.www.webhost.example"),
    }


def test_dns_only_with_a_dedicated_ipv4(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("staging", ipv4="dedicated"))
    v4 = evaluation.one(IP, "webhost-v4")
    assert v4.inputs["type"] == "v4"
    assert records(evaluation)[("A", "webhost-staging.example")]["content"] == ADDRESSES["v4"]


def test_validation_records_are_never_proxied(tmp_path: Path) -> None:
    for stack, prefix in (("staging", "_acme-challenge."), ("prod", "_fly-ownership.")):
        evaluation = after_up(
            tmp_path, dns_only() if stack == "staging" else stack_doc(stack), stack
        )
        found = [r for r in evaluation.by_type(RECORD) if r.inputs["name"].startswith(prefix)]
        assert len(found) == 2
        assert all(r.inputs["proxied"] is False for r in found)


def test_cache_rule_for_static_assets(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    ruleset = evaluation.one(RULESET)
    assert ruleset.inputs["phase"] == "http_request_cache_settings"
    assert ruleset.inputs["kind"] == "zone"
    assert ruleset.inputs["name"] == RULESET_NAME
    (rule,) = ruleset.inputs["rules"]
    assert rule["action"] == "set_cache_settings"
    assert rule["actionParameters"]["cache"] is True
    assert rule["actionParameters"]["edgeTtl"] == {"mode": "override_origin", "default": 31536000}


def test_cache_rule_covers_only_fingerprinted_assets_by_default(tmp_path: Path) -> None:
    # /favicon.ico, /robots.txt and hand-named images keep their URL across deploys.
    for doc in (stack_doc("prod"), with_domain("prod", cacheRules={})):
        (rule,) = after_up(tmp_path, doc, "prod").one(RULESET).inputs["rules"]
        assert rule["expression"] == (
            '(http.host in {"webhost.example" "www.webhost.example"}) and ('
            'starts_with(http.request.uri.path, "/assets/"))'
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
    evaluation = after_up(tmp_path, (dns_only() if stack == "staging" else stack_doc(stack)), stack)
    settings = {r.inputs["settingId"]: r.inputs["value"] for r in evaluation.by_type(ZONE_SETTING)}
    headers = settings.pop("security_header", None)
    assert settings == {"ssl": "strict", "always_use_https": "on", "min_tls_version": "1.2"}
    # Cloudflare sends the security headers only where its proxy is in front (prod);
    # a DNS-only zone gets them from Fly's proxy instead.
    proxied = (dns_only() if stack == "staging" else stack_doc(stack))["webhost:domain"].get(
        "proxied", False
    )
    assert (headers is not None) == proxied
    zone = (dns_only() if stack == "staging" else stack_doc(stack))["webhost:domain"]["zone"]
    caa = records(evaluation)[("CAA", zone)]
    assert caa["data"] == {"flags": 0, "tag": "issue", "value": catalog.CAA_ISSUER}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"hstsMaxAge": 600, "includeSubdomains": True, "nosniff": False},
        {"hstsMaxAge": 31536000, "includeSubdomains": True, "preload": True},
    ],
)
def test_security_header_is_held_by_cloudflare_as_sent(
    tmp_path: Path, headers: dict[str, Any]
) -> None:
    """The value goes through the provider unchanged (a dynamic attribute), so it must be
    in the API's own names: the fake Cloudflare takes it as the API does and answers a
    refresh with what it holds, which must be what was sent (else a diff on every refresh
    and HSTS never on: pulumi/pulumi-cloudflare#1579)."""
    doc = stack_doc("prod")
    doc["webhost:securityHeaders"] = headers
    evaluation = after_up(tmp_path, doc, "prod")
    (setting,) = [
        r for r in evaluation.by_type(ZONE_SETTING) if r.inputs["settingId"] == "security_header"
    ]
    sent = setting.inputs["value"]
    held = cf_settings.held("security_header", sent, None)
    assert cf_settings.answered("security_header", held) == sent
    hsts = held["strict_transport_security"]
    assert hsts["enabled"] is True
    assert hsts["max_age"] == headers.get("hstsMaxAge", 31536000)
    assert hsts["include_subdomains"] is headers.get("includeSubdomains", False)
    assert hsts["preload"] is headers.get("preload", False)
    assert hsts["nosniff"] is headers.get("nosniff", True)


def test_a_stack_that_does_not_own_the_zone_leaves_it_alone(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", ownsZone=False), "prod")
    assert evaluation.by_type(ZONE_SETTING) == []
    assert evaluation.by_type(RULESET) == []
    assert ("CAA", "webhost.example") not in records(evaluation)
    assert len(host_records(evaluation)) == 6  # the hosts' own records stay


def test_zone_is_looked_up_by_name_without_a_zone_id(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    (zone,) = [i for i in evaluation.invokes if i.token == GET_ZONE]
    assert zone.args["filter"]["name"] == "webhost.example"
    assert {r.inputs["zoneId"] for r in evaluation.by_type(RECORD)} == {LOOKED_UP_ZONE_ID}


def test_zone_id_given_means_no_zone_lookup(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", zoneId=ZONE_ID), "prod")
    cloudflare = [i for i in evaluation.invokes if i.token.startswith("cloudflare:")]
    assert [(i.token, i.args["zoneId"]) for i in cloudflare] == [(GET_RULESETS, ZONE_ID)]
    ids = {
        r.inputs["zoneId"] for r in [*evaluation.by_type(RECORD), *evaluation.by_type(ZONE_SETTING)]
    }
    assert ids == {ZONE_ID}


def test_zone_lookup_is_computed_offline(tmp_path: Path) -> None:
    evaluation = evaluated(tmp_path, stack_doc("prod"), "prod")
    shown, _ = evaluation.one(RECORD, "webhost-caa").rendered_inputs()
    assert shown["zoneId"] == engine.COMPUTED


# -- the zone's cache entry point ---------------------------------------------------


def entry_point(name: str, id_: str = FOREIGN_ID, phase: str = CACHE_PHASE) -> dict[str, Any]:
    """A getRulesets result as the provider answers it (get_rulesets.py, outputs.py)."""
    return {
        "id": id_,
        "name": name,
        "kind": "zone",
        "phase": phase,
        "description": "",
        "lastUpdated": "2026-01-05T10:00:00Z",
        "version": "4",
    }


class ZoneWithRulesets(KnownMocks):
    """The zone already holds these rulesets (the dashboard's, or this stack's own)."""

    def __init__(self, *rulesets: dict[str, Any]) -> None:
        super().__init__()
        self.rulesets = list(rulesets)
        self.created: list[str] = []  # resource types the provider was asked to create

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.created.append(args.typ)
        return super().new_resource(args)

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == GET_RULESETS:
            return {"zoneId": args.args["zoneId"], "rulesets": self.rulesets}, []
        return super().call(args)


def with_rulesets(
    tmp_path: Path, *rulesets: dict[str, Any], doc: dict[str, Any] | None = None
) -> engine.Evaluation:
    config = doc or stack_doc("prod")
    return run(config, tmp_path, stack="prod", preview=False, mocks=ZoneWithRulesets(*rulesets))


def test_the_zone_is_checked_for_a_cache_entry_point(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, stack_doc("prod"), "prod")
    (lookup,) = [i for i in evaluation.invokes if i.token == GET_RULESETS]
    assert lookup.args["zoneId"] == LOOKED_UP_ZONE_ID


def test_a_cache_entry_point_made_elsewhere_is_refused_with_how_to_adopt_it(
    tmp_path: Path,
) -> None:
    with pytest.raises(EdgeError) as refused:
        with_rulesets(tmp_path, entry_point("default"))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "webhost:domain.cacheRules: zone webhost.example already has a cache-rules entry point "
        f'(ruleset {FOREIGN_ID}, "default")'
    )
    edge = "urn:pulumi:prod::webhost::webhost:index:Platform$webhost:edge:Edge::webhost"
    assert (
        f"`pulumi import cloudflare:index/ruleset:Ruleset webhost-cache "
        f"zones/{LOOKED_UP_ZONE_ID}/{FOREIGN_ID} --parent webhost={edge}`"
    ) in message
    assert f"set webhost:domain.cacheRules.rulesetId to {FOREIGN_ID}" in message


def test_the_refusal_comes_before_the_ruleset_reaches_the_provider(tmp_path: Path) -> None:
    mocks = ZoneWithRulesets(entry_point("default"))
    with pytest.raises(EdgeError):
        run(stack_doc("prod"), tmp_path, stack="prod", preview=False, mocks=mocks)
    assert not any(t == RULESET for t in mocks.created)


def test_its_own_entry_point_is_not_refused(tmp_path: Path) -> None:
    # The second `pulumi up` finds the ruleset the first one made.
    evaluation = with_rulesets(tmp_path, entry_point(RULESET_NAME))
    assert evaluation.one(RULESET).inputs["zoneId"] == LOOKED_UP_ZONE_ID


def test_an_adopted_entry_point_is_not_refused(tmp_path: Path) -> None:
    doc = with_domain("prod", cacheRules={"rulesetId": FOREIGN_ID})
    evaluation = with_rulesets(tmp_path, entry_point("default"), doc=doc)
    assert evaluation.one(RULESET).inputs["zoneId"] == LOOKED_UP_ZONE_ID


def test_entry_points_of_other_phases_are_no_conflict(tmp_path: Path) -> None:
    evaluation = with_rulesets(
        tmp_path, entry_point("default", phase="http_request_firewall_custom")
    )
    assert evaluation.one(RULESET).inputs["zoneId"] == LOOKED_UP_ZONE_ID


def test_no_cache_rule_no_entry_point_check(tmp_path: Path) -> None:
    doc = with_domain("prod", cacheRules={"enabled": False})
    evaluation = with_rulesets(tmp_path, entry_point("default"), doc=doc)
    assert not any(i.token == GET_RULESETS for i in evaluation.invokes)


def test_offline_the_entry_point_check_leaves_the_ruleset_computed(tmp_path: Path) -> None:
    evaluation = evaluated(tmp_path, stack_doc("prod"), "prod")
    shown, _ = evaluation.one(RULESET).rendered_inputs()
    assert shown["zoneId"] == engine.COMPUTED
    assert shown["name"] == RULESET_NAME


# -- the rest of the graph ----------------------------------------------------------


def test_deploy_waits_for_the_addresses(tmp_path: Path) -> None:
    evaluation = evaluated(tmp_path, dns_only(), "staging")
    deploy = evaluation.one(COMMAND, "webhost-deploy")
    assert {ip.urn for ip in evaluation.by_type(IP)} <= set(deploy.dependencies)
    assert not any(r.urn in deploy.dependencies for r in evaluation.by_type(RECORD))


def test_prod_protects_addresses_and_certificates(tmp_path: Path) -> None:
    evaluation = evaluated(tmp_path, stack_doc("prod"), "prod")
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
        {"type": "A", "name": "www.webhost.example", "proxied": True},
        {"type": "TXT", "name": "_fly-ownership.www.webhost.example", "proxied": False},
    ]


def test_phx_host_is_the_first_host(tmp_path: Path) -> None:
    evaluation = after_up(tmp_path, with_domain("prod", hosts=["www", "@"]), "prod")
    assert 'PHX_HOST = "www.webhost.example"' in evaluation.rendered_outputs()["flyToml"]
