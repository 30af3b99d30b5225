"""An administrator's list of sessions: who is signed in where, and ending one.

A pure view: the presenter fills it (:meth:`SessionsDialog.show_sessions`) and acts on
:attr:`SessionsDialog.refresh_requested` and :attr:`SessionsDialog.revoke_requested`.
Times arrive in UTC and are shown in the workstation's local time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import SessionInfo
from ui.patients.formatting import format_date
from ui.patients.patient_table_model import Index, ReadOnlyTableModel, row_table

USER, ROLES, WORKSTATION, STARTED, LAST_SEEN, ENDS, STATE = range(7)
HEADERS = ("User", "Roles", "Workstation", "Signed in", "Last activity", "Ends", "State")

SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's session id (str)."""
SESSION_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's :class:`SessionInfo`."""

OPEN_STATES = ("active", "locked")
STATE_LABELS = {
    "active": "Active",
    "locked": "Locked",
    "revoked": "Ended by an administrator",
    "expired": "Expired",
    "ended": "Signed out",
}
CLOSED_COLOUR = QColor("#607d8b")
NO_TIME = "—"

STYLE = """
QLabel#sessions-error { color: #7f1d1d; background: #fdecea; border: 1px solid #e57373;
    border-radius: 4px; padding: 8px 10px; }
QLabel#sessions-intro { color: #37474f; }
QLabel#sessions-summary { color: #546e7a; }
QTableView#sessions-table::item { padding: 0 8px; }
QTableView#sessions-table QHeaderView::section { padding: 4px 8px; font-weight: bold; }
"""


def _now() -> datetime:
    return datetime.now().astimezone()


def local_time(moment: datetime, now: datetime) -> str:
    """``09:41`` today, ``26 Nov 2026 17:05`` on any other day, in local time."""
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M")
    return f"{format_date(local.date())} {local:%H:%M}"


def is_open(info: SessionInfo) -> bool:
    return info.state in OPEN_STATES


class SessionTableModel(ReadOnlyTableModel):
    """Sessions, one per row, in the order given.

    Args:
        now: the current time, to decide when a date must be written out (tests pin it).
    """

    HEADERS = HEADERS

    def __init__(self, parent: QObject | None = None, *,
                 now: Callable[[], datetime] = _now) -> None:
        super().__init__(parent)
        self._rows: list[SessionInfo] = []
        self._now = now

    def set_sessions(self, sessions: Sequence[SessionInfo]) -> None:
        self.beginResetModel()
        self._rows = list(sessions)
        self.endResetModel()

    def session_at(self, row: int) -> SessionInfo:
        return self._rows[row]

    def row_of(self, session_id: str) -> int:
        for row, info in enumerate(self._rows):
            if info.session_id == session_id:
                return row
        return -1

    def sessions(self) -> list[SessionInfo]:
        return list(self._rows)

    # -------------------------------------------------------- QAbstractItemModel

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        info = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._text(info, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(info)
        if role == Qt.ItemDataRole.ForegroundRole and not is_open(info):
            return QBrush(CLOSED_COLOUR)
        if role == SESSION_ID_ROLE:
            return info.session_id
        if role == SESSION_ROLE:
            return info
        return None

    def _text(self, info: SessionInfo, column: int) -> str:
        now = self._now()
        if column == USER:
            return f"{info.display_name} ({info.username})"
        if column == ROLES:
            return ", ".join(role.replace("_", " ").capitalize() for role in info.roles)
        if column == WORKSTATION:
            return info.workstation
        if column == STARTED:
            return local_time(info.started_at, now)
        if column == LAST_SEEN:
            return local_time(info.last_seen_at, now)
        if column == ENDS:
            # A signed-out or ended session stopped before its limit; the limit means nothing.
            return local_time(info.expires_at, now) if info.state in (*OPEN_STATES,
                                                                      "expired") else NO_TIME
        if column == STATE:
            return STATE_LABELS.get(info.state, info.state.capitalize())
        return ""

    def _tooltip(self, info: SessionInfo) -> str:
        def full(moment: datetime) -> str:
            local = moment.astimezone()
            return f"{format_date(local.date())} {local:%H:%M:%S}"

        return "\n".join((
            f"{info.display_name} ({info.username}) on {info.workstation}",
            f"Signed in {full(info.started_at)}",
            f"Last activity {full(info.last_seen_at)}",
            f"Limit {full(info.expires_at)}",
            f"State: {STATE_LABELS.get(info.state, info.state)}",
        ))


class SessionsDialog(QDialog):
    """Signed-in sessions, with Refresh and End session.

    Signals:
        refresh_requested(): load the list again.
        revoke_requested(str): end this session (the id); the user has confirmed it.
    """

    refresh_requested = Signal()
    revoke_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, *,
                 now: Callable[[], datetime] = _now) -> None:
        super().__init__(parent)
        self.setObjectName("sessions-dialog")
        self.setWindowTitle("Signed-in sessions")
        self.setStyleSheet(STYLE)
        self._busy = False

        intro = QLabel("Everyone signed in to Dr. Assistant, on every workstation. Ending a "
                       "session locks that screen; the user's unsaved work is kept.", self)
        intro.setObjectName("sessions-intro")
        intro.setWordWrap(True)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("sessions-error")
        self.error_label.setAccessibleName("sessions error")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.model = SessionTableModel(self, now=now)
        self.table = row_table(self, self.model, "sessions-table", "Sessions", wrap=False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.selectionModel().selectionChanged.connect(
            self.on_table_selection_changed)
        self.summary = QLabel(self)
        self.summary.setObjectName("sessions-summary")

        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self.on_refresh_button_clicked)
        self.end_button = QPushButton("End session", self)
        self.end_button.setObjectName("end-session")
        self.end_button.setAutoDefault(False)
        self.end_button.clicked.connect(self.on_end_button_clicked)
        self.close_button = QPushButton("Close", self)
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.end_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        layout.addWidget(intro)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        self.resize(1080, 420)
        self._update_summary()
        self._update_buttons()

    # --------------------------------------------------------------- for presenters

    def show_sessions(self, sessions: Sequence[SessionInfo]) -> None:
        """Replace the list; the selected session stays selected if it is still there."""
        selected = self.selected_session()
        self.model.set_sessions(sessions)
        self.show_error("")
        if selected is not None:
            row = self.model.row_of(selected.session_id)
            if row >= 0:
                self.table.selectRow(row)
        self._update_summary()
        self._update_buttons()

    def show_error(self, sentence: str) -> None:
        """A problem loading or ending a session; the list shown stays as it was."""
        self.error_label.setText(sentence)
        self.error_label.setVisible(bool(sentence))

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_summary()
        self._update_buttons()

    def selected_session(self) -> SessionInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.session_at(rows[0].row()) if rows else None

    def confirm_revoke(self, info: SessionInfo) -> bool:
        """Ask before ending someone's session (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "End session",
                          f"End {info.display_name}'s session on {info.workstation}? Their "
                          "screen locks within seconds; unsaved work is kept.",
                          QMessageBox.StandardButton.NoButton, self)
        end = box.addButton("End session", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is end

    # ------------------------------------------------------------------ slots

    @Slot(QItemSelection, QItemSelection)
    def on_table_selection_changed(self, selected: QItemSelection,
                                   deselected: QItemSelection) -> None:
        self._update_buttons()

    @Slot()
    def on_refresh_button_clicked(self) -> None:
        self.refresh_requested.emit()

    @Slot()
    def on_end_button_clicked(self) -> None:
        info = self.selected_session()
        if info is None or not is_open(info) or self._busy:
            return
        if self.confirm_revoke(info):
            self.revoke_requested.emit(info.session_id)

    # -------------------------------------------------------------- internals

    def _update_buttons(self) -> None:
        info = self.selected_session()
        self.refresh_button.setEnabled(not self._busy)
        self.end_button.setEnabled(not self._busy and info is not None and is_open(info))
        self.end_button.setToolTip(
            "" if info is None or is_open(info) else "This session has already ended.")

    def _update_summary(self) -> None:
        if self._busy:
            self.summary.setText("Loading…")
            return
        sessions = self.model.sessions()
        if not sessions:
            self.summary.setText("No sessions to show.")
            return
        open_count = sum(1 for info in sessions if is_open(info))
        noun = "session" if len(sessions) == 1 else "sessions"
        self.summary.setText(f"{len(sessions)} {noun}, {open_count} of them open "
                             "(active or locked).")
