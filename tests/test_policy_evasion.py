"""Issue 12: the ways around the pack an operator could take, each closed.

Each test is a stack (or a pack config) that passed the pack before and must not:
machines that will not run, a Postgres that cannot fail over, a health check in
name only, protection turned off by a transform, a stack nobody can reach, and a
pack config that says something other than what runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from cli import checks
from cli.main import main
from components import config
from tests.conftest import ROOT, run, stack_doc
from tests.test_policies import (
    evaluated,
    platform,
    refused_pack,
    registered,
    stack_violations,
)

PROD_PACK = ROOT / "policies" / "config" / "prod.json"
STAGING_PACK = ROOT / "policies" / "config" / "staging.json"

# -- machines Fly will run -----------------------------------------------------------------

NEVER_RESTARTED = {
    "http__autoStopMachines": "stop",
    "http__autoStartMachines": False,
    "http__minMachinesRunning": 1,
}


def test_capacity_counts_only_machines_fly_restarts() -> None:
    # 6 machines would host 600; with autostart off only the one kept running serves.
    found = stack_violations("capacity", registered(customers=150, **NEVER_RESTARTED))
    assert found == [
        "app webhost-prod: 1 machines host 100 professional customers (100 each), not 150: "
        "run at least 2 (http.autoStopMachines stop with autoStartMachines off: Fly never "
        "restarts a stopped machine, so only the 1 kept running in iad count)"
    ]


def test_capacity_counts_every_machine_when_fly_starts_them() -> None:
    changes = {**NEVER_RESTARTED, "http__autoStartMachines": True}
    assert stack_violations("capacity", registered(customers=150, **changes)) == []


@pytest.mark.parametrize("stop", ["stop", "suspend"])
def test_production_keeps_its_minimum_running_when_idle(stop: str) -> None:
    changes = {"http__autoStopMachines": stop, "http__minMachinesRunning": 1}
    found = stack_violations("production-safety", registered(**changes))
    assert found == [
        f"app webhost-prod: http.autoStopMachines {stop} keeps 1 machine(s) running in iad "
        "when idle (http.minMachinesRunning); production needs at least 2"
    ]


def test_autostop_with_the_minimum_running_is_safe() -> None:
    changes = {"http__autoStopMachines": "stop", "http__minMachinesRunning": 2}
    assert stack_violations("production-safety", registered(**changes)) == []


# -- Postgres failover ------------------------------------------------------------------------


def test_two_postgres_members_cannot_fail_over() -> None:
    found = stack_violations("production-safety", registered(postgres__clusterSize=2))
    assert found == [
        "postgres webhost-prod-db: 2 member(s) in the primary region; production needs at "
        "least 3 for failover"
    ]


def test_the_pack_config_cannot_lower_the_failover_quorum() -> None:
    problems = checks.validate({"production-safety": {"minPostgresMembers": 2}})
    assert problems == ["production-safety.minPostgresMembers = 2: 2 is less than the minimum of 3"]


# -- a health check that is one -----------------------------------------------------------------


def test_a_health_check_at_the_site_root_is_in_name_only() -> None:
    changes = {"http__healthCheck__path": "/"}
    found = stack_violations("production-safety", registered(**changes))
    assert found == [
        "app webhost-prod: no real health check: http.healthCheck.path '/' is the site root, "
        "not a health endpoint"
    ]


_MOVED = "Fly runs a service check's durations within 1s..60s and moves one outside"


@pytest.mark.parametrize(
    ("check", "key"),
    [
        ({"interval": "9999h"}, "interval"),
        ({"interval": "5m", "timeout": "90s"}, "interval"),
        ({"gracePeriod": "2h"}, "gracePeriod"),
        ({"interval": "15s", "timeout": "500ms"}, "timeout"),
    ],
)
def test_a_health_check_fly_would_not_run_as_written_is_refused(
    check: dict[str, str], key: str
) -> None:
    # The config refuses durations flyctl moves (components/config/app.py
    # ServiceCheckDuration), so a spec carrying one is not valid config for the pack.
    changes = {f"http__healthCheck__{name}": value for name, value in check.items()}
    found = stack_violations("production-safety", [platform(**changes)])
    assert len(found) == 1
    assert found[0].startswith(f"webhost spec is not valid config: http.healthCheck.{key}:")
    assert _MOVED in found[0]


# -- protection as registered, after a transform ------------------------------------------------


def _unprotect(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
    # What an operator's transform on Platform can do to every child.
    return pulumi.ResourceTransformationResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=False))
    )


def test_a_transform_that_lifts_protection_is_caught() -> None:
    evaluation = evaluated("prod", [_unprotect])
    app = evaluation.one("pulumi-python:dynamic/fly:App")
    assert not app.protect  # the engine registers what the transform made
    found = checks.run(evaluation, checks.load_config(PROD_PACK))
    messages = [v.message for v in found.violations if v.policy == "production-safety"]
    assert "webhost-app: the Fly app is not protected" in messages
    assert "webhost-db: a data resource that is not protected" in messages
    assert "webhost-redis: a data resource that is not protected" in messages
    assert found.blocking == ["production-safety"]


# -- reachable without a domain -----------------------------------------------------------------


def test_a_stack_without_a_domain_gets_its_public_ips(tmp_path: Path) -> None:
    doc = {k: v for k, v in stack_doc("prod").items() if k != "webhost:domain"}
    evaluation = run(doc, tmp_path, stack="prod")
    ips = evaluation.by_type("pulumi-python:dynamic/fly:IpAddress")
    assert sorted(ip.inputs["type"] for ip in ips) == ["shared_v4", "v6"]
    assert all(ip.protect for ip in ips)  # prod protects its addresses, as the edge does
    deploy = evaluation.one("command:local:Command", "webhost-deploy")
    assert {ip.urn for ip in ips} <= set(deploy.dependencies)


# -- the pack's own config ------------------------------------------------------------------------


def plan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["plan", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("pack", "line"),
    [
        (
            {"production-safety": {"minPrimaryMachines": 0}},
            "production-safety.minPrimaryMachines = 0: 0 is less than the minimum of 1",
        ),
        (
            {"margin": {"minimumMargin": 5}},
            "margin.minimumMargin = 5: 5 is greater than the maximum of 1",
        ),
        ({"regions": {"allowedRegions": ["iad", "xyz"]}}, 'regions.allowedRegions.1 = "xyz": '),
        (
            {"regions": {"allowedRegions": []}},
            "regions.allowedRegions = []: [] should be non-empty",
        ),
        ({"capacity": "Mandatory"}, 'capacity.enforcementLevel = "Mandatory": not an enforcement'),
        (
            {"margin": {"enforcementLevel": "MANDATORY"}},
            'margin.enforcementLevel = "MANDATORY": not an enforcement level',
        ),
        ({"capcity": "mandatory"}, "capcity: not a policy of this pack"),
        ({"margin": {"minimumMargn": 0.5}}, "margin.minimumMargn: not a setting of margin"),
        ({"regions": 3}, "regions = 3: must be an enforcement level or object"),
        # The engine takes only a string level (pulumi pkg/resource/analyzer config.go
        # extractEnforcementLevel: "<nil> is not a valid enforcement level; must be a
        # string", config_test.go TestExtractEnforcementLevelFail): null, a number, a
        # bool, a list or an object where a level belongs, per policy and for "all".
        *(
            (
                {policy: {"enforcementLevel": level}},
                f"{policy}.enforcementLevel = {json.dumps(level)}: not an enforcement level",
            )
            for policy in ("margin", "all")
            for level in (None, 1, True, [], {}, ["mandatory"])
        ),
    ],
)
def test_an_invalid_pack_config_exits_2_naming_policy_and_key(
    tmp_path: Path, pack: dict[str, Any], line: str
) -> None:
    path = tmp_path / "pack.json"
    err = refused_pack(path, json.dumps(pack))
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {path}: {line}")


@pytest.mark.parametrize(
    "text",
    [
        '{"margin": {"minimumMargin": NaN}}',
        '{"margin": {"minimumMargin": -Infinity}}',
        '{"production-safety": {"minPrimaryMachines": 1e400}}',
        '{"margin": {"minimumMargin": -1e999}}',
    ],
)
def test_numbers_json_has_not_are_refused_not_read_as_nan_or_inf(tmp_path: Path, text: str) -> None:
    # Python's json reads NaN and 1e400 (inf); the engine's Go decoder refuses both. A NaN
    # floor compares false with every margin, which would silently pass every stack.
    path = tmp_path / "pack.json"
    err = refused_pack(path, text)
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: not a policy config (")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[]", "a policy config is a JSON object keyed by policy name, not a list"),
        (None, "no such policy config file"),
        ("{not json", "not a policy config (Expecting property name"),
        ('{"margin": {"minimumMargin": 5}}', "margin.minimumMargin = 5: 5 is greater than"),
    ],
    ids=["not-an-object", "missing", "not-json", "out-of-bounds"],
)
def test_the_plan_refuses_a_bad_pack_config_with_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str | None, expected: str
) -> None:
    """The CLI's wiring of load_config's refusals (the classes above are read in-process)."""
    path = tmp_path / "pack.json"
    if text is not None:
        path.write_text(text)
    code, out, err = plan(capsys, "--stack", "staging", "--policy-config", str(path))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: {expected}"), err


def test_an_empty_region_list_is_not_every_region() -> None:
    # Past the schema (a pack run by other means), the policy still allows nothing.
    assert stack_violations("regions", [platform()], allowedRegions=[]) != []


def test_the_plan_says_which_policies_ran_and_which_were_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # prod planned under staging's pack config: production-safety is visibly off.
    code, out, _ = plan(
        capsys, "--stack", "prod", "--policy-config", str(STAGING_PACK), "--format", "json"
    )
    assert code == 0
    document = json.loads(out)
    levels = {p["name"]: p["enforcementLevel"] for p in document["policies"]}
    assert levels["production-safety"] == "disabled"
    assert levels["margin"] == "advisory"
    assert levels["capacity"] == "mandatory"
    assert document["policyConfig"] == str(STAGING_PACK)
    code, out, _ = plan(capsys, "--stack", "prod", "--policy-config", str(STAGING_PACK))
    disabled = [line for line in out.splitlines() if line.startswith("    disabled: ")]
    assert len(disabled) == 1
    assert "production-safety" in disabled[0].removeprefix("    disabled: ").split(", ")
    assert f"    config: {STAGING_PACK}" in out.splitlines()


def test_all_sets_every_level_then_each_policy_its_own() -> None:
    # As the engine reconciles (pkg/resource/analyzer/config.go applyConfig): `all`
    # sets every level, a policy's own entry then its keys, and its level if given.
    pack = {"all": "mandatory", "margin": {"minimumMargin": 0.5}, "capacity": "advisory"}
    levels = {p.name: checks.settings(p, pack)[0].value for p in checks.ALL}
    assert levels["margin"] == "mandatory"
    assert levels["capacity"] == "advisory"
    assert {v for k, v in levels.items() if k != "capacity"} == {"mandatory"}


# -- origin-certificate-renewal: the same rules as production-safety ---------------------


@pytest.mark.parametrize("days", [1, 6])
def test_the_pack_config_cannot_shrink_the_renewal_window_to_nothing(days: int) -> None:
    # A one-day window would let a 7-day certificate through and warn a day before it
    # runs out; as minPostgresMembers has its floor, the window has one.
    problems = checks.validate({"origin-certificate-renewal": {"renewalWindowDays": days}})
    assert problems == [
        f"origin-certificate-renewal.renewalWindowDays = {days}: {days} is less than the "
        "minimum of 7"
    ]


def test_the_shortest_validity_never_slips_past_the_smallest_window() -> None:
    # Cloudflare's shortest validity (config.ORIGIN_VALIDITY_DAYS) is refused at the floor.
    from tests.test_policy_certificates import origin_cert

    (found,) = stack_violations(
        "origin-certificate-renewal",
        [origin_cert(None, validity=min(config.ORIGIN_VALIDITY_DAYS))],
        renewalWindowDays=7,
    )
    assert "is not longer than the 7-day renewal window" in found


@pytest.mark.parametrize(
    "off",
    [
        {"origin-certificate-renewal": "disabled"},
        {"origin-certificate-renewal": {"enforcementLevel": "disabled"}},
    ],
    ids=["level", "object"],
)
def test_disabling_the_renewal_policy_on_prod_is_shown_as_production_safety_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, off: dict[str, Any]
) -> None:
    pack = {**json.loads(PROD_PACK.read_text()), **off}
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(pack))
    code, out, _ = plan(capsys, "--stack", "prod", "--policy-config", str(path), "--format", "json")
    assert code == 0
    levels = {p["name"]: p["enforcementLevel"] for p in json.loads(out)["policies"]}
    assert levels["origin-certificate-renewal"] == "disabled"
    code, out, _ = plan(capsys, "--stack", "prod", "--policy-config", str(path))
    (disabled,) = [line for line in out.splitlines() if line.startswith("    disabled: ")]
    assert "origin-certificate-renewal" in disabled.removeprefix("    disabled: ").split(", ")
