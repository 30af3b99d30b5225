"""``dr-assistant``: the desktop application's entry point.

    dr-assistant                      open the app (needs a display)
    dr-assistant --screenshot F.png   start, wait until the first screen has its data,
                                      save a PNG of the main window and exit
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path

NO_DISPLAY = (
    "dr-assistant needs a display. Run it in a desktop session, or headless with "
    "QT_QPA_PLATFORM=offscreen (for example with --screenshot), or under Xvfb: "
    "'Xvfb :99 & DISPLAY=:99 dr-assistant'."
)


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
                or os.environ.get("WAYLAND_DISPLAY"))


def _setup_logging(log_dir: Path) -> None:
    """Log to a rotating file in the data dir. Log records never carry PHI: services log
    ids and error types, never names or note text."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_dir.chmod(0o700)
    handler = RotatingFileHandler(log_dir / "app.log", maxBytes=5_000_000, backupCount=5,
                                  encoding="utf-8")
    # The pid tells apart two app instances that share one data folder (and one log).
    handler.setFormatter(logging.Formatter(
        "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(handler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dr-assistant", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screenshot", metavar="FILE", type=Path,
                        help="save a PNG of the main window once its data has loaded, then exit")
    parser.add_argument("--screenshot-timeout", type=float, default=120.0, metavar="SECONDS",
                        help="give up on --screenshot after this long (default 120)")
    parser.add_argument("--report-startup", action="store_true",
                        help="print the time of the first painted window to stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    launched = time.time()
    # Whatever the app writes (its log, the local stack's files, kept recordings) is its
    # user's alone.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    if args.screenshot and not _has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not _has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2

    from backend_client.config import load_settings
    from backend_client.errors import ConfigError

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"dr-assistant: {exc}", file=sys.stderr)
        return 2
    try:
        _setup_logging(settings.data_dir / "logs")
    except OSError as exc:
        print(f"dr-assistant: cannot write the log in {settings.data_dir / 'logs'}: "
              f"{(exc.strerror or 'error').lower()} (DRA_DATA_DIR).", file=sys.stderr)
        return 2

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.bootstrap import build_app
    from desktop.gc_collector import GuiThreadGarbageCollector

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    qapp.setApplicationName("Dr. Assistant")
    qapp.setOrganizationName("Dr. Assistant")
    collector = GuiThreadGarbageCollector(qapp)
    collector.start()
    app = build_app(settings)
    exit_code = 0

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
            if event.type() == QEvent.Type.Paint:
                now = time.time()
                print(f"first-paint-ms {(now - launched) * 1000:.0f} epoch {now:.6f}",
                      file=sys.stderr, flush=True)
                app.window.removeEventFilter(self)
            return False

    if args.report_startup:
        first_paint = FirstPaint(app.window)
        app.window.installEventFilter(first_paint)

    if args.screenshot:
        target: Path = args.screenshot

        def report_down_stores() -> None:
            # The picture shows red indicators; whoever runs this headless reads stderr.
            nonlocal exit_code
            for health in (app.health.last.values() if app.health else ()):
                if not health.ok:
                    print(f"dr-assistant: {health.sentence()}", file=sys.stderr)
                    exit_code = 1

        def take() -> None:
            nonlocal exit_code
            pixmap = app.window.grab()
            if pixmap.isNull() or not pixmap.save(str(target), "PNG"):
                print(f"dr-assistant: could not write the screenshot to {target}",
                      file=sys.stderr)
                exit_code = 1
            else:
                print(f"screenshot saved to {target}", file=sys.stderr)
            qapp.quit()

        def failed(sentence: str) -> None:
            nonlocal exit_code
            print(f"dr-assistant: {sentence}", file=sys.stderr)
            exit_code = 1
            take()
            exit_code = 1

        def timed_out() -> None:
            nonlocal exit_code
            print(f"dr-assistant: the first screen did not load within "
                  f"{args.screenshot_timeout:.0f} s", file=sys.stderr)
            exit_code = 1
            qapp.quit()

        def ready() -> None:
            report_down_stores()
            # Let the indicators repaint before grabbing.
            QTimer.singleShot(100, take)

        app.signals.ready.connect(ready)
        app.signals.failed.connect(failed)
        QTimer.singleShot(int(args.screenshot_timeout * 1000), timed_out)

    # Quit cleanly on SIGTERM/SIGINT (session logout, Ctrl+C): Python runs signal handlers
    # only between bytecodes, so an idle timer gives it a chance while Qt waits for events.
    # exit(), not quit(): quit() asks every window to close, and an open form would wait
    # for "Discard?" that nobody answers; shutdown() keeps such a form as a draft instead.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: qapp.exit(0))
    wakeup = QTimer()
    wakeup.start(250)
    wakeup.timeout.connect(lambda: None)

    app.window.show()
    app.start()
    rc = qapp.exec()
    app.shutdown()
    collector.stop()
    return exit_code or rc


if __name__ == "__main__":
    sys.exit(main())
