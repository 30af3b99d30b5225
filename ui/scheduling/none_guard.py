"""Keep ``None``, ``True`` and ``False`` alive under PySide6 6.12 on Python 3.11.

PySide6 6.12's abi3 wheels are built with Python 3.12+ headers, where these singletons
are immortal (PEP 683) and ``Py_RETURN_NONE``/``Py_RETURN_TRUE`` no longer count a
reference. Run on Python 3.11, many calls (every method that returns nothing:
``fillRect``, ``setPen``, ``setText``…) cost ``None`` one reference that the interpreter
then releases. A widget that paints a few thousand such calls a frame takes ``None``'s
count to zero within seconds and the process aborts ("Fatal Python error: none_dealloc";
"bool_dealloc" for True/False at exit). Python 3.12 solved this by making them immortal;
this does the same on 3.11, once per process, by giving each a reference count no
program can use up (2**60). Nothing else changes: they were never going to be freed.

The environment's real fix is a PySide6 built for the interpreter or Python 3.12+; until
then the app's entry point should call :func:`make_singletons_immortal` too (the
schedule grid calls it when it is first built, as it is the heaviest painter).
"""

from __future__ import annotations

import ctypes
import sys

_done: list[bool] = []
IMMORTAL = 2 ** 60


def singletons_leak() -> bool:
    """True when this PySide6 takes references from ``None`` it never gave."""
    if sys.version_info >= (3, 12):
        return False
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before


def make_singletons_immortal() -> None:
    """Once per process, where the leak is present."""
    if _done:
        return
    _done.append(True)
    if not singletons_leak():
        return
    for singleton in (None, True, False, Ellipsis, NotImplemented):
        # ob_refcnt is the first field of every object in CPython 3.11; the GIL is held.
        ctypes.c_ssize_t.from_address(id(singleton)).value += IMMORTAL
