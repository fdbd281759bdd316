"""The preview phase of `make e2e`: the policy pack under the real engine passes the
stack, refuses it with a tier its VM breaks, and on prod judges what `transforms`
registered and refuses a pack config the offline plan refuses."""

from __future__ import annotations

import json

from e2e.harness import Stack, expect, output

# A tier whose floors the stack's VM does not meet (components/catalog.py TIER_SIZING).
BREAKING_TIER = {"staging": "professional", "prod": "business"}


def policy_preview(s: Stack) -> list[str]:
    return [
        "preview",
        "--policy-pack",
        "policies",
        "--policy-pack-config",
        f"policies/config/{s.name}.json",
    ]


def phase_preview(s: Stack) -> None:
    s.pulumi(*policy_preview(s))
    config = s.pulumi("config", "get", "webhost:tier").stdout.strip()
    s.config_set("webhost:tier", BREAKING_TIER[s.name])
    try:
        refused = s.pulumi(*policy_preview(s), ok=False)
    finally:
        s.config_set("webhost:tier", config)
    text = refused.stdout + refused.stderr
    expect(refused.returncode != 0, "a stack breaking tier sizing was not refused", output(refused))
    expect("tier-sizing" in text, "the refusal does not name tier-sizing", output(refused))
    if s.name == "prod":
        transformed_preview(s)
        bad_pack_config(s)


# Issue 21: Pulumi `transforms` on Platform change what is registered after the config
# was validated; the pack must judge the registered inputs under the real engine too.
# One member per class: machines and force_https (production-safety), the strategy
# flag (rollout-safety), the recovery window (backups), the proxy's hard limit
# (capacity), a disabled probe and a probe alert that cannot fire (monitoring).
TRANSFORMED_MAIN = """
import tomllib

import pulumi
import tomli_w

from components import config
from components.platform import Platform, PlatformArgs


def edit(args):
    props = dict(args.props)
    if args.type_ == "pulumi-python:dynamic/fly:MachineCounts":
        props["counts"] = {**props["counts"], "iad": 1}
    elif args.type_ == "command:local:Command" and args.name.endswith("-deploy"):
        env = dict(props["environment"])
        doc = tomllib.loads(env["WEBHOST_FLY_TOML"])
        doc["http_service"]["force_https"] = False
        doc["http_service"]["concurrency"]["hard_limit"] = 10
        env["WEBHOST_FLY_TOML"] = tomli_w.dumps(doc)
        env["WEBHOST_STRATEGY"] = "immediate"
        props["environment"] = env
    elif args.type_ == "command:local:Command" and args.name.endswith("-db-backups"):
        props["environment"] = {**props["environment"], "WEBHOST_RECOVERY_WINDOW": "1d"}
    elif args.type_ == "grafana:syntheticMonitoring/check:Check" and "deep" in args.name:
        props["enabled"] = False
    elif args.type_ == "grafana:syntheticMonitoring/checkAlerts:CheckAlerts":
        props["alerts"] = [{**alert, "threshold": 10000} for alert in props["alerts"]]
    else:
        return None
    return pulumi.ResourceTransformResult(props, args.opts)


Platform(
    "webhost",
    PlatformArgs(config=config.from_pulumi()),
    pulumi.ResourceOptions(transforms=[edit]),
)
"""
TRANSFORMED_FINDINGS = {
    "production-safety": ["1 machine(s) in the primary region iad", "HTTPS is not forced"],
    "rollout-safety": ["the immediate strategy replaces every machine"],
    "backups": ["recovery window '1d' restores less"],
    "capacity": ["(1 each)"],
    "monitoring": ["is disabled", "alert cannot page on failures"],
}


def transformed_preview(s: Stack) -> None:
    main = s.work / "__main__.py"
    original = main.read_text()
    main.write_text(TRANSFORMED_MAIN)
    try:
        refused = s.pulumi(*policy_preview(s), ok=False)
    finally:
        main.write_text(original)
    text = refused.stdout + refused.stderr
    expect(refused.returncode != 0, "a transformed prod stack was not refused", output(refused))
    missing = [
        f"{policy}: {finding}"
        for policy, findings in TRANSFORMED_FINDINGS.items()
        for finding in findings
        if policy not in text or finding not in text
    ]
    expect(not missing, f"the engine's pack missed {missing}", output(refused))


def bad_pack_config(s: Stack) -> None:
    """A policy config value the offline plan refuses (exit 2) the engine refuses too."""
    bad = s.work / "bad-pack.json"
    bad.write_text(json.dumps({"backups": {"maxRestoreMinutes": None}}))
    refused = s.pulumi(
        "preview", "--policy-pack", "policies", "--policy-pack-config", str(bad), ok=False
    )
    expect(refused.returncode != 0, "the engine ran a pack config with null", output(refused))
