"""The edge: the custom domain on Cloudflare, its certificates and cache rule, and the
security headers (`webhost:domain.*`, `webhost:securityHeaders.*`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from components import catalog
from components.cache_rule import RULE_EXPRESSION_MAX, cache_expression
from components.config.validators import Duration, Model, matches, seconds

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# RFC 1035 section 2.3.4: a label is at most 63 octets (the pattern's {0,61}), a name
# at most 255 on the wire, which is 253 characters in dotted text without the root dot.
DNS_NAME_MAX = 253


def _dns_length(name: str) -> str:
    if len(name.removesuffix(".")) > DNS_NAME_MAX:
        raise ValueError(f"longer than a DNS name may be ({DNS_NAME_MAX} characters)")
    return name


DnsName = Annotated[
    str,
    matches(
        rf"(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,61}}[a-z0-9]", "a domain name such as webhost.example"
    ),
    AfterValidator(_dns_length),
]
HostName = Annotated[
    str,
    # A wildcard is one whole leading `*` label (RFC 6125 6.4.3; Cloudflare's Origin
    # CA takes `*.` only on the left, its API's hostnames description as the e2e fake
    # e2e/fake_cloudflare/fakecf/origin_ca.py records): `*` is the zone's `*.zone`.
    matches(
        rf"@|\*|(?:\*\.)?(?:{_LABEL}\.)*{_LABEL}\.?",
        "a name relative to the zone (www, api.eu, @ for the apex, * or *.eu for a "
        "wildcard) or a fully qualified name ending in a dot",
    ),
    AfterValidator(_dns_length),
]
ZoneId = Annotated[str, matches(r"[0-9a-f]{32}", "a Cloudflare zone id: 32 hex digits")]
RulesetId = Annotated[str, matches(r"[0-9a-f]{32}", "a Cloudflare ruleset id: 32 hex digits")]
PathPattern = Annotated[
    str,
    matches(r"/[A-Za-z0-9._~/-]*\*?", "a URL path, `*` at the end for a prefix (/assets/*)"),
]


# One year: the HSTS max-age hstspreload.org's submission rules ask for. The bound is
# ours: a longer max-age buys nothing and takes longer to undo.
HSTS_MAX_AGE_DEFAULT = 31_536_000
HSTS_MAX_AGE_MAX = 31_536_000


class SecurityHeaders(Model):
    """HSTS and nosniff: at Cloudflare when proxied, else from Fly's proxy. CSP stays in the app."""

    enabled: bool = True
    """Send Strict-Transport-Security and X-Content-Type-Options: nosniff."""
    hsts_max_age: Annotated[int, Field(ge=0, le=HSTS_MAX_AGE_MAX)] = HSTS_MAX_AGE_DEFAULT
    """HSTS max-age in seconds (one year by default)."""
    include_subdomains: bool = False
    """HSTS includeSubDomains: every name under the zone must then serve HTTPS."""
    preload: bool = False
    """HSTS preload: hard to undo (browsers ship the list); off by default."""
    nosniff: bool = True
    """X-Content-Type-Options: nosniff."""

    @field_validator("preload")
    @classmethod
    def _preload_rules(cls, preload: bool, info: ValidationInfo) -> bool:
        # hstspreload.org's submission rules: max-age at least one year and
        # includeSubDomains, or the list refuses the domain.
        if preload and (
            info.data.get("hsts_max_age", 0) < HSTS_MAX_AGE_DEFAULT
            or not info.data.get("include_subdomains")
        ):
            raise ValueError(
                f"preload needs hstsMaxAge of at least {HSTS_MAX_AGE_DEFAULT} and "
                "includeSubdomains: true (hstspreload.org's rules)"
            )
        return preload


class CacheRules(Model):
    """Cloudflare caching of Phoenix's static files (proxied mode only)."""

    enabled: bool = True
    """Make the cache rule (it only acts on proxied traffic)."""
    paths: Annotated[list[PathPattern], Field(min_length=1)] = list(catalog.STATIC_PATHS)
    """Paths cached at the edge; `*` at the end matches a prefix."""
    edge_ttl_seconds: Annotated[int, Field(ge=60, le=catalog.STATIC_EDGE_TTL_SECONDS)] = (
        catalog.STATIC_EDGE_TTL_SECONDS
    )
    """How long Cloudflare keeps them, ignoring the origin's headers."""
    ruleset_id: RulesetId | None = None
    """The zone's existing cache-rules entry point, adopted with `pulumi import`."""


class CertificateWait(Model):
    """After its DNS records exist, each certificate is checked until Fly has issued it."""

    timeout: Duration = "5m"
    """Longest wait per host; Let's Encrypt usually issues within a minute or two."""
    interval: Duration = "10s"
    """Time between checks (each asks Fly to validate again)."""
    on_timeout: Literal["fail", "warn"] = "fail"
    """`fail` stops the update naming the host and the missing record; `warn` carries on."""

    @field_validator("interval")
    @classmethod
    def _interval_below_timeout(cls, interval: str, info: ValidationInfo) -> str:
        timeout = info.data.get("timeout")
        if timeout is not None and seconds(interval) > seconds(timeout):
            raise ValueError(f"must be at most timeout ({timeout})")
        return interval

    @property
    def timeout_seconds(self) -> float:
        return float(seconds(self.timeout))

    @property
    def interval_seconds(self) -> float:
        return float(seconds(self.interval))


# Cloudflare's Origin CA (pulumi_cloudflare 6.23.1 origin_ca_certificate.py; the
# Terraform provider's internal/services/origin_ca_certificate/schema.go): the validity
# periods it issues, in days (5475, fifteen years, is its default), and its request
# type per key type ("origin-ecc" signs an ECDSA key, "origin-rsa" an RSA one).
ORIGIN_VALIDITY_DAYS = (7, 30, 90, 365, 730, 1095, 5475)
ORIGIN_REQUEST_TYPES: dict[str, str] = {"ecdsa": "origin-ecc", "rsa": "origin-rsa"}
# "Certificates may be generated with up to 200 individual Subject Alternative Names"
# (developers.cloudflare.com/ssl/origin-configuration/origin-ca/, hostname coverage).
ORIGIN_MAX_HOSTNAMES = 200
# The CSR (components/tls.py csr_pem) names the first host as its subject's common name,
# which X.509 bounds at 64 characters (RFC 5280 appendix A, ub-common-name); the
# `cryptography` library refuses a longer one when `up` builds the CSR.
COMMON_NAME_MAX = 64


def _origin_validity(days: int) -> int:
    if days not in ORIGIN_VALIDITY_DAYS:
        raise ValueError(
            "one of the validity periods Cloudflare's Origin CA issues: "
            f"{', '.join(str(d) for d in ORIGIN_VALIDITY_DAYS)} (days)"
        )
    return days


class OriginCertificate(Model):
    """The Cloudflare Origin CA certificate of `certificate: origin`."""

    validity_days: Annotated[int, AfterValidator(_origin_validity)] = ORIGIN_VALIDITY_DAYS[-1]
    """Days the certificate is valid (Cloudflare's default and longest: 5475, 15 years)."""
    key_type: Literal["ecdsa", "rsa"] = "ecdsa"
    """The key generated in the program: ECDSA P-256 (`origin-ecc`) or RSA 2048 (`origin-rsa`)."""

    @property
    def request_type(self) -> str:
        return ORIGIN_REQUEST_TYPES[self.key_type]


class Domain(Model):
    """The app's public names, on a Cloudflare zone. Field order matters for checks."""

    zone: DnsName
    """Cloudflare zone name (`webhost.example`)."""
    zone_id: ZoneId | None = None
    """Cloudflare zone id; looked up by name when absent."""
    hosts: Annotated[list[HostName], Field(min_length=1)]
    """Names the app answers on, relative to the zone (`@`, `www`); each gets a certificate.
    The first is the app's PHX_HOST and url, never a wildcard; a wildcard (`*` for
    `*.zone`, `*.eu`) needs `certificate: origin` behind the proxy."""
    proxied: bool
    """Cloudflare's proxy in front (A and AAAA proxied) or DNS only (A and AAAA unproxied)."""
    ipv4: catalog.Ipv4Kind | None = None
    """IPv4 to allocate: `shared` (the default), `dedicated` or `none`."""
    owns_zone: bool = True
    """This stack manages zone-wide SSL/TLS settings, CAA and cache rule (one stack per zone)."""
    cache_rules: CacheRules = CacheRules()
    """Edge caching of static assets."""
    certificate_wait: CertificateWait = CertificateWait()
    """How long `up` waits for each certificate to be issued, and what a timeout does."""
    certificate: Literal["acme", "origin"] = "acme"
    """`acme`: Fly issues Let's Encrypt certificates; `origin`: a Cloudflare Origin CA
    certificate made here is imported into Fly (proxied only)."""
    origin_certificate: OriginCertificate = OriginCertificate()
    """Validity and key type of the Origin CA certificate (`certificate: origin`)."""

    @field_validator("certificate")
    @classmethod
    def _origin_needs_proxy(cls, certificate: str, info: ValidationInfo) -> str:
        # An Origin CA certificate is trusted by Cloudflare's proxy alone, never by a
        # browser: Cloudflare's docs (developers.cloudflare.com/ssl/origin-configuration/
        # origin-ca/) have it only for an origin that "only receives traffic from proxied
        # records"; Fly's guidance imports one only behind the proxy (superfly/docs
        # networking/understanding-cloudflare.html.md, "Using a Cloudflare Origin Certificate").
        if certificate == "origin" and info.data.get("proxied") is False:
            raise ValueError(
                "needs proxied: true; an Origin CA certificate is trusted only by "
                "Cloudflare's proxy, so browsers reaching Fly directly would refuse it"
            )
        return certificate

    @field_validator("hosts")
    @classmethod
    def _hosts_in_zone(cls, hosts: list[str], info: ValidationInfo) -> list[str]:
        zone = info.data.get("zone")
        if zone is None:
            return hosts
        seen: dict[str, str] = {}
        for host in hosts:
            name = _fqdn(zone, host)
            if len(name) > DNS_NAME_MAX:
                raise ValueError(f"{host} makes a name longer than {DNS_NAME_MAX} characters")
            if name != zone and not name.endswith(f".{zone}"):
                raise ValueError(f"{host} is outside the zone {zone}")
            if name in seen:
                raise ValueError(f"{host} names {name}, as {seen[name]} does")
            seen[name] = host
        return hosts

    @model_validator(mode="after")
    def _wildcards_need_origin(self) -> Domain:
        # Fly cannot issue a wildcard through Cloudflare's proxy; its guidance imports
        # an Origin CA certificate instead (superfly/docs networking/
        # understanding-cloudflare.html.md, "wildcard ... cannot be issued
        # automatically"). DNS only, Let's Encrypt wildcards need DNS-01 (superfly/docs
        # networking/custom-domain.html.markerb, "DNS Challenge"), whose record for
        # `*.zone` is `_acme-challenge.zone` (RFC 8555 7.1.3, 8.4): the apex's own
        # challenge name, and not a name Fly's docs or flyctl confirm; refused.
        wild = [h for h in self.hosts if h.startswith("*")]
        if wild and self.certificate != "origin":
            where = "behind the proxy" if self.proxied else "without the proxy"
            raise ValueError(
                f"@hosts: {', '.join(wild)}: a wildcard host {where} needs certificate: "
                "origin (and proxied: true); Fly cannot issue wildcards through Cloudflare's "
                "proxy (superfly/docs networking/understanding-cloudflare)"
            )
        return self

    @model_validator(mode="after")
    def _first_host_is_one_name(self) -> Domain:
        # The first host is where the app is: its PHX_HOST (StackConfig.with_derived_env),
        # the stack's `url` output and the probes' target (components/platform.py).
        # Phoenix builds URLs from PHX_HOST and a `*.` name is no host a probe or a
        # browser can reach.
        if self.hosts[0].startswith("*"):
            raise ValueError(
                f"@hosts: {self.hosts[0]}: the first host is the app's PHX_HOST, the stack's "
                "url and the probes' target, so one concrete name; list a wildcard after it"
            )
        return self

    @model_validator(mode="after")
    def _origin_certificate_takes_the_names(self) -> Domain:
        if self.certificate != "origin":
            return self
        if len(self.hosts) > ORIGIN_MAX_HOSTNAMES:
            raise ValueError(
                f"@hosts: {len(self.hosts)} hosts, over the {ORIGIN_MAX_HOSTNAMES} names "
                "Cloudflare's Origin CA puts in one certificate"
            )
        if len(first := self.fqdns[0]) > COMMON_NAME_MAX:
            raise ValueError(
                f"@hosts: {first} is {len(first)} characters; the certificate request names "
                f"the first host as its common name, at most {COMMON_NAME_MAX} (RFC 5280): "
                "list a shorter host first"
            )
        return self

    @model_validator(mode="after")
    def _cache_rule_fits(self) -> Domain:
        if not (self.proxied and self.cache_rules.enabled):
            return self
        length = len(cache_expression(self.fqdns, list(self.cache_rules.paths)))
        if length > RULE_EXPRESSION_MAX:
            raise ValueError(
                f"@cacheRules.paths: the cache rule's expression for {len(self.hosts)} hosts "
                f"and these paths is {length} characters, over the {RULE_EXPRESSION_MAX} "
                "Cloudflare takes; fewer hosts or paths, or cacheRules.enabled: false"
            )
        return self

    @property
    def fqdns(self) -> list[str]:
        """Each host's fully qualified name (no trailing dot), in config order."""
        return [_fqdn(self.zone, host) for host in self.hosts]

    @property
    def ipv4_kind(self) -> catalog.Ipv4Kind:
        """Fly's guidance has an A record in both modes (superfly/docs
        networking/understanding-cloudflare.html.md @ 5c22c8c): a free shared IPv4."""
        return "shared" if self.ipv4 is None else self.ipv4


def _fqdn(zone: str, host: str) -> str:
    if host == "@":
        return zone
    if host.endswith("."):
        return host.removesuffix(".")
    return f"{host}.{zone}"
