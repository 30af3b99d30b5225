"""A guard against a reference-counting bug of PySide6 6.12 on CPython 3.11.

``SignalInstance.emit()`` there returns ``True`` without owning a reference to it, so
every emission, of any signal, takes one reference away from ``True``. A fresh
process holds a few hundred to a few thousand; once they are gone CPython aborts the
whole app ("Fatal Python error: bool_dealloc: deallocating True or False"). Seen here:
573 ``emit()`` calls of a bare signal end a fresh process; the app with its store libraries
loaded holds about 9,600, and every background task, session poll, health check and live
update emits, so a workstation left running would abort within a working day.

CPython 3.12 made ``True`` immortal, which is the fix this module applies: when one
probe emission shows the bug, ``True`` gets 2**40 references more, enough for any number
of emissions a process can make. Nothing else changes; on an unaffected PySide6 or
Python it does nothing. Call it once, early (the composition root; the test suite's
conftest); calling it again is harmless.
"""

from __future__ import annotations

import ctypes
import sys
import threading

from PySide6.QtCore import QObject, Signal

_SPARE_REFERENCES = 1 << 40
_lock = threading.Lock()
_done = False


class _Probe(QObject):
    fired = Signal()


def emit_leaks_true() -> bool:
    """Whether one ``emit()`` takes a reference from ``True`` in this process."""
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.fired.emit()
    return sys.getrefcount(True) < before


def calls_leak_none() -> bool:
    """Whether a call returning nothing takes a reference from ``None`` here (the same
    build bug: ``Py_RETURN_NONE`` of 3.12 headers; a painting widget makes thousands of
    such calls a frame and ends the process with "none_dealloc")."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(8):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before


def keep_true_alive() -> bool:
    """Makes ``True``, ``False`` and ``None`` as good as immortal if ``emit()`` or plain
    calls leak their references here. Returns True if it did (now or on an earlier call).
    pyproject keeps such builds away on 3.11 (PySide6-Essentials < 6.12); this is the
    guard for an environment that installed one anyway."""
    global _done
    with _lock:
        if _done:
            return True
        if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
            return False
        if not (emit_leaks_true() or calls_leak_none()):
            return False
        for singleton in (True, False, None):
            # ob_refcnt is a PyObject's first field (Py_ssize_t) on CPython 3.11 builds.
            refcount = ctypes.c_ssize_t.from_address(id(singleton))
            refcount.value += _SPARE_REFERENCES
        _done = True
        return True
