"""The Fly Machines API client against the fake Fly API over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
from urllib.parse import unquote_plus

import pytest

from components.fly.api import (
    FlyApiError,
    FlyClient,
    FlyConflict,
    FlyGraphQL,
    FlyNotFound,
    FlyOutcomeUnknown,
    FlyRefused,
    FlyResponseError,
    FlyTokenError,
    RetryPolicy,
    authorization,
    redact,
)
from tests.fakes.fly_api import ECHOES, NAME_TAKEN, TOKEN, FakeFlyApi


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


def test_taken_name_is_a_422_conflict_with_flys_code(client: FlyClient) -> None:
    client.create_app("taken", "org")
    with pytest.raises(FlyConflict) as caught:
        client.create_app("taken", "org")
    assert (caught.value.status, caught.value.code) == (422, "name_taken")


def test_legacy_taken_message_without_a_code_is_a_conflict(
    client: FlyClient, fly_api: FakeFlyApi
) -> None:
    fly_api.state.fail_next("POST", "/v1/apps", 422, body={"error": NAME_TAKEN["error"]})
    with pytest.raises(FlyConflict):
        client.create_app("w", "org")


def test_other_422_is_refused_not_taken(client: FlyClient, fly_api: FakeFlyApi) -> None:
    invalid = "Validation failed: Name under 63 chars using numbers, lowercase letters and dashes"
    fly_api.state.fail_next("POST", "/v1/apps", 422, body={"error": invalid})
    with pytest.raises(FlyRefused) as caught:
        client.create_app("Not_A_Name", "org")
    assert caught.value.message == invalid
    assert len(fly_api.state.calls("POST", "/v1/apps")) == 1


def test_create_app_sends_fly_gos_request_and_waits(client: FlyClient, fly_api: FakeFlyApi) -> None:
    app = client.create_app("w", "webhost-systems")
    post = fly_api.state.calls("POST", "/v1/apps")[-1]
    assert post.path == "/v1/apps?wait=true"
    assert post.body == {"name": "w", "org_slug": "webhost-systems"}
    assert app["organization"]["slug"] == "webhost-systems"


def test_create_app_waits_out_the_404_that_follows_a_create(
    client: FlyClient, fly_api: FakeFlyApi, sleeps: Sleeps
) -> None:
    fly_api.state.fail_next("GET", "/v1/apps/w", 404, times=3, body={"error": "app not found"})
    assert client.create_app("w", "org")["name"] == "w"
    assert len(fly_api.state.calls("GET", "/v1/apps/w")) == 4
    assert len(sleeps) == 3
    assert all(s <= 0.5 for s in sleeps)  # fly-go WaitForApp backs off 100..500 ms


def test_message_is_preferred_over_error(client: FlyClient, fly_api: FakeFlyApi) -> None:
    body = {"error": "bad request", "message": "region xyz does not exist"}
    fly_api.state.fail_next("GET", "/v1/apps/x", 400, body=body)
    with pytest.raises(FlyApiError) as caught:
        client.get_app("x")
    assert caught.value.message == "region xyz does not exist"


def test_a_200_that_is_not_json_names_the_call(client: FlyClient, fly_api: FakeFlyApi) -> None:
    fly_api.state.answer_raw_next("GET", "/v1/apps/x", b"<html>maintenance</html>")
    with pytest.raises(FlyResponseError) as caught:
        client.get_app("x")
    assert "GET /v1/apps/x" in str(caught.value)
    assert "not JSON" in str(caught.value)
    assert len(fly_api.state.calls("GET", "/v1/apps/x")) == 1


def test_a_200_of_another_shape_names_the_call(client: FlyClient, fly_api: FakeFlyApi) -> None:
    fly_api.state.answer_raw_next("GET", "/v1/apps/x", b'{"app": {}}', "application/json")
    with pytest.raises(FlyResponseError, match=r"GET /v1/apps/x: unexpected answer \(name"):
        client.get_app("x")


def test_secrets_write_without_a_version_names_the_call(
    client: FlyClient, fly_api: FakeFlyApi
) -> None:
    client.create_app("s", "org")
    fly_api.state.answer_raw_next("POST", "/v1/apps/s/secrets", b'{"secrets": []}', "x/json")
    with pytest.raises(FlyResponseError, match="POST /v1/apps/s/secrets: unexpected answer"):
        client.update_secrets("s", {"A": "1"})


def test_shape_errors_never_show_values(client: FlyClient, fly_api: FakeFlyApi) -> None:
    client.create_app("s", "org")
    fly_api.state.answer_raw_next(
        "POST", "/v1/apps/s/secrets", b'{"version": "hunter2-not-a-number"}', "x/json"
    )
    with pytest.raises(FlyResponseError) as caught:
        client.update_secrets("s", {"A": "1"})
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("retry_after", "slept"), [("3", 3.0), ("3600", 8.0)], ids=["as-asked", "capped-at-max-delay"]
)
def test_429_waits_for_retry_after_then_succeeds(
    client: FlyClient, fly_api: FakeFlyApi, sleeps: Sleeps, retry_after: str, slept: float
) -> None:
    fly_api.state.fail_next("POST", "/v1/apps", 429, **{"Retry-After": retry_after})
    client.create_app("busy", "org")
    assert sleeps == [slept]
    assert len(fly_api.state.calls("POST", "/v1/apps")) == 2
    assert "busy" in fly_api.state.apps


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


# -- the token ------------------------------------------------------------------------

BAD_TOKENS = [
    (f"{TOKEN[:5]}\n{TOKEN[5:]}", "a line break inside it (character 6 of 15)"),
    (f"{TOKEN}\u2019", "a non-ASCII character (character 15 of 15)"),
    (f"{TOKEN[:5]}\t{TOKEN[5:]}", "a control character (character 6 of 15)"),
]


@pytest.mark.parametrize(("token", "problem"), BAD_TOKENS, ids=["newline", "non-ascii", "tab"])
def test_unusable_token_is_one_clear_error_without_the_token(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps, token: str, problem: str
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", token)
    with pytest.raises(FlyTokenError) as caught:
        FlyClient(sleep=sleeps).get_app("x")
    message = str(caught.value)
    assert message.startswith(f"FLY_API_TOKEN is unusable: it has {problem}")
    assert "\n" not in message
    assert TOKEN[5:] not in str(caught.value)
    assert (fly_api.state.requests, sleeps) == ([], [])


@pytest.mark.parametrize(("token", "problem"), BAD_TOKENS, ids=["newline", "non-ascii", "tab"])
def test_unusable_token_stops_graphql_too(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps, token: str, problem: str
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", token)
    with pytest.raises(FlyTokenError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        FlyGraphQL(sleep=sleeps)("query { viewer { id } }")
    assert (fly_api.state.requests, sleeps) == ([], [])


def test_surrounding_whitespace_is_trimmed(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", f"  {TOKEN}\n")  # as `$(cat token-file)` or a paste
    FlyClient().create_app("w", "org")
    assert fly_api.state.requests[-1].authorization == f"Bearer {TOKEN}"


def test_missing_token_is_not_retried(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", " \n")
    with pytest.raises(FlyTokenError, match="FLY_API_TOKEN is not set"):
        FlyClient(sleep=sleeps).get_app("x")
    assert sleeps == []


# -- allocating requests: never twice for one lost answer -------------------------------


def test_lost_answer_of_an_allocation_is_not_retried_blindly(
    client: FlyClient, fly_api: FakeFlyApi
) -> None:
    client.create_app("w", "org")
    fly_api.state.lose_answer_next("POST", "/v1/apps/w/ip_assignments")
    with pytest.raises(FlyOutcomeUnknown):
        client.assign_ip("w", "v6")
    assert len(fly_api.state.calls("POST", "/v1/apps/w/ip_assignments")) == 1


def test_allocate_ip_adopts_what_a_lost_answer_made(client: FlyClient, fly_api: FakeFlyApi) -> None:
    client.create_app("w", "org")
    fly_api.state.lose_answer_next("POST", "/v1/apps/w/ip_assignments")
    address = client.allocate_ip("w", "v6")["ip"]
    assert [a["ip"] for a in fly_api.state.ips["w"]] == [address]
    assert len(fly_api.state.calls("POST", "/v1/apps/w/ip_assignments")) == 1
    assert len(fly_api.state.calls("GET", "/v1/apps/w/ip_assignments")) == 2  # before, after


def test_allocate_ip_asks_again_when_nothing_was_made(
    client: FlyClient, fly_api: FakeFlyApi
) -> None:
    client.create_app("w", "org")
    fly_api.state.fail_next("POST", "/v1/apps/w/ip_assignments", 502)
    address = client.allocate_ip("w", "v4")["ip"]
    assert [a["ip"] for a in fly_api.state.ips["w"]] == [address]
    assert len(fly_api.state.calls("POST", "/v1/apps/w/ip_assignments")) == 2


def test_a_lost_answer_to_a_read_is_retried(client: FlyClient, fly_api: FakeFlyApi) -> None:
    client.create_app("w", "org")
    fly_api.state.lose_answer_next("GET", "/v1/apps/w")
    assert client.get_app("w")["name"] == "w"


# -- no piece of a secret survives into an error -------------------------------------
# The fake answers with an error that quotes the request back (tests/fakes/fly_api/
# ECHOES). What counts as a piece is checked here independently of the client's
# redact(): a run of 12 characters of the value, or of it JSON-escaped once or twice,
# read in the message as it is, URL-decoded, or base64-decoded at any alignment.

PIECE = 12
# A password with characters JSON and URLs both escape, in a URL as `fly postgres
# attach` makes one (flyctl internal/command/postgres/attach.go).
DB_URL = (
    'postgres://webhost_prod:Zq9"x/Lm+2\\Wv8&Kp=Rt7~Hn3@webhost-prod-db.flycast:5432/'
    "webhost_prod?sslmode=disable"
)
KEY_BASE = "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d1f"
PEM = "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n".format(
    "\n".join(
        base64.b64encode(bytes((i * 37 + j * 11) % 256 for j in range(48))).decode()
        for i in range(4)
    )
)
LONG_TOKEN = "fm2_lJPECAAAAAAAAMSmxBDwkz3Q0AhaeyOoFiVwHHbJwrVodHRwczovL2FwaS5mbHkuaW8"


def _pieces(secret: str) -> set[str]:
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(json.dumps(secret)[1:-1])[1:-1]}
    return {f[i : i + PIECE] for f in forms for i in range(len(f) - PIECE + 1)}


def _views(message: str) -> list[str]:
    views = [message, unquote_plus(message)]
    for run in re.findall(r"[A-Za-z0-9+/=_-]{16,}", message):
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) // 4 * 4].replace("-", "+").replace("_", "/")
            with contextlib.suppress(ValueError):
                views.append(base64.b64decode(chunk).decode("latin-1"))
    return views


def survivors(message: str, secret: str) -> list[str]:
    """The pieces of `secret` that `message` still holds, in any readable form."""
    views = _views(message)
    return sorted(p for p in _pieces(secret) if any(p in v for v in views))


@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_a_secrets_write_error_holds_no_piece_of_a_value(
    client: FlyClient, fly_api: FakeFlyApi, echo: str
) -> None:
    client.create_app("s", "org")
    fly_api.state.echo_next("POST", "/v1/apps/s/secrets", echo)
    with pytest.raises(FlyRefused) as caught:
        client.update_secrets("s", {"DATABASE_URL": DB_URL, "SECRET_KEY_BASE": KEY_BASE})
    message = str(caught.value)
    assert "writing secrets DATABASE_URL, SECRET_KEY_BASE of app s" in message
    assert "Validation failed" in message and "\n" not in message
    assert survivors(message, DB_URL) == [] and survivors(message, KEY_BASE) == []
    assert fly_api.state.secrets.get("s", {}) == {}  # refused: nothing was written


def test_an_unset_error_holds_no_piece_of_the_values_it_replaces(
    client: FlyClient, fly_api: FakeFlyApi
) -> None:
    # Fly holds the value being unset; an answer could quote it though it was not sent.
    client.create_app("s", "org")
    client.update_secrets("s", {"DATABASE_URL": DB_URL})
    quoted = {"error": f"cannot unset DATABASE_URL={DB_URL} ({json.dumps(DB_URL)})"}
    fly_api.state.fail_next("POST", "/v1/apps/s/secrets", 422, body=quoted)
    with pytest.raises(FlyRefused) as caught:
        client.update_secrets("s", {"DATABASE_URL": None}, known=[DB_URL])
    assert "cannot unset DATABASE_URL=" in str(caught.value)
    assert survivors(str(caught.value), DB_URL) == []


@pytest.mark.parametrize("echo", sorted(ECHOES))
def test_a_certificate_import_error_holds_no_piece_of_the_key(
    client: FlyClient, fly_api: FakeFlyApi, echo: str
) -> None:
    fly_api.state.echo_next("POST", "/v1/apps/w/certificates/custom", echo)
    with pytest.raises(FlyRefused) as caught:
        client.import_certificate("w", "www.example.com", "-----BEGIN CERTIFICATE-----", PEM)
    message = str(caught.value)
    assert "importing the certificate of www.example.com into app w" in message
    assert survivors(message, PEM) == []


@pytest.mark.parametrize("echo", ["authorization", "raw"])
def test_an_app_create_error_holds_no_piece_of_the_token(
    client: FlyClient, fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch, echo: str
) -> None:
    monkeypatch.setenv("FLY_API_TOKEN", LONG_TOKEN)
    fly_api.state.echo_next("POST", "/v1/apps", echo)
    with pytest.raises(FlyRefused) as caught:
        client.create_app("w", "org")
    assert survivors(str(caught.value), LONG_TOKEN) == []


def test_a_graphql_error_holds_no_piece_of_the_token(
    fly_api: FakeFlyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GraphQL refuses with 200 and `errors` (the fake's docstring): redacted all the same.
    monkeypatch.setenv("FLY_API_TOKEN", LONG_TOKEN)
    answer = {"errors": [{"message": f"token {LONG_TOKEN} may not create add-ons"}]}
    fly_api.state.answer_raw_next(
        "POST", "/graphql", json.dumps(answer).encode(), content_type="application/json"
    )
    with pytest.raises(FlyApiError) as caught:
        FlyGraphQL(sleep=Sleeps())("mutation { x }")
    assert "may not create add-ons" in str(caught.value)
    assert survivors(str(caught.value), LONG_TOKEN) == []


def test_redaction_keeps_the_rest_of_the_message() -> None:
    text = f"Validation failed: value {DB_URL} for app w is invalid"
    assert redact(text, [DB_URL]) == "Validation failed: value [redacted] for app w is invalid"
    # A 12-character run the value shares is taken out even where it is only a name
    # (the call's own context, added after, still names the app).
    assert redact("no app webhost-prod-db", [DB_URL]) == "no app [redacted]"
    # too short to tell from words: not searched for (an app name in it stays)
    assert redact("app webhost ok", ["ok", ""]) == "app webhost ok"
