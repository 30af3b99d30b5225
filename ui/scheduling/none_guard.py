"""Give back the references to ``None`` that PySide6's void methods take on Python 3.11.

PySide6 6.12's abi3 wheels are built with Python 3.12+ headers, where ``None`` is immortal
(PEP 683) and ``Py_RETURN_NONE`` no longer counts a reference. Run on Python 3.11, every
call of a method that returns nothing (``fillRect``, ``setPen``, ``setText``…) costs
``None`` one reference that the interpreter then releases. A widget that paints a few
thousand such calls a frame takes ``None``'s count to zero within seconds and the process
aborts ("Fatal Python error: none_dealloc"). Until the environment is fixed (a PySide6
built for the interpreter, or Python 3.12+), the schedule grid measures what its painting
and layout took and gives it back. Where the bug is absent this costs two calls of
``sys.getrefcount``; on Python 3.12+ nothing at all.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_state: dict[str, bool] = {}


def _leaks() -> bool:
    if sys.version_info >= (3, 12):
        return False
    if "leaks" not in _state:
        from PySide6.QtCore import QObject

        probe = QObject()
        before = sys.getrefcount(None)
        for _ in range(8):
            probe.setObjectName("probe")
        _state["leaks"] = sys.getrefcount(None) < before
    return _state["leaks"]


def mark() -> int:
    """``None``'s reference count now (0 where there is nothing to repair)."""
    return sys.getrefcount(None) if _leaks() else 0


def restore(before: int, *, holding_none: bool = False) -> None:
    """Give back what was lost since :func:`mark` (only ever adds: ``None`` is never
    freed, so a few too many is harmless, too few would add up). ``holding_none``: the
    caller holds one more reference now than at the mark (a result that is None)."""
    if before:
        lost = before - sys.getrefcount(None) + holding_none
        if lost > 0:
            # ob_refcnt is the first field of every object (CPython 3.11); the GIL is held.
            ctypes.c_ssize_t.from_address(id(None)).value += lost


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """The method gives back what its Qt calls took from ``None``."""

    @wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        before = mark()
        result = fn(*args, **kwargs)
        restore(before, holding_none=result is None)
        return result

    return call
