"""The notification bridge: change events from other workstations as Qt signals.

``ChangeNotifications`` is what presenters connect to (and what their tests fake); the
Redis subscriber that feeds it runs on its own thread (backend_client/sync/subscriber.py)
and reaches the GUI thread only through these signals.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class ChangeNotifications(QObject):
    """Signals:
        changed(tuple): ``ChangeEvent``s heard since the last emission, in arrival order
            (one emission per batch, on the GUI thread). Each open view decides whether to
            refetch; events published by this process come too (``event.mine``).
        resynced(): live updates were (re)connected after a gap: anything may have changed
            meanwhile, so every open view refetches.
        live_changed(bool): False while changes cannot be heard (Redis down); the status
            bar says so. Views keep working; they are only less fresh.
    """

    changed = Signal(tuple)
    resynced = Signal()
    live_changed = Signal(bool)

    def start(self) -> None:
        """Start listening (the base class never hears anything: tests emit by hand)."""

    def stop(self) -> None:
        """Stop listening and wait for the listener's thread to end."""
