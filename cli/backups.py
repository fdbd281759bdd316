"""`webhost-infra backups check`: is the newest Postgres base backup recent enough?

Postgres Flex archives with barman-cloud into the cluster's bucket, one base
backup per `<cluster app>/base/<backup id>/backup.info`. The check lists them
with boto3 against whatever S3 endpoint the environment names (Tigris gives
AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, BUCKET_NAME), and
compares the newest with the stack's recovery point objective.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET_ENV = ("BUCKET_NAME", "AWS_BUCKET_NAME")  # Tigris's name, then Postgres Flex's


class BackupCheckError(Exception):
    """The check could not be made (no bucket, no access); the message is one line."""


@dataclass(frozen=True)
class BaseBackup:
    backup_id: str
    key: str
    taken_at: datetime


def bucket_from_env() -> str | None:
    return next((os.environ[n] for n in BUCKET_ENV if os.environ.get(n)), None)


def newest_base_backup(s3: S3Client, bucket: str, cluster: str) -> BaseBackup | None:
    prefix = f"{cluster}/base/"
    newest: BaseBackup | None = None
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if not key.endswith("/backup.info"):
                    continue
                found = BaseBackup(
                    key.removeprefix(prefix).split("/")[0], key, item["LastModified"]
                )
                # barman's ids are timestamps: they break ties in LastModified
                if newest is None or (found.taken_at, found.backup_id) > (
                    newest.taken_at,
                    newest.backup_id,
                ):
                    newest = found
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"NoSuchBucket", "404"}:
            raise BackupCheckError(f"bucket {bucket} does not exist") from None
        raise BackupCheckError(f"cannot list s3://{bucket}/{prefix}: {code or exc}") from None
    except BotoCoreError as exc:
        raise BackupCheckError(f"cannot reach the bucket {bucket}: {exc}") from None
    return newest


def verdict(
    backup: BaseBackup | None, objective: timedelta, now: datetime, where: str
) -> tuple[bool, str]:
    """Whether the newest backup meets the objective, and the line that says so."""
    hours = objective.total_seconds() / 3600
    if backup is None:
        return False, f"missing: no base backup under {where} (recovery point objective {hours:g}h)"
    age = now - backup.taken_at
    aged = f"{age.total_seconds() / 3600:.1f}h old"
    stamp = backup.taken_at.astimezone(UTC).isoformat(timespec="seconds")
    if age > objective:
        return False, (
            f"stale: newest base backup {backup.backup_id} ({stamp}) is {aged}, "
            f"over the {hours:g}h recovery point objective"
        )
    return (
        True,
        f"fresh: newest base backup {backup.backup_id} ({stamp}) is {aged} (objective {hours:g}h)",
    )


def check(cluster: str, objective: timedelta, bucket: str | None = None) -> tuple[bool, str]:
    bucket = bucket or bucket_from_env()
    if not bucket:
        raise BackupCheckError(
            f"no bucket: pass --bucket or set {' or '.join(BUCKET_ENV)} "
            "(with AWS_ENDPOINT_URL_S3 and credentials, as `fly storage` gives them)"
        )
    s3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION") or "auto")
    backup = newest_base_backup(s3, bucket, cluster)
    return verdict(backup, objective, datetime.now(UTC), f"s3://{bucket}/{cluster}/base/")
