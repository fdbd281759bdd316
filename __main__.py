"""WebHost Systems on Fly.io: one stack (`pulumi up -s staging|prod`)."""

import gc

import pulumi

from components import config
from components.platform import Platform, PlatformArgs

# The SDKs just imported (several hundred thousand objects, pulumi_cloudflare's classes
# the most) live as long as this process, which ends with the run: they are left out of
# the collector's passes, during the run and in the interpreter's last pass at exit
# (gc.freeze), about half a second of CPU of every preview and up. Under the offline
# engine, which runs this file in its own process again and again, cli.engine's
# frozen_heap thaws them after each run.
gc.freeze()

platform = Platform("webhost", PlatformArgs(config=config.from_pulumi()))

pulumi.export("appName", platform.app_name)
pulumi.export("url", platform.url)
pulumi.export("flyToml", platform.fly_toml)
pulumi.export("secretNames", platform.secret_names)
pulumi.export("edge", platform.edge)
