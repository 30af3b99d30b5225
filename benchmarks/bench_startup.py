"""Start-up figures: local stack cold/warm start, and launch to first painted window.

The window figure is reported as a ratio against a bare PySide6 window (the floor any Qt
app pays on this machine) measured in the same run.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend_client.local_stack import LocalStack

RUNS = 3

BARE_QT = r"""
import sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication([])
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1100, 720)
class F(QObject):
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint:
            print(f"first-paint-ms {(time.time() - t0) * 1000:.0f}", file=sys.stderr, flush=True)
            QTimer.singleShot(0, app.quit)
        return False
f = F(); w.installEventFilter(f); w.show(); app.exec()
"""


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def stack_figures() -> None:
    cold, warm, reuse = [], [], []
    for _ in range(RUNS):
        d = Path(tempfile.mkdtemp(prefix="dra-bench-"))
        stack = LocalStack(d)
        try:
            t = time.perf_counter()
            stack.start()
            cold.append(_ms(t))
            t = time.perf_counter()
            stack.start()
            reuse.append(_ms(t))
            stack.stop()
            t = time.perf_counter()
            stack.start()
            warm.append(_ms(t))
        finally:
            stack.stop()
            shutil.rmtree(d, ignore_errors=True)
    print(f"local stack cold start (initdb + first start): median {statistics.median(cold):.0f} ms"
          f"  runs {[round(x) for x in cold]}")
    print(f"local stack warm start (stopped -> running):  median {statistics.median(warm):.0f} ms"
          f"  runs {[round(x) for x in warm]}")
    print("local stack start when already running:        "
          f"median {statistics.median(reuse):.0f} ms")


def window_figures() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRA_")}
    env["QT_QPA_PLATFORM"] = env.get("QT_QPA_PLATFORM", "offscreen")
    app_exe = str(Path(sys.executable).parent / "dr-assistant")
    bare, ours = [], []
    for _ in range(RUNS):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", BARE_QT, repr(t0)], env=env,
                             capture_output=True, text=True, timeout=60)
        bare.append(float(re.findall(r"first-paint-ms (\d+)", out.stderr)[0]))
        with tempfile.TemporaryDirectory(prefix="dra-bench-app-") as d:
            e = {**env, "DRA_DATA_DIR": d, "DRA_CONFIG_FILE": os.devnull}
            t0 = time.time()
            out = subprocess.run([app_exe, "--screenshot", f"{d}/s.png", "--report-startup"],
                                 env=e, capture_output=True, text=True, timeout=180)
            m = re.search(r"epoch (\d+\.\d+)", out.stderr)
            if not m:
                raise RuntimeError(f"no first-paint figure: {out.stderr[-500:]}")
            ours.append((float(m.group(1)) - t0) * 1000)
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"launch -> first painted window, bare PySide6 window: median {b:.0f} ms")
    print(f"launch -> first painted window, dr-assistant:        median {o:.0f} ms"
          f"  runs {[round(x) for x in ours]}")
    print(f"ratio dr-assistant / bare Qt: {o / b:.2f}x")


def main() -> None:
    stack_figures()
    window_figures()


if __name__ == "__main__":
    main()
