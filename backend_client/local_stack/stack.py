"""The local stack: PostgreSQL, MongoDB, Redis and a folder for objects, under the data dir.

Layout under ``DATA_DIR``::

    stack/state.json      ports of the last start (kept so URLs stay stable); whether
                          ``stack start`` asked for it to keep running
    stack/leases/         one locked file per app instance or admin command using it
    stack/secrets.json    generated passwords (0600): PostgreSQL's owner and the app's own
                          login (``dr_assistant_app``, a member of ``dra_app``); MongoDB's
                          owner and app users; Redis's owner and app users
    stack/mongo.key       the replica set's key file (0400): MongoDB runs with access
                          control
    stack/postgres/ stack/mongo/ stack/redis/   server data
    objects/              the local-disk object store
    logs/                 one log per server

Starting and stopping take an inter-process lock, so the app and ``dr-assistant-admin``
can both call them at once.

Any number of app instances and admin commands share one stack. Each holds a lease
(``lease.py``) while it runs; an app instance that quits stops the servers only when no
other lease is held (and nobody ran ``stack start`` to keep it up), so quitting one window
never stops the stores under another, and a holder that was killed holds nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from backend_client.local_stack.lease import LeaseInfo, Leases, StackLease
from backend_client.local_stack.servers import (
    MongoServer,
    PostgresServer,
    RedisServer,
    ServerStatus,
    StackError,
)
from backend_client.stores.postgres.engine import build_engine
from backend_client.stores.postgres.roles import APP_LOGIN, ensure_app_login

log = logging.getLogger(__name__)

__all__ = ["LocalStack", "StackEndpoints", "StackError", "StackInUse", "ServerStatus",
           "StackLease", "LeaseInfo"]


_THREAD_LOCKS: dict[str, threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(root: Path) -> threading.RLock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(str(root.resolve()), threading.RLock())


SECRET_NAMES = ("postgres", "app", "redis", "redis_app", "mongo_owner", "mongo_app")


class StackInUse(StackError):
    """``stack stop`` while app instances or admin commands still use the stack."""


@dataclass(frozen=True)
class StackEndpoints:
    """Where the local servers listen.

    Attributes:
        postgres_url: as the database's owner (migrations, seeding, administration).
        postgres_app_url: as the app's login, which may not alter the audit trail.
        mongo_url, redis_url: as the app's own users (least privilege).
        mongo_owner_url, redis_owner_url: as the owners (migrations, administration).
    """

    postgres_url: str
    postgres_app_url: str
    mongo_url: str
    redis_url: str
    objects_dir: Path
    mongo_owner_url: str = ""
    redis_owner_url: str = ""


class LocalStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "stack"
        self.log_dir = self.data_dir / "logs"
        self.objects_dir = self.data_dir / "objects"
        self.postgres = PostgresServer(self.root, self.log_dir)
        self.mongo = MongoServer(self.root, self.log_dir)
        self.redis = RedisServer(self.root, self.log_dir)
        self.leases = Leases(self.root)

    # ----------------------------------------------------------------- state on disk

    @property
    def _state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def _secrets_file(self) -> Path:
        return self.root / "secrets.json"

    def _load_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self._state_file.read_text())
            return data if isinstance(data, dict) else {}
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self._state_file)

    def _secrets(self) -> dict[str, str]:
        try:
            data = json.loads(self._secrets_file.read_text())
            if isinstance(data, dict) and {"postgres", "redis"} <= data.keys():
                secret = {str(k): str(v) for k, v in data.items()}
                missing = [k for k in SECRET_NAMES if k not in secret]
                if missing:
                    # A data dir from before these logins existed.
                    secret.update({k: secrets.token_urlsafe(24) for k in missing})
                    self._write_secrets(secret)
                return secret
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        if self.postgres.initialised():
            raise StackError(
                f"The local database exists but its password file {self._secrets_file} is "
                "missing or damaged; restore it from a backup of the data folder."
            )
        secret = {name: secrets.token_urlsafe(24) for name in SECRET_NAMES}
        self._write_secrets(secret)
        return secret

    def _write_secrets(self, secret: dict[str, str]) -> None:
        """Replace the file atomically; it is never readable by others, not even briefly."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self._secrets_file.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(secret))
        tmp.replace(self._secrets_file)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        import fasteners

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.root.chmod(0o700 if not self.postgres.system_user else 0o755)
        except OSError as exc:
            raise StackError(f"The data folder {self.data_dir} cannot be used for the local "
                             f"stack: {exc.strerror or exc}.") from exc
        # The file lock keeps other processes out; POSIX record locks do not exclude
        # threads of one process (the health check's restart against a quit), this does.
        with _thread_lock(self.root), fasteners.InterProcessLock(str(self.root / ".lock")):
            yield

    # ----------------------------------------------------------------- operations

    def start(self, *, keep_running: bool = False) -> StackEndpoints:
        """Start what is not running, reuse what is, and return the endpoints.

        ``keep_running`` (``stack start``): the last app instance to quit leaves it up;
        ``stop`` clears that."""
        with self._locked():
            endpoints = self._start_servers()
            if keep_running:
                state = self._load_state()
                state["keep_running"] = True
                self._save_state(state)
            return endpoints

    def open(self, kind: str) -> tuple[StackEndpoints, StackLease]:
        """Start or reuse the stack and hold a lease on it (``kind``: "app" or "admin")
        until :meth:`release`. A start that fails half way stops what it started, unless
        someone else uses the stack."""
        with self._locked():
            try:
                try:
                    endpoints = self._start_servers()
                except OSError as exc:
                    raise StackError(f"The local stack in {self.root} could not be started: "
                                     f"{exc.strerror or exc} ({getattr(exc, 'filename', '')})."
                                     ) from exc
                return endpoints, self._take(kind)
            except BaseException:
                if not self.leases.holders() and not self._load_state().get("keep_running"):
                    with contextlib.suppress(Exception):
                        self._stop_servers()
                raise

    def _take(self, kind: str) -> StackLease:
        try:
            return self.leases.take(kind)
        except OSError as exc:
            raise StackError(f"Could not record this process as a user of the local stack "
                             f"in {self.leases.dir}: {exc.strerror or exc}.") from exc

    def restart(self, lease: StackLease) -> bool:
        """A server died under a running instance: start what is missing, unless that
        instance has let go of the stack meanwhile (it is quitting) or someone stopped the
        stack on purpose (``stack stop --force``). Returns whether it started anything."""
        with self._locked():
            if not lease.held or self._load_state().get("stopped_on_purpose"):
                return False
            self._start_servers()
            return True

    def release(self, lease: StackLease, *, stop_if_last: bool) -> bool:
        """Let go of a lease. With ``stop_if_last`` (an app instance quitting) the servers
        stop when nobody else holds a lease and nobody asked to keep the stack running.
        Returns whether they were stopped."""
        with self._locked():
            lease.close()
            if not stop_if_last or self._load_state().get("keep_running"):
                return False
            if self.leases.holders():
                return False
            self._stop_servers()
            return True

    def holders(self) -> list[LeaseInfo]:
        """Who uses the stack now (stale leases of killed processes are swept). Needs no
        lock, so ``stack status`` answers even while another process is starting it."""
        try:
            return self.leases.holders()
        except OSError as exc:
            raise StackError(f"Could not read who uses the local stack in {self.leases.dir}: "
                             f"{exc.strerror or exc}.") from exc

    def _start_servers(self) -> StackEndpoints:
        """Under the stack's lock. A start is a new decision: it forgets an earlier
        ``stop --force``."""
        state = self._load_state()
        state.pop("stopped_on_purpose", None)
        secret = self._secrets()
        self.objects_dir.mkdir(parents=True, exist_ok=True)
        state["postgres_port"] = self.postgres.start(state.get("postgres_port"),
                                                     secret["postgres"])
        self._save_state(state)
        self._ensure_app_login(state["postgres_port"], secret)
        state["mongo_port"] = self.mongo.start(state.get("mongo_port"), secret["mongo_owner"],
                                               secret["mongo_app"])
        self._save_state(state)
        state["redis_port"] = self.redis.start(state.get("redis_port"), secret["redis"],
                                               secret["redis_app"])
        self._save_state(state)
        return self._endpoints(state, secret)


    def endpoints(self) -> StackEndpoints | None:
        """Where the stack listens (or listened last), without starting anything."""
        state = self._load_state()
        if not {"postgres_port", "mongo_port", "redis_port"} <= state.keys():
            return None
        try:
            secret = json.loads(self._secrets_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if not isinstance(secret, dict) or not set(SECRET_NAMES) <= secret.keys():
            return None  # not started since the app got its own login: it may not exist
        return self._endpoints(state, secret)

    def _ensure_app_login(self, port: int, secret: dict[str, str]) -> None:
        """The app's login exists with the current password (an older data dir has none).

        Here rather than in each caller so that every start, ``dr-assistant-admin stack
        start`` included, leaves a stack the app and ``doctor`` can log in to.
        """
        owner = build_engine(self.postgres.url(port, secret["postgres"]), pool_size=1,
                             timeout_seconds=10)
        try:
            ensure_app_login(owner, secret["app"])
        except SQLAlchemyError as exc:
            raise StackError("PostgreSQL is running but the app's login could not be set up "
                             f"({type(exc).__name__}); see {self.postgres.log_file}") from exc
        finally:
            owner.dispose()

    def _endpoints(self, state: dict[str, Any], secret: dict[str, str]) -> StackEndpoints:
        return StackEndpoints(
            postgres_url=self.postgres.url(state["postgres_port"], secret["postgres"]),
            postgres_app_url=self.postgres.url(state["postgres_port"], secret["app"],
                                               user=APP_LOGIN),
            mongo_url=self.mongo.url(state["mongo_port"], self.mongo.app_user,
                                     secret["mongo_app"]),
            redis_url=self.redis.url(state["redis_port"], secret["redis_app"],
                                     user=self.redis.app_user),
            mongo_owner_url=self.mongo.url(state["mongo_port"], self.mongo.owner_user,
                                           secret["mongo_owner"]),
            redis_owner_url=self.redis.url(state["redis_port"], secret["redis"]),
            objects_dir=self.objects_dir,
        )

    def running(self) -> bool:
        return self.postgres.running() and self.mongo.running() and self.redis.running()

    def stop(self, *, force: bool = False) -> None:
        """Stop all three servers cleanly (each flushes its data first). Refuses with
        :class:`StackInUse` while an app instance or admin command holds a lease, unless
        ``force``."""
        with self._locked():
            holders = self.leases.holders()
            if holders and not force:
                raise StackInUse(_in_use(holders))
            self._stop_servers()
            if holders:
                # The instances still running must not start it again behind the person
                # who stopped it.
                state = self._load_state()
                state["stopped_on_purpose"] = True
                self._save_state(state)

    def _stop_servers(self) -> None:
        state = self._load_state()
        if state.pop("keep_running", None):
            self._save_state(state)
        errors = []
        for server in (self.redis, self.mongo, self.postgres):
            try:
                server.stop()
            except StackError as exc:
                errors.append(str(exc))
        if errors:
            raise StackError("; ".join(errors))

    def status(self) -> list[ServerStatus]:
        """Each server as it really is: the process holding its data folder and the port
        that process listens on."""
        statuses = []
        for server in (self.postgres, self.mongo, self.redis):
            pid = server.pid()  # one look each: finding MongoDB and Redis scans processes
            statuses.append(ServerStatus(server.name, pid is not None, pid,
                                         server.port(pid) if pid else None))
        return statuses


def _in_use(holders: list[LeaseInfo]) -> str:
    apps = [h.pid for h in holders if h.kind == "app"]
    admins = [h.pid for h in holders if h.kind != "app"]
    parts = []
    if apps:
        parts.append(f"{len(apps)} instance{'s' if len(apps) != 1 else ''} of Dr. Assistant "
                     f"(pid {', '.join(map(str, apps))})")
    if admins:
        parts.append(f"{len(admins)} admin command{'s' if len(admins) != 1 else ''} "
                     f"(pid {', '.join(map(str, admins))})")
    return (f"The local stack is in use by {' and '.join(parts)}; quit them first, or use "
            "'dr-assistant-admin stack stop --force' to stop it under them.")
