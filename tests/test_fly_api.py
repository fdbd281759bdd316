"""The Fly Machines API client against the fake Fly API over real HTTP."""

from __future__ import annotations

import socket

import pytest

from components.fly.api import (
    FlyApiError,
    FlyClient,
    FlyConflict,
    FlyNotFound,
    RetryPolicy,
    authorization,
)
from tests.fakes.fly_api import FakeFlyApi


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(fly_api: FakeFlyApi, sleeps: Sleeps) -> FlyClient:
    return FlyClient(retry=RetryPolicy(attempts=4, initial_delay=0.5, max_delay=8), sleep=sleeps)


def test_app_round_trip(client: FlyClient, fly_api: FakeFlyApi) -> None:
    client.create_app("webhost-staging", "webhost-systems")
    app = client.get_app("webhost-staging")
    assert app["organization"]["slug"] == "webhost-systems"
    client.delete_app("webhost-staging")
    assert "webhost-staging" not in fly_api.state.apps


def test_requests_carry_the_token_from_the_environment(
    client: FlyClient, fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.create_app("a1", "org")
    monkeypatch.setenv("FLY_API_TOKEN", "rotated")
    with pytest.raises(FlyApiError) as caught:
        client.get_app("a1")  # read at call time: the rotated token is sent (and refused)
    assert caught.value.status == 401
    assert fly_api.state.requests[-1].authorization == "Bearer rotated"


def test_missing_app_is_not_found_with_flys_message(client: FlyClient) -> None:
    with pytest.raises(FlyNotFound) as caught:
        client.get_app("nope")
    assert caught.value.status == 404
    assert str(caught.value) == "Fly API GET /v1/apps/nope failed: 404 app not found"


def test_existing_name_is_a_conflict(client: FlyClient) -> None:
    client.create_app("taken", "org")
    with pytest.raises(FlyConflict):
        client.create_app("taken", "org")


def test_429_waits_for_retry_after_then_succeeds(
    client: FlyClient, fly_api: FakeFlyApi, sleeps: Sleeps
) -> None:
    fly_api.state.fail_next("POST", "/v1/apps", 429, **{"Retry-After": "3"})
    client.create_app("busy", "org")
    assert sleeps == [3.0]
    assert len(fly_api.state.calls("POST", "/v1/apps")) == 2
    assert "busy" in fly_api.state.apps


def test_retry_after_is_capped_by_max_delay(
    client: FlyClient, fly_api: FakeFlyApi, sleeps: Sleeps
) -> None:
    fly_api.state.fail_next("POST", "/v1/apps", 429, **{"Retry-After": "3600"})
    client.create_app("slow", "org")
    assert sleeps == [8.0]


def test_5xx_then_success_backs_off(client: FlyClient, fly_api: FakeFlyApi, sleeps: Sleeps) -> None:
    fly_api.state.fail_next("GET", "/v1/apps/x", 503, times=2)
    fly_api.state.apps["x"] = {"name": "x", "status": "deployed", "organization": {"slug": "o"}}
    assert client.get_app("x")["status"] == "deployed"
    assert len(sleeps) == 2
    assert all(0 < s <= 8 for s in sleeps)


def test_5xx_until_give_up_raises_the_last_error(
    client: FlyClient, fly_api: FakeFlyApi, sleeps: Sleeps
) -> None:
    fly_api.state.fail_next("GET", "/v1/apps/x", 502, times=10)
    with pytest.raises(FlyApiError) as caught:
        client.get_app("x")
    assert caught.value.status == 502
    assert caught.value.message == "injected failure"
    assert len(fly_api.state.calls("GET", "/v1/apps/x")) == 4
    assert len(sleeps) == 3


def test_client_errors_are_not_retried(client: FlyClient, fly_api: FakeFlyApi) -> None:
    fly_api.state.fail_next("POST", "/v1/apps", 422)
    with pytest.raises(FlyApiError) as caught:
        client.create_app("bad", "org")
    assert caught.value.status == 422
    assert len(fly_api.state.calls("POST", "/v1/apps")) == 1


def test_transport_failure_is_retried_then_reported(
    monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("FLY_API_TOKEN", "t")
    client = FlyClient(f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=3), sleep=sleeps)
    with pytest.raises(FlyApiError) as caught:
        client.get_app("x")
    assert caught.value.status is None
    assert "ConnectError" in caught.value.message
    assert len(sleeps) == 2


def test_missing_token_fails_before_any_request(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLY_API_TOKEN")
    with pytest.raises(FlyApiError, match="FLY_API_TOKEN is not set"):
        FlyClient(sleep=Sleeps()).get_app("x")
    assert fly_api.state.requests == []


def test_secrets_set_and_unset_in_one_call(client: FlyClient, fly_api: FakeFlyApi) -> None:
    client.create_app("s", "org")
    assert client.update_secrets("s", {"A": "1", "B": "2"}) == 1
    assert client.update_secrets("s", {"A": None, "C": "3"}) == 2
    assert client.list_secret_names("s") == {"B", "C"}
    assert fly_api.state.secrets["s"] == {"B": "2", "C": "3"}


@pytest.mark.parametrize(
    ("token", "header"),
    [
        ("FlyV1 fm2_abc,fm2_def", "FlyV1 fm2_abc,fm2_def"),  # `fly tokens create` output
        ("fm2_abc", "FlyV1 fm2_abc"),
        ("user-token-123", "Bearer user-token-123"),  # `fly auth token` output
        ("Bearer user-token-123", "Bearer user-token-123"),
    ],
)
def test_authorization_scheme_follows_the_token_kind(token: str, header: str) -> None:
    assert authorization(token) == header


def test_macaroon_token_is_sent_with_the_flyv1_scheme(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", "FlyV1 fm2_org_token")
    with pytest.raises(FlyApiError):
        FlyClient(retry=RetryPolicy(attempts=1)).get_app("x")
    assert fly_api.state.requests[-1].authorization == "FlyV1 fm2_org_token"
