"""Preflight's Grafana checks: the instance answers, GRAFANA_AUTH and the synthetic
monitoring token are accepted."""

from __future__ import annotations

import os
from typing import Final

from cli import httpclient
from cli.httpclient import NoAnswer, Reader
from cli.preflight import base
from cli.preflight.base import Report
from components.config import StackConfig

# grafana pkg/components/satokengen: service account tokens are `glsa_<secret>_<crc>`.
GRAFANA_SA_PREFIX: Final = "glsa_"
# Where synthetic monitoring calls go before GRAFANA_SM_URL (the tests' fake; setting
# GRAFANA_SM_URL itself would change the Grafana provider's inputs under the e2e).
GRAFANA_SM_BASE_ENV: Final = "WEBHOST_GRAFANA_SM_BASE_URL"
# Where Grafana calls go instead of webhost:monitoring.url (config takes https only; the
# tests' fake is plain HTTP on 127.0.0.1). Lines still name the configured URL.
GRAFANA_BASE_ENV: Final = "WEBHOST_GRAFANA_BASE_URL"


def check_grafana(cfg: StackConfig, report: Report) -> None:
    monitoring = cfg.monitoring
    if monitoring is None:
        return
    shown = str(monitoring.url).rstrip("/")
    url = os.environ.get(GRAFANA_BASE_ENV) or shown
    token = os.environ.get("GRAFANA_AUTH", "").strip()
    auth = httpclient.authorization(token) if token else None
    with Reader("Grafana", url, auth=auth, timeout=base.TIMEOUT, shown=shown) as grafana:
        # grafana pkg/api/api.go: /api/health answers without authentication.
        try:
            health = grafana.request("/api/health", anonymous=True)
        except NoAnswer as exc:
            report.problem(f"{exc} (webhost:monitoring.url)")
            return
        if not health.is_success:
            report.problem(f"Grafana: {shown}/api/health answered {health.status_code}")
            return
        report.ok(f"Grafana: {shown} reachable")
        _grafana_auth(grafana, token, report)
    if monitoring.synthetic:
        _grafana_sm(report)


def _grafana_auth(grafana: Reader, token: str, report: Report) -> None:
    if not token:
        report.problem(
            "Grafana: GRAFANA_AUTH is not set: create a service account token (Admin for up, "
            "Viewer for preview) in Administration > Service accounts"
        )
        return
    if not token.startswith(GRAFANA_SA_PREFIX):
        report.notes.append(
            "Grafana: GRAFANA_AUTH is not a service account token (glsa_...), which the "
            "README asks for: an API key or a user's password works until it is removed"
        )
    # grafana pkg/api/api.go: GET /api/org is the signed-in principal's org, open to
    # every role: it proves the token, not its role.
    _accepted(grafana, "/api/org", "GRAFANA_AUTH", "make a new service account token", report)


def _grafana_sm(report: Report) -> None:
    sm_token = os.environ.get("GRAFANA_SM_ACCESS_TOKEN", "").strip()
    sm_url = (
        os.environ.get(GRAFANA_SM_BASE_ENV)
        or os.environ.get(httpclient.GRAFANA_SM_URL_ENV)
        or httpclient.GRAFANA_SM_DEFAULT_URL
    ).rstrip("/")
    if not sm_token:
        report.problem(
            "Grafana: GRAFANA_SM_ACCESS_TOKEN is not set (webhost:monitoring.synthetic): "
            "Testing & synthetics > Synthetics > Config > Access tokens"
        )
        return
    fix = "make a new access token (and set GRAFANA_SM_URL for another region)"
    auth = f"Bearer {sm_token}"
    service = "Grafana: synthetic monitoring"
    with Reader(service, sm_url, auth=auth, timeout=base.TIMEOUT, shown=sm_url) as sm:
        # grafana/synthetic-monitoring-api: GET /api/v1/probe/list with a Bearer token.
        _accepted(sm, "/api/v1/probe/list", "GRAFANA_SM_ACCESS_TOKEN", fix, report)


def _accepted(reader: Reader, path: str, variable: str, fix: str, report: Report) -> None:
    """The token in `variable` is accepted on GET `path`, or one problem line."""
    where = reader.shown or reader.base
    try:
        answer = reader.request(path)
    except NoAnswer as exc:
        report.problem(str(exc))
        return
    if answer.status_code in (401, 403):
        report.problem(f"Grafana: {variable} was refused by {where} ({answer.status_code}): {fix}")
    elif not answer.is_success:
        report.problem(f"Grafana: {where}{path} answered {answer.status_code}; run again")
    else:
        report.ok(f"Grafana: {variable} accepted")
