"""Keeping secrets out of errors: every form in which an answer can quote a secret back."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

# -- keeping secrets out of errors ------------------------------------------------------

REDACTED: Final = "[redacted]"
# A run this long of a value's text, in any of its forms, is a piece of it: for a
# random secret it is most of what guessing it takes (12 base64 characters are 72 bits).
MIN_FRAGMENT: Final = 12
# A line of a multi-line value (a PEM body line) is a piece of it from this length on.
# Shorter texts, and values shorter than this, are not searched for: they cannot be
# told from ordinary words (a 1-character "secret" would blank out every letter of
# the message), and no credential this program sends is that short.
MIN_LINE: Final = 8


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 text of `raw` as it reads inside any longer base64 text: encoded at
    each of the three byte alignments, less the characters its neighbours share."""
    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        # Each character is 6 bits: skip those that hold bits of the bytes before,
        # stop before the first that holds bits of the bytes after.
        start = -(-shift * 8 // 6)
        end = (shift + len(raw)) * 8 // 6
        core = encoded[start:end] if end > start else ""
        cores.update({core, core.replace("+", "-").replace("/", "_")})
    return {c for c in cores if c}


def secret_forms(value: str) -> set[str]:
    """The texts in which `value` can be quoted back: itself, JSON- and repr-escaped
    (once and twice, as a request body quoted inside a JSON answer is); each of those
    URL-encoded (path and form style, either hex case), base64 and base64url (whole,
    unpadded, and as it reads inside a longer base64 text); and each of its lines."""
    escaped = {value, json.dumps(value, ensure_ascii=False)[1:-1]}
    for _ in range(2):
        escaped |= {json.dumps(f)[1:-1] for f in escaped} | {repr(f)[1:-1] for f in escaped}
    forms = set(escaped)
    for text in escaped:
        for encoded in (quote(text, safe=""), quote(text), quote_plus(text)):
            forms |= {encoded, _lower_hex(encoded)}
        raw = text.encode()
        for coded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            forms |= {coded, coded.rstrip("=")}
        forms |= _base64_cores(raw)
    forms |= {line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_LINE}
    return {f for f in forms if f}


def _lower_hex(encoded: str) -> str:
    parts = encoded.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every piece of each secret (of MIN_LINE characters or more) replaced
    by REDACTED: any of its forms (`secret_forms`) whole, and any run of MIN_FRAGMENT
    characters of one. Whitespace
    is folded to single spaces, so a quoted multi-line value leaves no layout behind."""
    covered = bytearray(len(text))
    pieces: set[str] = set()
    for value in {s for s in secrets if len(s) >= MIN_LINE}:
        for form in secret_forms(value):
            if len(form) < MIN_LINE:
                continue
            if len(form) > MIN_FRAGMENT:
                pieces |= {form[i : i + MIN_FRAGMENT] for i in range(len(form) - MIN_FRAGMENT + 1)}
                continue
            start = text.find(form)
            while start != -1:
                covered[start : start + len(form)] = b"\1" * len(form)
                start = text.find(form, start + 1)
    for i in range(len(text) - MIN_FRAGMENT + 1):
        if text[i : i + MIN_FRAGMENT] in pieces:
            covered[i : i + MIN_FRAGMENT] = b"\1" * MIN_FRAGMENT
    out: list[str] = []
    for i, char in enumerate(text):
        if not covered[i]:
            out.append(char)
        elif i == 0 or not covered[i - 1]:
            out.append(REDACTED)
    return " ".join("".join(out).split())
