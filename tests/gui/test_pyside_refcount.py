"""A day of signals must not end the app: PySide6 6.12 on CPython 3.11 takes a reference
from True on every emit() (desktop/pyside_refcount.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EMIT_ALL_DAY = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
from desktop.pyside_refcount import keep_true_alive
app = QCoreApplication([])
keep_true_alive()
class Busy(QObject):
    changed = Signal(tuple)
    live_changed = Signal(bool)
busy = Busy()
got = []
busy.changed.connect(got.append)
for i in range(100_000):
    busy.changed.emit((i,))
    busy.live_changed.emit(i % 2 == 0)
print(len(got))
"""


def test_a_hundred_thousand_emissions_do_not_abort_the_process() -> None:
    done = subprocess.run([sys.executable, "-c", EMIT_ALL_DAY], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "100000"
