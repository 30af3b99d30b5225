"""The one MongoClient (thread-safe, pooled), built in the composition root.

Every wait is bounded by the store timeout: finding a server (``serverSelectionTimeoutMS``),
opening a connection, and each read from the socket (``socketTimeoutMS``). A frozen server
therefore costs a call at most about twice the timeout: one attempt, and the retry that
retryable reads and writes make, which then waits for a server to be found.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from backend_client.errors import StoreLabels, Unavailable, connection_reason, first_line

# Authentication failed, unauthorised.
_AUTH_CODES = (18, 13)


def build_mongo_client(url: str, *, timeout_seconds: float = 3.0, ca_file: Path | None = None,
                       cert_file: Path | None = None,
                       max_pool_size: int | None = None) -> MongoClient[dict[str, Any]]:
    """Args:
        ca_file: TLS with the server's certificate checked against this CA (and its host
            name against the URL's).
        cert_file: the client certificate followed by its private key, in one PEM file
            (how MongoDB's drivers take it).
        max_pool_size: a small pool for a health probe; None: pymongo's default.
    """
    ms = max(1, int(timeout_seconds * 1000))
    options: dict[str, Any] = {}
    if ca_file:
        options.update(tls=True, tlsCAFile=str(ca_file))
    if cert_file:
        options.update(tls=True, tlsCertificateKeyFile=str(cert_file))
    if max_pool_size is not None:
        options["maxPoolSize"] = max_pool_size
    # pymongo only warns about an option in the URL it cannot use, and then ignores it: a
    # typo would quietly leave a setting at its default. Here it is an error. (Warning
    # filters are process-wide; clients are built once, in the composition root.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # connect=False: no I/O until the first operation, which runs off the GUI thread.
        client: MongoClient[dict[str, Any]] = MongoClient(
            url,
            connect=False,
            serverSelectionTimeoutMS=ms,
            connectTimeoutMS=ms,
            socketTimeoutMS=ms,
            retryWrites=True,
            retryReads=True,
            tz_aware=True,
            appname="dr-assistant",
            **options,
        )
    refused = [w for w in caught if w.filename and "pymongo" in w.filename]
    if refused:
        client.close()
        message = str(refused[0].message).split(". Did you mean")[0].rstrip(".")
        if message == "Unknown option":  # pymongo does not say which: the URL's keys do
            from pymongo.common import URI_OPTIONS_VALIDATOR_MAP

            unknown = [k for k in parse_qs(urlsplit(url).query)
                       if k.lower() not in URI_OPTIONS_VALIDATOR_MAP]
            message = f"unknown option {', '.join(unknown) or '(one of them)'}"
        raise ValueError(message)
    return client


MONGO_DOWN = ("The clinic's document store (MongoDB) cannot be reached right now{reason}; "
              "what you typed is still on screen, so try again in a moment.")


def _clean(text: str) -> str:
    """pymongo's texts list every timeout it was configured with and the whole topology;
    keep what went wrong."""
    text = re.sub(r"\(configured timeouts:[^)]*\)", "", text)
    return re.split(r", Timeout: |Topology Description:", text)[0]


def is_mongo_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means MongoDB cannot be used now (rather than "this call was
    wrong", whose text may quote a document and so is never shown)."""
    return isinstance(exc, ConnectionFailure) or (
        isinstance(exc, OperationFailure) and exc.code in _AUTH_CODES)


def describe_mongo_error(exc: BaseException, labels: StoreLabels) -> str:
    """Why MongoDB could not be used, as the end of a sentence."""
    if isinstance(exc, OperationFailure):
        if exc.code == 18:
            where = f" in {labels.url_setting}" if labels.url_setting else ""
            return f"the user name or password{where} was refused"
        if exc.code == 13:
            return "its user may not do this (check the user's roles)"
        return f"it refused the request (error {exc.code})"
    text = _clean(str(exc))
    reason = connection_reason(text, labels)
    if reason:
        return reason
    if isinstance(exc, ConnectionFailure) and "timeout" in type(exc).__name__.lower():
        return connection_reason("timed out", labels) or "no answer"
    if isinstance(exc, ConnectionFailure):
        return first_line(text) or "it could not be reached"
    return "it answered with an error"


def mongo_unavailable(exc: BaseException, labels: StoreLabels) -> Unavailable:
    return Unavailable("mongo", f"The clinic's document store (MongoDB at {labels.location}) "
                                f"cannot be used: {describe_mongo_error(exc, labels)}.")


@contextmanager
def mongo_calls() -> Iterator[None]:
    """Turns MongoDB being down or too slow into ``Unavailable`` with a sentence."""
    try:
        yield
    except PyMongoError as exc:
        if not is_mongo_unavailable(exc):
            raise
        reason = describe_mongo_error(exc, StoreLabels(location=""))
        raise Unavailable("mongo", MONGO_DOWN.format(reason=f": {reason}")) from exc
