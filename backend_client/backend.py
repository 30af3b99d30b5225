"""Builds the store clients once. Shared by the desktop composition root and the admin CLI.

On the embedded setup (see ``config``) the local stack provides every store; it is started
here (idempotently) only when ``start_stack`` is true; the admin ``doctor`` passes false so
that it reports what is down instead of starting it. While a Backend is open it holds a
lease on the stack: an app instance's ``close`` stops the servers only if no other app
instance or admin command still uses them. On a clinic setup every store comes from the
settings and the local stack is never touched.

PostgreSQL gets two engines. ``engine`` is the app's own login, a member of ``dra_app``: it
may read and write the clinical tables and append to the audit trail, but not change the
schema nor alter or remove an audit event; its calls are bounded by the store timeout.
``owner_engine`` owns the schema: migrations, the seed loader and administration that must
change what the app may not; its statements may take as long as they need.

Building the clients does no I/O. A URL a client library cannot use is a ``ConfigError``
naming the setting; a store that cannot be reached later is ``Unavailable`` with a sentence
naming the store and why (:func:`store_failure` turns what a library raises into one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pymongo import MongoClient
from pymongo.database import Database
from redis import Redis
from sqlalchemy import Engine

from backend_client.config import Settings, where
from backend_client.errors import ConfigError, DraError, StoreLabels, Unavailable, first_line
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
            tools only, without the statement timeout. Its own Engine even when the URL is
            the same as ``engine``'s (no separate owner URL set).
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
    # How sentences name each store (see store_labels).
    labels: dict[str, StoreLabels] = field(default_factory=dict)
    # For the health check's own short-lived client; holds a password: never in a repr.
    mongo_url: str = field(default="", repr=False)

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
    return settings.embedded


def open_backend(settings: Settings, *, start_stack: bool = True,
                 user: str = "admin") -> Backend:
    """Build the clients, starting the local stack on the embedded setup.

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


def store_labels(settings: Settings, endpoints: StackEndpoints | None = None
                 ) -> dict[str, StoreLabels]:
    """How sentences name each store: where it is, its timeout, and (on a clinic setup)
    the settings an administrator would change. Keys: the four stores and
    ``postgres_owner`` (the schema owner's connection)."""
    t = settings.store_timeout_seconds
    if settings.embedded:
        if endpoints is None:
            endpoints = LocalStack(settings.data_dir).endpoints()
        if endpoints is None:  # not started yet: nothing to name but the stack
            return {store: StoreLabels("the local stack", t)
                    for store in ("postgres", "postgres_owner", "mongo", "redis", "objects")}
        return {
            "postgres": StoreLabels(where(endpoints.postgres_app_url), t),
            "postgres_owner": StoreLabels(where(endpoints.postgres_url), t),
            "mongo": StoreLabels(where(endpoints.mongo_url), t),
            "redis": StoreLabels(where(endpoints.redis_url), t),
            "objects": StoreLabels(str(endpoints.objects_dir), t),
        }

    def labels(url: str | None, url_setting: str, store: str, *, has_cert: bool = True
               ) -> StoreLabels:
        prefix = f"DRA_{store.upper()}"
        return StoreLabels(
            where(url or ""), t, url_setting,
            f"{prefix}_CA_FILE" if getattr(settings, f"{store}_ca_file") else None,
            None if getattr(settings, f"{store}_cert_file", None) or not has_cert
            else f"{prefix}_CERT_FILE")

    return {
        "postgres": labels(settings.postgres_url, "DRA_POSTGRES_URL", "postgres"),
        "postgres_owner": labels(
            settings.postgres_admin_url or settings.postgres_url,
            "DRA_POSTGRES_ADMIN_URL" if settings.postgres_admin_url else "DRA_POSTGRES_URL",
            "postgres"),
        "mongo": labels(settings.mongo_url, "DRA_MONGO_URL", "mongo"),
        "redis": labels(settings.redis_url, "DRA_REDIS_URL", "redis"),
        "objects": labels(settings.s3_endpoint_url, "DRA_S3_ENDPOINT_URL", "s3",
                          has_cert=False),
    }


def _build(settings: Settings, endpoints: StackEndpoints | None, stack: LocalStack | None,
           lease: StackLease | None) -> Backend:
    t = settings.store_timeout_seconds
    labels = store_labels(settings, endpoints)
    tls: dict[str, dict[str, Any]] = {"postgres": {}, "mongo": {}, "redis": {}}
    objects: ObjectStore
    if endpoints is not None:
        # The local stack's start() has made sure its app login exists (an older data dir
        # gets one there), so the app never needs the owner's password for its own work.
        pg_url, owner_url = endpoints.postgres_app_url, endpoints.postgres_url
        mongo_url, redis_url = endpoints.mongo_url, endpoints.redis_url
        objects = LocalObjectStore(endpoints.objects_dir)
    else:
        # load_settings has made sure a clinic setup names every store.
        assert settings.postgres_url and settings.mongo_url and settings.redis_url
        assert settings.s3_endpoint_url and settings.s3_bucket
        pg_url = settings.postgres_url
        owner_url = settings.postgres_admin_url or settings.postgres_url
        mongo_url, redis_url = settings.mongo_url, settings.redis_url
        tls = {
            "postgres": {"ca_file": settings.postgres_ca_file,
                         "cert_file": settings.postgres_cert_file,
                         "key_file": settings.postgres_key_file},
            "mongo": {"ca_file": settings.mongo_ca_file, "cert_file": settings.mongo_cert_file},
            "redis": {"ca_file": settings.redis_ca_file, "cert_file": settings.redis_cert_file,
                      "key_file": settings.redis_key_file},
        }
        objects = _s3_store(settings, labels["objects"])

    with _naming(labels["postgres"].url_setting, pg_url):
        engine = build_engine(pg_url, timeout_seconds=t, labels=labels["postgres"],
                              **tls["postgres"])
    # A separate engine even for the same URL: migrations and the seed loader must not be
    # cut off by the app's statement timeout. One connection at a time: a small pool.
    with _naming(labels["postgres_owner"].url_setting, owner_url):
        owner_engine = build_engine(owner_url, timeout_seconds=t, pool_size=2,
                                    long_running=True, labels=labels["postgres_owner"],
                                    **tls["postgres"])
    with _naming(labels["mongo"].url_setting, mongo_url):
        mongo = build_mongo_client(mongo_url, timeout_seconds=t, **tls["mongo"])
    # MongoDB's owner (migrate): the stack's, or DRA_MONGO_ADMIN_URL on a clinic setup.
    mongo_owner_url = (endpoints.mongo_owner_url if endpoints is not None
                       else settings.mongo_admin_url) or mongo_url
    owner_mongo = None
    if mongo_owner_url != mongo_url:
        with _naming("DRA_MONGO_ADMIN_URL" if endpoints is None else None, mongo_owner_url):
            owner_mongo = build_mongo_client(mongo_owner_url, timeout_seconds=t,
                                             **tls["mongo"])
    with _naming(labels["redis"].url_setting, redis_url):
        redis = build_redis(redis_url, timeout_seconds=t, **tls["redis"])
    return Backend(
        settings=settings,
        engine=engine,
        owner_engine=owner_engine,
        mongo=mongo,
        owner_mongo=owner_mongo,
        mongo_app_user=_mongo_user(mongo_url),
        redis=redis,
        objects=objects,
        stack=stack,
        lease=lease,
        locations={
            "postgres": where(pg_url),
            "mongo": where(mongo_url),
            "redis": where(redis_url),
            "objects": objects.describe(),
        },
        labels=labels,
        mongo_url=mongo_url,
    )


def _mongo_user(url: str) -> str:
    """The user name in a MongoDB URL (no DNS lookup, even for mongodb+srv)."""
    from urllib.parse import unquote, urlsplit

    try:
        return unquote(urlsplit(url).username or "")
    except ValueError:  # the client reports a bad URL itself, with its own sentence
        return ""


def _s3_store(settings: Settings, labels: StoreLabels) -> S3ObjectStore:
    assert settings.s3_endpoint_url and settings.s3_bucket
    secret = settings.s3_secret_access_key

    def client(attempts: int, sign_bodies: bool = True) -> Any:
        return build_s3_client(
            settings.s3_endpoint_url, region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            timeout_seconds=settings.store_timeout_seconds, ca_file=settings.s3_ca_file,
            attempts=attempts, sign_bodies=sign_bodies)

    with _naming("DRA_S3_ENDPOINT_URL", settings.s3_endpoint_url):
        store = S3ObjectStore(client(2), settings.s3_bucket, probe=client(1),
                              bodies=client(2, sign_bodies=False), labels=labels)
    return store


@contextmanager
def _naming(setting: str | None, url: str) -> Iterator[None]:
    """A URL a client library refuses to build a client from is a ConfigError naming the
    setting (on the local stack, which wrote the URL itself, it stays the library's)."""
    try:
        yield
    except DraError:
        raise
    except Exception as exc:
        library = type(exc).__module__.split(".")[0]
        if setting is None or (not isinstance(exc, ValueError | TypeError | LookupError)
                               and library not in ("pymongo", "sqlalchemy", "psycopg", "redis",
                                                   "botocore", "bson")):
            raise
        detail = first_line(str(exc), secrets=(urlsplit(url).password or "",))
        raise ConfigError(f"Configuration problem: {setting} cannot be used"
                          + (f" ({detail})" if detail else "") + ".") from None


def store_failure(exc: BaseException, settings: Settings) -> DraError | None:
    """What a store library raised, as an error with a sentence naming the store and what
    is wrong; None when ``exc`` is not a store's failure to answer (a bug, bad input)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pymongo.errors import PyMongoError
    from redis.exceptions import RedisError
    from sqlalchemy.exc import DBAPIError

    from backend_client.stores.mongo.client import is_mongo_unavailable, mongo_unavailable
    from backend_client.stores.objects.s3 import describe_s3_error
    from backend_client.stores.postgres.engine import postgres_unavailable
    from backend_client.stores.redis.client import is_redis_unavailable, redis_unavailable

    if isinstance(exc, DraError):
        return exc
    labels = store_labels(settings)
    if isinstance(exc, DBAPIError):
        import psycopg

        if isinstance(exc.orig, psycopg.OperationalError):
            return postgres_unavailable(exc.orig, labels["postgres"])
        return None
    if isinstance(exc, PyMongoError):
        return mongo_unavailable(exc, labels["mongo"]) if is_mongo_unavailable(exc) else None
    if isinstance(exc, RedisError):
        return redis_unavailable(exc, labels["redis"]) if is_redis_unavailable(exc) else None
    if isinstance(exc, BotoCoreError | ClientError):
        reason = describe_s3_error(exc, labels["objects"], settings.s3_bucket or "")
        return Unavailable("objects", f"Object storage (S3 at {labels['objects'].location}) "
                                      f"cannot be used: {reason}.")
    return None
