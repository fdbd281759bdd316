"""The stack config contract: every rule, with the line an operator sees."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cli import stackfile
from components import config
from components.config import ConfigError
from tests.conftest import PROJECT_FILE, ROOT


def base() -> dict[str, str]:
    return dict(stackfile.load(ROOT / "Pulumi.prod.yaml", PROJECT_FILE).config)


def text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def problems(secret_keys: tuple[str, ...] = (), **overrides: Any) -> list[str]:
    raw = base()
    for key, value in overrides.items():
        if value is None:
            raw.pop(f"webhost:{key}", None)
        else:
            raw[f"webhost:{key}"] = text(value)
    with pytest.raises(ConfigError) as caught:
        config.parse(raw, secret_keys)
    return caught.value.problems


def only(**overrides: Any) -> str:
    found = problems(**overrides)
    assert len(found) == 1, found
    return found[0]


def test_real_stack_files_parse() -> None:
    for stack in ("staging", "prod"):
        loaded = stackfile.load(ROOT / f"Pulumi.{stack}.yaml", PROJECT_FILE)
        parsed = config.parse(loaded.config, loaded.secret_keys)
        assert parsed.primary_region == "iad"
        assert parsed.http.health_check.path == "/api/health"


def test_prod_keeps_the_runbook_regions_and_limits() -> None:
    parsed = config.parse(base())
    assert parsed.regions == {"iad": 3, "fra": 2, "sin": 1}
    assert parsed.active_regions == ["iad", "fra", "sin"]
    assert (parsed.http.concurrency.soft_limit, parsed.http.concurrency.hard_limit) == (750, 1000)
    assert parsed.http.internal_port == 4000
    assert parsed.protect is True


def test_runbook_professional_sizing_is_rejected_on_memory() -> None:
    line = only(vm={"cpuKind": "performance", "cpus": 4, "memoryMb": 4096})
    assert line == (
        "webhost:vm.memoryMb = 4096: performance VMs take 2048..8192 MB per CPU, "
        "so 8192..32768 MB for 4 CPUs"
    )


def test_runbook_business_sizing_is_rejected_on_memory() -> None:
    line = only(vm={"cpuKind": "performance", "cpus": 8, "memoryMb": 8192})
    assert line.startswith("webhost:vm.memoryMb = 8192: performance VMs take 2048..8192 MB")
    assert "16384..65536 MB for 8 CPUs" in line


def test_memory_must_be_a_multiple_of_256() -> None:
    line = only(vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 1000})
    assert line == "webhost:vm.memoryMb = 1000: shared VMs take memory in multiples of 256 MB"


def test_performance_memory_comes_in_whole_gigabytes() -> None:
    # flyctl internal/machine/update.go: performance memory % 1024 must be 0.
    line = only(vm={"cpuKind": "performance", "cpus": 2, "memoryMb": 4352})
    assert line == (
        "webhost:vm.memoryMb = 4352: performance VMs take memory in multiples of 1024 MB"
    )


@pytest.mark.parametrize(
    ("kind", "cpus", "memory"),
    [("shared", 6, 1536), ("performance", 6, 12288), ("performance", 10, 20480)]
    + [("performance", n, n * 2048) for n in (12, 14, 16)],
)
def test_every_preset_cpu_count_is_offered(kind: str, cpus: int, memory: int) -> None:
    # fly-go machine_types.go MachinePresets: shared-cpu-6x, performance-6x .. -16x.
    raw = base() | {"webhost:vm": text({"cpuKind": kind, "cpus": cpus, "memoryMb": memory})}
    assert config.parse(raw).vm.cpus == cpus


@pytest.mark.parametrize(
    ("kind", "cpus"), [("shared", 3), ("shared", 16), ("performance", 3), ("performance", 32)]
)
def test_cpu_counts_without_a_preset_are_refused(kind: str, cpus: int) -> None:
    line = only(vm={"cpuKind": kind, "cpus": cpus, "memoryMb": 2048 * cpus})
    assert line.startswith(f"webhost:vm.cpus = {cpus}: {kind} VMs come with ")


def test_shared_cpu_memory_ceiling() -> None:
    line = only(vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 4096})
    assert line == (
        "webhost:vm.memoryMb = 4096: shared VMs take 256..2048 MB per CPU, "
        "so 256..2048 MB for 1 CPU"
    )


def test_cpu_count_must_be_offered() -> None:
    line = only(vm={"cpuKind": "shared", "cpus": 3, "memoryMb": 1024})
    assert line == "webhost:vm.cpus = 3: shared VMs come with 1, 2, 4, 6, 8 CPUs"


def test_cpu_kind_must_be_known() -> None:
    line = only(vm={"cpuKind": "dedicated", "cpus": 1, "memoryMb": 1024})
    assert line.startswith('webhost:vm.cpuKind = "dedicated": Input should be')
    assert "'shared' or 'performance'" in line


def test_unknown_region_suggests_the_nearest() -> None:
    line = only(regions={"iad": 3, "fr": 2, "sin": 1})
    assert line.startswith('webhost:regions.fr = "fr": not a Fly region (did you mean fra?)')


def test_retired_region_is_rejected() -> None:
    assert "not a Fly region" in only(regions={"iad": 3, "sea": 1})


def test_negative_machine_count_is_rejected() -> None:
    line = only(regions={"iad": 3, "fra": -1})
    assert line == "webhost:regions.fra = -1: Input should be greater than or equal to 0"


def test_regions_must_not_be_empty() -> None:
    found = problems(regions={})
    assert any(
        p.startswith("webhost:regions = {}: Dictionary should have at least 1") for p in found
    )


def test_primary_region_needs_machines() -> None:
    line = only(regions={"iad": 0, "fra": 2})
    assert line == (
        'webhost:primaryRegion = "iad": must be one of `regions` with at least one machine'
    )


def test_min_machines_running_fits_the_primary_region() -> None:
    line = only(http={"minMachinesRunning": 4})
    assert line == (
        "webhost:http.minMachinesRunning = 4: exceeds the 3 machine(s) in the primary region iad"
    )


def test_hard_limit_at_least_soft_limit() -> None:
    line = only(http={"concurrency": {"softLimit": 900, "hardLimit": 800}})
    assert line == "webhost:http.concurrency.hardLimit = 800: must be at least softLimit (900)"


def test_health_check_timeout_below_interval() -> None:
    line = only(http={"healthCheck": {"interval": "5s", "timeout": "10s"}})
    assert line == 'webhost:http.healthCheck.timeout = "10s": must be shorter than interval (5s)'


def test_health_check_duration_format() -> None:
    line = only(http={"healthCheck": {"interval": "fifteen"}})
    assert line == (
        'webhost:http.healthCheck.interval = "fifteen": '
        "a duration such as 15s, 1m30s or 500ms (units ns, us, ms, s, m, h)"
    )


@pytest.mark.parametrize("interval", ["1m30s", "1.5m", "15000ms", "2562047h", "1h500\u00b5s"])
def test_a_check_takes_what_gos_parser_takes(interval: str) -> None:
    # The deep check's interval: the one duration with no upper bound of Fly's.
    raw = base() | {"webhost:http": text({"deepCheck": {"interval": interval}})}
    assert config.parse(raw).http.deep_check.interval == interval


def test_health_check_duration_beyond_gos_range_is_refused() -> None:
    # Go's time.ParseDuration overflows past 1<<63-1 ns (2562047h47m16.854775807s).
    line = only(http={"healthCheck": {"gracePeriod": "2562048h"}})
    assert line.startswith('webhost:http.healthCheck.gracePeriod = "2562048h": longer than Go')


def test_health_check_path_is_absolute() -> None:
    line = only(http={"healthCheck": {"path": "api/health"}})
    assert line.endswith("an absolute URL path such as /health")


def test_port_range() -> None:
    line = only(http={"internalPort": 70000})
    assert line == "webhost:http.internalPort = 70000: Input should be less than or equal to 65535"


def test_auto_stop_accepts_the_legacy_boolean() -> None:
    raw = base()
    raw["webhost:http"] = json.dumps({"autoStopMachines": True, "minMachinesRunning": 1})
    assert config.parse(raw).http.auto_stop_machines == "stop"


def test_app_name_rule() -> None:
    line = only(appName="WebHost_Prod")
    assert line == (
        'webhost:appName = "WebHost_Prod": 1..63 lowercase letters, digits and dashes, '
        "not starting or ending with a dash"
    )


def test_image_rule() -> None:
    assert only(image="not an image").endswith(
        "an image reference such as registry.fly.io/webhost:v1.2.3 or ...@sha256:<digest>"
    )


def test_tier_and_strategy_are_closed_sets() -> None:
    assert only(tier="enterprise").startswith('webhost:tier = "enterprise": Input should be')
    assert only(deployStrategy="yolo").startswith(
        'webhost:deployStrategy = "yolo": Input should be'
    )


def test_customers_not_negative() -> None:
    assert (
        only(customers=-5) == "webhost:customers = -5: Input should be greater than or equal to 0"
    )


def test_secret_names_are_refused_in_plain_env() -> None:
    line = only(env={"DATABASE_URL": "postgres://u:p@h/db"})
    assert line == (
        'webhost:env.DATABASE_URL = "DATABASE_URL": is a secret: the program sets it '
        "through Fly secrets, never plain env"
    )
    assert "u:p@h" not in line


def test_derived_env_names_are_refused() -> None:
    assert "is derived" in only(env={"PORT": "8080"})


def test_env_name_format() -> None:
    assert only(env={"phx-host": "x"}).endswith(
        "an environment name such as PHX_HOST (A-Z, 0-9, _)"
    )


def test_unknown_top_level_key_suggests() -> None:
    assert (
        only(regoins={"iad": 1})
        == 'webhost:regoins = {"iad": 1}: unknown key (did you mean regions?)'
    )


def test_unknown_nested_key_suggests() -> None:
    found = problems(vm={"cpuKind": "shared", "cpus": 1, "memoryMB": 1024})
    assert "webhost:vm.memoryMB = 1024: unknown key (did you mean memoryMb?)" in found
    assert "webhost:vm.memoryMb: required, not set" in found


def test_missing_required_key() -> None:
    assert only(org=None) == "webhost:org: required, not set"


def test_plain_text_secret_is_refused_without_echoing_it() -> None:
    line = only(stripeSecretKey="sk_live_123")
    assert line == (
        "webhost:stripeSecretKey: is a secret; set it with "
        "`pulumi config set --secret webhost:stripeSecretKey <value>`"
    )


def test_secure_secret_is_accepted_and_kept_secret() -> None:
    raw = base() | {"webhost:stripeSecretKey": "sk_live_123"}
    parsed = config.parse(raw, {"webhost:stripeSecretKey"})
    assert parsed.operator_secrets()["STRIPE_SECRET_KEY"].get_secret_value() == "sk_live_123"
    assert "sk_live_123" not in repr(parsed)


def test_every_problem_is_reported_at_once_one_line_each() -> None:
    found = problems(
        appName="Bad_Name",
        vm={"cpuKind": "performance", "cpus": 4, "memoryMb": 4096},
        regions={"iad": 3, "xyz": 1},
    )
    assert len(found) == 3
    assert [p.split(" ")[0] for p in found] == [
        "webhost:appName",
        "webhost:regions.xyz",
        "webhost:vm.memoryMb",
    ]
    assert all("\n" not in p for p in found)


def test_other_namespaces_are_left_to_their_providers() -> None:
    raw = base() | {"cloudflare:apiToken": "x", "fly:region": "iad"}
    assert config.parse(raw).app_name == "webhost-prod"


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


# -- webhost:postgres / webhost:redis -------------------------------------------------


def postgres_doc(**fields: Any) -> dict[str, Any]:
    return {
        "vm": {"cpuKind": "shared", "cpus": 1, "memoryMb": 1024},
        "volumeGb": 10,
        **fields,
    }


def test_postgres_defaults_follow_the_runbook() -> None:
    parsed = config.parse(base() | {"webhost:postgres": text(postgres_doc())})
    pg = parsed.postgres
    assert pg is not None
    assert pg.extensions == ["timescaledb", "postgis", "uuid-ossp"]
    assert (pg.max_connections, pg.pool_size) == (200, 10)
    assert pg.image == "flyio/postgres-flex-timescaledb:16"
    assert (parsed.postgres_name, parsed.database_name) == ("webhost-prod-db", "webhost_prod")
    assert parsed.data_secret_names == ["DATABASE_URL", "DATABASE_READ_URL", "REDIS_URL"]


def test_postgres_vm_obeys_flys_size_rules() -> None:
    line = only(postgres=postgres_doc(vm={"cpuKind": "performance", "cpus": 2, "memoryMb": 2048}))
    assert line.startswith(
        "webhost:postgres.vm.memoryMb = 2048: performance VMs take 2048..8192 MB"
    )


def test_postgres_volume_bounds() -> None:
    assert only(postgres=postgres_doc(volumeGb=0)) == (
        "webhost:postgres.volumeGb = 0: Input should be greater than or equal to 1"
    )


def test_postgres_replica_in_the_primary_region_is_rejected() -> None:
    line = only(postgres=postgres_doc(replicaRegions=["fra", "iad"]))
    assert line == (
        'webhost:postgres.replicaRegions = ["fra", "iad"]: iad is the primary region, not a replica'
    )


def test_postgres_replica_regions_unique_and_real() -> None:
    assert only(postgres=postgres_doc(replicaRegions=["fra", "fra"])).endswith("fra listed twice")
    assert "not a Fly region" in only(postgres=postgres_doc(replicaRegions=["mars"]))


def test_postgres_pool_must_fit_max_connections() -> None:
    line = only(postgres=postgres_doc(poolSize=40, maxConnections=200))
    assert line == (
        "webhost:postgres.poolSize = 40: 40 x 6 app machines = 240 connections, over the 190 "
        "that maxConnections 200 leaves after 10 reserved"
    )


def test_backups_need_members_with_512_mb() -> None:
    line = only(postgres=postgres_doc(vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 256}))
    assert line == (
        "webhost:postgres.vm.memoryMb = 256: "
        "backups need members with at least 512 MB (or backups.enabled: false)"
    )
    small = postgres_doc(
        vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 256}, backups={"enabled": False}
    )
    assert config.parse(base() | {"webhost:postgres": text(small)}).postgres is not None


def test_backup_periods() -> None:
    # postgres-flex's rule (internal/flypg/barman_config.go); more in test_bad_input.py
    assert only(postgres=postgres_doc(backups={"recoveryWindow": "1 week"})).endswith(
        "a whole number of days or weeks such as 7d or 2w"
    )
    line = only(
        postgres=postgres_doc(
            backups={"fullBackupFrequency": "90m", "recoveryPointObjective": "1h"}
        )
    )
    assert line.endswith("must be at least fullBackupFrequency (90m)")
    line = only(
        postgres=postgres_doc(
            backups={"fullBackupFrequency": "48h", "recoveryPointObjective": "24h"}
        )
    )
    assert line.endswith("must be at least fullBackupFrequency (48h)")


def test_extension_names() -> None:
    assert only(postgres=postgres_doc(extensions=["PostGIS; DROP"])).startswith(
        'webhost:postgres.extensions.0 = "PostGIS; DROP": a lowercase Postgres name'
    )


def test_redis_replica_in_its_primary_is_rejected() -> None:
    assert only(redis={"replicaRegions": ["iad"]}) == (
        'webhost:redis.replicaRegions = ["iad"]: the primary region is not a replica'
    )
    assert only(redis={"primaryRegion": "fra", "replicaRegions": ["fra"]}) == (
        'webhost:redis.replicaRegions = ["fra"]: the primary region is not a replica'
    )


def test_redis_unknown_key_suggests() -> None:
    assert (
        only(redis={"evict": True})
        == "webhost:redis.evict = true: unknown key (did you mean eviction?)"
    )


def test_pool_size_is_derived_not_set() -> None:
    assert "POOL_SIZE from postgres.poolSize" in only(env={"POOL_SIZE": "5"})


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


# -- what Fly, Cloudflare or Grafana would refuse (or quietly change) at `up` -------------
# Each rule cites its source beside it in components/config.py and components/catalog.py.


@pytest.mark.parametrize(
    ("check", "key", "value"),
    [
        ({"interval": "900ms"}, "interval", "900ms"),
        ({"interval": "61s"}, "interval", "61s"),
        ({"interval": "2m"}, "interval", "2m"),
        ({"timeout": "999ms"}, "timeout", "999ms"),
        ({"interval": "60s", "timeout": "1m0.5s"}, "timeout", "1m0.5s"),
        ({"gracePeriod": "0.5s"}, "gracePeriod", "0.5s"),
        ({"gracePeriod": "5m"}, "gracePeriod", "5m"),
        ({"gracePeriod": "1m1ns"}, "gracePeriod", "1m1ns"),
    ],
)
def test_a_routing_check_duration_fly_would_move_is_refused(
    check: dict[str, str], key: str, value: str
) -> None:
    # flyctl appconfig validation.go: a service check's durations below 1s are raised to
    # 1s, above 1m lowered to 1m; the check Fly runs would not be the configured one.
    assert only(http={"healthCheck": check}) == (
        f'webhost:http.healthCheck.{key} = "{value}": Fly runs a service check\'s durations '
        "within 1s..60s and moves one outside to the nearer bound (flyctl appconfig validation.go)"
    )


@pytest.mark.parametrize("check", [{"interval": "1.5s", "timeout": "1s"}, {"interval": "60s"}])
def test_a_routing_check_at_flys_bounds_is_taken(check: dict[str, str]) -> None:
    raw = base() | {"webhost:http": text({"healthCheck": check})}
    assert config.parse(raw).http.health_check.interval == check["interval"]


@pytest.mark.parametrize("interval", ["1s", "1999ms", "1.5s", "500ms"])
def test_a_deep_check_interval_under_two_seconds_is_refused(interval: str) -> None:
    line = only(http={"deepCheck": {"interval": interval, "timeout": "100ms"}})
    assert line.startswith(f'webhost:http.deepCheck.interval = "{interval}": at least 2s: flyctl')


@pytest.mark.parametrize("timeout", ["61s", "1m0.001s", "2m", "1h"])
def test_a_deep_check_timeout_over_a_minute_is_refused(timeout: str) -> None:
    line = only(http={"deepCheck": {"interval": "2h", "timeout": timeout}})
    assert line.startswith(f'webhost:http.deepCheck.timeout = "{timeout}": at most 60s: flyctl')


@pytest.mark.parametrize(
    "command", ['/app/bin/migrate "x', "/app/bin/migrate 'a b", "/app/bin/migrate \\", "'"]
)
def test_a_release_command_flyctl_cannot_split_is_refused(command: str) -> None:
    line = only(releaseCommand=command)
    assert line == (
        f"webhost:releaseCommand = {json.dumps(command)}: flyctl cannot split it into words "
        "(an unclosed quote or a trailing backslash)"
    )


def test_a_quoted_release_command_is_taken() -> None:
    raw = base() | {"webhost:releaseCommand": "/app/bin/migrate 'a b' \"c d\" e\\ f"}
    assert config.parse(raw).release_command.startswith("/app/bin/migrate")


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


@pytest.mark.parametrize("app", ["a" * 61, "a" * 63, "webhost-" + "x" * 53])
def test_derived_data_names_past_an_app_names_63_are_refused(app: str) -> None:
    lines = problems(appName=app)
    assert lines == sorted(
        [
            f"webhost:postgres.name = null: unset, so the name is {app}-db, {len(app) + 3} "
            "characters, over the 63 of a Fly app name (a DNS label); set postgres.name",
            f"webhost:redis.name = null: unset, so the name is {app}-redis, {len(app) + 6} "
            "characters, over the 63 of a Fly app name (a DNS label); set redis.name",
        ]
    )


def test_derived_data_names_within_63_or_set_are_taken() -> None:
    parsed = config.parse(base() | {"webhost:appName": "a" * 57})
    assert (parsed.postgres_name, parsed.redis_name) == ("a" * 57 + "-db", "a" * 57 + "-redis")
    long = "a" * 63
    raw = base() | {
        "webhost:appName": long,
        "webhost:postgres": text({**json.loads(base()["webhost:postgres"]), "name": "pg"}),
        "webhost:redis": text({**json.loads(base()["webhost:redis"]), "name": "kv"}),
    }
    assert (config.parse(raw).postgres_name, config.parse(raw).redis_name) == ("pg", "kv")


@pytest.mark.parametrize("app", ["1webhost", "9-prod", "0"])
def test_a_derived_database_name_postgres_would_not_take_is_refused(app: str) -> None:
    line = only(appName=app)
    database = app.replace("-", "_")
    assert line == (
        f"webhost:postgres.database = null: unset, so {database} (appName with _), which does "
        "not start with a letter or _ as a Postgres identifier must; set postgres.database"
    )


@pytest.mark.parametrize("latency", [12_001, 20_000, 60_000])
def test_a_p95_whose_probe_timeout_is_past_grafanas_minute_is_refused(latency: int) -> None:
    monitoring = json.loads(base()["webhost:monitoring"])
    line = only(monitoring={**monitoring, "latencyP95Ms": latency, "probeFrequencyMs": 3_600_000})
    assert line == (
        f"webhost:monitoring.latencyP95Ms = {latency}: the probes time out at 5x it, "
        f"{5 * latency} ms, over the 60000 ms Grafana's synthetic monitoring takes for an "
        "HTTP check; at most 12000 (or synthetic: false)"
    )


@pytest.mark.parametrize(
    ("latency", "frequency"), [(250, 1_249), (300, 1_000), (1_000, 4_999), (12_000, 59_999)]
)
def test_a_probe_frequency_shorter_than_its_timeout_is_refused(
    latency: int, frequency: int
) -> None:
    monitoring = json.loads(base()["webhost:monitoring"])
    timeout = 5 * latency
    line = only(monitoring={**monitoring, "latencyP95Ms": latency, "probeFrequencyMs": frequency})
    assert line == (
        f"webhost:monitoring.probeFrequencyMs = {frequency}: shorter than the probes' timeout, "
        f"{timeout} ms (5x latencyP95Ms); Grafana's synthetic monitoring refuses a check that "
        "times out after its next run is due"
    )


def test_probes_off_take_any_p95() -> None:
    monitoring = json.loads(base()["webhost:monitoring"])
    raw = base() | {
        "webhost:monitoring": text({**monitoring, "latencyP95Ms": 60_000, "synthetic": False})
    }
    assert config.parse(raw).monitoring is not None


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
    from components.edge import cache_expression

    names = ["@", *(f"h{i}" for i in range(150))]
    parsed = config.parse(base() | {"webhost:domain": text(domain(hosts=names))}).domain
    assert parsed is not None
    assert len(cache_expression(parsed.fqdns, list(parsed.cache_rules.paths))) <= 4096


@pytest.mark.parametrize("app", ["webhost-prod", "pg", "a" * 57])
def test_a_postgres_cluster_named_as_the_app_is_refused(app: str) -> None:
    postgres = json.loads(base()["webhost:postgres"])
    line = only(appName=app, postgres={**postgres, "name": app})
    assert line == (
        f'webhost:postgres.name = "{app}": the app\'s own name; Fly app names are unique, so '
        "the cluster needs another"
    )
