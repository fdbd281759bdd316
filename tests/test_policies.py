"""Each policy, called the way pulumi_policy calls it, with a compliant case and each violation.

Arguments are built with ResourceValidationArgs / StackValidationArgs; the pack
itself (PolicyPack starts a gRPC server) is never instantiated.
"""

from __future__ import annotations

import copy
import functools
import json
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError

from cli import checks, engine, stackfile
from components import config
from components.platform import Platform, PlatformArgs
from policies import ALL
from tests.conftest import PROJECT_FILE, ROOT, run, stack_doc

POLICIES = {p.name: p for p in ALL}
STACK = "urn:pulumi:prod::webhost::pulumi:pulumi:Stack::webhost-prod"


def spec(stack: str = "prod", **changes: Any) -> dict[str, Any]:
    """A real stack's config as the Platform declares it, with `changes` applied."""
    loaded = stackfile.load(ROOT / f"Pulumi.{stack}.yaml", PROJECT_FILE)
    parsed = config.parse(loaded.config, loaded.secret_keys)
    document = parsed.model_dump(mode="json", by_alias=True, exclude=parsed.secret_field_names())
    for path, value in changes.items():
        node = document
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    return document


def resource(
    type_: str,
    name: str,
    props: dict[str, Any],
    *,
    protect: bool = False,
    parent: PolicyResource | None = None,
) -> PolicyResource:
    urn = f"urn:pulumi:prod::webhost::{type_}::{name}"
    options = PolicyResourceOptions(
        protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent.urn if parent else None
    )
    return PolicyResource(type_, props, urn, name, options, None, parent, [], {})


def platform(**changes: Any) -> PolicyResource:
    return resource("webhost:index:Platform", "webhost", {"spec": spec(**changes)})


Transform = Callable[
    [pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None
]


def stack_with(stack: str = "prod", **changes: Any) -> dict[str, Any]:
    """The real stack file's config with `changes` (spec paths, as `spec` takes them)
    applied to the keys they change: secret entries stay as the file holds them."""
    before, after = spec(stack), spec(stack, **changes)
    doc = stack_doc(stack)
    for key in set(before) | set(after):
        if key not in after:
            doc.pop(f"webhost:{key}", None)
        elif before.get(key) != after[key]:
            doc[f"webhost:{key}"] = after[key]
    return doc


def registered(
    stack: str = "prod", transforms: Sequence[Transform] = (), **changes: Any
) -> list[PolicyResource]:
    """Every resource the real program registers for the stack (see `_registered`); one
    evaluation a stack and changes without transforms (no policy changes a resource)."""
    if transforms:
        return _registered(stack, transforms, changes)
    return list(_untransformed(stack, json.dumps(changes, sort_keys=True)))


@functools.lru_cache(maxsize=32)
def _untransformed(stack: str, changes: str) -> tuple[PolicyResource, ...]:
    return tuple(_registered(stack, (), json.loads(changes)))


def _registered(
    stack: str, transforms: Sequence[Transform], changes: dict[str, Any]
) -> list[PolicyResource]:
    """Every resource the real program registers for the stack (with `changes`), after
    `transforms` on Platform, as the pack receives them: an offline evaluation, turned
    into pulumi_policy's resources the way `webhost-infra plan` does (cli/checks.py)."""
    return checks.resources(evaluated(stack, transforms, **changes))


def evaluated(
    stack: str = "prod", transforms: Sequence[Transform] = (), **changes: Any
) -> engine.Evaluation:
    """The real program evaluated offline for the stack's file with `changes`, after
    `transforms` on Platform.

    Offline they are passed as `transformations`, which the SDK applies itself: the
    mock engine (cli/engine.py) has no callback server for the engine-side
    `transforms`; make e2e applies the same edits as `transforms` under the real
    engine (e2e/run.py phase_preview)."""

    def program() -> None:
        Platform(
            "webhost",
            PlatformArgs(config=config.from_pulumi()),
            pulumi.ResourceOptions(transformations=list(transforms)),
        )

    with tempfile.TemporaryDirectory() as raw:
        return run(stack_with(stack, **changes), Path(raw), stack=stack, program=program)


class Reports(list[str]):
    def __call__(self, message: str, urn: str | None = None) -> None:
        self.append(message)


def stack_violations(name: str, resources: list[PolicyResource], **cfg: Any) -> list[str]:
    found = Reports()
    policy: Any = POLICIES[name]
    policy.validate(StackValidationArgs(resources, cfg), found)
    return list(found)


def resource_violations(name: str, r: PolicyResource, **cfg: Any) -> list[str]:
    found = Reports()
    policy: Any = POLICIES[name]
    policy.validate(
        ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, None, cfg), found
    )
    return list(found)


def refused_pack(path: Path, text: str) -> str:
    """What `webhost-infra plan --policy-config PATH` prints to stderr for a pack config
    holding `text`, which it refuses with exit 2 (cli/main.py prints each of
    load_config's problems as one `error:` line; the CLI's own tests run that wiring):
    read in-process, since no program needs evaluating to refuse a config."""
    path.write_text(text, encoding="utf-8")
    with pytest.raises(checks.PolicyConfigError) as raised:
        checks.load_config(path, required=True)
    assert len(raised.value.problems) == 1, raised.value.problems
    return f"error: {raised.value.problems[0]}\n"


def test_the_pack_has_the_policies_the_issue_names() -> None:
    assert set(POLICIES) == {
        "fly-vm-valid",
        "tier-sizing",
        "capacity",
        "production-safety",
        "rollout-safety",
        "emergency-deploy",
        "backups",
        "regions",
        "edge-records",
        "margin",
        "image-digest",
        "monitoring",
        "origin-certificate-renewal",
    }
    advisory = {"margin", "image-digest", "monitoring", "emergency-deploy"}
    for name in advisory:
        level = POLICIES[name].enforcement_level
        assert level is not None
        assert level.value == "advisory"
    assert all(
        p.enforcement_level is not None and p.enforcement_level.value == "mandatory"
        for name, p in POLICIES.items()
        if name not in advisory
    )


def test_pack_entry_point_builds_from_the_same_list() -> None:
    source = (ROOT / "policies" / "__main__.py").read_text()
    assert "PolicyPack(name=PACK_NAME, policies=ALL" in source
    assert "virtualenv: ../.venv" in (ROOT / "policies" / "PulumiPolicy.yaml").read_text()


# -- fly-vm-valid ------------------------------------------------------------------------


def command(env: dict[str, str], name: str = "webhost-deploy") -> PolicyResource:
    return resource("command:local:Command", name, {"environment": env})


def fly_toml(kind: str, cpus: int, memory: str) -> str:
    return f'app = "a"\n[[vm]]\ncpu_kind = "{kind}"\ncpus = {cpus}\nmemory = "{memory}"\n'


def test_valid_app_vm_passes() -> None:
    assert (
        resource_violations(
            "fly-vm-valid", command({"WEBHOST_FLY_TOML": fly_toml("performance", 2, "4096mb")})
        )
        == []
    )


def test_app_vm_off_flys_rules() -> None:
    found = resource_violations(
        "fly-vm-valid", command({"WEBHOST_FLY_TOML": fly_toml("performance", 4, "4096mb")})
    )
    assert found == [
        "webhost-deploy: app VM performance 4 CPUs 4096 MB (memoryMb): performance VMs take "
        "2048..8192 MB per CPU, so 8192..32768 MB for 4 CPUs"
    ]


def test_postgres_vm_off_flys_rules() -> None:
    env = {"WEBHOST_VM_CPU_KIND": "shared", "WEBHOST_VM_CPUS": "3", "WEBHOST_VM_MEMORY": "1024"}
    assert resource_violations("fly-vm-valid", command(env, "webhost-db")) == [
        "webhost-db: postgres VM shared 3 CPUs 1024 MB (cpus): "
        "shared VMs come with 1, 2, 4, 6, 8 CPUs"
    ]


def test_unknown_cpu_kind() -> None:
    env = {"WEBHOST_VM_CPU_KIND": "gpu", "WEBHOST_VM_CPUS": "1", "WEBHOST_VM_MEMORY": "1024"}
    assert resource_violations("fly-vm-valid", command(env, "webhost-db")) == [
        "webhost-db: postgres VM cpu kind 'gpu' is not one Fly offers"
    ]


def test_other_resources_are_not_vms() -> None:
    record = resource(
        "cloudflare:index/dnsRecord:DnsRecord", "r", {"environment": {"WEBHOST_VM_CPU_KIND": "x"}}
    )
    assert resource_violations("fly-vm-valid", record) == []


# -- tier-sizing and capacity -------------------------------------------------------------


def test_real_stacks_meet_their_tiers() -> None:
    assert stack_violations("tier-sizing", [platform()]) == []
    staging = resource("webhost:index:Platform", "webhost", {"spec": spec("staging")})
    assert stack_violations("tier-sizing", [staging]) == []


def test_professional_on_small_shared_machines() -> None:
    found = stack_violations(
        "tier-sizing",
        [
            platform(
                vm={"cpuKind": "shared", "cpus": 1, "memoryMb": 1024},
                regions={"iad": 1},
                http__minMachinesRunning=1,
            )
        ],
    )
    assert found == [
        "app webhost-prod: professional runs on performance CPUs, not shared",
        "app webhost-prod: professional needs at least 2 CPUs per machine, not 1",
        "app webhost-prod: professional needs at least 4096 MB per machine, not 1024",
        "app webhost-prod: professional needs at least 2 machines, not 1",
    ]


def test_business_needs_three_in_the_primary_region() -> None:
    found = stack_violations(
        "tier-sizing",
        [
            platform(
                tier="business",
                vm={"cpuKind": "performance", "cpus": 4, "memoryMb": 8192},
                regions={"iad": 2, "fra": 2},
            )
        ],
    )
    assert found == [
        "app webhost-prod: business needs at least 3 machines in the primary region, not 2"
    ]


def test_starter_stays_on_shared_cpus() -> None:
    found = stack_violations("tier-sizing", [platform(tier="starter")])
    assert found == ["app webhost-prod: starter runs on shared CPUs, not performance"]


def test_capacity_fits() -> None:
    assert stack_violations("capacity", registered()) == []


def test_capacity_short_of_customers() -> None:
    assert stack_violations("capacity", registered(customers=700)) == [
        "app webhost-prod: 6 machines host 600 professional customers (100 each), not 700: "
        "run at least 7"
    ]


def test_business_density_is_25_per_machine() -> None:
    found = stack_violations("capacity", registered(tier="business", customers=151))
    assert found[0].endswith("host 150 business customers (25 each), not 151: run at least 7")


# -- margin ------------------------------------------------------------------------------


def test_prod_margin_over_the_floor_is_unchecked_while_usage_is_unpriced() -> None:
    # Snapshots, Tigris, egress and probe executions are unpriced: 91% is a ceiling.
    assert stack_violations("margin", [platform()], minimumMargin=0.85) == [
        "app webhost-prod: margin not checked: at most 91.0% (cost $667.20 leaves out "
        "usage-based outbound data transfer, postgres volume snapshots, postgres backups "
        "(Tigris bucket), grafana synthetic probe executions; `webhost-infra cost` lists "
        "their rates)"
    ]


def test_margin_under_the_floor() -> None:
    assert stack_violations("margin", [platform(customers=4)], minimumMargin=0.85) == [
        "app webhost-prod: margin at most -11.9% (cost $667.20 without usage, revenue "
        "$596.00) is under the 85% floor"
    ]


def test_margin_floor_is_configurable() -> None:
    assert stack_violations("margin", [platform()], minimumMargin=0.95) == [
        "app webhost-prod: margin at most 91.0% (cost $667.20 without usage, revenue "
        "$7450.00) is under the 95% floor"
    ]


def test_no_customers_no_revenue() -> None:
    assert stack_violations("margin", [platform(customers=0)]) == [
        "app webhost-prod: no revenue (0 customers) to cover $667.20"
    ]


# -- production-safety ---------------------------------------------------------------------


def test_prod_is_production_safe() -> None:
    assert stack_violations("production-safety", registered()) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"regions": {"iad": 1, "fra": 2}, "http__minMachinesRunning": 1},
            "app webhost-prod: 1 machine(s) in the primary region iad; production needs at least 2",
        ),
        ({"http__forceHttps": False}, "app webhost-prod: HTTPS is not forced (http.forceHttps)"),
        ({"postgres": None}, "app webhost-prod: no Postgres cluster (webhost:postgres)"),
        (
            {"postgres__clusterSize": 1},
            "postgres webhost-prod-db: 1 member(s) in the primary region; production needs at "
            "least 3 for failover",
        ),
        (
            {"postgres__replicaRegions": []},
            "postgres webhost-prod-db: 0 read replica(s); production needs at least 1",
        ),
        ({"postgres__backups__enabled": False}, "postgres webhost-prod-db: backups are off"),
    ],
)
def test_production_safety_violations(changes: dict[str, Any], message: str) -> None:
    assert stack_violations("production-safety", registered(**changes)) == [message]


def test_unprotected_data_resource() -> None:
    def unprotect_db(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if args.name != "webhost-db":
            return None
        lifted = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=False))
        return pulumi.ResourceTransformationResult(args.props, lifted)

    found = stack_violations("production-safety", registered(transforms=[unprotect_db]))
    assert found == ["webhost-db: a data resource that is not protected"]


def test_production_limits_are_configurable() -> None:
    found = stack_violations("production-safety", registered(), minReadReplicas=3)
    assert found == ["postgres webhost-prod-db: 2 read replica(s); production needs at least 3"]


# -- regions -----------------------------------------------------------------------------


def test_every_region_allowed_by_default() -> None:
    assert stack_violations("regions", [platform()]) == []


def test_regions_outside_the_allow_list() -> None:
    found = stack_violations("regions", [platform()], allowedRegions=["iad", "fra"])
    assert found == [
        "app webhost-prod: region(s) sin outside the allowed fra, iad",
        "postgres webhost-prod-db: region(s) sin outside the allowed fra, iad",
        "redis webhost-prod-redis: region(s) sin outside the allowed fra, iad",
    ]


# -- edge-records --------------------------------------------------------------------------


def record(name: str, type_: str, proxied: bool) -> PolicyResource:
    return resource(
        "cloudflare:index/dnsRecord:DnsRecord",
        f"webhost-{type_.lower()}-{name}",
        {"name": name, "type": type_, "proxied": proxied},
    )


def proxied_host(host: str = "webhost.example") -> list[PolicyResource]:
    return [
        record(host, "AAAA", True),
        record(host, "A", True),
        record(f"_fly-ownership.{host}", "TXT", False),
    ]


def dns_only_host(host: str = "webhost.example") -> list[PolicyResource]:
    return [
        record(host, "AAAA", False),
        record(host, "A", False),
        record(f"_acme-challenge.{host}", "CNAME", False),
    ]


def test_proxied_mode_as_fly_prescribes() -> None:
    assert stack_violations("edge-records", [platform(), *proxied_host()]) == []
    assert stack_violations("edge-records", proxied_host()) == []  # no spec: from the records


def test_dns_only_mode_passes() -> None:
    dns_only = platform(domain__proxied=False)
    assert stack_violations("edge-records", [dns_only, *dns_only_host()]) == []
    assert stack_violations("edge-records", dns_only_host()) == []


def test_proxied_validation_record() -> None:
    assert stack_violations(
        "edge-records", [record("_acme-challenge.webhost.example", "CNAME", True)]
    ) == [
        "webhost-cname-_acme-challenge.webhost.example: CNAME _acme-challenge.webhost.example "
        "validates a certificate and must not be proxied"
    ]


def test_proxied_ownership_record() -> None:
    records = [platform(), record("_fly-ownership.webhost.example", "TXT", True)]
    assert stack_violations("edge-records", records) == [
        "webhost-txt-_fly-ownership.webhost.example: TXT _fly-ownership.webhost.example "
        "validates a certificate and must not be proxied"
    ]


def test_acme_challenge_record_behind_the_proxy() -> None:
    acme = "_acme-challenge.webhost.example"
    expected = [
        f"webhost-cname-{acme}: CNAME {acme} in the proxied mode: DNS-01 conflicts with "
        "Cloudflare's Universal SSL; Fly validates over HTTP-01 through the proxy with the "
        "_fly-ownership TXT record"
    ]
    with_acme = [*proxied_host(), record(acme, "CNAME", False)]
    assert stack_violations("edge-records", [platform(), *with_acme]) == expected
    assert stack_violations("edge-records", with_acme) == expected


def test_unproxied_address_in_the_proxied_mode() -> None:
    records = [record("webhost.example", "AAAA", True), record("webhost.example", "A", False)]
    expected = [
        "webhost-a-webhost.example: A webhost.example unproxied in the proxied mode; "
        "Fly's guidance has A and AAAA proxied there"
    ]
    assert stack_violations("edge-records", records) == expected
    # Declared proxied, even a host with nothing proxied is in the proxied mode.
    assert stack_violations("edge-records", [platform(), records[1]]) == expected


def test_proxied_address_in_the_dns_only_mode() -> None:
    records = [
        platform(domain__proxied=False),
        *dns_only_host()[1:],
        record("webhost.example", "AAAA", True),
    ]
    assert stack_violations("edge-records", records) == [
        "webhost-aaaa-webhost.example: AAAA webhost.example proxied in the DNS-only mode; "
        "Fly's guidance has A and AAAA unproxied there"
    ]


def test_ownership_record_whose_name_is_not_known_yet() -> None:
    # In a preview the TXT record's name comes from the certificate: unknown, absent.
    txt = resource(
        "cloudflare:index/dnsRecord:DnsRecord",
        "webhost-txt-_fly-ownership.webhost.example",
        {"type": "TXT", "proxied": True},
    )
    assert stack_violations("edge-records", [platform(), txt]) == [
        "webhost-txt-_fly-ownership.webhost.example: TXT (name known after create) validates "
        "a certificate and must not be proxied"
    ]


def test_edge_records_not_applicable_without_records() -> None:
    with pytest.raises(_NotApplicableError):
        stack_violations("edge-records", [platform()])


# -- the spec itself -------------------------------------------------------------------------


def test_stack_policies_not_applicable_without_a_platform() -> None:
    with pytest.raises(_NotApplicableError):
        stack_violations("tier-sizing", [record("a.example", "AAAA", True)])


def test_a_spec_that_is_not_config_is_reported() -> None:
    broken = resource("webhost:index:Platform", "webhost", {"spec": {"tier": "gold"}})
    found = stack_violations("capacity", [broken])
    assert len(found) == 1
    assert found[0].startswith("webhost spec is not valid config: ")
