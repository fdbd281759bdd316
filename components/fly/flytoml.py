"""fly.toml, rendered from the stack config: what `fly deploy` applies to every machine.

The runbook wrote this file by hand with a heredoc and put secrets in `[env]`;
here it is data in, TOML out (tomli-w), and secrets never appear in it: they
reach the app as Fly secrets.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from components.config import MAX_UNAVAILABLE, SecurityHeaders, StackConfig


def document(config: StackConfig) -> dict[str, Any]:
    """The fly.toml document as plain data, in Fly's key names."""
    http = config.http
    service: dict[str, Any] = {
        "internal_port": http.internal_port,
        "force_https": http.force_https,
        "auto_stop_machines": http.auto_stop_machines,
        "auto_start_machines": http.auto_start_machines,
        "min_machines_running": http.min_machines_running,
        "concurrency": {
            "type": http.concurrency.type,
            "soft_limit": http.concurrency.soft_limit,
            "hard_limit": http.concurrency.hard_limit,
        },
    }
    if headers := fly_proxy_headers(config):
        # fly-go machine_types.go HTTPResponseOptions @ 22d6e51: `headers` maps a
        # name to a value Fly's proxy adds to every response.
        service["http_options"] = {"response": {"headers": headers}}
    if http.health_check.enabled:
        check = http.health_check
        service["checks"] = [
            {
                "interval": check.interval,
                "timeout": check.timeout,
                "grace_period": check.grace_period,
                "method": check.method,
                "path": check.path,
            }
        ]
    doc: dict[str, Any] = {
        "app": config.app_name,
        "primary_region": config.primary_region,
        "env": config.with_derived_env(),
        "deploy": deploy_section(config),
        "http_service": service,
        "vm": [
            {
                "cpu_kind": config.vm.cpu_kind,
                "cpus": config.vm.cpus,
                "memory": f"{config.vm.memory_mb}mb",
            }
        ],
        "metrics": {"port": config.metrics.port, "path": config.metrics.path},
    }
    if http.deep_check.enabled:
        deep = http.deep_check
        # flyctl appconfig ToplevelCheck (internal/appconfig/toplevelcheck.go @
        # ad0172f): a machine check of its own, which Fly's proxy does not route on.
        doc["checks"] = {
            DEEP_CHECK: {
                "type": "http",
                "port": http.internal_port,
                "path": deep.path,
                "method": deep.method,
                "interval": deep.interval,
                "timeout": deep.timeout,
                "grace_period": deep.grace_period,
            }
        }
    return doc


# The deep check's name in [checks] (a key of our choosing).
DEEP_CHECK = "deep"


def deploy_section(config: StackConfig) -> dict[str, Any]:
    """[deploy]: flyctl appconfig Deploy (internal/appconfig/config.go @ ad0172f)."""
    deploy = config.deploy
    section: dict[str, Any] = {
        "strategy": config.deploy_strategy,
        # Runs in a temporary machine with the new image and secrets, before any
        # app machine is replaced; a non-zero exit stops the deploy (superfly/docs
        # reference/configuration.html.markerb @ 5c22c8c, "release_command").
        "release_command": config.release_command,
        "wait_timeout": deploy.wait_timeout,
    }
    if config.deploy_strategy in ("rolling", "canary"):
        # flyctl deploy.go @ ad0172f warns and ignores max_unavailable elsewhere.
        section["max_unavailable"] = (
            MAX_UNAVAILABLE if deploy.max_unavailable is None else deploy.max_unavailable
        )
    if deploy.release_command_timeout is not None:
        # In flyctl's Deploy struct, not yet in Fly's published JSON schema: rendered
        # only when set, so the default document stays within that schema.
        section["release_command_timeout"] = deploy.release_command_timeout
    return section


def fly_proxy_headers(config: StackConfig) -> dict[str, str]:
    """Security headers Fly's proxy adds: unless this stack has Cloudflare add them. The
    zone's HSTS and nosniff are zone-wide settings that only the zone's owner sets
    (components/edge.py, `ownsZone`); a proxied stack on another stack's zone (staging on
    prod's) cannot count on them, so Fly's proxy adds its own."""
    headers = config.security_headers
    domain = config.domain
    at_cloudflare = domain is not None and domain.proxied and domain.owns_zone
    if not headers.enabled or at_cloudflare:
        return {}
    return security_header_values(headers)


def security_header_values(headers: SecurityHeaders) -> dict[str, str]:
    """The response headers, as RFC 6797 (HSTS) and the Fetch standard (nosniff) spell them."""
    values: dict[str, str] = {}
    hsts = [f"max-age={headers.hsts_max_age}"]
    if headers.include_subdomains:
        hsts.append("includeSubDomains")
    if headers.preload:
        hsts.append("preload")
    values["Strict-Transport-Security"] = "; ".join(hsts)
    if headers.nosniff:
        values["X-Content-Type-Options"] = "nosniff"
    return values


def render(config: StackConfig) -> str:
    return tomli_w.dumps(document(config))
