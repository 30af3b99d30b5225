"""Pick a patient inside a dialog with the registry search: type, see matches, Enter picks.

The picker only asks (``search_requested``, after a short pause in the typing); the
presenter runs the search off the GUI thread and hands back the newest answer with
:meth:`PatientPicker.show_results`. Keyboard: Down moves into the results, Enter picks
the highlighted one (the first when none is), Up from the first row goes back to the box.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend_client.dto import PatientSummary
from ui.patients.formatting import format_date
from ui.scheduling.booking_text import hhmm

ID_ROLE = Qt.ItemDataRole.UserRole + 1
HINT = "Type a name, date of birth, MRN or phone number; Enter picks the first match."
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def patient_line(p: PatientSummary, zone: tzinfo | None = None) -> str:
    parts = [p.display_name, f"born {format_date(p.birth_date)}", f"MRN {p.mrn}"]
    if p.deceased:
        parts.append("deceased")
    if p.matched_on:
        parts.append(f"matched on {p.matched_on}")
    if p.appointment_today is not None:
        parts.append(f"today {hhmm(p.appointment_today, zone)}")
    return " · ".join(parts)


class PatientPicker(QWidget):
    """Signals:
        search_requested(str): the typing paused on this text (stripped; may be "").
        picked(int): the user chose this patient.
        cleared(): the user chose "Change" to pick someone else.
    """

    search_requested = Signal(str)
    picked = Signal(int)
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None, *, debounce_ms: int = 150,
                 zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self._zone = zone
        self.patient_id: int | None = None
        self.patient_text = ""
        self._shown_for: str | None = None   # the text the listed results answer
        self._pick_when_shown = False        # Enter came before the answer
        self.search = QLineEdit(self)
        self.search.setObjectName("patient-search")
        self.search.setPlaceholderText("Find the patient: name, date of birth, MRN or phone")
        self.search.setAccessibleName("Find the patient")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget(self)
        self.results.setObjectName("patient-results")
        self.results.setAccessibleName("Matching patients")
        self.results.setMinimumHeight(96)
        self.results.setMaximumHeight(150)
        self.results.setUniformItemSizes(True)
        self.results.hide()
        self.status = QLabel(HINT, self)
        self.status.setObjectName("patient-search-status")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #455a64;")

        self.chosen = QFrame(self)
        self.chosen.setObjectName("chosen-patient")
        self.chosen.setStyleSheet("QFrame#chosen-patient { background: #e3f2fd; "
                                  "border: 1px solid #90caf9; border-radius: 4px; }")
        self.chosen_label = QLabel(self.chosen)
        self.chosen_label.setObjectName("chosen-patient-text")
        self.chosen_label.setTextFormat(Qt.TextFormat.PlainText)
        self.chosen_label.setWordWrap(True)
        self.change_button = QPushButton("Change…", self.chosen)
        self.change_button.setAutoDefault(False)
        self.change_button.setAccessibleName("Choose another patient")
        self.change_button.clicked.connect(self.clear)
        row = QHBoxLayout(self.chosen)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.chosen_label, 1)
        row.addWidget(self.change_button)
        self.chosen.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.chosen)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        layout.addWidget(self.status)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.on_timer_timeout)
        self.search.textChanged.connect(self.on_search_text_changed)
        self.search.installEventFilter(self)
        self.results.installEventFilter(self)
        self.results.itemActivated.connect(self.on_results_item_activated)
        self.setFocusProxy(self.search)

    # ------------------------------------------------------------------ answers

    def text(self) -> str:
        return self.search.text().strip()

    def show_results(self, query: str, items: Sequence[PatientSummary]) -> None:
        """The answer for ``query``; dropped when the box no longer says that."""
        if query != self.text() or self.patient_id is not None:
            return
        self._shown_for = query
        self.results.clear()
        for p in items:
            item = QListWidgetItem(patient_line(p, self._zone))
            item.setData(ID_ROLE, p.id)
            self.results.addItem(item)
        if items:
            self.results.setCurrentRow(0)
            self.results.show()
            n = len(items)
            self.status.setText(f"{n} match{'es' if n != 1 else ''}. Enter picks the "
                                "highlighted one; Down moves through them.")
        else:
            self.results.hide()
            self.status.setText(f"No patient matches “{self.text()}”. Check the spelling "
                                "or try the date of birth.")
        if self._pick_when_shown:
            self._pick_when_shown = False
            if items:
                self._pick(self.results.item(0))

    def show_message(self, sentence: str) -> None:
        self._shown_for = None
        self._pick_when_shown = False
        self.results.clear()
        self.results.hide()
        self.status.setText(sentence)

    def set_patient(self, patient_id: int, text: str) -> None:
        self.patient_id, self.patient_text = patient_id, text
        self.chosen_label.setText(text)
        self.chosen.setAccessibleName(f"Patient: {text}")
        self.chosen.show()
        self.search.hide()
        self.results.hide()
        self.status.hide()
        self.setFocusProxy(self.change_button)

    @Slot()
    def clear(self) -> None:
        self.patient_id, self.patient_text = None, ""
        self.chosen.hide()
        self.search.show()
        self.status.show()
        self.results.setVisible(self.results.count() > 0)
        self.setFocusProxy(self.search)
        self.search.setFocus()
        self.search.selectAll()
        self.cleared.emit()

    # ------------------------------------------------------------------ typing

    @Slot(str)
    def on_search_text_changed(self, _text: str) -> None:
        self._pick_when_shown = False
        self._timer.start()

    @Slot()
    def on_timer_timeout(self) -> None:
        if len(self.text()) < 2:
            self.show_message(HINT)
        else:
            self.status.setText("Searching…")
        self.search_requested.emit(self.text())

    @Slot(QListWidgetItem)
    def on_results_item_activated(self, item: QListWidgetItem) -> None:
        self._pick(item)

    def _pick(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        self.set_patient(int(item.data(ID_ROLE)), item.text())
        self.picked.emit(self.patient_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if watched is self.search:
            if key in _ENTER and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                if self._shown_for == self.text() and self.results.count():
                    self._pick(self.results.currentItem() or self.results.item(0))
                elif len(self.text()) >= 2:
                    # The list on screen answers older typing: pick when this one's
                    # answer comes (at once, if the pause was not over yet).
                    self._pick_when_shown = True
                    if self._timer.isActive():
                        self._timer.stop()
                        self.on_timer_timeout()
                return True  # Enter in the search never books
            if key == Qt.Key.Key_Down and self.results.count():
                self.results.setFocus()
                return True
        elif watched is self.results:
            if key in _ENTER:
                self._pick(self.results.currentItem())
                return True
            if key == Qt.Key.Key_Up and self.results.currentRow() <= 0:
                self.search.setFocus()
                return True
        return False
