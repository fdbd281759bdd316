"""`webhost-infra backups check` against an S3 bucket (moto), laid out as barman-cloud writes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli import backups
from cli.main import main
from tests.conftest import stack_doc, write_stack

BUCKET = "webhost-prod-db-backups"
CLUSTER = "webhost-prod-db"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "BUCKET_NAME", "AWS_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "tid_test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "tsec_test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        yield client


def put_backup(s3: Any, backup_id: str, cluster: str = CLUSTER) -> None:
    base = f"{cluster}/base/{backup_id}"
    s3.put_object(Bucket=BUCKET, Key=f"{base}/backup.info", Body=b"status=DONE\n")
    s3.put_object(Bucket=BUCKET, Key=f"{base}/data.tar", Body=b"...")


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["backups", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fresh_backup_passes(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket=BUCKET)
    put_backup(s3, "20261124T020000")
    code, out, _ = check(capsys, "--stack", "prod", "--bucket", BUCKET)
    assert code == 0
    assert out.startswith("fresh: newest base backup 20261124T020000 (")
    assert out.rstrip().endswith("(objective 26h)")


def test_bucket_comes_from_the_environment(
    s3: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.create_bucket(Bucket=BUCKET)
    put_backup(s3, "20261124T020000")
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    assert check(capsys, "--stack", "prod")[0] == 0


def test_newest_of_several_ignoring_wal_and_other_clusters(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    put_backup(s3, "20261120T020000")
    s3.put_object(
        Bucket=BUCKET, Key=f"{CLUSTER}/wals/0000000100000000/000000010000000000000001.gz", Body=b""
    )
    put_backup(s3, "20261124T020000")
    put_backup(s3, "20261125T020000", cluster="webhost-staging-db")
    newest = backups.newest_base_backup(s3, BUCKET, CLUSTER)
    assert newest is not None
    assert newest.backup_id == "20261124T020000"
    assert newest.key == f"{CLUSTER}/base/20261124T020000/backup.info"


def age(key: str, hours: float) -> None:
    """Make a stored object `hours` old, in moto's own store (the fake S3's clock)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    stored = s3_backends[DEFAULT_ACCOUNT_ID]["global"].buckets[BUCKET].keys[key]
    stored.last_modified = stored.last_modified - timedelta(hours=hours)


def test_stale_backup_fails_the_check(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket=BUCKET)
    put_backup(s3, "20261123T020000")
    age(f"{CLUSTER}/base/20261123T020000/backup.info", 30)
    code, out, err = check(capsys, "--stack", "prod", "--bucket", BUCKET)
    assert code == 1
    assert out == ""
    assert err.startswith("stale: newest base backup 20261123T020000 (")
    assert err.rstrip().endswith("h old, over the 26h recovery point objective")


def test_stale_verdict_states_the_age() -> None:
    taken = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    backup = backups.BaseBackup("20261124T020000", "k", taken)
    ok, line = backups.verdict(
        backup, timedelta(hours=26), taken + timedelta(hours=30), "s3://b/c/base/"
    )
    assert not ok
    assert line == (
        "stale: newest base backup 20261124T020000 (2026-11-24T02:00:00+00:00) is 30.0h old, "
        "over the 26h recovery point objective"
    )
    ok, _ = backups.verdict(backup, timedelta(hours=26), taken + timedelta(hours=25), "x")
    assert ok


def test_missing_backup_fails(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    s3.create_bucket(Bucket=BUCKET)
    code, out, err = check(capsys, "--stack", "prod", "--bucket", BUCKET)
    assert code == 1
    assert out == ""
    assert err.strip() == (
        f"missing: no base backup under s3://{BUCKET}/{CLUSTER}/base/ "
        "(recovery point objective 26h)"
    )


def test_absent_bucket_fails_clearly(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "--stack", "prod", "--bucket", "no-such-bucket")
    assert code == 1
    assert err.strip() == "error: bucket no-such-bucket does not exist"


def test_no_bucket_named_anywhere(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, "--stack", "prod")
    assert code == 1
    assert err.startswith("error: no bucket: pass --bucket or set BUCKET_NAME or AWS_BUCKET_NAME")


def test_stack_without_backups_is_invalid_input(
    s3: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = stack_doc("staging")
    doc["webhost:postgres"] = {**doc["webhost:postgres"], "backups": {"enabled": False}}
    code, _, err = check(capsys, "--stack-file", str(write_stack(tmp_path, doc)))
    assert code == 2
    assert err.strip() == "error: stack test has no webhost:postgres with backups"


def test_invalid_stack_file_is_reported_per_key(
    s3: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = stack_doc("prod") | {"webhost:postgres": {"volumeGb": 0}}
    code, _, err = check(capsys, "--stack-file", str(write_stack(tmp_path, doc)))
    assert code == 2
    assert "  webhost:postgres.vm: required, not set" in err.splitlines()
