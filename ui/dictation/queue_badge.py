"""The status bar's count of recordings not yet delivered: "2 recordings waiting to
upload" (short "⇪ 2" in a narrow window), hidden at 0; a click (or its key, Ctrl+Shift+U by
default) opens the upload queue."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.count_badge import CountBadge

STYLE = ("QPushButton#upload-badge { border: 1px solid #6a1b9a; border-radius: 9px;"
         " padding: 1px 8px; color: #4a148c; background: #f3e5f5; font-weight: bold; }"
         " QPushButton#upload-badge:focus { border: 2px solid #4a148c; }")


def badge_text(count: int, compact: bool) -> str:
    if compact:
        return f"⇪ {count}"
    return f"{count} recording{'s' if count != 1 else ''} waiting to upload"


class UploadBadge(CountBadge):
    """Recordings not yet delivered (``clicked`` opens the queue panel; ``changed`` as
    ``CountBadge``)."""

    def __init__(self, parent: QWidget | None = None, *, keys: str = "Ctrl+Shift+U") -> None:
        super().__init__("upload-badge", STYLE,
                         f"Recordings not yet delivered: open the upload queue ({keys})",
                         parent)

    def text_for(self, count: int, compact: bool) -> str:
        return badge_text(count, compact)

    def accessible_for(self, count: int) -> str:
        return badge_text(count, False) + ": open the upload queue"
