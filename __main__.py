"""WebHost Systems on Fly.io: one stack (`pulumi up -s staging|prod`)."""

import pulumi

from components import config
from components.platform import Platform, PlatformArgs

platform = Platform("webhost", PlatformArgs(config=config.from_pulumi()))

pulumi.export("appName", platform.app_name)
pulumi.export("url", platform.url)
pulumi.export("flyToml", platform.fly_toml)
pulumi.export("secretNames", platform.secret_names)
pulumi.export("edge", platform.edge)
