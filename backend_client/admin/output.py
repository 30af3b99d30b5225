"""What the admin commands print, and how they take arguments and fail.

Much of what ``dr-assistant-admin`` shows was typed at some workstation: a display name, a
workstation's name, a break-glass reason, an audit event's object. Printed as it is, text
with an escape sequence in it would be obeyed by the administrator's terminal: clear the
screen, move the cursor back over a line, recolour or hide it, set the window's title, or
reverse a line with a bidi override. :func:`clean` shows each such character as a visible
escape instead (``\\x1b``, ``\\r``, ``\\u202e``), and every line the admin commands print
goes through :func:`emit`, which cleans it. Fields are cleaned before they are padded into
columns as well, so the columns stay aligned; cleaning clean text changes nothing.

An argument a command cannot use gets one sentence and exit status 2
(:class:`AdminArgumentParser`, :func:`whole_number`, :func:`text_argument`); a failure
nobody foresaw gets one sentence and status 1 (:func:`guarded`), never a traceback, whose
text could carry patient data.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import traceback
import unicodedata
from collections.abc import Callable
from typing import NoReturn, TextIO

from backend_client.errors import DraError, NotFound, ValidationError

log = logging.getLogger(__name__)

# Explicit directional formatting characters (Unicode UAX #9): they reorder what follows
# them on the line, so "reason: \u202etxt.exe" shows as something else.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# C0 and C1 controls with DEL (Cc), lone surrogates (bytes that were not UTF-8, as Python
# keeps them from a command line), and the line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _unsafe(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def _escaped(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(value: object) -> str:
    """``value`` as text that a terminal shows and does not obey: control characters, bidi
    controls and undecodable bytes become visible escapes; everything else is kept (accents,
    other scripts, emoji)."""
    text = str(value)
    if text.isprintable():  # no Cc, Cf, Cs, Zl or Zp at all: the common case, untouched
        return text
    return "".join(_escaped(ch) if _unsafe(ch) else ch for ch in text)


def emit(line: object = "", *, err: bool = False) -> None:
    """Print one line, cleaned, to standard output (or standard error).

    A terminal whose encoding cannot show a character gets it as an escape too, instead
    of a UnicodeEncodeError half-way through a report.
    """
    stream: TextIO = sys.stderr if err else sys.stdout
    text = clean(line)
    try:
        print(text, file=stream)
    except UnicodeEncodeError:  # raised before anything of the line is written
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


# ------------------------------------------------------------------ arguments


class AdminArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose refusal is one line: what is wrong with which argument.

    Sub-commands get it with ``add_subparsers(parser_class=AdminArgumentParser)``; the
    line names the command (``dr-assistant-admin audit report: --patient must be …``).
    """

    def error(self, message: str) -> NoReturn:
        sentence = re.sub(r"^argument ([^:]+): ", r"\1 ", message)
        emit(f"{self.prog}: {sentence.rstrip('.')}; see '{self.prog} --help'.", err=True)
        sys.exit(2)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def whole_number(what: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number from ``low`` to ``high``, in ASCII digits.

    Anything else (a sign, a fraction, an exponent, a number past ``high``, such as a
    patient id past PostgreSQL's bigint) is refused with one sentence before anything
    reaches a store.
    """

    def parse(text: str) -> int:
        digits = text.strip()
        if re.fullmatch(r"[0-9]{1,30}", digits) and low <= int(digits) <= high:
            return int(digits)
        raise argparse.ArgumentTypeError(
            f"must be {what}, a whole number from {low} to {high}, not {_shown(text)}")

    parse.__name__ = what
    return parse


def text_argument(what: str, *, max_length: int = 1000) -> Callable[[str], str]:
    """An argparse ``type`` for text: refuses bytes that were not UTF-8 (which no store
    could take) and text past ``max_length`` characters."""

    def parse(text: str) -> str:
        if any(unicodedata.category(ch) == "Cs" for ch in text) or "\x00" in text:
            raise argparse.ArgumentTypeError(
                f"must be {what} in UTF-8 text, not {_shown(text)}")
        if len(text) > max_length:
            raise argparse.ArgumentTypeError(
                f"must be {what} of at most {max_length} characters")
        return text

    parse.__name__ = what
    return parse


# ------------------------------------------------------------------ failures

def guarded(prog: str, run: Callable[[], int]) -> int:
    """Run a command; whatever goes wrong ends in one sentence on standard error.

    Returns the command's status, 1 for a refusal (NotFound, ValidationError) or a failure
    nobody foresaw, 2 for other errors the backend raises on purpose (as the CLI's own
    handler does), 130 when interrupted. The text of an unforeseen exception is never
    shown or logged (a database error's text can hold the row it refused); with ``-v``
    the log says where it happened.
    """
    from sqlalchemy.exc import OperationalError

    from backend_client.local_stack import StackError
    from backend_client.uow import DB_DOWN

    try:
        return run()
    except (NotFound, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            for field, reason in exc.errors.items():
                emit(f"{prog}: {field}: {reason}", err=True)
        else:
            emit(f"{prog}: {exc}", err=True)
        return 1
    except (DraError, StackError) as exc:
        emit(f"{prog}: {exc}", err=True)
        return 2
    except OperationalError:
        emit(f"{prog}: {DB_DOWN}", err=True)
        return 1
    except KeyboardInterrupt:
        emit(f"{prog}: interrupted.", err=True)
        return 130
    except Exception as exc:
        frames = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
        log.info("%s failed: %s\n%s", prog, type(exc).__name__, frames)
        emit(f"{prog}: the command failed ({type(exc).__name__}); its text is not shown "
             "as it can hold patient data, run it again with -v to see where.", err=True)
        return 1
