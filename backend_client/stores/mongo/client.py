"""The one MongoClient (thread-safe, pooled), built in the composition root."""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient


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
