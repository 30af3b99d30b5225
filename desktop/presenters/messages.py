"""Failures as sentences a clinician can act on. Never a traceback, never PHI in the log."""

from __future__ import annotations

import logging

from backend_client.errors import DraError, Unavailable
from backend_client.logsafe import log_exception

log = logging.getLogger(__name__)


def failure_sentence(exc: BaseException, cannot: str) -> str:
    """``cannot`` says what could not be done ("The patient list cannot be searched right
    now"); the sentence adds why. Unexpected errors are logged with their traceback (the
    log holds types and ids only) and described without it."""
    if isinstance(exc, Unavailable):
        return f"{cannot}: {_lower_first(exc.message)}"
    if isinstance(exc, DraError):
        return exc.message
    log_exception(log, f"{cannot}: unexpected", exc)
    return (f"{cannot} because of an unexpected problem ({type(exc).__name__}). It has been "
            "written to the log; if it happens again, tell your administrator.")


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text
