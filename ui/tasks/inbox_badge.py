"""The status bar's count of my open tasks: "3 tasks" (short "☑ 3" in a narrow window),
hidden at 0; a click (or Ctrl+Shift+I anywhere) opens the inbox."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from ui.count_badge import CountBadge

STYLE = ("QPushButton#inbox-badge { border: 1px solid #1565c0; border-radius: 9px;"
         " padding: 1px 8px; color: #0d47a1; background: #e3f2fd; font-weight: bold; }"
         " QPushButton#inbox-badge:focus { border: 2px solid #0d47a1; }")


def badge_text(count: int, compact: bool) -> str:
    if compact:
        return f"☑ {count}"
    return f"{count} task{'s' if count != 1 else ''}"


class InboxBadge(CountBadge):
    """My open tasks (``clicked`` opens the inbox; ``changed`` as ``CountBadge``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("inbox-badge", STYLE,
                         "My open tasks: open the inbox (Ctrl+Shift+I)", parent)

    def text_for(self, count: int, compact: bool) -> str:
        return badge_text(count, compact)

    def accessible_for(self, count: int) -> str:
        return f"{count} open task{'s' if count != 1 else ''}: open the inbox"
