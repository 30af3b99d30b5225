"""A live input level: a bar that follows the last ~50 ms and a thin mark that holds the
peak for a moment, so a user sees at a glance that the microphone hears them."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

PEAK_HOLD_S = 1.0
PEAK_FALL_PER_S = 0.6


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.setAccessibleName("Microphone level")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(80)
        self.level = 0.0
        self.peak = 0.0
        self._peak_at = 0.0
        self._clock = time.monotonic

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(240, 14)

    def set_level(self, level: float) -> None:
        level = max(0.0, min(1.0, level))
        now = self._clock()
        if level >= self.peak:
            self.peak, self._peak_at = level, now
        elif now - self._peak_at > PEAK_HOLD_S:
            fallen = self.peak - PEAK_FALL_PER_S * (now - self._peak_at - PEAK_HOLD_S)
            self.peak = max(level, fallen)
        if level != self.level or self.peak != level:
            self.level = level
            self.update()

    def reset(self) -> None:
        self.level = self.peak = 0.0
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QColor("#90a4ae"))
        painter.setBrush(QColor("#eceff1"))
        painter.drawRoundedRect(rect, 3, 3)
        inner = rect.adjusted(2, 2, -2, -2)
        if self.level > 0:
            # Green while speech is comfortable, amber loud, red near clipping.
            color = "#2e7d32" if self.level < 0.7 else "#f9a825" if self.level < 0.9 \
                else "#c62828"
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(color))
            painter.drawRect(QRectF(inner.left(), inner.top(), inner.width() * self.level,
                                    inner.height()))
        if self.peak > 0:
            x = inner.left() + inner.width() * self.peak
            painter.setPen(QColor("#37474f"))
            painter.drawLine(int(x), int(inner.top()), int(x), int(inner.bottom()))
        painter.end()
