"""Values of the right kind that break a rule Fly, Cloudflare, Grafana or postgres-flex
would meet at `pulumi up`: each refused on `webhost-infra plan` with exit 2 and one line,
and by the program itself (as under `pulumi up`) before any resource is registered.
By section: app (http, releaseCommand), edge (domain, the origin certificate), data
(postgres, its backups), monitoring."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components import config
from tests.configcase import base, refused_on_plan, refused_under_up
from tests.conftest import stack_doc

PROD = stack_doc("prod")

# -- app, edge, data, monitoring: (key, change merged into prod's value, line's key, said)

UP_REFUSES: list[tuple[str, Any, str, str]] = [
    ("http", {"healthCheck": {"interval": "61s"}}, "webhost:http.healthCheck.interval", "1s..60s"),
    ("http", {"healthCheck": {"gracePeriod": "5m"}}, "webhost:http.healthCheck.gracePeriod", "60s"),
    (
        "http",
        {"deepCheck": {"interval": "1s", "timeout": "1ms"}},
        "webhost:http.deepCheck.interval",
        "at least 2s",
    ),
    (
        "http",
        {"deepCheck": {"interval": "5m", "timeout": "2m"}},
        "webhost:http.deepCheck.timeout",
        "at most 60s",
    ),
    ("releaseCommand", '/app/bin/migrate "x', "webhost:releaseCommand", "cannot split"),
    ("domain", {"hosts": ["*", "@"], "certificate": "origin"}, "webhost:domain.hosts", "PHX_HOST"),
    (
        "domain",
        {"hosts": ["@", *(f"h{i}" for i in range(200))], "certificate": "origin"},
        "webhost:domain.hosts",
        "200 names",
    ),
    (
        "domain",
        {"hosts": ["a" * 50, "@"], "certificate": "origin"},
        "webhost:domain.hosts",
        "common name",
    ),
    (
        "domain",
        {"hosts": ["@", *(f"host-number-{i:03}.eu" for i in range(119))]},
        "webhost:domain.cacheRules.paths",
        "4096",
    ),
    ("postgres", {"name": "webhost-prod"}, "webhost:postgres.name", "app's own name"),
    # appName set, postgres.database not: the derived name starts with a digit.
    ("appName", "9webhost", "webhost:postgres.database", "Postgres identifier"),
    (
        "monitoring",
        {"latencyP95Ms": 20_000, "probeFrequencyMs": 3_600_000},
        "webhost:monitoring.latencyP95Ms",
        "60000 ms",
    ),
    (
        "monitoring",
        {"latencyP95Ms": 1_000, "probeFrequencyMs": 2_000},
        "webhost:monitoring.probeFrequencyMs",
        "timeout",
    ),
]


# -- edge: the origin-certificate keys and wildcard hosts (change to webhost:domain) -----

ORIGIN_CASES = [
    ({"certificate": "letsencrypt"}, "webhost:domain.certificate", "letsencrypt"),
    ({"certificate": "ORIGIN"}, "webhost:domain.certificate", "ORIGIN"),
    ({"certificate": "origin", "proxied": False}, "webhost:domain.certificate", "proxied: true"),
    (
        {"originCertificate": {"validityDays": 8}},
        "webhost:domain.originCertificate.validityDays",
        "5475",
    ),
    (
        {"originCertificate": {"validityDays": 0}},
        "webhost:domain.originCertificate.validityDays",
        "7",
    ),
    (
        {"originCertificate": {"validityDays": -7}},
        "webhost:domain.originCertificate.validityDays",
        "7",
    ),
    (
        {"originCertificate": {"validityDays": 7.5}},
        "webhost:domain.originCertificate.validityDays",
        "",
    ),
    ({"originCertificate": {"keyType": "dsa"}}, "webhost:domain.originCertificate.keyType", "dsa"),
    ({"originCertificate": {"keyType": "ECDSA"}}, "webhost:domain.originCertificate.keyType", ""),
    ({"originCertificate": {"validity": 365}}, "webhost:domain.originCertificate.validity", ""),
    ({"originCertificate": "ecdsa"}, "webhost:domain.originCertificate", ""),
    # Wildcard hosts: only one leading `*` label, and only behind the proxy with origin.
    ({"hosts": ["@", "*"]}, "webhost:domain.hosts", "needs certificate: origin"),
    (
        {"hosts": ["*.eu"], "proxied": False},
        "webhost:domain.hosts",
        "wildcard host without the proxy",
    ),
    ({"hosts": ["a.*"], "certificate": "origin"}, "webhost:domain.hosts.0", "* or *.eu"),
    ({"hosts": ["*x"], "certificate": "origin"}, "webhost:domain.hosts.0", "* or *.eu"),
]


# -- data: backups values postgres-flex would refuse (internal/flypg/barman_config.go
# Validate) --

# key -> (value, what the line says). Each is a string of the right kind that
# postgres-flex refuses (or, for `y`, that barman cannot use); flyctl would report
# none of them (it ignores flexctl's exit code), so config must.
BACKUP_CASES = [
    ("recoveryWindow", "24h", "days or weeks"),
    ("recoveryWindow", "14 days", "days or weeks"),
    ("recoveryWindow", "0d", "at least 1"),
    ("recoveryWindow", "00w", "at least 1"),
    ("recoveryWindow", "-1d", "days or weeks"),
    ("recoveryWindow", "1m", "days or weeks"),
    ("recoveryWindow", "\u0663d", "days or weeks"),  # an Arabic-Indic 3: RE2's \d is ASCII
    ("recoveryWindow", "9" * 25 + "d", "days or weeks"),
    ("recoveryWindow", "1y", "no year unit"),
    ("recoveryWindow", "5000d", "at most 3650d"),
    ("fullBackupFrequency", "30m", "at least 1h"),
    ("fullBackupFrequency", "59m59.999s", "at least 1h"),
    ("fullBackupFrequency", "7d", "Go duration"),
    ("fullBackupFrequency", "24", "Go duration"),
    ("fullBackupFrequency", "-24h", "Go duration"),
    ("fullBackupFrequency", "1hh", "Go duration"),
    ("fullBackupFrequency", "99999999999h", "Go duration"),
    ("fullBackupFrequency", "87601h", "at most 87600h"),
]
# ...and what postgres-flex takes, config takes.
BACKUP_GOOD = [
    ("recoveryWindow", "7d"),
    ("recoveryWindow", "2w"),
    ("recoveryWindow", "007d"),
    ("fullBackupFrequency", "1h"),
    ("fullBackupFrequency", "12h30m"),
    ("fullBackupFrequency", "1.5h"),
    ("fullBackupFrequency", "3600s"),
    ("fullBackupFrequency", "90m"),
]


def _backups(key: str, value: str) -> dict[str, Any]:
    """A backups value with a recovery point objective long enough for any frequency,
    so only the value itself can be at fault."""
    return {"backups": {key: value, "recoveryPointObjective": "87600h"}}


# Every case as (key, change, the line's key, what it says).
CASES = [
    *UP_REFUSES,
    *(("domain", change, path, said) for change, path, said in ORIGIN_CASES),
    *(
        ("postgres", _backups(key, value), f"webhost:postgres.backups.{key}", said)
        for key, value, said in BACKUP_CASES
    ),
]


def _merged(key: str, change: Any) -> Any:
    """Prod's value of `key` with `change` merged in, one level of sections deep."""
    held = copy.deepcopy(PROD.get(key))
    if isinstance(change, dict) and isinstance(held, dict):
        for name, value in change.items():
            inner = held.get(name)
            held[name] = (
                {**inner, **value} if isinstance(value, dict) and isinstance(inner, dict) else value
            )
        return held
    return change


@pytest.mark.parametrize(("key", "change", "path", "said"), CASES)
def test_what_up_would_meet_is_refused_on_plan_with_one_line(
    key: str,
    change: Any,
    path: str,
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = copy.deepcopy(PROD)
    doc[f"webhost:{key}"] = _merged(f"webhost:{key}", change)
    lines = refused_on_plan(doc, tmp_path, capsys)
    # The project's form: the file on the error line, then one line per problem.
    assert lines[0].startswith("error: "), lines
    (problem,) = lines[1:]
    assert problem.startswith(f"  {path} = ") and said in problem


@pytest.mark.parametrize(("key", "change", "path", "said"), CASES)
def test_what_up_would_meet_is_refused_under_pulumi_up_before_any_resource(
    key: str, change: Any, path: str, said: str
) -> None:
    value = _merged(f"webhost:{key}", change)
    text = value if isinstance(value, str) else json.dumps(value)
    (line,) = refused_under_up({f"webhost:{key}": text})
    assert line.startswith(f"{path} = ") and said in line and "\n" not in line


@pytest.mark.parametrize(("key", "value"), BACKUP_GOOD)
def test_backup_values_flex_takes_are_taken(key: str, value: str) -> None:
    postgres = _merged("webhost:postgres", _backups(key, value))
    parsed = config.parse(base() | {"webhost:postgres": json.dumps(postgres)}).postgres
    assert parsed is not None
    field = {"recoveryWindow": "recovery_window"}.get(key, "full_backup_frequency")
    assert getattr(parsed.backups, field) == value
