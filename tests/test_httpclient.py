"""cli/httpclient.py at its HTTP boundary (httpx's MockTransport): absent only from an
explicit not-found, every other failure one NoAnswer line without a token."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest

from cli import httpclient
from cli.httpclient import NoAnswer

TOKEN = "tok-must-not-leak"


def reader(
    answer: Callable[[httpx.Request], httpx.Response], cloudflare: bool = False
) -> httpclient.Reader:
    made = (
        httpclient.Cloudflare(TOKEN, {}, timeout=1.0)
        if cloudflare
        else httpclient.Reader(
            "Grafana", "https://grafana.example", auth=f"Bearer {TOKEN}", timeout=1.0
        )
    )
    made.http = httpx.Client(transport=httpx.MockTransport(answer))
    return made


def fails(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    return answer


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (lambda r: httpx.Response(404, text="<html>gateway</html>"), "not JSON"),
        (lambda r: httpx.Response(200, text="<html>login</html>"), "not JSON"),
        (lambda r: httpx.Response(500, json={}), "answered 500"),
        (lambda r: httpx.Response(503, text="busy"), "answered 503"),
        (lambda r: httpx.Response(401, json={"message": "invalid"}), "answered 401"),
        (lambda r: httpx.Response(403, json={"message": "denied"}), "answered 403"),
        (fails(httpx.ReadTimeout("slow")), "timed out (ReadTimeout)"),
        (fails(httpx.ConnectError("refused")), "no answer (ConnectError)"),
        (fails(httpx.RemoteProtocolError("cut")), "no answer (RemoteProtocolError)"),
    ],
)
def test_every_failure_is_one_line_never_absent_never_the_token(
    answer: Callable[[httpx.Request], httpx.Response], said: str
) -> None:
    with pytest.raises(NoAnswer) as raised:
        reader(answer).found("/api/folders/x", token=TOKEN)
    message = str(raised.value)
    assert said in message and "\n" not in message
    assert TOKEN not in message and message.startswith("Grafana")


def test_only_an_explicit_not_found_is_absent_and_the_credential_is_sent() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"message": "Folder not found"})

    assert reader(answer).found("/api/folders/x") is None
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("status", "body", "said"),
    [
        (200, {"success": False, "errors": [{"code": 10000}], "result": None}, "[10000]"),
        (400, {"success": False, "errors": [{"code": 6003}], "result": None}, "400 [6003]"),
        (200, ["not", "an", "envelope"], "unexpected body"),
    ],
)
def test_cloudflare_reads_its_envelope(status: int, body: object, said: str) -> None:
    cf = reader(lambda r: httpx.Response(status, json=body), cloudflare=True)
    with pytest.raises(NoAnswer, match=said.replace("[", r"\[").replace("]", r"\]")):
        cf.found("/zones/z")
    ok = reader(lambda r: httpx.Response(200, json={"success": True, "result": {"id": "z"}}), True)
    assert ok.found("/zones/z") == {"id": "z"}
    assert isinstance(ok, httpclient.Cloudflare) and ok.result("/zones/z") == (200, {"id": "z"})


def test_grafana_auth_is_a_token_or_basic_user_and_password() -> None:
    assert httpclient.authorization("glsa_x") == "Bearer glsa_x"
    basic = httpclient.authorization("admin:pw")
    assert basic == "Basic " + base64.b64encode(b"admin:pw").decode()


def test_cloudflare_base_comes_from_the_environment() -> None:
    cf = httpclient.Cloudflare(TOKEN, {"CLOUDFLARE_BASE_URL": "http://127.0.0.1:1/v4/"}, timeout=1)
    assert cf.base == "http://127.0.0.1:1/v4"
    assert httpclient.Cloudflare(TOKEN, {}, timeout=1).base == httpclient.CLOUDFLARE_DEFAULT_BASE
