"""`webhost-infra preflight` against the fakes at their HTTP boundaries.

Fly's GraphQL, Machines and registry APIs are tests/fakes/fly_api/; Cloudflare's REST
API is e2e/fake_cloudflare/fakecf/rest.py over the same state the fake provider keeps;
Grafana and synthetic monitoring are e2e/fake_grafana/fakegrafana/rest.py. Every check
is run passing and failing, each boundary answering 401, 403, 404, 5xx, a lost answer
and a timeout; no line may carry a token, and no run may write.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cli import main, preflight
from tests.conftest import stack_doc, write_stack
from tests.fakeprovider_client import use_fake
from tests.fakes.fly_api import ORG_TOKENS, TOKEN, FakeFlyApi

use_fake("fake_cloudflare")
use_fake("fake_grafana")

from fakecf import api as cf_api  # noqa: E402
from fakecf.rest import FakeCloudflareApi  # noqa: E402
from fakecf.store import Store, zone_id_for  # noqa: E402
from fakegrafana.rest import FakeGrafanaApi  # noqa: E402

CF_TOKEN = "cf-preflight-token-must-not-leak"
GRAFANA_AUTH = "glsa_preflight-auth-must-not-leak"
SM_TOKEN = "sm-preflight-token-must-not-leak"
SECRETS = (TOKEN, CF_TOKEN, GRAFANA_AUTH, SM_TOKEN, *ORG_TOKENS)
ZONES = ("webhost.example", "webhost-staging.example")
GOOD_IMAGE = {"Entrypoint": ["/app/bin/server"], "ExposedPorts": {"4000/tcp": {}, "9091/tcp": {}}}


@dataclass
class World:
    fly: FakeFlyApi
    cf: FakeCloudflareApi
    grafana: FakeGrafanaApi
    store: Store
    tmp: Path
    capsys: pytest.CaptureFixture[str]

    def zone_id(self, name: str = "webhost.example") -> str:
        return zone_id_for(name)

    def record(self, name: str, type_: str, **inputs: Any) -> str:
        with self.store.transaction() as state:
            record_id, _ = cf_api.create_record(
                state, {"zoneId": self.zone_id(), "name": name, "type": type_, "ttl": 1, **inputs}
            )
        return record_id

    def run(
        self, stack: str = "prod", *extra: str, config: dict[str, Any] | None = None
    ) -> tuple[int, str, str]:
        self.capsys.readouterr()
        if config is not None:
            path = write_stack(self.tmp, config, stack)
            code = main.main(["preflight", "--stack-file", str(path), *extra])
        else:
            code = main.main(["preflight", "--stack", stack, *extra])
        out, err = self.capsys.readouterr()
        for secret in SECRETS:
            assert secret.removeprefix("FlyV1 ") not in out + err
        assert "Traceback" not in out + err
        return code, out, err


@pytest.fixture
def world(
    fly_api: FakeFlyApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[World]:
    store = Store(tmp_path / "cloudflare.json", {z: zone_id_for(z) for z in ZONES})
    with FakeCloudflareApi(store, CF_TOKEN) as cf, FakeGrafanaApi(GRAFANA_AUTH, SM_TOKEN) as gf:
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", CF_TOKEN)
        monkeypatch.setenv(preflight.CLOUDFLARE_BASE_ENV, cf.url)
        monkeypatch.setenv("GRAFANA_AUTH", GRAFANA_AUTH)
        monkeypatch.setenv("GRAFANA_SM_ACCESS_TOKEN", SM_TOKEN)
        monkeypatch.setenv(preflight.GRAFANA_SM_BASE_ENV, gf.url)
        monkeypatch.setenv(preflight.GRAFANA_BASE_ENV, gf.url)
        monkeypatch.setenv(preflight.REGISTRY_BASE_ENV, fly_api.url)
        fly_api.state.add_image("webhost", "1.0.0", GOOD_IMAGE)
        yield World(fly_api, cf, gf, store, tmp_path, capsys)


def problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("problem: ")]


def writes(world: World) -> list[str]:
    fly = [
        f"{r.method} {r.path}"
        for r in world.fly.state.requests
        if r.method not in ("GET", "HEAD")
        and not (r.path == "/graphql" and "mutation" not in str(r.body))
    ]
    return fly + [m for m, _ in world.cf.state.requests if m != "GET"]


# -- passing ----------------------------------------------------------------------------


def test_prod_passes_and_reads_only(world: World) -> None:
    code, out, err = world.run("prod")
    assert (code, problems(err)) == (0, [])
    assert out.splitlines()[-1] == "preflight prod: ready"
    for seen in (
        "Fly: organization webhost-systems readable",
        "Fly: app name webhost-prod is free",
        "Fly: app name webhost-prod-db is free",
        "Fly: Redis name webhost-prod-redis is free",
        "Image: registry.fly.io/webhost:1.0.0 exists",
        "Image: registry.fly.io/webhost:1.0.0 config read",
        "Cloudflare: CLOUDFLARE_API_TOKEN is an active API token",
        f"Cloudflare: zone webhost.example ({world.zone_id()})",
        "Grafana: GRAFANA_AUTH accepted",
        "Grafana: GRAFANA_SM_ACCESS_TOKEN accepted",
    ):
        assert seen in out
    # The first `up` makes the cluster under an org token, which cannot accept Tigris's
    # terms: said, with the one-time step, but not a problem before the cluster exists.
    assert "fly postgres backup enable --app webhost-prod-db" in out
    assert writes(world) == []
    # The registry saw Basic x:<token> (flyctl auth/docker.go), never a bearer.
    registry = [r for r in world.fly.state.requests if r.path.startswith("/v2/")]
    assert registry and all((r.authorization or "").startswith("Basic ") for r in registry)


def test_staging_passes(world: World) -> None:
    code, out, err = world.run("staging")
    assert (code, problems(err)) == (0, [])
    # Staging rehearses prod: its hosts live in prod's zone, and it has its own Grafana.
    assert "Cloudflare: zone webhost.example" in out
    assert "Grafana" in out


def test_token_kinds_other_than_the_readme_asks_for_are_noted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = world.run("prod")
    assert code == 0 and "note: Fly: FLY_API_TOKEN is a user token" in out
    assert "GRAFANA_AUTH is not a service account token" not in out
    monkeypatch.setenv("FLY_API_TOKEN", ORG_TOKENS[0])
    world.grafana.state.auth = "eyJrIjoiYW4tb2xkLWtleSJ9"
    monkeypatch.setenv("GRAFANA_AUTH", world.grafana.state.auth)
    code, out, _ = world.run("prod")
    assert code == 0 and "FLY_API_TOKEN is a user token" not in out
    assert "note: Grafana: GRAFANA_AUTH is not a service account token (glsa_...)" in out


def test_an_org_token_passes_and_the_registry_gets_it_without_its_scheme(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", ORG_TOKENS[0])
    code, _, err = world.run("prod")
    assert (code, problems(err)) == (0, [])


# -- bad usage ----------------------------------------------------------------------------


def test_an_invalid_stack_file_is_exit_2_before_any_call(world: World) -> None:
    config = stack_doc("staging") | {"webhost:regions": {"iad": "three"}}
    code, _, err = world.run("bad", config=config)
    assert code == 2 and "webhost:regions" in err
    assert world.fly.state.requests == [] and world.cf.state.requests == []


@pytest.mark.parametrize("state", ["{", "[]", '{"deployment": 3}'])
def test_a_state_that_is_not_an_export_is_exit_2(
    world: World, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(state))
    code, _, err = world.run("prod", "--state", "-")
    assert code == 2 and "pulumi stack export" in err


def test_an_unknown_option_is_exit_2(world: World) -> None:
    with pytest.raises(SystemExit) as exited:
        main.main(["preflight", "--stack", "prod", "--bogus"])
    assert exited.value.code == 2


# -- Fly ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("", "FLY_API_TOKEN is not set"),
        ("fake-fly\u2019token", "non-ASCII character"),
        ("not-the-token", "FLY_API_TOKEN was refused (401)"),
        ("FlyV1 fm2_another-org", "FLY_API_TOKEN was refused (401)"),
    ],
)
def test_a_bad_fly_token_is_one_line(
    world: World, monkeypatch: pytest.MonkeyPatch, token: str, said: str
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", token)
    code, _, err = world.run("prod")
    assert code == 1
    assert [p for p in problems(err) if p.startswith("problem: Fly:")] == [
        next(p for p in problems(err) if said in p)
    ]


def test_an_org_the_token_cannot_see(world: World) -> None:
    config = stack_doc("staging") | {"webhost:org": "nobody-here"}
    code, _, err = world.run("staging", config=config)
    assert code == 1
    assert "organization 'nobody-here' does not exist or FLY_API_TOKEN cannot read it" in err


def test_app_names_taken_elsewhere_or_not_ours(world: World) -> None:
    world.fly.state.add_app("webhost-prod", "other-org")  # invisible: 403
    world.fly.state.organizations["acme"] = "org_Acme"
    world.fly.state.add_app("webhost-prod-db", "acme")
    code, _, err = world.run("prod")
    assert code == 1
    assert "app name webhost-prod is taken by an organization this token cannot read" in err
    assert "app webhost-prod-db exists in organization 'acme', not 'webhost-systems'" in err


def test_an_existing_app_is_ours_only_in_the_state(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.fly.state.add_app("webhost-staging", "webhost-systems")
    code, _, err = world.run("staging")
    assert code == 1
    assert "app webhost-staging already exists in webhost-systems and is not in this stack" in err
    assert "--state -" in err
    export = {"deployment": {"resources": [{"type": "x", "id": "webhost-staging"}]}}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(export)))
    code, out, err = world.run("staging", "--state", "-")
    assert (code, problems(err)) == (0, [])
    assert "app webhost-staging exists and is this stack's" in out
    other = {"deployment": {"resources": [{"type": "x", "id": "someone-else"}]}}
    (world.tmp / "state.json").write_text(json.dumps(other))
    code, _, err = world.run("staging", "--state", str(world.tmp / "state.json"))
    assert code == 1 and "is not in this stack's state:" in err


def test_a_taken_redis_name(world: World) -> None:
    world.fly.state.add_ons["webhost-prod-redis"] = {
        "id": "addon_x",
        "name": "webhost-prod-redis",
        "organization": {"slug": "other-org"},
    }
    code, _, err = world.run("prod")
    assert code == 1 and "Redis webhost-prod-redis already exists" in err


def test_tigris_agreement(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cluster exists without backups: `up` will stop at `backup enable`.
    world.fly.state.add_app("webhost-prod-db", "webhost-systems")
    export = {"deployment": {"resources": [{"type": "x", "outputs": {"a": "webhost-prod-db"}}]}}
    (world.tmp / "state.json").write_text(json.dumps(export))
    code, _, err = world.run("prod", "--state", str(world.tmp / "state.json"))
    assert code == 1
    assert (
        "webhost-prod-db has no backups yet (S3_ARCHIVE_CONFIG unset): once, logged in as "
        "yourself (`fly auth login`), run `fly postgres backup enable --app webhost-prod-db`"
    ) in err
    # A user who agreed (flyctl counts only a User viewer's agreement).
    world.fly.state.user_agreed_tos = True
    code, out, err = world.run("prod", "--state", str(world.tmp / "state.json"))
    assert (code, problems(err)) == (0, []) and "Tigris's terms are agreed" in out
    # An org token is never asked: a macaroon viewer has no agreement to read.
    monkeypatch.setenv("FLY_API_TOKEN", ORG_TOKENS[0])
    code, _, err = world.run("prod", "--state", str(world.tmp / "state.json"))
    assert code == 1 and "has no backups yet" in err
    world.fly.state.secrets["webhost-prod-db"] = {"S3_ARCHIVE_CONFIG": "https://k:s@h/b/x"}
    code, out, err = world.run("prod", "--state", str(world.tmp / "state.json"))
    assert (code, problems(err)) == (0, []) and "backups of webhost-prod-db are enabled" in out


# -- the image ----------------------------------------------------------------------------


def test_a_missing_image(world: World) -> None:
    config = stack_doc("staging") | {"webhost:image": "registry.fly.io/webhost:9.9.9"}
    code, _, err = world.run("staging", config=config)
    assert code == 1
    assert "image registry.fly.io/webhost:9.9.9 (webhost:image) is not in registry.fly.io" in err


@pytest.mark.parametrize(
    ("config", "platforms", "said"),
    [
        ({"Cmd": ["/app/bin/server"]}, (("linux", "arm64"),), "has no linux/amd64 image"),
        ({"ExposedPorts": {"4000/tcp": {}, "9091/tcp": {}}}, None, "sets no ENTRYPOINT or CMD"),
        ({"Cmd": ["x"], "ExposedPorts": {"8080/tcp": {}, "9091/tcp": {}}}, None,
         "exposes 8080/tcp, 9091/tcp but not 4000 (webhost:http.internalPort)"),
        ({"Cmd": ["x"], "ExposedPorts": {"4000/tcp": {}}}, None,
         "but not 9091 (webhost:metrics.port)"),
    ],
)  # fmt: skip
def test_the_app_contract_where_the_registry_shows_it(
    world: World, config: dict[str, Any], platforms: Any, said: str
) -> None:
    world.fly.state.add_image("webhost", "2.0.0", config, platforms or (("linux", "amd64"),))
    stack = stack_doc("staging") | {"webhost:image": "registry.fly.io/webhost:2.0.0"}
    code, _, err = world.run("staging", config=stack)
    assert code == 1 and said in err


def test_an_image_without_an_index_or_exposed_ports_passes(world: World) -> None:
    digest = world.fly.state.add_image(
        "webhost", "3.0.0", {"Cmd": ["/app/bin/server"]}, index=False
    )
    stack = stack_doc("staging") | {"webhost:image": f"registry.fly.io/webhost@{digest}"}
    code, _, err = world.run("staging", config=stack)
    assert (code, problems(err)) == (0, [])


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("registry.fly.io/webhost:1.0.0", ("registry.fly.io", "webhost", "1.0.0")),
        ("registry.fly.io/a/b@sha256:ab", ("registry.fly.io", "a/b", "sha256:ab")),
        ("localhost:5000/x", ("localhost:5000", "x", "latest")),
        ("nginx", ("registry-1.docker.io", "library/nginx", "latest")),
        ("user/app:2", ("registry-1.docker.io", "user/app", "2")),
    ],
)
def test_image_references(reference: str, parts: tuple[str, str, str]) -> None:
    assert preflight.split_image(reference) == parts


# -- Cloudflare ---------------------------------------------------------------------------


def test_no_cloudflare_token(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN")
    code, _, err = world.run("staging")
    assert code == 1 and "CLOUDFLARE_API_TOKEN is not set: create an API token" in err


@pytest.mark.parametrize("status", ["disabled", "expired"])
def test_an_inactive_cloudflare_token(world: World, status: str) -> None:
    world.cf.state.token_status = status
    code, _, err = world.run("staging")
    assert code == 1 and f"CLOUDFLARE_API_TOKEN is '{status}', not active" in err


def test_a_cloudflare_token_that_is_not_one(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "a-global-api-key")
    code, _, err = world.run("staging")
    assert code == 1
    assert "CLOUDFLARE_API_TOKEN is not a valid API token (verify was refused (401))" in err


def test_a_zone_the_token_cannot_see(world: World) -> None:
    config = stack_doc("staging")
    config["webhost:domain"] = {**config["webhost:domain"], "zone": "elsewhere.example"}
    code, _, err = world.run("staging", config=config)
    assert code == 1 and "zone elsewhere.example (webhost:domain.zone) is not visible" in err


@pytest.mark.parametrize(
    ("denied", "said"),
    [
        (r"/zones/[0-9a-f]+/dns_records", "give it DNS Write on webhost.example"),
        (r"/zones/[0-9a-f]+/settings/ssl", "give it Zone Settings Write"),
        (r"/zones/[0-9a-f]+/rulesets", "give it Cache Rules Write"),
        (r"/zones", "reading zone webhost.example lacks the permission (403)"),
    ],
)
def test_a_permission_the_token_lacks(world: World, denied: str, said: str) -> None:
    world.cf.state.denied.append(denied)
    code, _, err = world.run("prod")
    assert code == 1 and said in err


def test_an_existing_record_gets_its_import_command(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = world.record("www.webhost.example", "A", content="192.0.2.10", proxied=True)
    code, _, err = world.run("prod")
    assert code == 1
    edge = "urn:pulumi:prod::webhost::webhost:index:Platform$webhost:edge:Edge::webhost"
    assert (
        "A www.webhost.example exists (" + old + ", to '192.0.2.10') and is not this stack's: "
        "adopt it with `pulumi import cloudflare:index/dnsRecord:DnsRecord "
        f"webhost-a-www.webhost.example {world.zone_id()}/{old} --parent 'webhost={edge}'`"
    ) in err
    export = {"deployment": {"resources": [{"type": preflight.DNS_RECORD_TYPE, "id": old}]}}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(export)))
    code, _, err = world.run("prod", "--state", "-")
    assert (code, problems(err)) == (0, [])


def test_records_that_cannot_be_adopted_are_refused_by_name(world: World) -> None:
    cname = world.record("webhost.example", "CNAME", content="old-origin.example.net")
    first = world.record("www.webhost.example", "AAAA", content="2001:db8::1")
    second = world.record("www.webhost.example", "AAAA", content="2001:db8::2")
    code, _, err = world.run("prod")
    assert code == 1
    assert f"CNAME record webhost.example ({cname}, to 'old-origin.example.net') stands" in err
    ids = ", ".join(sorted([first, second]))
    assert f"2 AAAA records at www.webhost.example ({ids}): refused" in err


def test_caa_beside_another_issuer_is_fine_the_same_one_is_adopted(world: World) -> None:
    world.record("webhost.example", "CAA", data={"flags": 0, "tag": "issue", "value": "pki.goog"})
    code, _, err = world.run("prod")
    assert (code, problems(err)) == (0, [])
    same = world.record(
        "webhost.example", "CAA", data={"flags": 0, "tag": "issue", "value": "letsencrypt.org"}
    )
    code, _, err = world.run("prod")
    assert code == 1 and f"webhost-caa {world.zone_id()}/{same}" in err


# -- Grafana ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("GRAFANA_AUTH", "", "GRAFANA_AUTH is not set: create a service account token"),
        ("GRAFANA_AUTH", "glsa_wrong", "GRAFANA_AUTH was refused by"),
        ("GRAFANA_SM_ACCESS_TOKEN", "", "GRAFANA_SM_ACCESS_TOKEN is not set"),
        ("GRAFANA_SM_ACCESS_TOKEN", "wrong", "GRAFANA_SM_ACCESS_TOKEN was refused by"),
        (preflight.GRAFANA_BASE_ENV, "http://127.0.0.1:9", "no answer (ConnectError)"),
    ],
)
def test_grafana_tokens_and_reach(
    world: World, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    code, _, err = world.run("prod")
    assert code == 1 and said in err
    assert len(problems(err)) == 1


# -- every boundary, every failure ------------------------------------------------------

# (which fake, the path it fails, what the line names)
BOUNDARIES = [
    ("fly", "POST", "/graphql", "Fly:"),
    ("fly", "GET", "/v1/apps/webhost-prod", "Fly:"),
    ("fly", "HEAD", "/v2/webhost/manifests/1.0.0", "Image:"),
    ("fly", "GET", "/v2/webhost/blobs/.*", "Image:"),
    ("cf", "GET", "/user/tokens/verify", "Cloudflare"),
    ("cf", "GET", "/zones", "Cloudflare"),
    ("cf", "GET", "/zones/[0-9a-f]+/dns_records", "Cloudflare"),
    ("grafana", "GET", "/api/health", "Grafana:"),
    ("grafana", "GET", "/api/org", "Grafana:"),
    ("grafana", "GET", "/api/v1/probe/list", "Grafana:"),
]


@pytest.mark.parametrize("status", [401, 403, 404, 500, 503])
@pytest.mark.parametrize(("fake", "method", "path", "names"), BOUNDARIES)
def test_every_boundary_failing_is_a_problem_line(
    world: World, fake: str, method: str, path: str, names: str, status: int
) -> None:
    if fake == "fly":
        world.fly.state.fail_next(method, path, status, times=5)
    else:
        target = world.cf if fake == "cf" else world.grafana
        for _ in range(5):
            target.state.fail_next(path, status)
    code, out, err = world.run("prod")
    if (path, status) == ("/v1/apps/webhost-prod", 404):
        # Fly's explicit not-found is the one answer that means "free" (fly-go
        # flaps/flaps_apps.go AppNameAvailable).
        assert code == 0 and "app name webhost-prod is free" in out
        return
    assert code == 1
    assert any(p.startswith(f"problem: {names}") for p in problems(err)), err
    assert err.splitlines()[-1].startswith("preflight prod: ")


@pytest.mark.parametrize(("fake", "method", "path", "names"), BOUNDARIES)
def test_every_boundary_unanswered_is_a_problem_line(
    world: World, monkeypatch: pytest.MonkeyPatch, fake: str, method: str, path: str, names: str
) -> None:
    monkeypatch.setattr(preflight.base, "TIMEOUT", 0.5)
    if fake == "fly":
        world.fly.state.lose_answer_next(method, path)
    else:
        (world.cf if fake == "cf" else world.grafana).state.fail_next(path, None)  # hangs
    code, _, err = world.run("prod")
    assert code == 1
    lines = [p for p in problems(err) if p.startswith(f"problem: {names}")]
    assert lines and any(w in lines[0] for w in ("no answer", "timed out", "lost")), err
