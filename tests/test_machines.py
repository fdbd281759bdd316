"""MachineCounts' provider against the fake `fly` first on PATH: it converges the app's
machines per region with `fly scale count`, reads them back, and a region scaled by
hand shows in `read` and `diff` until an update puts it back."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import dill
import pytest
from google.protobuf import json_format
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from components.fly.machines import region_counts
from components.fly.providers.machine_counts import MachineCountsProvider
from tests.conftest import FakeFly, lock_held
from tests.fakes import fly_cli
from tests.test_postgres_shape import _struct, dynamic_host  # noqa: F401 - a fixture

APP = "webhost-prod"
WANTED = {"iad": 3, "fra": 2, "sin": 1}
TOKEN = "fly-token-that-must-not-leak"  # tests/conftest.py FakeFly.env
URN = "urn:pulumi:prod::webhost::webhost:fly:App$pulumi-python:dynamic/fly:MachineCounts::m"


@pytest.fixture
def fly(fake_fly: FakeFly, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeFly:
    """The app after its deploy: Fly's first deploy left two machines in iad."""
    for name, value in fake_fly.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WEBHOST_LOCK_DIR", str(tmp_path / "locks"))
    fake_fly.seed_app(APP)
    config = tmp_path / "fly.toml"
    config.write_text(
        f'app = "{APP}"\nprimary_region = "iad"\n[[vm]]\ncpu_kind = "performance"\ncpus = 2\n'
        'memory = "4096mb"\n'
    )
    deploy = ["deploy", "--app", APP, "--config", str(config), "--image", "img:1", "--yes"]
    done = by_hand(fake_fly, *deploy)
    assert done.returncode == 0, done.stderr
    fake_fly.log.unlink()
    return fake_fly


def by_hand(fake: FakeFly, *argv: str) -> subprocess.CompletedProcess[str]:
    """An operator's flyctl command, out of band."""
    return subprocess.run(
        [str(fake.bin_dir / "fly"), *argv],
        env=fake.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def scale_by_hand(fake: FakeFly, region: str, count: int) -> None:
    done = by_hand(fake, "scale", "count", str(count), "--region", region, "--app", APP, "--yes")
    assert done.returncode == 0, done.stderr


def scales(fake: FakeFly) -> list[tuple[str, str]]:
    """(region, count) of every `fly scale count` the provider ran."""
    return [
        (argv[argv.index("--region") + 1], argv[2])
        for argv in (call["argv"] for call in fake.calls())
        if argv[:2] == ["scale", "count"]
    ]


def created(fake: FakeFly) -> dict[str, Any]:
    outs = MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)}).outs
    assert outs is not None
    fake.log.unlink()
    return outs


def test_create_scales_each_region_to_its_count(fly: FakeFly) -> None:
    result = MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    assert result.id == APP
    assert result.outs == {"app": APP, "counts": WANTED, "observed": {"fra": 2, "iad": 3, "sin": 1}}
    assert fly.machines(APP) == WANTED
    assert sorted(scales(fly)) == [("fra", "2"), ("iad", "3"), ("sin", "1")]
    for call in fly.calls():
        assert "--yes" in call["argv"] or call["argv"][:2] == ["machines", "list"]
        assert TOKEN not in " ".join(call["argv"]) and "FLY_API_TOKEN" in call["env"]


def test_a_region_already_at_its_count_is_left_alone(fly: FakeFly) -> None:
    MachineCountsProvider().create({"app": APP, "counts": {"iad": 2, "fra": 1}})
    assert scales(fly) == [("fra", "1")]


def test_refresh_right_after_create_changes_nothing(fly: FakeFly) -> None:
    outs = created(fly)
    read = MachineCountsProvider().read(APP, dict(outs))
    assert (read.id, read.outs, read.inputs) == (APP, outs, None)
    assert (
        MachineCountsProvider().diff(APP, dict(outs), {"app": APP, "counts": WANTED}).changes
        is False
    )
    assert [call["argv"][:2] for call in fly.calls()] == [["machines", "list"]]  # a read only


@pytest.mark.parametrize(
    ("region", "count", "observed"),
    [
        ("fra", 1, {"fra": 1, "iad": 3, "sin": 1}),  # scaled down by hand
        ("iad", 4, {"fra": 2, "iad": 4, "sin": 1}),  # scaled up by hand
        ("ams", 1, {"ams": 1, "fra": 2, "iad": 3, "sin": 1}),  # a region added by hand
    ],
    ids=["down", "up", "added"],
)
def test_a_region_scaled_by_hand_is_read_diffed_and_put_back(
    fly: FakeFly, region: str, count: int, observed: dict[str, int]
) -> None:
    provider = MachineCountsProvider()
    outs = created(fly)
    scale_by_hand(fly, region, count)
    read = provider.read(APP, dict(outs))
    assert read.outs == {**outs, "observed": observed}
    assert read.inputs is None  # the program's counts stay the inputs
    news = {"app": APP, "counts": dict(WANTED)}
    assert read.outs is not None
    diff = provider.diff(APP, read.outs, news)
    assert diff.changes is True and not diff.replaces
    updated = provider.update(APP, read.outs, news).outs
    assert updated is not None and updated["observed"] == WANTED
    assert fly.machines(APP) == WANTED
    assert scales(fly)[-1] == (region, str(WANTED.get(region, 0)))
    assert provider.diff(APP, updated, news).changes is False


def test_a_region_removed_from_the_counts_is_scaled_to_zero(fly: FakeFly) -> None:
    outs = created(fly)
    news = {"app": APP, "counts": {"iad": 3, "fra": 2}}
    assert MachineCountsProvider().diff(APP, outs, news).changes is True
    updated = MachineCountsProvider().update(APP, outs, news).outs
    assert updated is not None and updated["observed"] == {"fra": 2, "iad": 3}
    assert scales(fly) == [("sin", "0")]
    assert fly.machines(APP) == {"iad": 3, "fra": 2}


def test_a_region_set_to_zero_is_the_same_as_absent(fly: FakeFly) -> None:
    outs = created(fly)
    news = {"app": APP, "counts": {**WANTED, "sin": 0}}
    updated = MachineCountsProvider().update(APP, outs, news).outs
    assert updated is not None and updated["observed"] == {"fra": 2, "iad": 3}
    assert MachineCountsProvider().diff(APP, updated, news).changes is False


def create_failing(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    """MachineCounts' create with the fake's fault `name`=`value` set: it must raise; the
    message."""
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError) as caught:
        MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    return str(caught.value)


def test_a_listing_that_fails_raises_and_scales_nothing(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = create_failing(monkeypatch, "FAKE_FLY_FAIL", "machine list")
    assert message.startswith(f"MachineCounts of app {APP}: cannot list machines")
    assert "failed to machine list: simulated failure (status 503)" in message
    assert scales(fly) == []
    # never read as "no machines": the refresh fails too
    with pytest.raises(RuntimeError, match="cannot list machines"):
        MachineCountsProvider().read(APP, {"app": APP, "counts": WANTED, "observed": WANTED})


def test_a_scale_that_fails_raises_naming_the_app_and_the_region(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FLY_FAIL", "scale")
    with pytest.raises(RuntimeError) as caught:
        MachineCountsProvider().create({"app": APP, "counts": {"iad": 2, "fra": 2}})
    message = str(caught.value)
    assert message.startswith(f"MachineCounts of app {APP}: scaling region fra to 2 failed: ")
    assert "Error: failed to scale: simulated failure (status 503)" in message  # flyctl's stderr
    assert TOKEN not in message


def test_a_failed_scale_half_way_then_an_update_converges(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FLY_FAIL_NTH", "scale:2")
    with pytest.raises(RuntimeError, match="scaling region iad to 3 failed"):
        MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    monkeypatch.delenv("FAKE_FLY_FAIL_NTH")
    result = MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    assert result.outs is not None and result.outs["observed"] == WANTED


def test_before_any_deploy_flyctls_refusal_is_the_error(
    fake_fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in fake_fly.env().items():
        monkeypatch.setenv(name, value)
    fake_fly.seed_app(APP)
    with pytest.raises(RuntimeError, match="this app has no complete releases"):
        MachineCountsProvider().create({"app": APP, "counts": {"iad": 1}})


def test_one_offs_release_and_console_machines_are_not_counted_or_touched(fly: FakeFly) -> None:
    state = fly_cli.load(fly.state)
    fake = fly_cli.Fly(state)
    guest = {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256}
    others = {
        "fra": {},  # `fly machine run`: no Fly Launch metadata
        "iad": fly_cli.launch_metadata("fly_app_release_command"),
        "sin": fly_cli.launch_metadata("fly_app_console"),
        "ams": {"fly_platform_version": "v2", "process_group": "release_command"},
    }
    for region, metadata in others.items():
        fake.new_machine(state["apps"][APP], region, guest, metadata=metadata)
    fly.state.write_text(json.dumps(state))
    outs = created(fly)
    assert outs["observed"] == WANTED
    assert fly.machines(APP) == {"iad": 4, "fra": 3, "sin": 2, "ams": 1}
    assert ("ams", "0") not in scales(fly)


def test_counting_follows_flyctl() -> None:
    def machine(region: str, state: str = "started", **metadata: str) -> dict[str, Any]:
        return {"region": region, "state": state, "config": {"metadata": metadata}}

    v2 = {"fly_platform_version": "v2"}
    listed = [
        machine("iad", **v2, fly_process_group="app"),
        machine("iad", **v2, process_group="app"),  # the older key
        machine("iad", "stopped", **v2, fly_process_group="app"),  # stopped still counts
        machine("iad", "destroying", **v2, fly_process_group="app"),
        machine("fra", **v2, fly_process_group="worker"),
        machine("fra", fly_process_group="app"),  # not a Fly Launch machine
        {"region": "fra", "state": "started", "config": None},  # host unreachable
    ]
    assert region_counts(listed) == {"iad": 3}


def test_an_app_flyctl_cannot_find_reads_as_gone(fly: FakeFly) -> None:
    read = MachineCountsProvider().read("nope", {"app": "nope", "counts": {"iad": 1}})
    assert (read.id, read.outs) == ("", {})


def test_delete_runs_no_flyctl(fly: FakeFly) -> None:
    outs = created(fly)
    MachineCountsProvider().delete(APP, outs)
    assert fly.calls() == []
    assert fly.machines(APP) == WANTED


def test_the_provider_pickles_by_reference() -> None:
    # The engine loads it in another process from its module (ARCHITECTURE.md).
    pickled = base64.b64decode(serialize_provider(MachineCountsProvider()))
    assert b"components.fly.providers.machine_counts" in pickled
    assert type(dill.loads(pickled)) is MachineCountsProvider


# -- through the SDK's dynamic provider host, as the engine calls it ----------------


@pytest.fixture
def host(fly: FakeFly, request: pytest.FixtureRequest) -> Any:
    """`python -m pulumi.dynamic` (tests/test_postgres_shape.py), started once the fake
    `fly` is on PATH: the host inherits the environment it starts in."""
    return request.getfixturevalue("dynamic_host")


def test_through_the_host_refresh_then_diff_sees_the_drift(fly: FakeFly, host: Any) -> None:
    provider = serialize_provider(MachineCountsProvider())
    inputs = {"app": APP, "counts": dict(WANTED), "observed": None, "__provider": provider}
    made = host.Create(provider_pb2.CreateRequest(urn=URN, properties=_struct(inputs)))
    outputs = json_format.MessageToDict(made.properties)  # numbers come back as floats
    # A refresh right after: the same outputs and no new inputs, so nothing to report.
    read = host.Read(provider_pb2.ReadRequest(id=APP, urn=URN, properties=_struct(outputs)))
    assert json_format.MessageToDict(read.properties) == outputs and not read.HasField("inputs")
    same = host.Diff(
        provider_pb2.DiffRequest(
            id=APP, urn=URN, olds=_struct(outputs), old_inputs=_struct(inputs), news=_struct(inputs)
        )
    )
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    scale_by_hand(fly, "fra", 1)
    read = host.Read(provider_pb2.ReadRequest(id=APP, urn=URN, properties=_struct(outputs)))
    refreshed = json_format.MessageToDict(read.properties)
    assert refreshed["observed"] == {"fra": 1, "iad": 3, "sin": 1}
    # The engine's next Diff: old outputs (refreshed) as `olds`, the program's inputs as `news`.
    diff = host.Diff(
        provider_pb2.DiffRequest(
            id=APP, urn=URN, olds=read.properties, old_inputs=_struct(inputs), news=_struct(inputs)
        )
    )
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME and not diff.replaces


# -- a fault at every flyctl step: one error naming the app (and the region), nothing
# destructive on an answer the provider could not get, and a re-run converges ---------


def _converges_after(monkeypatch: pytest.MonkeyPatch, fly: FakeFly, *faults: str) -> None:
    for fault in faults:
        monkeypatch.delenv(fault, raising=False)
    result = MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    assert result.outs is not None and result.outs["observed"] == WANTED
    assert fly.machines(APP) == WANTED


def test_the_listing_after_scaling_fails_names_the_app_and_a_rerun_converges(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = create_failing(monkeypatch, "FAKE_FLY_FAIL_NTH", "machine list:2")
    assert message.startswith(f"MachineCounts of app {APP}: cannot list machines")
    assert "\n" not in message and TOKEN not in message
    _converges_after(monkeypatch, fly, "FAKE_FLY_FAIL_NTH")


@pytest.mark.parametrize(
    "printed",
    ["null", "{}", '"machines"', "3", '[{"id": "1"}, "x"]', "not json", ""],
    ids=["null", "object", "string", "number", "not-objects", "text", "nothing"],
)
def test_a_listing_that_is_not_a_list_of_machines_is_an_error_never_no_machines(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch, printed: str
) -> None:
    # flyctl renders flaps List, a slice made with make() (fly-go flaps/flaps_machines.go
    # List), so even no machines print `[]`; anything else is not an answer, and above all
    # not "the app is gone" (only flyctl's explicit not-found says that).
    outs = created(fly)
    monkeypatch.setenv("FAKE_FLY_STDOUT", f"machine list={printed}")
    with pytest.raises(RuntimeError) as caught:
        MachineCountsProvider().read(APP, dict(outs))
    message = str(caught.value)
    assert message.startswith(f"MachineCounts of app {APP}: cannot list machines: ")
    assert "\n" not in message
    with pytest.raises(RuntimeError, match=f"MachineCounts of app {APP}: cannot list machines"):
        MachineCountsProvider().update(APP, outs, {"app": APP, "counts": {"iad": 1}})
    assert scales(fly) == []
    assert fly.machines(APP) == WANTED


def test_a_scale_that_times_out_names_the_app_and_region_and_a_rerun_converges(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake's modelled wait outlasts the bound: flyctl hung. The bound is the module's,
    # shortened here so the test does not wait half an hour.
    monkeypatch.setattr("components.fly.providers.machine_counts.SCALE_TIMEOUT_S", 2)
    monkeypatch.setenv("FAKE_FLY_DURATIONS", json.dumps({"scale count": 60}))
    with pytest.raises(RuntimeError) as caught:
        MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    message = str(caught.value)
    assert message.startswith(f"MachineCounts of app {APP}: scaling region fra to 2 failed: ")
    assert "did not answer in 2 s" in message
    _converges_after(monkeypatch, fly, "FAKE_FLY_DURATIONS")


def test_without_flyctl_on_path_every_step_says_so_naming_the_app(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outs = created(fly)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for step in (
        lambda: MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)}),
        lambda: MachineCountsProvider().read(APP, dict(outs)),
    ):
        with pytest.raises(RuntimeError) as caught:
            step()
        assert str(caught.value) == (
            f"MachineCounts of app {APP}: cannot list machines: flyctl (`fly`) is not on PATH"
        )


def test_the_second_of_three_regions_failing_leaves_the_others_and_a_rerun_converges(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = create_failing(monkeypatch, "FAKE_FLY_FAIL_NTH", "scale:2")
    assert message.startswith(f"MachineCounts of app {APP}: scaling region iad to 3 failed: ")
    # fra was scaled, iad failed, sin never asked: nothing went to 0.
    assert fly.machines(APP) == {"iad": 2, "fra": 2}
    assert ("sin", "1") not in scales(fly)
    _converges_after(monkeypatch, fly, "FAKE_FLY_FAIL_NTH")


# -- what the engine and the config can hand the provider ------------------------------


def test_counts_that_arrive_as_doubles_scale_to_whole_numbers(fly: FakeFly) -> None:
    counts = {"iad": 3.0, "fra": 2.0, "sin": 1.0, "ams": 0.0}
    result = MachineCountsProvider().create({"app": APP, "counts": counts})
    assert result.outs is not None and result.outs["observed"] == WANTED
    assert sorted(scales(fly)) == [("fra", "2"), ("iad", "3"), ("sin", "1")]
    assert (
        MachineCountsProvider().diff(APP, result.outs, {"app": APP, "counts": counts}).changes
        is False
    )


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (2.5, "2.5"),
        (-1, "-1"),
        (-1.0, "-1.0"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        ("3", "'3'"),
        (None, "None"),
        (True, "True"),
        ([1], "[1]"),
    ],
    ids=["fraction", "negative", "negative-double", "inf", "nan", "string", "null", "bool", "list"],
)
def test_a_count_that_is_not_a_whole_number_of_machines_is_refused_before_any_flyctl(
    fly: FakeFly, count: Any, shown: str
) -> None:
    # A negative count would reach flyctl as `-1`, which `fly scale count` reads as "one
    # fewer" (scale/count.go parseGroupCounts: a leading sign is relative).
    with pytest.raises(RuntimeError) as caught:
        MachineCountsProvider().create({"app": APP, "counts": {"iad": 2, "fra": count}})
    assert str(caught.value) == (
        f"MachineCounts of app {APP}: region fra: count {shown} is not a whole number of "
        "machines (0 or more)"
    )
    assert fly.calls() == []


@pytest.mark.parametrize(
    "counts", [{}, {"iad": 0}, {"iad": 0.0, "fra": 0}, None], ids=["empty", "zero", "zeros", "null"]
)
def test_counts_with_no_machine_anywhere_never_scale_the_app_down(
    fly: FakeFly, counts: Any
) -> None:
    # config.py refuses it (the primary region needs a machine); the provider does not
    # take the app down on it either.
    outs = created(fly)
    for step in (
        lambda: MachineCountsProvider().create({"app": APP, "counts": counts}),
        lambda: MachineCountsProvider().update(APP, outs, {"app": APP, "counts": counts}),
    ):
        with pytest.raises(RuntimeError) as caught:
            step()
        assert str(caught.value) == (
            f"MachineCounts of app {APP}: no region has a machine; refusing to scale every "
            "region to 0"
        )
    assert fly.calls() == []
    assert fly.machines(APP) == WANTED


@pytest.mark.parametrize("state", ["stopped", "suspended", "created", "replacing", "failed"])
def test_a_stopped_or_suspended_machine_counts_as_flyctl_counts_it(
    fly: FakeFly, state: str
) -> None:
    # fly-go machine_types.go IsActive: only destroyed and destroying are not; scale count
    # works on ListFlyAppsMachines (flyctl scale/count_machines.go), so a stopped machine
    # is one of the region's and is neither replaced nor added to.
    outs = created(fly)
    snapshot = fly.snapshot()
    machine = next(m for m in snapshot["apps"][APP]["machines"] if m["region"] == "fra")
    machine["state"] = state
    fly.state.write_text(json.dumps(snapshot))
    read = MachineCountsProvider().read(APP, dict(outs))
    assert read.outs is not None and read.outs["observed"] == WANTED
    updated = MachineCountsProvider().update(APP, read.outs, {"app": APP, "counts": dict(WANTED)})
    assert updated.outs is not None and updated.outs["observed"] == WANTED
    assert scales(fly) == []


def test_a_refresh_after_the_app_is_gone_forgets_the_counts(fly: FakeFly) -> None:
    outs = created(fly)
    assert by_hand(fly, "apps", "destroy", APP, "--yes").returncode == 0
    read = MachineCountsProvider().read(APP, dict(outs))
    assert (read.id, read.outs) == ("", {})
    with pytest.raises(RuntimeError, match=f"MachineCounts of app {APP}: the app does not exist"):
        MachineCountsProvider().update(APP, outs, {"app": APP, "counts": dict(WANTED)})


# -- moving machines between regions: every increase before any decrease ---------------

# From WANTED (iad 3, fra 2, sin 1): ams and sin grow, fra and iad shrink. By name alone
# fra and iad (decreases) would come before sin (an increase).
MOVED = {"ams": 2, "iad": 1, "sin": 3}


def test_a_move_between_regions_scales_up_before_it_scales_down(fly: FakeFly) -> None:
    outs = created(fly)
    updated = MachineCountsProvider().update(APP, outs, {"app": APP, "counts": dict(MOVED)}).outs
    assert updated is not None and updated["observed"] == MOVED
    # The fake `fly` logs every call in the order it ran.
    assert scales(fly) == [("ams", "2"), ("sin", "3"), ("fra", "0"), ("iad", "1")]


@pytest.mark.parametrize("nth", [3, 4], ids=["first-decrease", "second-decrease"])
def test_an_up_killed_before_the_decreases_leaves_at_least_both_configs(
    fly: FakeFly, monkeypatch: pytest.MonkeyPatch, nth: int
) -> None:
    # The n-th scale fails as if the up died there: capacity never dips below either
    # config in any region, and the next up has only decreases left.
    outs = created(fly)
    monkeypatch.setenv("FAKE_FLY_FAIL_NTH", f"scale:{nth}")
    with pytest.raises(RuntimeError, match="scaling region"):
        MachineCountsProvider().update(APP, outs, {"app": APP, "counts": dict(MOVED)})
    left = fly.machines(APP)
    for region in {*WANTED, *MOVED}:
        assert left.get(region, 0) >= min(WANTED.get(region, 0), MOVED.get(region, 0))
    assert sum(left.values()) >= max(sum(WANTED.values()), sum(MOVED.values()))
    monkeypatch.delenv("FAKE_FLY_FAIL_NTH")
    fly.log.unlink()
    again = MachineCountsProvider().update(APP, outs, {"app": APP, "counts": dict(MOVED)}).outs
    assert again is not None and again["observed"] == MOVED
    assert all(int(count) < left.get(region, 0) for region, count in scales(fly))  # only down


# -- the flyctl lock (scripts/lib.sh webhost_lock, shared) ---------------------------


def test_scaling_waits_for_a_script_still_acting_on_the_app_then_stops(
    fly: FakeFly, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "locks").mkdir()
    with lock_held(tmp_path / "locks" / f"{APP}.lock"):
        monkeypatch.setenv("WEBHOST_LOCK_WAIT", "0")
        with pytest.raises(
            RuntimeError, match=r"flyctl work on webhost-prod still under way.*pid 4242"
        ):
            MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
        assert not fly.log.exists() or fly.calls() == []
    # the holder gone (a dead one's file is simply taken), the create goes on
    MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    assert fly.machines(APP) == WANTED


def test_an_unusable_lock_is_a_clear_error(fly: FakeFly, tmp_path: Path) -> None:
    (tmp_path / "locks" / f"{APP}.lock").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="cannot open the flyctl lock file"):
        MachineCountsProvider().create({"app": APP, "counts": dict(WANTED)})
    assert not fly.log.exists() or fly.calls() == []
