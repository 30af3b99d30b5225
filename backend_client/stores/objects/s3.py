"""Objects in S3 or a compatible store (MinIO, Ceph), through one thread-safe boto3 client.

Connecting and each read from the socket are bounded by the store timeout, and a failed
request is tried once more: a frozen server costs a call about twice the timeout.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)

from backend_client.errors import (
    Conflict,
    NotFound,
    StoreLabels,
    Unavailable,
    connection_reason,
    first_line,
)
from backend_client.stores.objects.base import (
    Buffer,
    ObjectInfo,
    check_expected,
    sha256_hex,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


class _BufferReader(io.RawIOBase):
    """A view of part of a larger buffer, as a file botocore sends (it refuses a
    memoryview Body): a multipart part goes out without first being copied out of the
    sealed object."""

    def __init__(self, data: memoryview) -> None:
        super().__init__()
        self._data = data.cast("B")
        self._pos = 0

    def __len__(self) -> int:
        return len(self._data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk = bytes(self._data[self._pos:end])
        self._pos += len(chunk)
        return chunk

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _body(data: Buffer) -> Any:
    """What botocore sends: bytes, a bytearray, or a file (its type stubs name only bytes
    and IO, though it takes a bytearray too)."""
    return _BufferReader(data) if isinstance(data, memoryview) else data


def _hex(checksum: object) -> str:
    """A checksum header's base64 as hex; "" when absent. A multipart object's is
    "<base64>-<parts>" on AWS (moto leaves the count off): the base64 is the composite."""
    b64 = str(checksum or "").split("-")[0]
    try:
        return base64.b64decode(b64, validate=True).hex() if b64 else ""
    except ValueError:
        return ""


def build_s3_client(endpoint_url: str | None, *, region: str, access_key_id: str | None,
                    secret_access_key: str | None, timeout_seconds: float = 3.0,
                    ca_file: Path | None = None, attempts: int = 2,
                    sign_bodies: bool = True) -> S3Client:
    """Args:
        ca_file: check the server's certificate against this CA instead of the CAs that
            come with botocore.
        attempts: tries per request; 1 for a health probe, which must answer within the
            timeout.
        sign_bodies: False for the client that only sends bodies whose SHA-256 goes with
            them in a signed header (``S3ObjectStore``'s ``bodies``): the signature then
            names the body's checksum, and S3 refuses a body that does not match it, so
            botocore need not hash every body a second time to sign it. Over https
            botocore leaves such bodies out of the signature by itself; this does the
            same over http.
    """
    import boto3
    from botocore.config import Config

    # A client, not a resource or session: clients are thread-safe, the others are not.
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        # True: botocore's CA bundle. Never False: TLS without checking is no TLS.
        verify=str(ca_file) if ca_file else True,
        config=Config(
            connect_timeout=timeout_seconds,
            # Per read from the socket, not per transfer: a large object that keeps
            # flowing is not cut off.
            read_timeout=timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": attempts},
            s3={"addressing_style": "path",
                **({} if sign_bodies else {"payload_signing_enabled": False})},
        ),
    )


def describe_s3_error(exc: BaseException, labels: StoreLabels, bucket: str) -> str:
    """Why S3 could not be used, as the end of a sentence."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            return f"it has no bucket named {bucket} (DRA_S3_BUCKET)"
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return ("it refused the access key in DRA_S3_ACCESS_KEY_ID and "
                    "DRA_S3_SECRET_ACCESS_KEY")
        return f"it answered with error {code or 'without a code'}"
    if isinstance(exc, NoCredentialsError):
        return "no access key is set (DRA_S3_ACCESS_KEY_ID and DRA_S3_SECRET_ACCESS_KEY)"
    kwargs = getattr(exc, "kwargs", {}) or {}
    text = f"{exc} {kwargs.get('error', '')}"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        text = "timed out"
    reason = connection_reason(text, labels)
    return reason or first_line(str(exc)) or "it could not be reached"


class S3ObjectStore:
    """Args:
        probe: the client ``ping`` uses (the health check): one attempt per request, so that
            a frozen server shows as down within the timeout. Default: ``client``.
        bodies: the client for the requests whose body goes with its SHA-256 in a signed
            header (``put_object``, ``upload_part``), built with ``sign_bodies=False``: a
            body is hashed once, by us, not a second time by botocore to sign it.
            Default: ``client``.
        labels: how sentences name this store (its setting names and timeout).
    """

    def __init__(self, client: S3Client, bucket: str, *, server_side_encryption: bool = True,
                 probe: S3Client | None = None, bodies: S3Client | None = None,
                 labels: StoreLabels | None = None):
        self.client = client
        self.bucket = bucket
        self.sse = server_side_encryption
        self.probe = probe or client
        self.bodies = bodies or client
        self.labels = labels or StoreLabels(location=urlsplit(client.meta.endpoint_url).netloc)

    def describe(self) -> str:
        endpoint = urlsplit(self.client.meta.endpoint_url)
        return f"S3 bucket {self.bucket} at {endpoint.netloc}"

    def _unavailable(self, exc: Exception) -> Unavailable:
        return Unavailable("objects", f"Object storage ({self.describe()}) cannot be used: "
                                      f"{describe_s3_error(exc, self.labels, self.bucket)}.")

    def _read_error(self, exc: ClientError | BotoCoreError, key: str) -> Exception:
        """NotFound for a missing key; Unavailable for anything else."""
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING:
            return NotFound(f"No object is stored under {key}.")
        error = self._unavailable(exc)
        error.__cause__ = exc
        return error

    def ping(self) -> None:
        try:
            self.probe.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from exc

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _MISSING:
                raise self._unavailable(exc) from exc
            try:
                self.client.create_bucket(Bucket=self.bucket)
                self.client.put_bucket_versioning(
                    Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
            except (ClientError, BotoCoreError) as exc2:
                raise self._unavailable(exc2) from exc2
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
            sha256: str | None = None) -> ObjectInfo:
        self._put(key, data, content_type, sha256)
        return self.stat(key)

    def put_unread(self, key: str, data: Buffer, *, content_type: str, sha256: str) -> str:
        # S3 and MinIO compute the SHA-256 of the body and refuse it when it differs from
        # the one sent, then echo it; a server that does not check (moto, for one, only
        # echoes what it was sent) is covered by the check against ``data`` in ``_put``.
        answer = self._put(key, data, content_type, sha256)
        return _hex(answer.get("ChecksumSHA256"))

    def _put(self, key: str, data: Buffer, content_type: str,
             sha256: str | None) -> dict[str, Any]:
        validate_key(key)
        digest = check_expected(data, sha256)
        try:
            # The server verifies the checksum too, so a corrupted upload is refused there.
            return dict(self.bodies.put_object(
                Bucket=self.bucket, Key=key, Body=_body(data), ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                Metadata={"sha256": digest}, **self._extra(),
            ))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
                raise Conflict("Object storage rejected the data: checksum mismatch.") from exc
            raise self._unavailable(exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable(exc) from exc

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

    # ------------------------------------------------------------------ resumable uploads
    # (ResumableObjectStore: dictation delivery)

    def _extra(self) -> dict[str, Any]:
        return {"ServerSideEncryption": "AES256"} if self.sse else {}

    def _write_error(self, exc: ClientError | BotoCoreError, key: str) -> Exception:
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
                return Conflict("Object storage rejected the data: checksum mismatch.")
        return self._read_error(exc, key)

    def head_checksum(self, key: str) -> tuple[int, str]:
        validate_key(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except (ClientError, BotoCoreError) as exc:
            raise self._read_error(exc, key) from exc
        return int(head["ContentLength"]), _hex(head.get("ChecksumSHA256"))

    def multipart_start(self, key: str, *, content_type: str, sha256: str) -> str:
        validate_key(key)
        try:
            answer = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type,
                ChecksumAlgorithm="SHA256", Metadata={"sha256": sha256}, **self._extra())
        except (ClientError, BotoCoreError) as exc:
            raise self._write_error(exc, key) from exc
        return str(answer["UploadId"])

    def multipart_parts(self, key: str, upload_id: str) -> dict[int, int]:
        validate_key(key)
        parts: dict[int, int] = {}
        try:
            paginator = self.client.get_paginator("list_parts")
            for page in paginator.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
                for part in page.get("Parts", []):
                    parts[int(part["PartNumber"])] = int(part["Size"])
        except (ClientError, BotoCoreError) as exc:
            raise self._read_error(exc, key) from exc
        return parts

    def multipart_put_part(self, key: str, upload_id: str, number: int, data: Buffer,
                           sha256: str | None = None) -> str:
        validate_key(key)
        digest = sha256 or sha256_hex(data)
        try:
            answer = self.bodies.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                Body=_body(data),
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode())
        except (ClientError, BotoCoreError) as exc:
            raise self._write_error(exc, key) from exc
        return str(answer["ETag"])

    def multipart_complete(self, key: str, upload_id: str,
                           parts: dict[int, tuple[str, str]]) -> str:
        validate_key(key)
        listed = [{"PartNumber": n, "ETag": etag,
                   "ChecksumSHA256": base64.b64encode(bytes.fromhex(digest)).decode()}
                  for n, (etag, digest) in sorted(parts.items())]
        try:
            answer = self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": listed})  # type: ignore[typeddict-item]
        except (ClientError, BotoCoreError) as exc:
            raise self._write_error(exc, key) from exc
        return _hex(answer.get("ChecksumSHA256"))

    def multipart_abort(self, key: str, upload_id: str) -> None:
        validate_key(key)
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError) as exc:
            error = self._read_error(exc, key)
            if not isinstance(error, NotFound):
                raise error from exc
