"""The edge's keys (`webhost:domain.*`): every rule, with the line an operator sees."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import config
from tests.configcase import base, only, text

# -- webhost:domain ------------------------------------------------------------------


def domain(**fields: Any) -> dict[str, Any]:
    return {"zone": "webhost.example", "hosts": ["@", "www"], "proxied": True, **fields}


@pytest.mark.parametrize(
    ("fields", "fqdns"),
    [
        (
            {"hosts": ["@", "www", "api.eu", "x.webhost.example."]},
            [
                "webhost.example",
                "www.webhost.example",
                "api.eu.webhost.example",
                "x.webhost.example",
            ],
        ),
        (
            # Wildcards, with the Origin CA certificate they need behind the proxy.
            {"hosts": ["@", "*", "*.eu", "*.api.webhost.example."], "certificate": "origin"},
            [
                "webhost.example",
                "*.webhost.example",
                "*.eu.webhost.example",
                "*.api.webhost.example",
            ],
        ),
    ],
    ids=["names", "wildcards"],
)
def test_domain_hosts_resolve_against_the_zone(fields: dict[str, Any], fqdns: list[str]) -> None:
    parsed = config.parse(base() | {"webhost:domain": text(domain(**fields))}).domain
    assert parsed is not None
    assert parsed.fqdns == fqdns


def test_ipv4_default_is_shared_in_both_modes() -> None:
    # Fly's Cloudflare guidance has an A record proxied and DNS-only alike.
    proxied = config.parse(base() | {"webhost:domain": text(domain(proxied=True))}).domain
    dns_only = config.parse(base() | {"webhost:domain": text(domain(proxied=False))}).domain
    assert proxied is not None and dns_only is not None
    assert (proxied.ipv4_kind, dns_only.ipv4_kind) == ("shared", "shared")


def test_host_outside_the_zone_is_rejected() -> None:
    line = only(domain=domain(hosts=["www", "api.other.org."]))
    assert line == (
        'webhost:domain.hosts = ["www", "api.other.org."]: '
        "api.other.org. is outside the zone webhost.example"
    )


def test_duplicate_hosts_are_rejected() -> None:
    line = only(domain=domain(hosts=["@", "webhost.example."]))
    assert line.endswith("webhost.example. names webhost.example, as @ does")


def test_invalid_host_name_is_rejected_with_its_index() -> None:
    line = only(domain=domain(hosts=["www", "Bad_Host"]))
    assert line.startswith('webhost:domain.hosts.1 = "Bad_Host": a name relative to the zone')


@pytest.mark.parametrize("host", ["*x", "a.*", "a.*.b", "**", "*.*", "*.", "*-a"])
def test_a_star_other_than_one_leading_label_is_rejected(host: str) -> None:
    line = only(domain=domain(hosts=["@", host], certificate="origin"))
    assert line.startswith(f'webhost:domain.hosts.1 = "{host}": a name relative to the zone')
    assert "* or *.eu for a wildcard" in line


def test_wildcard_behind_the_proxy_needs_an_origin_certificate() -> None:
    line = only(domain=domain(hosts=["@", "*"]))
    assert line == (
        'webhost:domain.hosts = ["@", "*"]: *: a wildcard host behind the proxy needs '
        "certificate: origin (and proxied: true); Fly cannot issue wildcards through "
        "Cloudflare's proxy (superfly/docs networking/understanding-cloudflare)"
    )


def test_wildcard_without_the_proxy_is_rejected() -> None:
    line = only(domain=domain(hosts=["*.eu"], proxied=False))
    assert line.startswith(
        'webhost:domain.hosts = ["*.eu"]: *.eu: a wildcard host without the proxy needs '
        "certificate: origin (and proxied: true)"
    )


def test_wildcard_duplicates_are_rejected() -> None:
    line = only(domain=domain(hosts=["*", "*.webhost.example."], certificate="origin"))
    assert line.endswith("*.webhost.example. names *.webhost.example, as * does")


def test_hosts_must_not_be_empty() -> None:
    assert only(domain=domain(hosts=[])).startswith(
        "webhost:domain.hosts = []: List should have at least 1"
    )


def test_zone_must_be_a_domain_name() -> None:
    line = only(domain=domain(zone="localhost"))
    assert line == 'webhost:domain.zone = "localhost": a domain name such as webhost.example'


def test_zone_id_format() -> None:
    line = only(domain=domain(zoneId="abc"))
    assert line == 'webhost:domain.zoneId = "abc": a Cloudflare zone id: 32 hex digits'


def test_proxied_is_required() -> None:
    fields = domain()
    del fields["proxied"]
    assert only(domain=fields) == "webhost:domain.proxied: required, not set"


def test_unknown_domain_key_suggests() -> None:
    assert (
        only(domain=domain(proxy=True))
        == "webhost:domain.proxy = true: unknown key (did you mean proxied?)"
    )


def test_ipv4_kind_is_a_closed_set() -> None:
    assert only(domain=domain(ipv4="anycast")).startswith(
        'webhost:domain.ipv4 = "anycast": Input should be'
    )


def test_cache_path_must_be_a_path() -> None:
    line = only(domain=domain(cacheRules={"paths": ["assets"]}))
    assert line == (
        'webhost:domain.cacheRules.paths.0 = "assets": '
        "a URL path, `*` at the end for a prefix (/assets/*)"
    )


def test_cache_ttl_bounds() -> None:
    line = only(domain=domain(cacheRules={"edgeTtlSeconds": 10}))
    assert line == (
        "webhost:domain.cacheRules.edgeTtlSeconds = 10: Input should be greater than or equal to 60"
    )


# -- webhost:domain.certificate ---------------------------------------------------------


def test_certificate_defaults_to_acme() -> None:
    parsed = config.parse(base()).domain
    assert parsed is not None
    assert parsed.certificate == "acme"


def test_origin_certificate_defaults_to_fifteen_years_of_ecdsa() -> None:
    raw = base() | {"webhost:domain": text(domain(certificate="origin"))}
    parsed = config.parse(raw).domain
    assert parsed is not None
    assert parsed.certificate == "origin"
    assert parsed.origin_certificate.validity_days == 5475
    assert parsed.origin_certificate.request_type == "origin-ecc"


def test_origin_certificate_rsa_asks_for_origin_rsa() -> None:
    origin = {"keyType": "rsa", "validityDays": 365}
    raw = base() | {"webhost:domain": text(domain(certificate="origin", originCertificate=origin))}
    parsed = config.parse(raw).domain
    assert parsed is not None
    assert parsed.origin_certificate.request_type == "origin-rsa"
    assert parsed.origin_certificate.validity_days == 365


def test_origin_certificate_needs_the_proxy() -> None:
    line = only(domain=domain(certificate="origin", proxied=False))
    assert line == (
        'webhost:domain.certificate = "origin": needs proxied: true; an Origin CA certificate '
        "is trusted only by Cloudflare's proxy, so browsers reaching Fly directly would "
        "refuse it"
    )


def test_certificate_is_acme_or_origin() -> None:
    line = only(domain=domain(certificate="letsencrypt"))
    assert line.startswith('webhost:domain.certificate = "letsencrypt": Input should be')


def test_origin_validity_is_a_period_cloudflare_issues() -> None:
    line = only(domain=domain(certificate="origin", originCertificate={"validityDays": 100}))
    assert line == (
        "webhost:domain.originCertificate.validityDays = 100: one of the validity periods "
        "Cloudflare's Origin CA issues: 7, 30, 90, 365, 730, 1095, 5475 (days)"
    )


@pytest.mark.parametrize(
    "hosts", [["*", "@"], ["*.eu", "www"], ["*"], ["*.api.webhost.example.", "@"]]
)
def test_a_wildcard_first_host_is_refused(hosts: list[str]) -> None:
    # The first host is PHX_HOST, the stack's url and the probes' target.
    line = only(domain=domain(hosts=hosts, certificate="origin"))
    assert line == (
        f"webhost:domain.hosts = {json.dumps(hosts)}: {hosts[0]}: the first host is the app's "
        "PHX_HOST, the stack's url and the probes' target, so one concrete name; list a "
        "wildcard after it"
    )


def test_a_wildcard_after_a_concrete_host_is_taken() -> None:
    raw = base() | {"webhost:domain": text(domain(hosts=["www", "*"], certificate="origin"))}
    parsed = config.parse(raw)
    assert parsed.with_derived_env()["PHX_HOST"] == "www.webhost.example"


@pytest.mark.parametrize("count", [201, 250, 1000])
def test_an_origin_certificate_over_200_names_is_refused(count: int) -> None:
    hosts = ["@", *(f"h{i}" for i in range(count - 1))]
    line = only(domain=domain(hosts=hosts, certificate="origin"))
    assert line.startswith("webhost:domain.hosts = [")
    assert line.endswith(
        f"{count} hosts, over the 200 names Cloudflare's Origin CA puts in one certificate"
    )


def test_an_origin_certificate_of_200_names_is_taken() -> None:
    hosts = ["@", *(f"h{i}" for i in range(199))]
    # Without the cache rule, whose expression 200 names would take past 4096.
    fields = domain(hosts=hosts, certificate="origin", cacheRules={"enabled": False})
    raw = base() | {"webhost:domain": text(fields)}
    assert len(config.parse(raw).domain.fqdns) == 200  # type: ignore[union-attr]


@pytest.mark.parametrize("length", [49, 50, 63])
def test_an_origin_certificate_whose_first_name_is_over_64_is_refused(length: int) -> None:
    # The CSR's common name is the first host (components/tls.py): at most 64 characters.
    first = "a" * length  # + ".webhost.example", 16 more
    line = only(domain=domain(hosts=[first, "www"], certificate="origin"))
    fqdn = f"{first}.webhost.example"
    assert line.endswith(
        f"{fqdn} is {len(fqdn)} characters; the certificate request names the first host as "
        "its common name, at most 64 (RFC 5280): list a shorter host first"
    )


def test_an_origin_certificate_whose_first_name_is_64_is_taken_and_its_csr_builds() -> None:
    from components import tls

    first = "a" * 48
    raw = base() | {"webhost:domain": text(domain(hosts=[first, "www"], certificate="origin"))}
    parsed = config.parse(raw).domain
    assert parsed is not None and len(parsed.fqdns[0]) == 64
    assert "BEGIN CERTIFICATE REQUEST" in tls.csr_pem(tls.generate("ecdsa"), parsed.fqdns)


@pytest.mark.parametrize(
    ("hosts", "paths"),
    [
        (120, ["/assets/*"]),
        (200, ["/assets/*"]),
        (2, [f"/p{i:03}/*" for i in range(100)]),
    ],
    ids=["many-hosts", "origin-maximum", "many-paths"],
)
def test_a_cache_rule_expression_past_cloudflares_4096_is_refused(
    hosts: int, paths: list[str]
) -> None:
    names = ["@", *(f"host-number-{i:03}.eu" for i in range(hosts - 1))]
    fields = domain(hosts=names, certificate="origin", cacheRules={"paths": paths})
    line = only(domain=fields)
    assert line.startswith("webhost:domain.cacheRules.paths = [")
    assert f"the cache rule's expression for {hosts} hosts and these paths is " in line
    assert line.endswith(
        "characters, over the 4096 Cloudflare takes; fewer hosts or paths, or "
        "cacheRules.enabled: false"
    )
    # Not proxied (wildcards aside) or not enabled, there is no rule to refuse.
    fields["cacheRules"]["enabled"] = False
    assert config.parse(base() | {"webhost:domain": text(fields)}).domain is not None


def test_a_cache_rule_expression_at_most_4096_is_taken() -> None:
    from components.cache_rule import cache_expression

    names = ["@", *(f"h{i}" for i in range(150))]
    parsed = config.parse(base() | {"webhost:domain": text(domain(hosts=names))}).domain
    assert parsed is not None
    assert len(cache_expression(parsed.fqdns, list(parsed.cache_rules.paths))) <= 4096
