"""Objects on local disk, for the embedded default.

Each object is a file; its metadata (sha256, content type) is a JSON sidecar written after
the data, both atomically (write to a temp file, fsync, rename), so a crash leaves either
the old object or the new one, never a torn file.

Multipart uploads (``ResumableObjectStore``) keep their parts under ``uploads/<id>/`` until
they are joined, as S3 keeps them until ``CompleteMultipartUpload``; the joined object's
sidecar carries the composite checksum S3 would report for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from backend_client.errors import Conflict, NotFound, Unavailable
from backend_client.stores.objects.base import (
    Buffer,
    ObjectInfo,
    check_expected,
    composite_sha256,
    sha256_hex,
    validate_key,
    validate_prefix,
)

_META = ".meta.json"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_CHUNK = 1024 * 1024


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        path = self.root / "data" / validate_key(key)
        return path, path.with_name(path.name + _META)

    def describe(self) -> str:
        return f"local disk at {self.root}"

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise Unavailable("objects", f"The object folder {self.root}: permission denied.")

    @staticmethod
    def _atomic_write(path: Path, data: Buffer) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put(self, key: str, data: Buffer, *, content_type: str = "application/octet-stream",
            sha256: str | None = None) -> ObjectInfo:
        path, meta = self._paths(key)
        digest = check_expected(data, sha256)
        self._atomic_write(path, data)
        self._atomic_write(meta, json.dumps({"sha256": digest,
                                             "content_type": content_type}).encode())
        return self.stat(key)

    def _info(self, key: str, path: Path, meta: Path) -> ObjectInfo:
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFound(f"No object is stored under {key}.") from None
        try:
            m = json.loads(meta.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            # Data written but the sidecar not yet (crash between the two): recompute.
            m = {"sha256": sha256_hex(path.read_bytes()),
                 "content_type": "application/octet-stream"}
        return ObjectInfo(key=key, size=st.st_size, sha256=str(m["sha256"]),
                          content_type=str(m["content_type"]),
                          modified_at=datetime.fromtimestamp(st.st_mtime, UTC))

    def stat(self, key: str) -> ObjectInfo:
        path, meta = self._paths(key)
        return self._info(key, path, meta)

    def get(self, key: str) -> bytes:
        path, meta = self._paths(key)
        info = self._info(key, path, meta)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"No object is stored under {key}.") from None
        if sha256_hex(data) != info.sha256:
            raise Conflict(f"The object {key} is damaged: its checksum does not match.")
        return data

    def delete(self, key: str) -> None:
        path, meta = self._paths(key)
        path.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        validate_prefix(prefix)
        base = self.root / "data"
        # Walk only the folder the prefix names, not the whole store.
        start = base / prefix.rsplit("/", 1)[0] if "/" in prefix else base
        if not start.is_dir():
            return
        keys = []
        for dirpath, _dirs, files in os.walk(start):
            for name in files:
                if name.endswith(_META) or name.startswith(".tmp-"):
                    continue
                key = Path(dirpath, name).relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        for key in sorted(keys):
            try:
                yield self.stat(key)
            except NotFound:
                continue  # deleted while we listed

    # ------------------------------------------------------------------ resumable uploads

    def _upload_dir(self, key: str, upload_id: str) -> Path:
        validate_key(key)
        folder = self.root / "uploads" / upload_id
        try:
            meta = json.loads((folder / "upload.json").read_text()) \
                if _UPLOAD_ID.match(upload_id) else None
        except (FileNotFoundError, json.JSONDecodeError):
            meta = None
        if meta is None or meta.get("key") != key:
            raise NotFound(f"No upload {upload_id} is under way for {key}.")
        return folder

    def put_unread(self, key: str, data: Buffer, *, content_type: str, sha256: str) -> str:
        # Says nothing of what it holds: the caller reads the checksum from the file.
        self.put(key, data, content_type=content_type, sha256=sha256)
        return ""

    def head_checksum(self, key: str) -> tuple[int, str]:
        path, meta = self._paths(key)
        info = self._info(key, path, meta)
        try:
            composite = json.loads(meta.read_text()).get("composite", "")
        except (FileNotFoundError, json.JSONDecodeError):
            composite = ""
        # Computed from the file now, as a server would have when it received it.
        digest = hashlib.sha256()
        parts: list[bytes] = []
        part_size = int(composite.split(":")[1]) if composite else 0
        with path.open("rb") as fh:
            while chunk := fh.read(part_size or _CHUNK):
                digest.update(chunk)
                if part_size:
                    parts.append(hashlib.sha256(chunk).digest())
        return info.size, composite_sha256(parts) if part_size else digest.hexdigest()

    def multipart_start(self, key: str, *, content_type: str, sha256: str) -> str:
        validate_key(key)
        upload_id = uuid.uuid4().hex
        folder = self.root / "uploads" / upload_id
        folder.mkdir(parents=True)
        self._atomic_write(folder / "upload.json", json.dumps(
            {"key": key, "content_type": content_type, "sha256": sha256}).encode())
        return upload_id

    def multipart_parts(self, key: str, upload_id: str) -> dict[int, int]:
        folder = self._upload_dir(key, upload_id)
        return {int(p.name[5:]): p.stat().st_size for p in folder.glob("part-*")
                if p.name[5:].isdigit()}

    def multipart_put_part(self, key: str, upload_id: str, number: int, data: Buffer,
                           sha256: str | None = None) -> str:
        folder = self._upload_dir(key, upload_id)
        self._atomic_write(folder / f"part-{number:05d}", data)
        return f'"{sha256_hex(data)}"'

    def multipart_complete(self, key: str, upload_id: str,
                           parts: dict[int, tuple[str, str]]) -> str:
        folder = self._upload_dir(key, upload_id)
        meta = json.loads((folder / "upload.json").read_text())
        numbers = sorted(parts)
        if numbers != list(range(1, len(numbers) + 1)):
            raise Conflict("The parts of this upload are not numbered 1, 2, 3, …")
        path, sidecar = self._paths(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        whole = hashlib.sha256()
        part_size = 0
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                for n in numbers:
                    data = (folder / f"part-{n:05d}").read_bytes()
                    if sha256_hex(data) != parts[n][1]:
                        raise Conflict("Object storage rejected the data: checksum mismatch.")
                    part_size = part_size or len(data)
                    whole.update(data)
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if whole.hexdigest() != meta["sha256"]:
                raise Conflict("Object storage rejected the data: checksum mismatch.")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._atomic_write(sidecar, json.dumps({
            "sha256": meta["sha256"], "content_type": meta["content_type"],
            "composite": f"parts:{part_size}"}).encode())
        shutil.rmtree(folder, ignore_errors=True)
        return ""

    def multipart_abort(self, key: str, upload_id: str) -> None:
        try:
            folder = self._upload_dir(key, upload_id)
        except NotFound:
            return
        shutil.rmtree(folder, ignore_errors=True)
