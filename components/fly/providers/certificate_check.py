"""CertificateCheck: ask Fly to validate a host's certificate and wait, bounded, until issued.

Fly validates a new hostname on its own schedule; `POST /v1/apps/{app}/certificates/
{hostname}/check` (superfly/docs machines/api/certificates-resource.html.markerb @
5c22c8c, "Check certificate status") makes it look again now and answers the detail:
`certificates[]` per source with `status`, `issuer`, `expires_at`, `issued[]`, the
`validation` flags and `validation_errors`. A host counts as issued when one of its
certificates is `active`, as `fly certs check` decides (flyctl
internal/command/certificates/root.go @ ad0172f, hasActive).

The resource owns nothing at Fly: deleting it deletes nothing. It runs again when its
inputs change (a record it waited for changed), and `pulumi refresh` re-reads status,
issuer and expiry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_fixed

from components.fly.providers.base import DynamicResource, FlyProvider, replace_on, replacing

ACTIVE = "active"


class CertificateNotIssued(Exception):
    """The wait ran out; the message names the host, Fly's status and what Fly misses."""


def active_certificate(answer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The host's first `active` certificate, or None (flyctl root.go hasActive)."""
    for cert in answer.get("certificates") or []:
        if cert.get("status") == ACTIVE:
            return dict(cert)
    return None


def missing_records(answer: Mapping[str, Any], proxied: bool) -> list[str]:
    """The validation records Fly reports as not (yet) seen, as `TYPE name value`.

    Behind Cloudflare's proxy Fly proves ownership with the `_fly-ownership` TXT
    record (`validation.ownership_txt_configured`); in DNS-only mode it issues over
    DNS-01 through the `_acme-challenge` CNAME (`validation.dns_configured`). Fly's
    own `validation_errors` messages follow.
    """
    validation = answer.get("validation") or {}
    wanted = answer.get("dns_requirements") or {}
    missing: list[str] = []
    if proxied and not validation.get("ownership_txt_configured"):
        owner = wanted.get("ownership") or {}
        missing.append(f"TXT {owner.get('name')} {owner.get('app_value')}")
    if not proxied and not validation.get("dns_configured"):
        acme = wanted.get("acme_challenge") or {}
        missing.append(f"CNAME {acme.get('name')} {acme.get('target')}")
    missing += [
        str(error.get("message"))
        for error in answer.get("validation_errors") or []
        if error.get("message")
    ]
    return missing


def outputs(props: Mapping[str, Any], answer: Mapping[str, Any]) -> dict[str, Any]:
    cert = active_certificate(answer)
    issued = (cert or {}).get("issued") or []
    # A custom certificate names its issuer; a Fly (ACME) one leaves `issuer` null and
    # names the authority per issued key (fly-go types.go IssuedCertInfo).
    issuer = (cert or {}).get("issuer") or next(
        (i.get("certificate_authority") for i in issued if i.get("certificate_authority")), None
    )
    return {
        **props,
        "status": str(answer.get("status", "")),
        "issued": cert is not None,
        "issuer": issuer,
        "expires_at": (cert or {}).get("expires_at"),
        "missing": [] if cert is not None else missing_records(answer, bool(props["proxied"])),
    }


def timeout_message(props: Mapping[str, Any], outs: Mapping[str, Any]) -> str:
    missing = "; ".join(outs["missing"]) or "nothing Fly names"
    return (
        f"certificate {props['hostname']} (app {props['app']}): not issued after "
        f"{props['timeout_seconds']:g}s; Fly's status is {outs['status'] or 'unknown'}; "
        f"missing: {missing}. Check with `fly certs check {props['hostname']} -a "
        f"{props['app']}`; webhost:domain.certificateWait sets the wait"
    )


class CertificateCheckProvider(FlyProvider):
    """Checks until issued or `timeout_seconds` pass, `interval_seconds` apart."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        # The clock is the boundary tests replace; every wait goes through it.
        self._sleep = sleep

    @staticmethod
    def _narrow(answer: Mapping[str, Any]) -> Mapping[str, Any]:
        """Fly's detail as this check judges it: every certificate of the host counts."""
        return answer

    def _wait(self, props: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client()
        app, hostname = str(props["app"]), str(props["hostname"])
        interval = float(props["interval_seconds"])
        timeout = float(props["timeout_seconds"])
        # The bound is a number of checks, so a slow answer cannot stretch it forever
        # and a test needs no clock: one check now, then one per interval.
        checks = 1 + (math.floor(timeout / interval) if interval > 0 else 0)

        def last(state: RetryCallState) -> Mapping[str, Any]:
            assert state.outcome is not None  # tenacity sets it before calling back
            answer: Mapping[str, Any] = state.outcome.result()
            return answer

        retrying = Retrying(
            stop=stop_after_attempt(checks),
            wait=wait_fixed(interval),
            retry=retry_if_result(lambda answer: active_certificate(answer) is None),
            retry_error_callback=last,
            sleep=self._sleep,
            reraise=True,
        )
        answer = retrying(lambda: self._narrow(client.check_certificate(app, hostname)))
        outs = outputs(props, answer)
        if not outs["issued"] and props["on_timeout"] == "fail":
            raise CertificateNotIssued(timeout_message(props, outs))
        return outs

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['app']}/{props['hostname']}", self._wait(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Not issued last time: look again on every `up`, so a fixed record is seen.
        again = not olds.get("issued")
        changed = bool(replace_on(INPUTS, olds, news)) or again
        return replacing(("app", "hostname"), olds, news, changed=changed)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # The detail, not get_certificate's shape: that one drops `certificates`, so an
        # issued certificate read back as not issued.
        if (found := self._host(id_)) is None:
            return ReadResult("", {})
        answer = found[2]
        return ReadResult(id_, outputs(props, self._narrow(answer)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the certificate is the Certificate resource's; nothing to undo


INPUTS: tuple[str, ...] = (
    "app",
    "hostname",
    "proxied",
    "timeout_seconds",
    "interval_seconds",
    "on_timeout",
    "records",
)
CHECK_OUTPUTS: tuple[str, ...] = ("status", "issued", "issuer", "expires_at", "missing")


class Check(DynamicResource):
    """A certificate check's inputs (INPUTS: `records` are the ids of the DNS records it
    waits for, so a replaced record checks again) and outputs; the custom certificate's
    check has the same (custom_certificate_check.py)."""

    INPUTS = INPUTS
    OUTPUTS = CHECK_OUTPUTS

    status: pulumi.Output[str]
    issued: pulumi.Output[bool]
    issuer: pulumi.Output[str | None]
    expires_at: pulumi.Output[str | None]
    missing: pulumi.Output[list[str]]


class CertificateCheck(Check, module="fly", name="CertificateCheck"):
    """Waits for a host's certificate (`pulumi-python:dynamic/fly:CertificateCheck`)."""

    PROVIDER = CertificateCheckProvider
