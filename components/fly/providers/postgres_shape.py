"""The Postgres cluster's shape (`pulumi-python:dynamic/fly:PostgresShape`): what the
cluster script cannot change once the cluster exists, refused at plan time.

The cluster script (scripts/postgres_cluster.sh) grows a cluster (clones members,
extends volumes) but never shrinks it, never rolls its image and never moves its
primary region: it refuses those when it runs, after `pulumi up` has started. This
resource records the cluster's name, primary region, image, member count and
volume size, and its provider's `check` refuses such a change against the
recorded values, so `pulumi preview` fails before anything runs, with one failure
per change naming the config key, both values and the way out.

It touches nothing at Fly (no API, no token): create and update only record their
inputs. A change of name is another cluster (a restore is adopted that way:
README, "Restoring from a backup"), so nothing is compared then; the script checks
the live cluster it finds.

After a change has been made by hand, the recorded values are still the old ones
and would keep refusing it. `pulumi up --replace <URN>` records the new ones: the
engine checks a targeted replacement without the old inputs (pulumi
pkg/resource/deploy/step_generator.go @ 1b59498, isTargetedReplace), and replacing
this resource does nothing at Fly. A protected resource is never replaced (same
file, "unable to replace resource ... marked for protection"), so a protected stack
runs `pulumi state unprotect <URN>` first; the program protects it again on that up.
"""

from __future__ import annotations

from typing import Any, Final

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from components.fly.providers.base import DynamicResource, Provider, replace_on, replacing, unknown

INPUTS: Final = ("name", "primary_region", "image", "cluster_size", "volume_gb")

# The way out once a change has been made by hand (module docstring).
_RECORD: Final = (
    "then record it with `pulumi up --replace <URN>`, this resource's URN as "
    "`pulumi stack --show-urns` lists it (in a protected stack, `pulumi state unprotect "
    "<URN>` first); the cluster script checks the live cluster on that up"
)
# How the cluster script spells one image two ways (scripts/postgres_cluster.sh, image()).
_REGISTRY_PREFIXES: Final = ("docker.io/", "registry-1.docker.io/", "index.docker.io/")


def _image(ref: str) -> str:
    for prefix in _REGISTRY_PREFIXES:
        ref = ref.removeprefix(prefix)
    return ref


def _known(value: Any) -> bool:
    # A preview may hand the provider unknowns (pulumi sdk/python/lib/pulumi/dynamic/
    # __main__.py deserializes Check's inputs keeping them, as pulumi.output.Unknown):
    # an unknown is no change (base.unknown knows both forms).
    return value is not None and not unknown(value)


def _number(value: Any) -> float | None:
    # The engine carries numbers as doubles: 3 comes back from state as 3.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _shrunk(key: str, olds: dict[str, Any], news: dict[str, Any]) -> tuple[float, float] | None:
    """(recorded, asked) when the number at `key` went down."""
    old, new = _number(olds.get(key)), _number(news.get(key))
    return (old, new) if old is not None and new is not None and new < old else None


def refusals(olds: dict[str, Any], news: dict[str, Any]) -> list[CheckFailure]:
    """Each change from the recorded `olds` the cluster script cannot apply."""
    name = news.get("name")
    if not olds or not _known(name) or olds.get("name") != name:
        return []  # a new resource, or another cluster: nothing recorded to hold it to
    refused: dict[str, str] = {}  # input -> why, in the order the checks run

    old, new = olds.get("primary_region"), news.get("primary_region")
    if _known(old) and _known(new) and old != new:
        # Postgres Flex elects primaries only in PRIMARY_REGION; Fly's way to move them
        # is superfly/docs postgres/advanced-guides/high-availability-and-global-
        # replication.html.markerb @ 5c22c8c, "Performing a regional failover".
        refused["primary_region"] = (
            f"webhost:primaryRegion {old!r} -> {new!r}: cluster {name} elects its "
            f"primary only in {old} and this program never moves it. Move it by hand "
            "as Fly's guide 'Performing a regional failover' says: clone at least three "
            f"members into {new} (`fly machine clone`), deploy PRIMARY_REGION={new} to "
            f"{name} with its running image, run `fly postgres failover --app {name}`; "
            f"{_RECORD}. Or set primaryRegion back to {old!r}."
        )

    old, new = olds.get("image"), news.get("image")
    if isinstance(old, str) and isinstance(new, str) and _known(new) and _image(old) != _image(new):
        # `fly image update` rolls replicas first, then the primary (flyctl
        # internal/command/image/update_machines.go @ ad0172f, updatePostgresOnMachines).
        refused["image"] = (
            f"webhost:postgres.image {old!r} -> {new!r}: the cluster script never "
            "changes a running member's image. Roll the cluster by hand with "
            f"`fly image update --app {name} --image {new}`; {_RECORD}. "
            f"Or put postgres.image back to {old!r}."
        )

    if shrunk := _shrunk("cluster_size", olds, news):
        old_n, new_n = shrunk
        refused["cluster_size"] = (
            f"webhost:postgres.clusterSize {old_n:g} -> {new_n:g}: the cluster script "
            f"never removes a member. Remove {old_n - new_n:g} member(s) from {name} by "
            f"hand, never the primary (`fly status --app {name}` shows each one's role): "
            f"`fly machine destroy <id> --force --app {name}`, then its volume with "
            f"`fly volumes destroy <volume> --app {name}`; {_RECORD}. "
            f"Or set clusterSize back to {old_n:g}."
        )

    if shrunk := _shrunk("volume_gb", olds, news):
        old_n, new_n = shrunk
        # Fly volumes only grow (flyctl internal/command/volumes/extend.go @ ad0172f).
        refused["volume_gb"] = (
            f"webhost:postgres.volumeGb {old_n:g} -> {new_n:g}: Fly volumes only grow, "
            f"so no member of {name} can get a smaller one. Set volumeGb back to "
            f"{old_n:g} or more; a smaller disk is a new cluster: restore a backup into a "
            "new app (README, 'Restoring from a backup') and set postgres.name to it."
        )
    return [CheckFailure(key, why) for key, why in refused.items()]


class PostgresShapeProvider(Provider):
    """Records the shape; `check` refuses what the cluster script cannot apply."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, refusals(olds, news))

    def create(self, props: dict[str, Any]) -> CreateResult:
        # The id is the cluster's name at creation; a later rename is an update.
        return CreateResult(str(props["name"]), {k: props.get(k) for k in INPUTS})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # An update in place, never a replacement: a protected resource cannot be
        # replaced, and a restore (a new name) must go through in prod.
        return replacing((), olds, news, changed=bool(replace_on(INPUTS, olds, news)))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({k: news.get(k) for k in INPUTS})


class PostgresShape(DynamicResource, module="fly", name="PostgresShape"):
    """The cluster's create-time settings, held to at plan time (module docstring)."""

    PROVIDER = PostgresShapeProvider
    INPUTS = INPUTS

    name: pulumi.Output[str]
    primary_region: pulumi.Output[str]
    image: pulumi.Output[str]
    cluster_size: pulumi.Output[int]
    volume_gb: pulumi.Output[int]
