"""Objects on local disk, for the embedded default.

Each object is a file; its metadata (sha256, content type) is a JSON sidecar written after
the data, both atomically (write to a temp file, fsync, rename), so a crash leaves either
the old object or the new one, never a torn file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from backend_client.errors import Conflict, NotFound, Unavailable
from backend_client.stores.objects.base import (
    ObjectInfo,
    check_expected,
    sha256_hex,
    validate_key,
    validate_prefix,
)

_META = ".meta.json"


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
    def _atomic_write(path: Path, data: bytes) -> None:
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

    def put(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
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
