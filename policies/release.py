"""Release policy: the image a stack deploys is pinned by digest.

A tag (`registry.fly.io/webhost:1.2.3`) can be pushed again with other content, so
the same config can deploy two different images, and a rollback to the tag is not
a rollback to the bytes. A digest (`...@sha256:<64 hex>`, the OCI distribution
spec's content address) cannot move. Advisory by default: the prod stack's config
in policies/config names the level.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    StackValidationArgs,
)

from components.config import StackConfig
from policies import spec


@spec.on_config
def image_digest(
    args: StackValidationArgs, report: ReportViolation, config: StackConfig, urn: str
) -> None:
    """The deployed image is pinned by digest (@sha256:...), so a deploy and its
    rollback name exact bytes."""
    if config.image_digest is None:
        report(
            f"app {config.app_name}: webhost:image {config.image} is a tag, which can be "
            "pushed again with other content; pin it by digest (<image>@sha256:<digest>, "
            "as `docker buildx imagetools inspect` or the build's output prints it)",
            urn,
        )


POLICIES = [spec.stack_policy("image-digest", image_digest, EnforcementLevel.ADVISORY)]
