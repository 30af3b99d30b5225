"""The doctor is typing a note; the app is killed (kill -9) at a random instant. What was
typed more than 2 seconds before is on this computer, in the author's encrypted copy
(backend_client/notes/local_store.py), and opens with the author's key: nothing else.

The app is driven as a user drives it, by the keyboard on its own X display; the copy is
read back afterwards with the password's key, as the app's next sign-in would."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.e2e.test_two_desks import Desk

DOCTOR, PASSWORD = "doctor", "quiet harbour morning 41"
# How much typing a kill may cost: the 2-second copy interval, plus what delivering the
# keys and writing the copy take on a loaded 2-core machine.
ALLOWED_LOSS = 2.5


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    d = Desk(tmp_path / "data", "room-1")
    try:
        d.wait_ready()
        yield d
    finally:
        d.close()
        from backend_client.local_stack import LocalStack

        LocalStack(tmp_path / "data").stop()


def _copy_of_the_note(data: Path) -> tuple[str, float]:
    """(the subjective text in the author's local copy, when it was saved)."""
    from backend_client.accounts.passwords import derive_keys
    from backend_client.backend import open_backend
    from backend_client.config import load_settings
    from backend_client.notes.local_store import LocalNoteStore

    saved = dict(os.environ)
    os.environ.update({"DRA_DATA_DIR": str(data), "DRA_CONFIG_FILE": os.devnull})
    try:
        backend = open_backend(load_settings())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        with backend.owner_engine.connect() as c:
            user_id = c.execute(text("SELECT id FROM users WHERE username = :u"),
                                {"u": DOCTOR}).scalar_one()
            salt, params = c.execute(text("SELECT salt, params FROM dra_auth_params(:u)"),
                                     {"u": DOCTOR}).one()
            note_id = c.execute(text("SELECT id::text FROM documents")).scalar_one()
    finally:
        backend.close(stop_stack=False)
    key = derive_keys(PASSWORD, bytes(salt), str(params)).draft_key
    store = LocalNoteStore(data / "notes.sqlite3", user_id, key)
    try:
        copy = store.get(note_id.replace("-", ""))
        if copy is None:
            copy = store.get(note_id)
        assert copy is not None, "the note has no copy on this computer"
        section = copy.content.section("subjective")
        assert section is not None
        return section.text, (data / "notes.sqlite3").stat().st_mtime
    finally:
        store.close()


def test_kill_9_while_typing_a_note_loses_at_most_two_seconds(desk: Desk) -> None:
    desk.sign_in(DOCTOR, PASSWORD)
    time.sleep(6)
    desk.keys("ctrl+2")
    desk.type("muller")
    time.sleep(2)
    desk.keys("Down", "Return")
    time.sleep(5)          # the chart opens, header first, then its sections
    desk.keys("alt+5")     # Notes
    time.sleep(2)
    desk.keys("alt+w")     # New note…
    time.sleep(2)
    desk.keys("s", "alt+s")  # SOAP note, Start writing
    time.sleep(4)
    desk.xdo("mousemove", "700", "400", "click", "1")  # into Subjective
    time.sleep(1)
    desk.screenshot("e2e-note-before-kill.png")

    typed: list[tuple[str, float]] = []
    kill_after = random.uniform(5.0, 9.0)
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < kill_after:
        n += 1
        word = f"w{n:03d}"
        desk.type(word + " ")
        typed.append((word, time.monotonic()))
        time.sleep(0.15)
    desk.app.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    desk.app.wait(30)

    text_kept, _ = _copy_of_the_note(desk.data)
    kept = set(text_kept.split())
    assert kept, "nothing typed was kept"
    # Every word typed more than ALLOWED_LOSS seconds before the kill is in the copy, and
    # the copy holds words in the order typed (no hole, no corruption).
    old_enough = [w for w, at in typed if killed - at > ALLOWED_LOSS]
    assert old_enough and all(w in kept for w in old_enough), (text_kept, typed)
    # (The copy may end inside a word: the last one may be cut short.)
    words = text_kept.split()
    expected = [w for w, _ in typed[:len(words)]]
    assert words[:-1] == expected[:-1] and expected[-1].startswith(words[-1]), (words, typed)
    last = max(at for w, at in typed if w in kept)
    print(f"killed {killed - start:.1f} s into typing; the copy ends {killed - last:.2f} s "
          f"before the kill ({len(words)} of {len(typed)} words)")
