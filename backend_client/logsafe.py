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
