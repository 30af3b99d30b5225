"""The local stack: PostgreSQL, MongoDB, Redis and a folder for objects, under the data dir.

Layout under ``DATA_DIR``::

    stack/state.json      ports of the last start (kept so URLs stay stable)
    stack/secrets.json    generated passwords (0600): the database owner, the app's own
                          login (``dr_assistant_app``, a member of ``dra_app``), Redis
    stack/postgres/ stack/mongo/ stack/redis/   server data
    objects/              the local-disk object store
    logs/                 one log per server

Starting and stopping take an inter-process lock, so the app and ``dr-assistant-admin``
can both call them at once.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

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

__all__ = ["LocalStack", "StackEndpoints", "StackError", "ServerStatus"]


@dataclass(frozen=True)
class StackEndpoints:
    """Where the local servers listen.

    Attributes:
        postgres_url: as the database's owner (migrations, seeding, administration).
        postgres_app_url: as the app's login, which may not alter the audit trail.
    """

    postgres_url: str
    postgres_app_url: str
    mongo_url: str
    redis_url: str
    objects_dir: Path


class LocalStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "stack"
        self.log_dir = self.data_dir / "logs"
        self.objects_dir = self.data_dir / "objects"
        self.postgres = PostgresServer(self.root, self.log_dir)
        self.mongo = MongoServer(self.root, self.log_dir)
        self.redis = RedisServer(self.root, self.log_dir)

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
                if "app" not in secret:
                    # A data dir from before the app had a login of its own.
                    secret["app"] = secrets.token_urlsafe(24)
                    self._write_secrets(secret)
                return secret
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        if self.postgres.initialised():
            raise StackError(
                f"The local database exists but its password file {self._secrets_file} is "
                "missing or damaged; restore it from a backup of the data folder."
            )
        secret = {name: secrets.token_urlsafe(24) for name in ("postgres", "app", "redis")}
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

        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700 if not self.postgres.system_user else 0o755)
        with fasteners.InterProcessLock(str(self.root / ".lock")):
            yield

    # ----------------------------------------------------------------- operations

    def start(self) -> StackEndpoints:
        """Start what is not running, reuse what is, and return the endpoints."""
        with self._locked():
            state = self._load_state()
            secret = self._secrets()
            self.objects_dir.mkdir(parents=True, exist_ok=True)
            state["postgres_port"] = self.postgres.start(state.get("postgres_port"),
                                                         secret["postgres"])
            self._save_state(state)
            self._ensure_app_login(state["postgres_port"], secret)
            state["mongo_port"] = self.mongo.start(state.get("mongo_port"))
            self._save_state(state)
            state["redis_port"] = self.redis.start(state.get("redis_port"), secret["redis"])
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
        if not isinstance(secret, dict) or not {"postgres", "app", "redis"} <= secret.keys():
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
            mongo_url=self.mongo.url(state["mongo_port"]),
            redis_url=self.redis.url(state["redis_port"], secret["redis"]),
            objects_dir=self.objects_dir,
        )

    def running(self) -> bool:
        return self.postgres.running() and self.mongo.running() and self.redis.running()

    def stop(self) -> None:
        """Stop all three servers cleanly (each flushes its data first)."""
        with self._locked():
            errors = []
            for server in (self.redis, self.mongo, self.postgres):
                try:
                    server.stop()
                except StackError as exc:
                    errors.append(str(exc))
            if errors:
                raise StackError("; ".join(errors))

    def status(self) -> list[ServerStatus]:
        state = self._load_state()
        return [
            ServerStatus("postgres", self.postgres.running(), self.postgres.pid(),
                         state.get("postgres_port")),
            ServerStatus("mongo", self.mongo.running(), self.mongo.pid(),
                         state.get("mongo_port")),
            ServerStatus("redis", self.redis.running(), self.redis.pid(),
                         state.get("redis_port")),
        ]
