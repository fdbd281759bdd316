"""Platform (`webhost:index:Platform`): the whole stack as one graph.

The only thing `__main__` builds. It wires the components together (the app,
its edge, its data tier); each component owns its own resources.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components import catalog
from components.app import FlyApp, FlyAppArgs
from components.config import StackConfig
from components.edge import Edge, EdgeArgs
from components.fly.providers.ip_address import IpAddress
from components.monitoring import Monitoring, MonitoringArgs
from components.postgres import Postgres, PostgresArgs
from components.redis import Redis, RedisArgs


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig


def _deferred_str() -> tuple[pulumi.Output[str], Callable[[pulumi.Output[str]], None]]:
    out: pulumi.Output[str]
    resolve: Callable[[pulumi.Output[str]], None]
    out, resolve = pulumi.deferred_output()
    return out, resolve


class Platform(pulumi.ComponentResource):
    """WebHost on Fly.io for one stack.

    To adjust a child's arguments without forking a component, pass Pulumi's
    own `transforms` resource option here: it reaches every descendant.
    """

    app_name: pulumi.Output[str]
    url: pulumi.Output[str]
    fly_toml: pulumi.Output[str]
    secret_names: pulumi.Output[list[str]]
    edge: pulumi.Output[dict[str, Any]]

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        config = args.config
        # The stack's declared shape, for the policy pack (secrets left out).
        spec = config.model_dump(mode="json", by_alias=True, exclude=config.secret_field_names())
        super().__init__("webhost:index:Platform", name, {"spec": spec}, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The app's secrets and deploy wait for the edge and the data tier, which
        # need the app to exist: those inputs are filled in once they are built.
        deploy_after: pulumi.Output[Sequence[pulumi.Resource]]
        resolve_deploy_after: Callable[[pulumi.Output[Sequence[pulumi.Resource]]], None]
        deploy_after, resolve_deploy_after = pulumi.deferred_output()
        data_secrets = {name: _deferred_str() for name in config.data_secret_names}
        app = FlyApp(
            name,
            FlyAppArgs(
                config=config,
                data_secrets={key: out for key, (out, _) in data_secrets.items()},
                deploy_after=deploy_after,
            ),
            child,
        )
        postgres = (
            Postgres(name, PostgresArgs(config=config, app=app.app_name), child)
            if config.postgres is not None
            else None
        )
        redis = Redis(name, RedisArgs(config=config), child) if config.redis is not None else None
        edge = (
            Edge(
                name,
                EdgeArgs(
                    app=app.app_name,
                    domain=config.domain,
                    protect=config.protect,
                    security_headers=config.security_headers,
                ),
                child,
            )
            if config.domain is not None
            else None
        )
        values: dict[str, pulumi.Output[str]] = {}
        if postgres is not None:
            values |= {
                "DATABASE_URL": postgres.database_url,
                "DATABASE_READ_URL": postgres.read_url,
            }
        if redis is not None:
            values["REDIS_URL"] = redis.url
        for key, (_, resolve) in data_secrets.items():
            resolve(values[key])
        # `fly deploy` runs with --no-public-ips ("Do not allocate any new public IP
        # addresses", superfly/docs flyctl/cmd/fly_deploy.md), so without a domain
        # (and the Edge that allocates addresses for it) nothing would answer at
        # <app>.fly.dev. The app gets its own IPv6 and shared IPv4, both free
        # (superfly/docs networking/services.html.markerb @ 5c22c8c, "Shared IPv4").
        ips = edge.ips if edge is not None else self._public_ips(name, app, config.protect)
        waits: list[pulumi.Resource] = [*ips]
        waits += [postgres.attach] if postgres else []
        waits += [redis.database] if redis else []
        resolve_deploy_after(pulumi.Output.from_input(waits))

        self.edge = edge.hosts if edge else pulumi.Output.from_input({})
        self.app_name = app.app_name
        self.url = (
            pulumi.Output.from_input(f"https://{config.domain.fqdns[0]}")
            if config.domain is not None
            else app.hostname.apply(lambda host: f"https://{host}")
        )
        self.fly_toml = app.fly_toml
        self.secret_names = app.secret_names
        if config.monitoring is not None:
            # Watches the app from outside: nothing in the app's graph waits for it.
            Monitoring(name, MonitoringArgs(config=config, url=self.url), child)
        self.register_outputs(
            {
                "app_name": self.app_name,
                "url": self.url,
                "fly_toml": self.fly_toml,
                "secret_names": self.secret_names,
                "edge": self.edge,
                "spec": spec,
            }
        )

    def _public_ips(self, name: str, app: FlyApp, protect: bool) -> list[IpAddress]:
        """The app's own addresses, for a stack without a domain."""
        kept = pulumi.ResourceOptions(parent=self, protect=protect)
        return [
            IpAddress(f"{name}-{kind}", app=app.app_name, type=catalog.IP_TYPES[kind], opts=kept)
            for kind in ("v6", "shared")
        ]
