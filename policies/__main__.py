"""The policy pack, as the Pulumi CLI runs it (`--policy-pack policies`)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import ALL, PACK_NAME

PolicyPack(name=PACK_NAME, policies=ALL, enforcement_level=EnforcementLevel.MANDATORY)
