"""The one Redis connection pool, built in the composition root."""

from __future__ import annotations

from redis import Redis
from redis.backoff import FullJitterBackoff
from redis.retry import Retry


def build_redis(url: str, *, timeout_seconds: float = 3.0) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        health_check_interval=30,
        retry=Retry(FullJitterBackoff(cap=1.0, base=0.05), retries=2),
        client_name="dr-assistant",
    )
