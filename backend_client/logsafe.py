"""Logging an exception without its message.

Exception texts can carry patient data (a database's "Failing row contains (…)", a value
echoed by a parser). The log keeps the type and where it happened, never the text.
"""

from __future__ import annotations

import logging
import traceback


def log_exception(logger: logging.Logger, what: str, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames.rstrip())


# Loggers of the store libraries that write whole commands with their values at DEBUG
# (pymongo's command and server-selection logs carry documents: names, drafts, notes).
# They are capped at WARNING whatever the root level, so turning on debug logging to
# chase a problem never writes patient data.
VALUE_LOGGERS = ("pymongo.command", "pymongo.serverSelection", "pymongo.connection")


def protect_loggers() -> None:
    for name in VALUE_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
