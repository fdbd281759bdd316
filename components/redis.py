"""Redis (`webhost:data:Redis`): Upstash Redis with replica regions, for REDIS_URL.

Replaces the runbook's "create it in the Upstash console and paste the URL".
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import StackConfig
from components.fly.providers.upstash_redis import UpstashRedis


@dataclass(frozen=True)
class RedisArgs:
    config: StackConfig


class Redis(pulumi.ComponentResource):
    """One Upstash Redis database; `url` (secret) is the app's REDIS_URL."""

    url: pulumi.Output[str]
    database: UpstashRedis

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        config = args.config
        redis, redis_name = config.redis, config.redis_name
        if redis is None or redis_name is None:
            raise ValueError(f"Redis {name}: the stack config has no webhost:redis")
        super().__init__("webhost:data:Redis", name, None, opts)
        self.database = UpstashRedis(
            f"{name}-redis",
            name=redis_name,
            org=config.org,
            primary_region=redis.primary_region or config.primary_region,
            replica_regions=sorted(redis.replica_regions),
            eviction=redis.eviction,
            plan=redis.plan,
            opts=pulumi.ResourceOptions(parent=self, protect=config.protect),
        )
        self.url = pulumi.Output.secret(self.database.url)
        self.register_outputs({"url": self.url})
