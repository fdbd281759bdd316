"""`webhost-infra drift` against the fakes: a clean platform passes, each seeded drift is found.

The platform is prod's, seeded as `pulumi up` and the flyctl scripts leave it: the
app, its secrets, IPs and certificates and the Redis add-on in the fake Fly API; the
app's machines and the Postgres cluster (members, volumes, backups) in the fake
`fly`'s state. Each test then changes one thing the way a hand-run command would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli import main, stackfile
from components import catalog, config
from components.fly.api import FlyClient
from components.fly.providers.upstash_redis import UpstashRedisProvider
from tests.conftest import ROOT, FakeFly
from tests.fakes import fly_cli
from tests.fakes.fly_api import FakeFlyApi

STACK = "prod"


def parsed() -> config.StackConfig:
    loaded = stackfile.load(ROOT / f"Pulumi.{STACK}.yaml", project_file=ROOT / "Pulumi.yaml")
    return config.parse(loaded.config, loaded.secret_keys, loaded.secure_paths)


@pytest.fixture
def platform(
    fly_api: FakeFlyApi, fake_fly: FakeFly, monkeypatch: pytest.MonkeyPatch
) -> tuple[FakeFlyApi, FakeFly]:
    cfg = parsed()
    for name, value in fake_fly.env().items():
        if name != "FLY_API_TOKEN":
            monkeypatch.setenv(name, value)
    api = fly_api.state
    api.add_app(cfg.app_name, cfg.org)
    owned = [*catalog.GENERATED_SECRETS, *cfg.operator_secrets(), *cfg.data_secret_names]
    api.secrets[cfg.app_name] = {name: f"value-of-{name}" for name in owned}
    client = FlyClient()
    client.allocate_ip(cfg.app_name, "v6")
    client.allocate_ip(
        cfg.app_name, catalog.IP_TYPES[cfg.domain.ipv4_kind if cfg.domain else "shared"]
    )
    assert cfg.domain is not None
    for host in cfg.domain.fqdns:
        client.request_certificate(cfg.app_name, host)
        api.certificates[cfg.app_name][host] |= {"status": "active", "configured": True}
    assert cfg.redis is not None and cfg.redis_name is not None
    UpstashRedisProvider().create(
        {
            "name": cfg.redis_name,
            "org": cfg.org,
            "primary_region": cfg.redis.primary_region or cfg.primary_region,
            "replica_regions": list(cfg.redis.replica_regions),
            "eviction": cfg.redis.eviction,
            "plan": cfg.redis.plan,
        }
    )
    state = fly_cli.load(fake_fly.state)
    fly = fly_cli.Fly(state)
    app = fly.new_app(cfg.app_name, cfg.org)
    guest = {"cpu_kind": cfg.vm.cpu_kind, "cpus": cfg.vm.cpus, "memory_mb": cfg.vm.memory_mb}
    for region, count in cfg.regions.items():
        for _ in range(count):
            fly.new_machine(app, region, guest, image=cfg.image)
    pg, cluster = cfg.postgres, cfg.postgres_name
    assert pg is not None and cluster is not None
    members = fly.new_app(cluster, cfg.org)
    state["pg"][cluster] = {"backup_config": {"recovery_window": "14d"}}
    pg_guest = {"cpu_kind": pg.vm.cpu_kind, "cpus": pg.vm.cpus, "memory_mb": pg.vm.memory_mb}
    regions = [cfg.primary_region] * pg.cluster_size + list(pg.replica_regions)
    for i, region in enumerate(regions):
        machine = fly.new_machine(members, region, pg_guest, image=pg.image, volume_gb=pg.volume_gb)
        machine["role"] = "primary" if i == 0 else "replica"
    members["secrets"][catalog.BACKUP_SECRET] = "https://tid_x:tsec_archive-credential@tigris/b"
    fake_fly.state.write_text(json.dumps(state))
    return fly_api, fake_fly


def drift(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main.main(["drift", "--stack", STACK, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_drift(capsys: pytest.CaptureFixture[str], expected: str) -> None:
    """`drift` exits 1 with exactly one line: the expected finding."""
    code, out, _ = drift(capsys)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith(f"drift: {expected}")


def change_fly(fake: FakeFly, edit: Callable[[dict[str, Any]], None]) -> None:
    state = json.loads(fake.state.read_text())
    edit(state)
    fake.state.write_text(json.dumps(state))


def test_a_clean_platform_is_in_step(
    platform: tuple[FakeFlyApi, FakeFly], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = drift(capsys)
    assert (code, err) == (0, "")
    assert out.startswith("in step")


def _app_machines(state: dict[str, Any]) -> list[dict[str, Any]]:
    machines: list[dict[str, Any]] = state["apps"]["webhost-prod"]["machines"]
    return machines


def _members(state: dict[str, Any]) -> list[dict[str, Any]]:
    machines: list[dict[str, Any]] = state["apps"]["webhost-prod-db"]["machines"]
    return machines


def _drop_first_in(machines: list[dict[str, Any]], region: str) -> None:
    machines.remove(next(m for m in machines if m["region"] == region))


FLY_DRIFT: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "scaled by hand": (
        lambda s: _drop_first_in(_app_machines(s), "fra"),
        "webhost:regions.fra: 2 app machines wanted in fra, 1 running",
    ),
    "machine in a region the stack lacks": (
        lambda s: _app_machines(s).append(
            {**_app_machines(s)[0], "id": "m-extra", "region": "ams"}
        ),
        "webhost:regions: 0 app machines wanted in ams, 1 running",
    ),
    "machine resized": (
        lambda s: _app_machines(s)[0]["guest"].update(memory_mb=8192),
        "webhost:vm: machine",
    ),
    "other image": (
        lambda s: _app_machines(s)[0].update(image="registry.fly.io/webhost:hotfix"),
        "webhost:image: machine",
    ),
    "member lost": (
        lambda s: _members(s).pop(1),
        "webhost:postgres.clusterSize: 3 members wanted in iad, 2 running",
    ),
    "replica lost": (
        lambda s: _drop_first_in(_members(s), "sin"),
        "webhost:postgres.replicaRegions: 1 replicas wanted in sin, 0 running",
    ),
    "member resized": (
        lambda s: _members(s)[0]["guest"].update(cpus=2),
        "webhost:postgres.vm: member",
    ),
    "volume extended": (
        lambda s: s["apps"]["webhost-prod-db"]["volumes"][0].update(size_gb=80),
        "webhost:postgres.volumeGb: volume",
    ),
    "backups off": (
        lambda s: s["apps"]["webhost-prod-db"]["secrets"].pop(catalog.BACKUP_SECRET),
        "webhost:postgres.backups.enabled: backups are off on webhost-prod-db",
    ),
    "cluster gone": (
        lambda s: s["apps"].pop("webhost-prod-db"),
        "webhost:postgres.name: Postgres cluster webhost-prod-db does not exist",
    ),
}


@pytest.mark.parametrize("kind", FLY_DRIFT)
def test_drift_made_with_flyctl_is_found(
    kind: str, platform: tuple[FakeFlyApi, FakeFly], capsys: pytest.CaptureFixture[str]
) -> None:
    edit, expected = FLY_DRIFT[kind]
    change_fly(platform[1], edit)
    one_drift(capsys, expected)


def test_machines_scale_count_does_not_count_are_no_drift(
    platform: tuple[FakeFlyApi, FakeFly], capsys: pytest.CaptureFixture[str]
) -> None:
    # Counted as `fly scale count` and MachineCounts count (components/fly/machines.py):
    # a `fly machine run` one-off and a release command's machine are not the app's.
    def add(state: dict[str, Any]) -> None:
        template = _app_machines(state)[0]
        release = fly_cli.launch_metadata("fly_app_release_command")
        _app_machines(state).append({**template, "id": "m-one-off", "metadata": {}})
        _app_machines(state).append({**template, "id": "m-release", "metadata": release})

    change_fly(platform[1], add)
    code, out, _ = drift(capsys)
    assert (code, out.splitlines()[0]) == (0, "in step: webhost-prod matches the stack")


def _pending(api: FakeFlyApi) -> None:
    api.state.certificates["webhost-prod"]["www.webhost.example"]["status"] = "pending_validation"


def _dedicated(api: FakeFlyApi) -> None:
    FlyClient().allocate_ip("webhost-prod", "v4")


def _secret_unset(api: FakeFlyApi) -> None:
    api.state.secrets["webhost-prod"].pop("DATABASE_URL")


def _redis_regions(api: FakeFlyApi) -> None:
    api.state.add_ons["webhost-prod-redis"]["readRegions"] = ["fra"]


def _redis_plan(api: FakeFlyApi) -> None:
    api.state.add_ons["webhost-prod-redis"]["addOnPlan"] = {
        "id": "plan_250",
        "displayName": "Fixed 250MB",
    }


API_DRIFT: dict[str, tuple[Callable[[FakeFlyApi], None], str]] = {
    "certificate not issued": (
        _pending,
        "webhost:domain.hosts: www.webhost.example's certificate is pending_validation",
    ),
    "dedicated IPv4 added": (_dedicated, "webhost:domain.ipv4: 0 v4 address(es) wanted, 1"),
    "owned secret unset": (
        _secret_unset,
        "webhost:appName: secret DATABASE_URL is missing on app webhost-prod",
    ),
    "redis replica dropped": (
        _redis_regions,
        'webhost:redis.replicaRegions: ["fra"] live, ["fra", "sin"] in the stack',
    ),
    "redis plan changed": (
        _redis_plan,
        'webhost:redis.plan: "Fixed 250MB" live, "Pay-as-you-go" in the stack',
    ),
}


@pytest.mark.parametrize("kind", API_DRIFT)
def test_drift_seen_through_the_fly_api_is_found(
    kind: str, platform: tuple[FakeFlyApi, FakeFly], capsys: pytest.CaptureFixture[str]
) -> None:
    edit, expected = API_DRIFT[kind]
    edit(platform[0])
    one_drift(capsys, expected)


def test_json_lists_each_finding_with_its_key(
    platform: tuple[FakeFlyApi, FakeFly], capsys: pytest.CaptureFixture[str]
) -> None:
    change_fly(platform[1], lambda s: _drop_first_in(_app_machines(s), "sin"))
    _redis_plan(platform[0])
    code, out, _ = drift(capsys, "--format", "json")
    assert code == 1
    keys = [f["key"] for f in json.loads(out)["drift"]]
    assert keys == ["webhost:regions.sin", "webhost:redis.plan"]


def test_no_secret_value_is_ever_printed(
    platform: tuple[FakeFlyApi, FakeFly], capsys: pytest.CaptureFixture[str]
) -> None:
    change_fly(platform[1], lambda s: s["apps"]["webhost-prod-db"]["secrets"].clear())
    _secret_unset(platform[0])
    code, out, err = drift(capsys, "--format", "json")
    assert code == 1
    redis_url = platform[0].state.add_ons["webhost-prod-redis"]["publicUrl"]
    for text in ("value-of-", "archive-credential", redis_url, "fake-fly-token"):
        assert text not in out + err


def test_a_listing_that_fails_is_no_answer(
    platform: tuple[FakeFlyApi, FakeFly],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_FLY_FAIL", "machine list")
    code, out, err = drift(capsys)
    assert (code, out) == (1, "")
    assert err.startswith("error: `fly machine list") and "in step" not in err


@pytest.mark.parametrize("printed", ["null", "{}", "[1, 2]", '"no machines"'])
@pytest.mark.parametrize("listing", ["machine list", "volumes list", "secrets list"])
def test_a_listing_that_is_not_a_list_is_no_answer(
    platform: tuple[FakeFlyApi, FakeFly],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    listing: str,
    printed: str,
) -> None:
    # fly-go flaps List answers `[]` for nothing listed: anything else is no answer,
    # never "the app is gone" or "nothing there".
    monkeypatch.setenv("FAKE_FLY_STDOUT", f"{listing}={printed}")
    code, out, err = drift(capsys)
    assert (code, out) == (1, "")
    assert err.startswith(f"error: `fly {listing}") and "not a list of objects" in err


def test_without_a_token_it_exits_2(
    platform: tuple[FakeFlyApi, FakeFly],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLY_API_TOKEN")
    code, out, err = drift(capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1


def test_an_invalid_stack_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  webhost:tier: platinum\n")
    code = main.main(["drift", "--stack-file", str(bad)])
    assert code == 2
    assert "webhost:tier" in capsys.readouterr().err
