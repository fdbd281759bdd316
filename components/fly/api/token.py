"""FLY_API_TOKEN as the clients read it: trimmed, checked, and sent in the scheme its kind takes."""

from __future__ import annotations

import os

from components.fly.api.errors import FlyTokenError


def read_token() -> str:
    """FLY_API_TOKEN, trimmed of surrounding ASCII whitespace, or a FlyTokenError."""
    token = os.environ.get("FLY_API_TOKEN", "").strip(" \t\r\n")
    if not token:
        raise FlyTokenError("FLY_API_TOKEN is not set (create one with `fly tokens create org`)")
    for position, char in enumerate(token, start=1):
        where = f"character {position} of {len(token)}"
        if char in "\r\n":
            problem = f"a line break inside it ({where}); set it to the token on one line"
        elif not char.isascii():
            problem = (
                f"a non-ASCII character ({where}), as a copy from a document leaves "
                "(a curly quote, a non-breaking space); set it to the token as flyctl prints it"
            )
        elif not char.isprintable():
            problem = f"a control character ({where}); set it to the token as flyctl prints it"
        else:
            continue
        raise FlyTokenError(f"FLY_API_TOKEN is unusable: it has {problem}")
    return token


def authorization(token: str) -> str:
    """The Authorization header for a token as `fly tokens create` or `fly auth token` prints it.

    Org and deploy tokens are macaroons (`FlyV1 fm2_...`, or bare `fm2_...`) and
    use the FlyV1 scheme; a user token is a bearer token.
    """
    if token.startswith(("FlyV1 ", "Bearer ")):
        return token
    if token.startswith(("fm1r_", "fm1a_", "fm2_")):
        return f"FlyV1 {token}"
    return f"Bearer {token}"
