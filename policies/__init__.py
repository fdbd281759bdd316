"""WebHost's CrossGuard pack: tier sizing and the rules that keep production safe.

`pulumi preview --policy-pack policies` loads `__main__.py`, which builds the
pack from `ALL`; `webhost-infra plan` runs the same policies offline.
"""

from __future__ import annotations

from pulumi_policy import Policy

from policies import backups, certificates, edge, monitoring, release, rollout, safety, sizing

PACK_NAME = "webhost"

ALL: list[Policy] = [
    *sizing.POLICIES,
    *safety.POLICIES,
    *rollout.POLICIES,
    *backups.POLICIES,
    *edge.POLICIES,
    *certificates.POLICIES,
    *release.POLICIES,
    *monitoring.POLICIES,
]
