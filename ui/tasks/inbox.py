"""My inbox: the tasks given to me or to my role, due first, overdue ones said so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from backend_client.chart.dto import TaskItem
from ui.tasks.tasks_view import TasksTableView


class InboxDialog(QDialog):
    """Non-modal: it stays open beside the work and follows changes live.

    Signals:
        open_patient_requested(int): "Open patient" for the chosen task's patient.
        refresh_requested(): F5.
    """

    open_patient_requested = Signal(int)
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None, zone: tzinfo | None,
                 now: Callable[[], datetime]) -> None:
        super().__init__(parent)
        self.setObjectName("inbox-dialog")
        self.setWindowTitle("My tasks")
        self.setModal(False)
        heading = QLabel("Tasks given to you or to your role, the soonest due first.", self)
        heading.setWordWrap(True)
        self.tasks = TasksTableView("inbox", zone, now, with_patient=True, can_create=False,
                                    parent=self)
        self.open_button = QPushButton("Open &patient", self)
        self.open_button.setToolTip("Open the chosen task's patient (Enter)")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.on_open_clicked)
        self.tasks.table.activated.connect(lambda _i: self.on_open_clicked())
        self.tasks.shortcut("F5", self.refresh_requested.emit)
        self.tasks.selection_changed.connect(self._update)
        close = QPushButton("Close", self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.tasks, 1)
        layout.addLayout(buttons)
        self.resize(900, 480)
        self._update()
        self.tasks.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _update(self) -> None:
        item: TaskItem | None = self.tasks.selected()
        self.open_button.setEnabled(item is not None and item.draft.patient_id is not None)

    @Slot()
    def on_open_clicked(self) -> None:
        item: TaskItem | None = self.tasks.selected()
        if item is not None and item.draft.patient_id is not None:
            self.open_patient_requested.emit(item.draft.patient_id)
