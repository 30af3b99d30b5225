"""Builds the store clients once. Shared by the desktop composition root and the admin CLI.

A store left unset in the settings is provided by the local stack, which is started here
(idempotently) only when ``start_stack`` is true; the admin ``doctor`` passes false so that
it reports what is down instead of starting it. While a Backend is open it holds a lease on
the stack: an app instance's ``close`` stops the servers only if no other app instance or
admin command still uses them.

PostgreSQL gets two engines. ``engine`` is the app's own login, a member of ``dra_app``: it
may read and write the clinical tables and append to the audit trail, but not change the
schema nor alter or remove an audit event. ``owner_engine`` owns the schema: migrations, the
seed loader and administration that must change what the app may not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database
from redis import Redis
from sqlalchemy import Engine

from backend_client.config import Settings
from backend_client.errors import ConfigError
from backend_client.local_stack import LocalStack, StackEndpoints, StackLease
from backend_client.logsafe import protect_loggers
from backend_client.stores.mongo.client import build_mongo_client
from backend_client.stores.objects import LocalObjectStore, ObjectStore, S3ObjectStore
from backend_client.stores.objects.s3 import build_s3_client
from backend_client.stores.postgres.engine import build_engine
from backend_client.stores.redis.client import build_redis

log = logging.getLogger(__name__)


@dataclass
class Backend:
    """The four store clients, one each, thread-safe.

    Attributes:
        engine: PostgreSQL as the app's login (``dra_app``); what every service uses.
        owner_engine: PostgreSQL as the schema's owner, for migrations, seeding and admin
            tools only. The same Engine as ``engine`` when no separate owner URL is set.
    """

    settings: Settings
    engine: Engine
    owner_engine: Engine
    mongo: MongoClient[dict[str, Any]]
    redis: Redis
    objects: ObjectStore
    stack: LocalStack | None = None
    lease: StackLease | None = None
    # MongoDB as a user who may create collections, validators and indexes (migrate).
    # The same client as ``mongo`` unless the embedded stack provides an owner.
    owner_mongo: MongoClient[dict[str, Any]] | None = None
    # The user the app's MongoDB connection signs in as ('' for none): migrate grants it.
    mongo_app_user: str = ""
    locations: dict[str, str] = field(default_factory=dict)

    @property
    def mongo_db(self) -> Database[dict[str, Any]]:
        return self.mongo[self.settings.mongo_database]

    @property
    def owner_mongo_db(self) -> Database[dict[str, Any]]:
        return (self.owner_mongo or self.mongo)[self.settings.mongo_database]

    @property
    def embedded(self) -> bool:
        return self.stack is not None

    def close(self, *, stop_stack: bool | None = None) -> None:
        """Release the clients and this process's lease on the local stack.

        ``stop_stack``: stop the servers if nobody else uses them. By default an app
        instance does (the last window to close takes the stores with it) and an admin
        command does not (``stack stop`` does that).
        """
        self.engine.dispose()
        if self.owner_engine is not self.engine:
            self.owner_engine.dispose()
        self.mongo.close()
        if self.owner_mongo is not None and self.owner_mongo is not self.mongo:
            self.owner_mongo.close()
        self.redis.close()
        lease, self.lease = self.lease, None
        if self.stack is not None and lease is not None:
            self.stack.release(lease, stop_if_last=(lease.kind == "app" if stop_stack is None
                                                    else stop_stack))


def needs_stack(settings: Settings) -> bool:
    return not (settings.postgres_url and settings.mongo_url and settings.redis_url)


def open_backend(settings: Settings, *, start_stack: bool = True,
                 user: str = "admin") -> Backend:
    """Build the clients, starting the local stack for stores that are not configured.

    ``user``: "app" for an app instance (its close stops a stack nobody else uses),
    "admin" for a command that leaves it running.

    Blocking (it may start servers): never call it on the GUI thread.
    """
    protect_loggers()
    stack: LocalStack | None = None
    endpoints: StackEndpoints | None = None
    lease: StackLease | None = None
    if needs_stack(settings):
        stack = LocalStack(settings.data_dir)
        if start_stack:
            endpoints, lease = stack.open(user)
        else:
            endpoints = stack.endpoints()
            if endpoints is None:
                raise ConfigError(
                    f"The local stack in {settings.data_dir} has not been started by this "
                    "version of Dr. Assistant; run 'dr-assistant-admin stack start'."
                )
    try:
        return _build(settings, endpoints, stack, lease)
    except BaseException:
        if stack is not None and lease is not None:
            # An app that could not open its stores stops the stack if nobody else uses it.
            stack.release(lease, stop_if_last=lease.kind == "app")
        raise


def _build(settings: Settings, endpoints: StackEndpoints | None, stack: LocalStack | None,
           lease: StackLease | None) -> Backend:
    assert endpoints is not None or not needs_stack(settings)

    def pick(configured: str | None, embedded: str | None) -> str:
        value = configured or embedded
        assert value is not None
        return value

    t = settings.store_timeout_seconds
    # The local stack's start() has made sure its app login exists (an older data dir
    # gets one there), so the app never needs the owner's password for its own work.
    pg_url = pick(settings.postgres_url, endpoints.postgres_app_url if endpoints else None)
    if settings.postgres_url:
        owner_url = settings.postgres_admin_url or settings.postgres_url
    else:
        assert endpoints is not None
        owner_url = endpoints.postgres_url
    mongo_url = pick(settings.mongo_url, endpoints.mongo_url if endpoints else None)
    if settings.mongo_url:
        mongo_owner_url = settings.mongo_admin_url or mongo_url
    else:
        assert endpoints is not None
        mongo_owner_url = endpoints.mongo_owner_url or mongo_url
    redis_url = pick(settings.redis_url, endpoints.redis_url if endpoints else None)
    objects: ObjectStore
    if settings.s3_endpoint_url:
        assert settings.s3_bucket is not None
        secret = settings.s3_secret_access_key
        client = build_s3_client(
            settings.s3_endpoint_url, region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            timeout_seconds=t,
        )
        objects = S3ObjectStore(client, settings.s3_bucket)
    else:
        objects_dir = endpoints.objects_dir if endpoints else Path(settings.data_dir) / "objects"
        objects = LocalObjectStore(objects_dir)

    engine = build_engine(pg_url, timeout_seconds=t)
    # Migrations and seeding are one connection at a time: a small pool.
    owner_engine = (engine if owner_url == pg_url
                    else build_engine(owner_url, timeout_seconds=t, pool_size=2))
    return Backend(
        settings=settings,
        engine=engine,
        owner_engine=owner_engine,
        mongo=build_mongo_client(mongo_url, timeout_seconds=t),
        owner_mongo=(build_mongo_client(mongo_owner_url, timeout_seconds=t)
                     if mongo_owner_url != mongo_url else None),
        mongo_app_user=_mongo_user(mongo_url),
        redis=build_redis(redis_url, timeout_seconds=t),
        objects=objects,
        stack=stack,
        lease=lease,
        locations={
            "postgres": _where(pg_url),
            "mongo": _where(mongo_url),
            "redis": _where(redis_url),
            "objects": objects.describe(),
        },
    )


def _mongo_user(url: str) -> str:
    """The user name in a MongoDB URL (no DNS lookup, even for mongodb+srv)."""
    from urllib.parse import unquote, urlsplit

    try:
        return unquote(urlsplit(url).username or "")
    except ValueError:  # the client reports a bad URL itself, with its own sentence
        return ""


def _where(url: str) -> str:
    """host:port of a URL, never its credentials."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port}" if parts.port else host
