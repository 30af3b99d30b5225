"""The one Redis connection pool, built in the composition root.

Connecting and every answer are bounded by the store timeout. A refused or reset
connection is retried (twice, with jitter); a timeout is not: the server may have done what
was asked, and the caller should hear within the timeout that it cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from redis import ConnectionPool, Redis
from redis.backoff import FullJitterBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from backend_client.errors import StoreLabels, Unavailable, connection_reason, first_line


def build_redis(url: str, *, timeout_seconds: float = 3.0, ca_file: Path | None = None,
                cert_file: Path | None = None, key_file: Path | None = None) -> Redis:
    """Args:
        ca_file: check the server's certificate against this CA (``rediss://`` URLs; without
            it the system's CAs). The host name is always checked.
        cert_file, key_file: the client certificate and its key, for servers that ask.
    """
    tls: dict[str, Any] = {}
    if url.startswith("rediss:"):
        tls.update(ssl_cert_reqs="required", ssl_check_hostname=True)
        if ca_file:
            tls["ssl_ca_certs"] = str(ca_file)
        if cert_file and key_file:
            tls.update(ssl_certfile=str(cert_file), ssl_keyfile=str(key_file))
    client = Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
        retry=Retry(FullJitterBackoff(cap=1.0, base=0.05), retries=2,
                    supported_errors=(RedisConnectionError,)),
        client_name="dr-assistant",
        **tls,
    )
    # The URL's options reach the connection class only when it connects; an unknown one
    # would then fail every call. Making one connection object (no I/O) finds it now.
    pool = client.connection_pool
    try:
        pool.connection_class(**pool.connection_kwargs)
    except TypeError as exc:
        m = re.search(r"unexpected keyword argument '(\w+)'", str(exc))
        raise ValueError(f"unknown option {m.group(1) if m else '(one of them)'}") from None
    return client


@contextmanager
def probe_redis(client: Redis, timeout_seconds: float | None = None) -> Iterator[Redis]:
    """A fresh connection to the server ``client`` talks to, outside its pool, with the
    same address, credentials and TLS, no retries, and at most ``timeout_seconds`` (the
    client's own socket timeout when None) for connecting and for each answer."""
    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    timeout = timeout_seconds if timeout_seconds is not None else kwargs.get("socket_timeout")
    kwargs.update(socket_timeout=timeout, socket_connect_timeout=timeout,
                  retry=Retry(FullJitterBackoff(), retries=0), health_check_interval=0,
                  client_name="dr-assistant-health")
    probe_pool = ConnectionPool(connection_class=pool.connection_class, max_connections=1,
                                **kwargs)
    probe = Redis(connection_pool=probe_pool)
    try:
        yield probe
    finally:
        probe.close()
        probe_pool.disconnect()


REDIS_DOWN = ("The session store (Redis) cannot be reached{reason}; nobody can sign in or be "
              "checked until it answers, and the app retries on its own.")


def is_redis_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, RedisConnectionError | RedisTimeoutError) or (
        isinstance(exc, ResponseError) and "db index is out of range" in str(exc).lower())


def describe_redis_error(exc: BaseException, labels: StoreLabels) -> str:
    """Why Redis could not be used, as the end of a sentence."""
    if isinstance(exc, AuthenticationError):
        where = f" in {labels.url_setting}" if labels.url_setting else ""
        return f"the user name or password{where} was refused"
    if isinstance(exc, RedisTimeoutError):
        return connection_reason("timed out", labels) or "no answer"
    reason = connection_reason(str(exc), labels)
    if reason:
        return reason
    return first_line(str(exc)) or "it could not be reached"


def redis_unavailable(exc: BaseException, labels: StoreLabels) -> Unavailable:
    return Unavailable("redis", f"The session store (Redis at {labels.location}) cannot be "
                                f"used: {describe_redis_error(exc, labels)}.")


@contextmanager
def redis_calls() -> Iterator[None]:
    """Turns Redis being down or too slow into ``Unavailable`` with a sentence."""
    try:
        yield
    except RedisError as exc:
        if not is_redis_unavailable(exc):
            raise
        reason = describe_redis_error(exc, StoreLabels(location=""))
        raise Unavailable("redis", REDIS_DOWN.format(reason=f": {reason}")) from exc
