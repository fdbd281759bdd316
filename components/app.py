"""FlyApp (`webhost:fly:App`): the Fly app, its secrets, its fly.toml, its deploy and scale.

Replaces the runbook's `fly launch`, `fly secrets set`, the hand-written
fly.toml, `fly deploy` and `fly scale count` steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

from components import catalog
from components.config import StackConfig
from components.fly import flyctl, flytoml
from components.fly.providers.app import App
from components.fly.providers.app_secrets import AppSecrets
from components.fly.providers.machine_counts import MachineCounts


@dataclass(frozen=True)
class FlyAppArgs:
    config: StackConfig
    # DATABASE_URL, DATABASE_READ_URL, REDIS_URL from the data tier.
    data_secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # What the deploy must wait for beyond the app and its secrets (the edge's IPs:
    # flyctl's DNS checks look the app's addresses up). May resolve later.
    deploy_after: pulumi.Input[Sequence[pulumi.Resource]] = ()

    def problems(self) -> list[str]:
        vm = self.config.vm
        problems = [
            f"vm.{key}: {rule}"
            for key, rule in catalog.vm_problems(vm.cpu_kind, vm.cpus, vm.memory_mb).items()
        ]
        problems += [
            f"secret {name}: set twice (data tier and operator)"
            for name in sorted(set(self.data_secrets) & set(self.config.operator_secrets()))
        ]
        provided = ", ".join(catalog.DATA_SECRETS)
        problems += [
            f"data secret {name}: not one the data tier provides ({provided})"
            for name in self.data_secrets
            if name not in catalog.DATA_SECRETS
        ]
        return problems


class FlyApp(pulumi.ComponentResource):
    """One Fly app, deployed with its secrets and scaled per region."""

    app_name: pulumi.Output[str]
    hostname: pulumi.Output[str]
    fly_toml: pulumi.Output[str]
    secret_names: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: FlyAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if problems := args.problems():
            raise ValueError(f"FlyApp {name}: " + "; ".join(problems))
        super().__init__("webhost:fly:App", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        # Losing the app or a generated secret is not undone by re-creating it
        # (sessions signed with SECRET_KEY_BASE die with it), so both are protected.
        kept = pulumi.ResourceOptions(parent=self, protect=config.protect)

        app = App(f"{name}-app", name=config.app_name, org=config.org, opts=kept)

        generated = {
            env: random.RandomPassword(
                f"{name}-{env.lower().replace('_', '-')}", length=length, special=False, opts=kept
            ).result
            for env, length in catalog.GENERATED_SECRETS.items()
        }
        # The operator's secrets: the Stripe keys and every webhost:secrets entry, each
        # a Pulumi secret from here on (encrypted in state, masked in every output).
        operator = {
            env: pulumi.Output.secret(value.get_secret_value())
            for env, value in config.operator_secrets().items()
        }
        secrets = AppSecrets(
            f"{name}-secrets",
            app=app.name,
            values={**generated, **operator, **args.data_secrets},
            opts=child,
        )

        fly_toml = flytoml.render(config)
        deploy = flyctl.deploy(
            f"{name}-deploy",
            app=app.name,
            image=config.image,
            strategy=config.deploy_strategy,
            fly_toml=fly_toml,
            secrets_version=secrets.version,
            emergency=config.deploy.emergency,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=pulumi.Output.from_input(args.deploy_after).apply(
                    lambda extra: [app, secrets, *extra]
                ),
            ),
        )
        # After the deploy: `fly scale count` launches from the app's machine config
        # and its latest complete release, which the deploy makes (flyctl
        # internal/command/scale/count_machines.go). A region change updates this
        # alone; a refresh reads the counts back (components/fly/machines.py).
        MachineCounts(
            f"{name}-machines",
            app=app.name,
            counts=config.regions,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deploy]),
        )

        self.fly_toml = pulumi.Output.from_input(fly_toml)
        self.app_name = app.name
        self.hostname = app.hostname
        self.secret_names = pulumi.Output.from_input(
            sorted([*generated, *operator, *args.data_secrets])
        )
        self.register_outputs(
            {
                "app_name": self.app_name,
                "hostname": self.hostname,
                "fly_toml": self.fly_toml,
                "secret_names": self.secret_names,
            }
        )
