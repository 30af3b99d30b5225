"""Who is using the local stack: one lease file per app instance or admin command.

A holder creates ``stack/leases/<kind>-<pid>-<random>.json`` and keeps an exclusive
``flock`` on it for as long as it uses the stack. The kernel releases that lock when the
process ends, however it ends (a clean quit, a crash, ``kill -9``), so a lease whose file is
not locked is stale and is swept away; a pid that was reused by another program does not
matter, because liveness is the lock, not the pid. ``flock`` locks belong to an open file,
so two holders in one process (tests) see each other as well.

Taking and releasing leases, and any decision on who holds one, happen under the stack's
own lock, so the last holder's "nobody else? then stop" cannot race a new holder's "start
and take a lease". Looking (``stack status``) needs no lock.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

KINDS = ("app", "admin")


@dataclass(frozen=True)
class LeaseInfo:
    """A live holder, as ``stack status`` lists it."""

    kind: str
    pid: int
    since: float


class StackLease:
    """Held while a process uses the stack; :meth:`close` (or process death) lets go."""

    def __init__(self, path: Path, fd: int, kind: str) -> None:
        self.path = path
        self.kind = kind
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def close(self) -> None:
        if self._fd is None:
            return
        # Unlink first: nobody then sees an unlocked file that still looks like a lease.
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _flock() -> ModuleType:
    """``fcntl``, imported when needed: a clinic deployment on Windows never gets here (the
    embedded stack's servers are Linux and macOS builds)."""
    if sys.platform == "win32":  # pragma: no cover
        raise OSError("the embedded stack's leases need POSIX file locks")
    import fcntl

    return fcntl


class Leases:
    def __init__(self, root: Path) -> None:
        self.dir = root / "leases"

    def take(self, kind: str) -> StackLease:
        """A new lease for this process (call under the stack's lock)."""
        if kind not in KINDS:
            raise ValueError(f"unknown lease kind {kind!r}")
        fcntl = _flock()
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob("*.json.tmp"):
            # Left by a taker killed between creating and renaming; takers work one at a
            # time under the stack's lock, so none is at work now.
            stale.unlink(missing_ok=True)
        path = self.dir / f"{kind}-{os.getpid()}-{secrets.token_hex(4)}.json"
        # Locked and written under a name nobody looks at, then renamed into place: a
        # lease file is never seen unlocked while its holder lives.
        tmp = path.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, json.dumps({"kind": kind, "pid": os.getpid(),
                                     "since": time.time()}).encode())
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return StackLease(path, fd, kind)

    def holders(self) -> list[LeaseInfo]:
        """Every live holder; stale lease files (their process ended) are removed. Safe
        without the stack's lock (a live holder's file is always locked); a decision made
        on the answer ("nobody else: stop") needs the lock."""
        return list(self._sweep())

    def _sweep(self) -> Iterator[LeaseInfo]:
        fcntl = _flock()
        try:
            paths = sorted(self.dir.glob("*.json"))
        except OSError:
            return
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield _info(path)  # locked: its holder is alive
                    continue
                path.unlink(missing_ok=True)  # nobody holds it: the holder has gone
            finally:
                os.close(fd)


def _info(path: Path) -> LeaseInfo:
    try:
        data = json.loads(path.read_text())
        return LeaseInfo(str(data["kind"]), int(data["pid"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        # Being written this very moment, or damaged: its name still says who.
        kind, pid, *_ = (path.stem.split("-") + ["", ""])[:3]
        return LeaseInfo(kind or "?", int(pid) if pid.isdigit() else 0, 0.0)
