"""kill -9 while a note is being autosaved: the local copy is never corrupt and holds the
last put that completed (so at most one autosave interval of typing is lost).

A child process puts a new version of a note every 0.2 s (the editor does it 2 s after the
last keystroke; faster here so the kills land in every phase of a write) and reports each
completed put on stdout; it is SIGKILLed at random instants, 12 times."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from backend_client.notes.local_store import LocalNoteStore

KEY = bytes(range(32))
KILLS = 12

CHILD = r"""
import sys, time
from backend_client.notes.dto import NoteContent, SectionContent
from backend_client.notes.local_store import LocalNoteStore
store = LocalNoteStore(sys.argv[1], 7, bytes(range(32)))
start = int(sys.argv[2])
filler = "shortness of breath on exertion, " * 300   # ~10 KB: several pages per write
for i in range(start, start + 100000):
    content = NoteContent("Crash test", (SectionContent("s", "Subjective", f"{i} {filler}"),))
    store.put("n1", 42, "Müller, Anna", "Crash test", None, content)
    print(i, flush=True)
    time.sleep(0.2)
"""


def _version(store: LocalNoteStore) -> int | None:
    note = store.get("n1")
    if note is None:
        return None
    return int(note.content.sections[0].text.split(" ", 1)[0])


def test_kill_9_while_autosaving_never_loses_the_last_completed_put(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    rng = random.Random(11)
    next_version = 1
    deadline = time.monotonic() + 120
    for _ in range(KILLS):
        assert time.monotonic() < deadline, "the kill loop took too long"
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(next_version)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        first = child.stdout.readline()  # the child is writing
        assert first.strip() == str(next_version)
        time.sleep(rng.uniform(0.0, 1.0))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        reported = [int(line) for line in [first, *child.stdout.read().split()] if line.strip()]
        child.stdout.close()
        last_completed = reported[-1]

        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store = LocalNoteStore(path, 7, KEY)
        held = _version(store)
        (pending,) = store.pending()
        store.close()
        # The last reported put is there; the one being written when the signal came may
        # have committed before the child could say so, never anything older.
        assert held in (last_completed, last_completed + 1)
        assert pending.note_id == "n1"
        next_version = (held or 0) + 1
