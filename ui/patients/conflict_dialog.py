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
QFrame[role="cell"] { border: 1px solid transparent; border-radius: 4px; }
QFrame[role="cell"][state="open"] { background: #fff8e1; border: 1px solid #f9a825; }
QFrame[role="cell"][state="chosen"] { background: #f1f8e9; border: 1px solid #9ccc65; }
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


class _Cell(QFrame):
    """One side of a field's choice: a radio button over the value it keeps (values wrap;
    a radio button's own text does not)."""

    def __init__(self, text: str, value: str, accessible: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "cell")
        self.button = QRadioButton(text, self)
        self.button.setAccessibleName(accessible)
        self.value = _label(value, self, "value")
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 4, 6, 4)
        box.setSpacing(2)
        box.addWidget(self.button)
        box.addWidget(self.value)

    def set_state(self, state: str) -> None:
        """"chosen", "open" (nobody chose yet) or ""."""
        if self.property("state") != state:
            self.setProperty("state", state)
            self.style().unpolish(self)
            self.style().polish(self)


class _Choice:
    """A field that differs: theirs or yours. Where only one side changed it, that side is
    chosen to start with (their change is never undone and yours never dropped unless the
    user picks the other); where both changed it, nothing is chosen until the user does."""

    def __init__(self, change: FieldChange, parent: QWidget) -> None:
        self.change = change
        self.group = QButtonGroup(parent)
        self.group.setExclusive(True)
        label = change.label
        self.theirs = _Cell("Theirs", change.theirs,
                            f"{label}: use theirs, {change.theirs or 'empty'}", parent)
        self.yours = _Cell("Yours", change.yours,
                           f"{label}: keep yours, {change.yours or 'empty'}", parent)
        for cell, side in ((self.theirs, THEIRS), (self.yours, YOURS)):
            cell.button.setObjectName(f"{change.key}-{side}")
            self.group.addButton(cell.button)
        if change.kind == THEIRS:
            self.theirs.button.setChecked(True)
        elif change.kind == YOURS:
            self.yours.button.setChecked(True)
        self.paint()

    def side(self) -> str | None:
        if self.theirs.button.isChecked():
            return THEIRS
        if self.yours.button.isChecked():
            return YOURS
        return None

    def paint(self) -> None:
        side = self.side()
        for cell, mine in ((self.theirs, THEIRS), (self.yours, YOURS)):
            cell.set_state("open" if side is None else "chosen" if side == mine else "")


SECTIONS = (
    (BOTH, "You both changed {n}: choose theirs or yours for each"),
    (THEIRS, "Only they changed {n}: their value is taken unless you keep yours"),
    (YOURS, "Only you changed {n}: yours is kept unless you take theirs"),
    (SAME, "You both made the same change ({n})"),
)


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
        self.intro = QLabel(
            "Nothing you typed is lost, and nothing is saved until you "
            + ("save. " if saving else "save the form. ")
            + ("Where you both changed a field, choose which value to keep. "
               if to_choose else "")
            + "Their changes are taken and yours are kept, unless you choose otherwise.",
            self)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.intro.setWordWrap(True)

        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 8, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        for column, stretch in ((0, 2), (1, 3), (2, 4), (3, 4)):
            grid.setColumnStretch(column, stretch)
        self._grid, self._row = grid, 0
        was = ("When you opened it" if three_way.base is not None
               else "When you started (not known)")
        for column, text in enumerate(("Field", was, f"Theirs ({who}, {at})", "Yours")):
            self._add(_label(text, body, "column"), column)
        self._row += 1
        for kind, title in SECTIONS:
            rows = [c for c in self.changes if c.kind == kind]
            if not rows:
                continue
            n = f"{len(rows)} field{'s' if len(rows) != 1 else ''}"
            self._add(_label(title.format(n=n), body, "section"), 0, span=4)
            self._row += 1
            for change in rows:
                self._add(_label(change.label, body, "field"), 0)
                self._add(_label(change.base, body, "was"), 1)
                if kind == SAME:
                    self._add(_label(change.theirs, body, "value"), 2, span=2)
                else:
                    choice = _Choice(change, body)
                    choice.group.buttonToggled.connect(self.on_choice_toggled)
                    self.choices.append(choice)
                    self._add(choice.theirs, 2)
                    self._add(choice.yours, 3)
                self._row += 1
        if not self.changes:
            self._add(_label("Their save changed nothing in this form (for example, only "
                             "the record's restriction or date of death).", body, "value"),
                      0, span=4)
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
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(self.intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(900, min(700, 300 + 64 * max(len(self.changes), 2)))
        self._update_status()
        first = next((c for c in self.choices if c.side() is None),
                     self.choices[0] if self.choices else None)
        if first is not None:
            first.theirs.button.setFocus()
        else:
            self.apply_button.setFocus()

    # ------------------------------------------------------------------ building

    def _add(self, widget: QWidget, column: int, *, span: int = 1) -> None:
        self._grid.addWidget(widget, self._row, column, 1, span)

    # ------------------------------------------------------------------ results

    def choices_made(self) -> dict[str, str]:
        return {c.change.key: side for c in self.choices if (side := c.side()) is not None}

    def missing(self) -> list[FieldChange]:
        return [c.change for c in self.choices if c.side() is None]

    def choice_for(self, key: str) -> str | None:
        """THEIRS, YOURS, or None while nothing is chosen (a field both changed)."""
        return next((c.side() for c in self.choices if c.change.key == key), None)

    def choose(self, key: str, side: str) -> None:
        """Pick a side for one field (as clicking its radio button does)."""
        for choice in self.choices:
            if choice.change.key == key:
                (choice.theirs if side == THEIRS else choice.yours).button.setChecked(True)

    # ------------------------------------------------------------------ slots

    @Slot()
    def on_choice_toggled(self) -> None:
        self._update_status()

    @Slot()
    def on_apply_button_clicked(self) -> None:
        first = next((c for c in self.choices if c.side() is None), None)
        if first is not None:
            # Never decided for the user: the keyboard goes to the field still open.
            first.theirs.button.setFocus(Qt.FocusReason.OtherFocusReason)
            self.body_scroll.ensureWidgetVisible(first.theirs)
            return
        merged = self.three_way.merged(self.choices_made())
        self.accept()
        self.resolved.emit(merged)

    def _update_status(self) -> None:
        for choice in self.choices:
            choice.paint()
        missing = self.missing()
        if missing:
            names = ", ".join(c.label.lower() for c in missing)
            self.status.setText(f"Choose theirs or yours for: {names}.")
        else:
            undone = [c.change.label.lower() for c in self.choices
                      if c.change.kind == THEIRS and c.side() == YOURS]
            self.status.setText(
                f"You chose to put back your value over their change in: {', '.join(undone)}."
                if undone else "")
        self.status.setVisible(bool(self.status.text()))
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
