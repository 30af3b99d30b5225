"""Someone else saved the patient being edited: say what they changed, field by field.

``ChangedElsewhereBar`` sits on top of an open edit form when another workstation saves
the same patient ("Changed by X at 10:42 (given name)"). ``ConflictDialog`` lists every
field that differs among what the form started from, what they saved and what the user
typed: fields only they changed are taken, fields only the user changed are kept, and
every field both changed differently waits for the user's choice (theirs or yours), so
keeping one's own value is always a decision about that field, never a silent undo.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ui.patients.field_changes import BOTH, SAME, THEIRS, YOURS, FieldChange, ThreeWay

STYLE = """
QLabel#conflict-heading { font-size: 15px; font-weight: bold; color: #263238; }
QLabel[role="section"] { font-weight: bold; color: #37474f; padding-top: 8px; }
QLabel[role="column"] { color: #546e7a; font-size: 12px; }
QLabel[role="field"] { font-weight: bold; }
QLabel[role="value"] { color: #263238; }
QLabel[role="was"] { color: #607d8b; }
QLabel[role="empty"] { color: #90a4ae; font-style: italic; }
QFrame[role="choice"] { background: #fff8e1; border: 1px solid #f9a825; border-radius: 4px; }
QFrame[role="choice"][chosen="true"] { background: #f1f8e9; border: 1px solid #9ccc65; }
QLabel#conflict-status { color: #6d4c00; }
QLabel#conflict-status[ready="true"] { color: #1b5e20; }
"""

EMPTY = "(empty)"


def _label(text: str, parent: QWidget, role: str) -> QLabel:
    label = QLabel(text or EMPTY, parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setProperty("role", role if text else "empty")
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


class _Choice(QFrame):
    """One field both changed: two radio buttons, each with the value it keeps below it
    (values wrap; a radio button's own text does not)."""

    def __init__(self, change: FieldChange, who: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "choice")
        self.change = change
        self.group = QButtonGroup(self)
        self.theirs = QRadioButton(f"Use theirs ({who})", self)
        self.yours = QRadioButton("Keep yours", self)
        for button, value, side in ((self.theirs, change.theirs, THEIRS),
                                    (self.yours, change.yours, YOURS)):
            button.setObjectName(f"{change.key}-{side}")
            button.setAccessibleName(
                f"{change.label}: {'use theirs' if side == THEIRS else 'keep yours'}, "
                f"{value or 'empty'}")
            self.group.addButton(button)
        self.group.setExclusive(True)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.theirs, 0, 0)
        grid.addWidget(self.yours, 0, 1)
        grid.addWidget(_label(change.theirs, self, "value"), 1, 0)
        grid.addWidget(_label(change.yours, self, "value"), 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def side(self) -> str | None:
        if self.theirs.isChecked():
            return THEIRS
        if self.yours.isChecked():
            return YOURS
        return None


class ConflictDialog(QDialog):
    """Args:
        three_way: what the form started from, what is saved now, what the form says.
        who, at: who saved it and when ("Dr Amara Okafor", "10:42"), from the saved row.
        saving: True after a save met their version ("Save with these choices" saves);
            False when the user asked to see their changes while editing ("Put these in
            the form": nothing is saved until the form is).

    Signals:
        resolved(object): the PatientDraft to save (or to put in the form), with every
            field decided.
    """

    resolved = Signal(object)

    def __init__(self, three_way: ThreeWay, who: str, at: str, *, saving: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflict-dialog")
        self.setWindowTitle("Someone else saved this patient")
        self.setStyleSheet(STYLE)
        self.three_way = three_way
        self.changes = three_way.changes()
        self.choices: list[_Choice] = []
        who = who or "Another user"

        heading = QLabel(f"{who} saved this patient at {at}, while you were editing", self)
        heading.setObjectName("conflict-heading")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        to_choose = [c for c in self.changes if c.kind == BOTH]
        intro = ("Nothing you typed is lost and nothing is saved yet. "
                 + ("Where you both changed a field, choose which value to keep. "
                    if to_choose else "")
                 + "Their other changes are taken and yours are kept, as listed below.")
        self.intro = QLabel(intro, self)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.intro.setWordWrap(True)

        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 8, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 2)
        self._grid, self._row = grid, 0
        if self.three_way.base is None:
            was = "When you started (not known)"
        else:
            was = "When you opened the form"
        if to_choose:
            self._section(f"You both changed {self._count(to_choose)}: choose for each",
                          (was, f"Theirs ({who}, {at}) or yours"), body)
            for change in to_choose:
                self._field(change, body)
                self._add(_label(change.base, body, "was"), 1)
                choice = _Choice(change, who, body)
                choice.group.buttonToggled.connect(self.on_choice_toggled)
                self.choices.append(choice)
                self._add(choice, 2)
                self._row += 1
        for kind, title, column in (
                (THEIRS, "Their changes, taken", f"Theirs ({who}, {at})"),
                (SAME, "Changed by both of you to the same value", "Now"),
                (YOURS, "Your changes, kept", "Yours")):
            rows = [c for c in self.changes if c.kind == kind]
            if not rows:
                continue
            self._section(f"{title} ({self._count(rows)})", (was, column), body)
            for change in rows:
                self._field(change, body)
                self._add(_label(change.base, body, "was"), 1)
                self._add(_label(change.yours if kind == YOURS else change.theirs, body,
                                 "value"), 2)
                self._row += 1
        if not self.changes:
            self._add(_label("Their save changed nothing in this form (for example, only "
                             "the record's restriction or date of death).", body, "value"),
                      0, span=3)
            self._row += 1
        grid.setRowStretch(self._row, 1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body_scroll = scroll

        self.status = QLabel(self)
        self.status.setObjectName("conflict-status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.back_button = QPushButton("&Back to the form", self)
        self.back_button.setAutoDefault(False)
        self.back_button.setToolTip("Nothing is saved; the form keeps what you typed (Esc)")
        self.back_button.clicked.connect(self.reject)
        self.apply_button = QPushButton(
            "&Save with these choices" if saving else "&Put these values in the form", self)
        self.apply_button.setObjectName("conflict-apply")
        self.apply_button.setDefault(True)
        self.apply_button.setToolTip(
            ("Save over their version" if saving else "Fill the form; nothing is saved yet")
            + " (Ctrl+Enter)")
        self.apply_button.clicked.connect(self.on_apply_button_clicked)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.on_apply_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(self.intro)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.resize(860, min(640, 260 + 48 * max(len(self.changes), 2)))
        self._update_status()
        if self.choices:
            self.choices[0].theirs.setFocus()
        else:
            self.apply_button.setFocus()

    # ------------------------------------------------------------------ building

    @staticmethod
    def _count(rows: list[FieldChange]) -> str:
        return f"{len(rows)} field{'s' if len(rows) != 1 else ''}"

    def _add(self, widget: QWidget, column: int, *, span: int = 1) -> None:
        self._grid.addWidget(widget, self._row, column, 1, span)

    def _section(self, title: str, columns: tuple[str, str], parent: QWidget) -> None:
        self._add(_label(title, parent, "section"), 0, span=3)
        self._row += 1
        self._add(_label("Field", parent, "column"), 0)
        self._add(_label(columns[0], parent, "column"), 1)
        self._add(_label(columns[1], parent, "column"), 2)
        self._row += 1

    def _field(self, change: FieldChange, parent: QWidget) -> None:
        self._add(_label(change.label, parent, "field"), 0)

    # ------------------------------------------------------------------ results

    def choices_made(self) -> dict[str, str]:
        return {c.change.key: side for c in self.choices if (side := c.side()) is not None}

    def missing(self) -> list[FieldChange]:
        return [c.change for c in self.choices if c.side() is None]

    def choose(self, key: str, side: str) -> None:
        """Pick a side for one field (as clicking its radio button does)."""
        for choice in self.choices:
            if choice.change.key == key:
                (choice.theirs if side == THEIRS else choice.yours).setChecked(True)

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_choice_toggled(self) -> None:
        self._update_status()

    @Slot()
    def on_apply_button_clicked(self) -> None:
        missing = self.missing()
        if missing:
            # Never decided for the user: say which field still needs a choice.
            first = next(c for c in self.choices if c.side() is None)
            first.theirs.setFocus(Qt.FocusReason.OtherFocusReason)
            self.body_scroll.ensureWidgetVisible(first)
            return
        merged = self.three_way.merged(self.choices_made())
        self.accept()
        self.resolved.emit(merged)

    def _update_status(self) -> None:
        missing = self.missing()
        for choice in self.choices:
            chosen = choice.side() is not None
            if bool(choice.property("chosen")) != chosen:
                choice.setProperty("chosen", chosen)
                choice.style().unpolish(choice)
                choice.style().polish(choice)
        if missing:
            names = ", ".join(c.label.lower() for c in missing)
            self.status.setText(f"Choose theirs or yours for: {names}.")
        else:
            self.status.setText("Every field is decided." if self.choices else "")
        self.status.setProperty("ready", not missing)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.apply_button.setEnabled(not missing)


class ChangedElsewhereBar(QFrame):
    """On top of an edit form: another workstation saved this patient meanwhile.

    Signals:
        show_requested(): "Show their changes…" (field by field, to choose).
        take_requested(): "Take their values" for the fields they changed.
        dismissed(): "Keep editing" (a save will then meet their version and ask).
    """

    show_requested = Signal()
    take_requested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changed-elsewhere")
        self.setStyleSheet(
            "QFrame#changed-elsewhere { background: #fff8e1; border: 1px solid #f9a825;"
            " border-radius: 4px; } QFrame#changed-elsewhere QLabel { color: #4e3400; }")
        self.text = QLabel(self)
        self.text.setObjectName("changed-elsewhere-text")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.show_button = QPushButton("Show their changes…", self)
        self.show_button.setObjectName("show-their-changes")
        self.take_button = QPushButton("Take their values", self)
        self.take_button.setObjectName("take-their-values")
        self.keep_button = QPushButton("Keep editing", self)
        self.keep_button.setObjectName("keep-editing")
        for button, signal, tip in (
                (self.show_button, self.show_requested,
                 "See their changes and yours field by field, and choose"),
                (self.take_button, self.take_requested,
                 "Put their values in the fields they changed; the rest of what you typed "
                 "stays"),
                (self.keep_button, self.dismissed,
                 "Hide this; saving will then show both versions to choose from")):
            button.setAutoDefault(False)
            button.setToolTip(tip)
            button.clicked.connect(signal)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.keep_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self.hide()

    def show_change(self, who: str, at: str, fields: str, *, not_saved: bool = False) -> None:
        """``fields``: "given name and phone" (may be empty)."""
        what = f" ({fields})" if fields else ""
        lead = "⚠ Not saved: changed" if not_saved else "⚠ Changed"
        self.text.setText(f"{lead} by {who or 'another user'} at {at}{what}. Your form still "
                          "shows the version you opened, with your typing.")
        self.setAccessibleName(self.text.text())
        self.show()

    def set_busy(self, busy: bool) -> None:
        for button in (self.show_button, self.take_button, self.keep_button):
            button.setEnabled(not busy)
