"""Platform (`webhost:index:Platform`): the whole stack as one graph.

The only thing `__main__` builds. It wires the components together; each
component owns its own resources. Later layers (edge, data tier) plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.app import FlyApp, FlyAppArgs
from components.config import StackConfig


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

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webhost:index:Platform", name, None, opts)
        app = FlyApp(name, FlyAppArgs(config=args.config), pulumi.ResourceOptions(parent=self))

        self.app_name = app.app_name
        self.url = app.hostname.apply(lambda host: f"https://{host}")
        self.fly_toml = app.fly_toml
        self.secret_names = app.secret_names
        self.register_outputs(
            {
                "app_name": self.app_name,
                "url": self.url,
                "fly_toml": self.fly_toml,
                "secret_names": self.secret_names,
            }
        )
