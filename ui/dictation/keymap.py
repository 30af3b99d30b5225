"""The dictation keys: defaults, and the user's own from a setting.

Function keys so that they work while typing in a note (no letter is taken from the text)
and none of them is one the app already uses (F5 checks the connections, F6 goes to an
arrival notice, Ctrl+Shift+I opens the task inbox). A setting overrides any of them:
``DRA_DICTATION_KEYS="record=F9,stop=Ctrl+F10"`` (desktop's settings hand the text to
``parse_keymap``)."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

# action -> (default key, what it does, as the Help > Keyboard page says it)
ACTIONS: dict[str, tuple[str, str]] = {
    "record": ("F9", "Record, or pause while recording"),
    "stop": ("F10", "Stop: the recording is finished and queued for upload"),
    "rewind": ("F7", "Rewind 5 seconds"),
    "forward": ("F8", "Forward 5 seconds"),
    "play": ("Shift+F9", "Play what was recorded, or pause playback"),
    "mode": ("Ctrl+Shift+O", "Next recording mode: append → overwrite → insert"),
    "discard": ("Ctrl+Shift+D", "Discard the open recording (asks first)"),
    "dictations": ("Ctrl+Shift+L", "My dictations: this computer's recordings"),
    "queue": ("Ctrl+Shift+U", "The upload queue"),
    "worklist": ("Ctrl+Shift+K", "The transcription worklist: STAT and urgent first"),
    "help": ("F1", "This page: every keyboard shortcut"),
}
STEP_MS = 5000


def default_keymap() -> dict[str, str]:
    return {name: key for name, (key, _what) in ACTIONS.items()}


def parse_keymap(text: str) -> tuple[dict[str, str], list[str]]:
    """The keymap with ``text``'s overrides ("record=F9, stop=Ctrl+F10") and the problems
    found in it (an unknown action, a key Qt does not understand, a key given twice); a bad
    entry keeps the default."""
    keys = default_keymap()
    problems: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, key = (s.strip() for s in part.partition("="))
        if name not in keys:
            problems.append(f"“{name}” is not a dictation action ({', '.join(keys)}).")
            continue
        sequence = QKeySequence(key)
        if not key or sequence.isEmpty() or sequence.toString() == "":
            problems.append(f"“{key}” is not a key Dr. Assistant understands.")
            continue
        keys[name] = sequence.toString()
    seen: dict[str, str] = {}
    for name, key in list(keys.items()):
        if key in seen:
            problems.append(f"{key} was given to both {seen[key]} and {name}; {name} keeps "
                            f"{ACTIONS[name][0]}.")
            keys[name] = ACTIONS[name][0]
        seen[keys[name]] = name
    return keys, problems
