"""Clinical notes at chart scale, on the embedded stack, through a signed-in doctor's
session on the app's logins (row security, the documents trigger, the read audit and
MongoDB's majority writes all in the path).

A patient with ``BENCH_NOTES_N`` (default 500) notes, made through the service, and one
note with 50 revisions. Figures: time to list the patient's notes, to read one note (with
its audit event), to build the diff between the first and the 50th revision (history
included, as the history view does), and a full-text search; p50 and max of repeated runs.

    python -m benchmarks notes          (BENCH_NOTES_N to shrink)
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from backend_client.accounts.access import SystemAccess
from backend_client.accounts.service import AccountService
from backend_client.accounts.signin import build_session_services
from backend_client.backend import open_backend
from backend_client.config import load_settings
from backend_client.dto import PatientDraft
from backend_client.notes.dto import NoteContent, SectionContent
from backend_client.notes.service import build_notes
from backend_client.patients.service import PatientService
from backend_client.schema import migrate

PASSWORD = "benchmark chart lantern 44"
WORDS = ("cough fever wheeze chest pain headache dizziness fatigue rash swelling knee "
         "shoulder back nausea reflux insomnia anxiety review bloods referral").split()


def _times(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _line(label: str, values: list[float]) -> None:
    print(f"  {label:<44} p50 {statistics.median(values):7.1f} ms   "
          f"max {max(values):7.1f} ms   ({len(values)} runs)", flush=True)


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _edit(content: NoteContent, rng: random.Random) -> NoteContent:
    return NoteContent(content.title, tuple(
        SectionContent(s.key, s.title,
                       (s.text + "\n" + _text(rng, 12)).strip()
                       if s.key in ("subjective", "plan", "interval_history") else s.text,
                       s.values)
        for s in content.sections))


def main() -> None:
    n = int(os.environ.get("BENCH_NOTES_N", "500"))
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="bench-notes-") as tmp:
        backend = open_backend(load_settings(data_dir=Path(tmp)))
        try:
            migrate(backend)
            AccountService(backend.owner_engine).add_user("benchdoc", "Bench Doctor",
                                                          PASSWORD, ["doctor"])
            desk = build_session_services(backend.engine, backend.mongo_db,
                                          workstation="bench-notes")
            desk.signin.sign_in("benchdoc", PASSWORD)
            notes = build_notes(backend, desk.access, None)
            patient = PatientService(backend.owner_engine, SystemAccess("bench")).register(
                PatientDraft(given_name="Bench", family_name="Chart",
                             birth_date=date(1960, 1, 2), sex="female")).id

            t0 = time.perf_counter()
            ids = []
            for i in range(n):
                doc = notes.create(uuid.uuid4().hex, patient,
                                   rng.choice(("soap", "progress")), title=f"Visit {i + 1}")
                assert doc.head is not None
                notes.save(doc.summary.id, uuid.uuid4().hex, doc.head.id,
                           _edit(doc.head.content, rng))
                ids.append(doc.summary.id)
            seeded = time.perf_counter() - t0
            print(f"  seeded {n} notes (create + one save each) in {seeded:.1f} s "
                  f"({seeded / n * 1000:.1f} ms per note)", flush=True)

            long = notes.create(uuid.uuid4().hex, patient, "soap", title="Long note")
            assert long.head is not None
            head = long.head
            save_ms = []
            for _ in range(49):
                t1 = time.perf_counter()
                head = notes.save(long.summary.id, uuid.uuid4().hex, head.id,
                                  _edit(head.content, rng))
                save_ms.append((time.perf_counter() - t1) * 1000)
            first = long.head.id

            listed = notes.notes(patient)
            print(f"  the patient has {len(listed)} notes", flush=True)
            _line("save one revision (MongoDB + PostgreSQL)", save_ms)
            _line(f"list the patient's {len(listed)} notes", _times(
                lambda: notes.notes(patient), 20))
            _line("read one note (audited)", _times(
                lambda: notes.read(rng.choice(ids)), 50))

            def open_diff() -> None:
                history = notes.history(long.summary.id)
                assert len(history) == 50
                assert notes.diff(long.summary.id, first, history[-1].id).changed

            _line("history + diff of a 50-revision note", _times(open_diff, 10))
            _line("full-text search in the patient's notes", _times(
                lambda: notes.search(patient, rng.choice(WORDS)), 20))
        finally:
            backend.close(stop_stack=True)


if __name__ == "__main__":
    main()
