"""Objects in S3 or a compatible store (MinIO, Ceph), through one thread-safe boto3 client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from backend_client.errors import Conflict, NotFound, Unavailable
from backend_client.stores.objects.base import (
    ObjectInfo,
    check_expected,
    sha256_hex,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


def build_s3_client(endpoint_url: str | None, *, region: str, access_key_id: str | None,
                    secret_access_key: str | None, timeout_seconds: float = 3.0) -> S3Client:
    import boto3
    from botocore.config import Config

    # A client, not a resource or session: clients are thread-safe, the others are not.
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            connect_timeout=timeout_seconds,
            read_timeout=max(timeout_seconds * 10, 30),
            retries={"mode": "standard", "max_attempts": 3},
            s3={"addressing_style": "path"},
        ),
    )


class S3ObjectStore:
    def __init__(self, client: S3Client, bucket: str, *, server_side_encryption: bool = True):
        self.client = client
        self.bucket = bucket
        self.sse = server_side_encryption

    def describe(self) -> str:
        endpoint = urlsplit(self.client.meta.endpoint_url)
        return f"S3 bucket {self.bucket} at {endpoint.netloc}"

    def _unavailable(self, exc: Exception) -> Unavailable:
        return Unavailable("objects", f"Object storage ({self.describe()}) did not answer: "
                                      f"{type(exc).__name__}.")

    def _read_error(self, exc: ClientError | BotoCoreError, key: str) -> Exception:
        """NotFound for a missing key; Unavailable for anything else."""
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING:
            return NotFound(f"No object is stored under {key}.")
        error = self._unavailable(exc)
        error.__cause__ = exc
        return error

    def ping(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from exc

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                self.client.create_bucket(Bucket=self.bucket)
                self.client.put_bucket_versioning(
                    Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
            else:
                raise self._unavailable(exc) from exc

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
            sha256: str | None = None) -> ObjectInfo:
        validate_key(key)
        digest = check_expected(data, sha256)
        extra: dict[str, Any] = {}
        if self.sse:
            extra["ServerSideEncryption"] = "AES256"
        try:
            # The server verifies the checksum too, so a corrupted upload is refused there.
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                Metadata={"sha256": digest}, **extra,
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
                raise Conflict("Object storage rejected the data: checksum mismatch.") from exc
            raise self._unavailable(exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc
        return self.stat(key)

    def stat(self, key: str) -> ObjectInfo:
        validate_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._read_error(exc, key) from None
        return ObjectInfo(
            key=key, size=int(head["ContentLength"]),
            sha256=head.get("Metadata", {}).get("sha256", ""),
            content_type=head.get("ContentType", "application/octet-stream"),
            modified_at=head["LastModified"],
        )

    def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            data = resp["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._read_error(exc, key) from None
        expected = resp.get("Metadata", {}).get("sha256")
        if expected and sha256_hex(data) != expected:
            raise Conflict(f"The object {key} is damaged: its checksum does not match.")
        return data

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from exc

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    # Listing does not carry user metadata; one HEAD each gives the checksum.
                    try:
                        yield self.stat(item["Key"])
                    except NotFound:
                        continue
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from exc
