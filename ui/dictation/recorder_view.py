"""The recorder, as the chart's Recordings section and the note editor show it.

From the top: who the recording is about (the patient's caption, as every dialog from a
chart names them), what the recorder is doing and in which mode (append, overwrite or
insert — a coloured badge, never only a colour), the elapsed and total time, the live
level, the position slider (the same for recording and playback), the buttons, the
priority and work type, and a problem line (no microphone, device lost, disk full).

Every button has a key (ui/dictation/keymap.py) shown in its tooltip and in a line under
the buttons; the keys work anywhere inside the widget that hosts the recorder (the
Recordings section, the note editor), also while typing in the note. The view holds no
state beyond its widgets: RecorderPresenter decides.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from backend_client.dictation.dto import (
    PRIORITIES,
    PRIORITY_LABELS,
    RECORD_MODES,
    WORK_TYPE_LABELS,
    WORK_TYPES,
    RecorderStatus,
)
from ui.dictation.keymap import ACTIONS, STEP_MS, default_keymap
from ui.dictation.level_meter import LevelMeter

MODE_TEXT = {
    "append": ("APPEND", "new speech goes at the end", "#e3f2fd", "#0d47a1"),
    "overwrite": ("OVERWRITE", "replaces what follows {at}", "#fff3e0", "#8a4b00"),
    "insert": ("INSERT", "goes in at {at}, the rest moves later", "#ede7f6", "#4527a0"),
}
MODE_LABELS = {"append": "Append at the end", "overwrite": "Overwrite from here",
               "insert": "Insert here"}
STATE_TEXT = {"idle": "Ready to record", "recording": "● Recording", "paused": "Paused",
              "stopped": "Stopped", "playing": "▶ Playing"}
PROBLEM_STYLE = "QLabel#recorderProblem { color: #b00020; font-weight: 600; }"


def mmss(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 60:02d}:{s % 60:02d}"


def mode_sentence(mode: str, position_ms: int) -> str:
    name, what, _bg, _fg = MODE_TEXT[mode]
    return f"{name} · {what.format(at=mmss(position_ms))}"


class RecorderView(QWidget):
    """Signals:
        record_requested(): Record/Pause (F9): the presenter decides which.
        stop_requested(), play_requested(), discard_requested(): the buttons and keys.
        step_requested(int): rewind (negative) or forward, in ms.
        seek_requested(int): the slider was moved by the user, to this position in ms.
        mode_chosen(str), priority_chosen(str), work_type_chosen(str): the choosers.
    """

    record_requested = Signal()
    stop_requested = Signal()
    play_requested = Signal()
    discard_requested = Signal()
    step_requested = Signal(int)
    seek_requested = Signal(int)
    mode_chosen = Signal(str)
    priority_chosen = Signal(str)
    work_type_chosen = Signal(str)

    def __init__(self, caption: str, parent: QWidget | None = None, *,
                 keymap: dict[str, str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recorderView")
        self.keymap = keymap or default_keymap()
        self.shortcuts: dict[str, QShortcut] = {}
        self._updating = False
        self._state = "idle"
        self._playing = False
        self._mic_problem = ""
        self._red: bool | None = None
        self._styled_mode = ""

        self.banner = QLabel(caption, self)
        self.banner.setObjectName("patientBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel#patientBanner { font-weight: 600; padding: 4px 6px;"
                                  " background: palette(alternate-base); border-radius: 3px; }")
        self.banner.setAccessibleName("Patient: " + caption)

        self.state_label = QLabel(STATE_TEXT["idle"], self)
        self.state_label.setObjectName("recorderState")
        self.state_label.setStyleSheet("QLabel#recorderState { font-weight: 700; }")
        self.time_label = QLabel("00:00 / 00:00", self)
        self.time_label.setObjectName("recorderTime")
        self.time_label.setStyleSheet("QLabel#recorderTime { font-family: monospace;"
                                      " font-size: 15px; }")
        self.time_label.setAccessibleName("Position and length")
        self.mode_badge = QLabel(self)
        self.mode_badge.setObjectName("recorderModeBadge")
        self.mode_badge.setWordWrap(True)
        self.meter = LevelMeter(self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("recorderSlider")
        self.slider.setAccessibleName("Position")
        self.slider.setRange(0, 0)
        self.slider.setSingleStep(1000)
        self.slider.setPageStep(STEP_MS)
        self.slider.valueChanged.connect(self.on_slider_value_changed)

        self.rewind_button = self._button("◀◀ 5 s", "rewindButton", "rewind",
                                          lambda: self.step_requested.emit(-STEP_MS))
        self.rewind_button.setAccessibleName("Rewind 5 seconds")
        self.record_button = self._button("&Record", "recordButton", "record",
                                          self.record_requested.emit)
        self.record_button.setStyleSheet("QPushButton#recordButton { font-weight: 700; }")
        self.forward_button = self._button("5 s ▶▶", "forwardButton", "forward",
                                           lambda: self.step_requested.emit(STEP_MS))
        self.forward_button.setAccessibleName("Forward 5 seconds")
        self.play_button = self._button("P&lay", "playButton", "play",
                                        self.play_requested.emit)
        self.stop_button = self._button("St&op", "stopButton", "stop",
                                        self.stop_requested.emit)
        self.discard_button = self._button("Discar&d…", "discardButton", "discard",
                                           self.discard_requested.emit)

        self.mode_combo = self._combo("modeCombo", [(m, MODE_LABELS[m]) for m in RECORD_MODES],
                                      self.mode_chosen)
        self.priority_combo = self._combo("priorityCombo",
                                          [(p, PRIORITY_LABELS[p]) for p in PRIORITIES],
                                          self.priority_chosen)
        self.work_type_combo = self._combo("workTypeCombo",
                                           [(w, WORK_TYPE_LABELS[w]) for w in WORK_TYPES],
                                           self.work_type_chosen)
        self.work_type_combo.setCurrentIndex(WORK_TYPES.index("note"))

        self.keys_label = QLabel(self)
        self.keys_label.setObjectName("recorderKeys")
        self.keys_label.setWordWrap(True)
        self.keys_label.setStyleSheet("QLabel#recorderKeys { color: #546e7a; }")
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("recorderProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet(PROBLEM_STYLE)
        self.problem_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problem_label.hide()
        self.note_label = QLabel(self)
        self.note_label.setObjectName("recorderNote")
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.hide()

        head = QHBoxLayout()
        head.addWidget(self.state_label)
        head.addStretch(1)
        head.addWidget(self.time_label)
        transport = QHBoxLayout()
        for b in (self.rewind_button, self.record_button, self.forward_button,
                  self.play_button):
            transport.addWidget(b)
        transport.addStretch(1)
        finish = QHBoxLayout()
        finish.addWidget(self.stop_button)
        finish.addWidget(self.discard_button)
        finish.addStretch(1)
        options = QGridLayout()
        for col, (text, combo) in enumerate((("&Mode:", self.mode_combo),
                                             ("Pr&iority:", self.priority_combo),
                                             ("&Work type:", self.work_type_combo))):
            label = QLabel(text, self)
            label.setBuddy(combo)
            options.addWidget(label, 0, col)
            options.addWidget(combo, 1, col)
        options.setColumnStretch(3, 1)
        frame = QFrame(self)
        frame.setObjectName("recorderFrame")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        inner = QVBoxLayout(frame)
        inner.addLayout(head)
        inner.addWidget(self.mode_badge)
        inner.addWidget(self.meter)
        inner.addWidget(self.slider)
        inner.addLayout(transport)
        inner.addLayout(finish)
        inner.addLayout(options)
        inner.addWidget(self.keys_label)
        inner.addWidget(self.problem_label)
        inner.addWidget(self.note_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addWidget(frame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._render_keys()
        self.show_status(RecorderStatus("idle", None, 0, 0, 0.0, "append"))

    def _button(self, text: str, name: str, action: str,
                slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setProperty("action", action)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _combo(self, name: str, items: list[tuple[str, str]], signal: object) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        for value, text in items:
            combo.addItem(text, value)
        combo.activated.connect(
            lambda i, c=combo: signal.emit(c.itemData(i)))  # type: ignore[attr-defined]
        return combo

    # ------------------------------------------------------------ keys

    def install_shortcuts(self, host: QWidget) -> None:
        """The recorder's keys, active while the focus is anywhere inside ``host``."""
        slots: dict[str, Callable[[], None]] = {
            "record": self.record_button.click, "stop": self.stop_button.click,
            "rewind": self.rewind_button.click, "forward": self.forward_button.click,
            "play": self.play_button.click, "discard": self.discard_button.click,
            "mode": self.next_mode,
        }
        for name, slot in slots.items():
            old = self.shortcuts.pop(name, None)
            if old is not None:
                old.setEnabled(False)
                old.deleteLater()
            shortcut = QShortcut(QKeySequence(self.keymap[name]), host, slot,
                                 context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.shortcuts[name] = shortcut

    def _render_keys(self) -> None:
        k = self.keymap
        for button in (self.rewind_button, self.record_button, self.forward_button,
                       self.play_button, self.stop_button, self.discard_button):
            action = str(button.property("action"))
            button.setToolTip(f"{ACTIONS[action][1]} ({k[action]})")
        self.mode_combo.setToolTip(f"{ACTIONS['mode'][1]} ({k['mode']})")
        self.keys_label.setText(
            f"Keys: {k['record']} record/pause · {k['stop']} stop · {k['rewind']}/"
            f"{k['forward']} back/forward 5 s · {k['play']} play · {k['mode']} mode")

    @Slot()
    def next_mode(self) -> None:
        if not self.mode_combo.isEnabled():
            return
        i = (self.mode_combo.currentIndex() + 1) % self.mode_combo.count()
        self.mode_combo.setCurrentIndex(i)
        self.mode_chosen.emit(self.mode_combo.itemData(i))

    # ------------------------------------------------------------ showing

    def set_caption(self, caption: str) -> None:
        self.banner.setText(caption)
        self.banner.setAccessibleName("Patient: " + caption)

    def set_microphone_problem(self, sentence: str) -> None:
        """No microphone: Record is disabled and the sentence says why and what to do."""
        self._mic_problem = sentence
        self.show_problem(sentence)
        self._enable()

    def show_problem(self, sentence: str) -> None:
        sentence = sentence or self._mic_problem
        self.problem_label.setText(sentence)
        self.problem_label.setVisible(bool(sentence))

    def show_note(self, sentence: str) -> None:
        """Where the recording is ("Kept on this computer; queued for upload")."""
        self.note_label.setText(sentence)
        self.note_label.setVisible(bool(sentence))

    def set_target(self, priority: str, work_type: str) -> None:
        self.priority_combo.setCurrentIndex(PRIORITIES.index(priority))
        self.work_type_combo.setCurrentIndex(WORK_TYPES.index(work_type))

    def priority(self) -> str:
        return str(self.priority_combo.currentData())

    def work_type(self) -> str:
        return str(self.work_type_combo.currentData())

    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def show_status(self, status: RecorderStatus) -> None:
        """What the recorder says (polled ~30 times a second while recording)."""
        self._state = status.state
        state = "playing" if self._playing else status.state
        self.state_label.setText(STATE_TEXT.get(state, state))
        red = state == "recording"
        if red != self._red:   # a style sheet re-polishes: only when it changes (30 Hz)
            self._red = red
            self.state_label.setStyleSheet(
                "QLabel#recorderState { font-weight: 700; color: %s; }"
                % ("#c62828" if red else "#263238"))
        self.record_button.setText("Pa&use" if status.state == "recording" else
                                   "&Resume" if status.state == "paused"
                                   and status.duration_ms > 0 else "&Record")
        if not self._playing:
            self._show_position(status.position_ms, status.duration_ms)
        if status.state == "recording":
            self.meter.set_level(status.level)
        else:
            self.meter.reset()
        # The chooser follows the recorder, idle too: after a stop the next recording is a
        # new, empty one, whose speech can only go at the end (the badge says APPEND).
        if self.mode_combo.currentData() != status.mode:
            self.mode_combo.setCurrentIndex(RECORD_MODES.index(status.mode))
        self._render_mode(status.mode, status.position_ms)
        if status.problem:
            self.show_problem(status.problem)
        self._enable()

    def show_playback(self, playing: bool, position_ms: int, duration_ms: int) -> None:
        self._playing = playing
        self.play_button.setText("Pause p&layback" if playing else "P&lay")
        self.state_label.setText(STATE_TEXT["playing" if playing else self._state])
        self._show_position(position_ms, duration_ms)
        self._enable()

    def _show_position(self, position_ms: int, duration_ms: int) -> None:
        self._updating = True
        try:
            self.slider.setRange(0, max(0, duration_ms))
            self.slider.setValue(position_ms)
        finally:
            self._updating = False
        self.time_label.setText(f"{mmss(position_ms)} / {mmss(duration_ms)}")

    def _render_mode(self, mode: str, position_ms: int) -> None:
        _name, _what, bg, fg = MODE_TEXT[mode]
        self.mode_badge.setText(mode_sentence(mode, position_ms))
        if mode != self._styled_mode:
            self._styled_mode = mode
            self.mode_badge.setStyleSheet(
                f"QLabel#recorderModeBadge {{ background: {bg}; color: {fg};"
                " font-weight: 600;"
                f" border: 1px solid {fg}; border-radius: 3px; padding: 2px 6px; }}")
        self.mode_badge.setAccessibleName("Recording mode: " + self.mode_badge.text())

    def _enable(self) -> None:
        state, playing = self._state, self._playing
        is_open = state in ("recording", "paused")
        self.record_button.setEnabled(not self._mic_problem or state == "recording")
        self.stop_button.setEnabled(is_open)
        self.discard_button.setEnabled(is_open)
        has_audio = self.slider.maximum() > 0
        movable = (state == "paused" or playing) and has_audio
        self.play_button.setEnabled((state == "paused" and has_audio) or playing)
        for w in (self.rewind_button, self.forward_button, self.slider):
            w.setEnabled(movable)
        self.mode_combo.setEnabled(state != "recording")

    @Slot(int)
    def on_slider_value_changed(self, value: int) -> None:
        if not self._updating:
            self.time_label.setText(f"{mmss(value)} / {mmss(self.slider.maximum())}")
            self.seek_requested.emit(value)
