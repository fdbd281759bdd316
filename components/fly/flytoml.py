"""fly.toml, rendered from the stack config: what `fly deploy` applies to every machine.

The runbook wrote this file by hand with a heredoc and put secrets in `[env]`;
here it is data in, TOML out (tomli-w), and secrets never appear in it: they
reach the app as Fly secrets.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from components.config import StackConfig


def document(config: StackConfig) -> dict[str, Any]:
    """The fly.toml document as plain data, in Fly's key names."""
    http = config.http
    check = http.health_check
    return {
        "app": config.app_name,
        "primary_region": config.primary_region,
        "env": config.with_derived_env(),
        "deploy": {"strategy": config.deploy_strategy},
        "http_service": {
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
            "checks": [
                {
                    "interval": check.interval,
                    "timeout": check.timeout,
                    "grace_period": check.grace_period,
                    "method": check.method,
                    "path": check.path,
                }
            ],
        },
        "vm": [
            {
                "cpu_kind": config.vm.cpu_kind,
                "cpus": config.vm.cpus,
                "memory": f"{config.vm.memory_mb}mb",
            }
        ],
        "metrics": {"port": config.metrics.port, "path": config.metrics.path},
    }


def render(config: StackConfig) -> str:
    return tomli_w.dumps(document(config))
