"""The one MongoClient (thread-safe, pooled), built in the composition root."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

from backend_client.errors import Unavailable


def build_mongo_client(url: str, *, timeout_seconds: float = 3.0) -> MongoClient[dict[str, Any]]:
    ms = int(timeout_seconds * 1000)
    # connect=False: no I/O until the first operation, which runs off the GUI thread.
    return MongoClient(
        url,
        connect=False,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=max(ms * 10, 30_000),
        retryWrites=True,
        retryReads=True,
        tz_aware=True,
        appname="dr-assistant",
    )


MONGO_DOWN = ("The clinic's document store (MongoDB) cannot be reached right now; what you "
              "typed is still on screen. Try again in a moment.")


@contextmanager
def mongo_calls() -> Iterator[None]:
    """Turns MongoDB being down or too slow into ``Unavailable`` with a sentence."""
    try:
        yield
    except (ConnectionFailure, ServerSelectionTimeoutError, NetworkTimeout) as exc:
        raise Unavailable("mongo", MONGO_DOWN) from exc
