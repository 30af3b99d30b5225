"""The one Redis connection pool, built in the composition root."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import Redis
from redis.backoff import FullJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from backend_client.errors import Unavailable


def build_redis(url: str, *, timeout_seconds: float = 3.0) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
        retry=Retry(FullJitterBackoff(cap=1.0, base=0.05), retries=2),
        client_name="dr-assistant",
    )


REDIS_DOWN = ("The session store (Redis) cannot be reached, so nobody can sign in or be "
              "checked right now; the app retries on its own.")


@contextmanager
def redis_calls() -> Iterator[None]:
    """Turns Redis being down or too slow into ``Unavailable`` with a sentence."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise Unavailable("redis", REDIS_DOWN) from exc
