"""Platform (`webhost:index:Platform`): the whole stack as one graph.

The only thing `__main__` builds. It wires the components together; each
component owns its own resources. Later layers (edge, data tier) plug in here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.app import FlyApp, FlyAppArgs
from components.config import StackConfig
from components.edge import Edge, EdgeArgs


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig


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
        super().__init__("webhost:index:Platform", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        # The deploy waits for the edge's addresses, and the edge needs the app:
        # the deploy's extra dependencies are filled in once the edge exists.
        deploy_after: pulumi.Output[Sequence[pulumi.Resource]]
        resolve_deploy_after: Callable[[pulumi.Output[Sequence[pulumi.Resource]]], None]
        deploy_after, resolve_deploy_after = pulumi.deferred_output()
        app = FlyApp(name, FlyAppArgs(config=config, deploy_after=deploy_after), child)
        edge = (
            Edge(
                name,
                EdgeArgs(app=app.app_name, domain=config.domain, protect=config.protect),
                child,
            )
            if config.domain is not None
            else None
        )
        resolve_deploy_after(pulumi.Output.from_input(edge.ips if edge else []))

        self.edge = edge.hosts if edge else pulumi.Output.from_input({})
        self.app_name = app.app_name
        self.url = (
            pulumi.Output.from_input(f"https://{config.domain.fqdns[0]}")
            if config.domain is not None
            else app.hostname.apply(lambda host: f"https://{host}")
        )
        self.fly_toml = app.fly_toml
        self.secret_names = app.secret_names
        self.register_outputs(
            {
                "app_name": self.app_name,
                "url": self.url,
                "fly_toml": self.fly_toml,
                "secret_names": self.secret_names,
                "edge": self.edge,
            }
        )
