"""The audit trail: the database chains every event; tampering through a superuser shows in
``audit verify``; the app role can only read and append."""

from __future__ import annotations

import argparse
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from backend_client.admin.audit_cmd import add_audit_parser, run_audit_command
from backend_client.audit import AuditService, canonical_bytes, event_hash
from backend_client.audit.anchor import AuditAnchors
from backend_client.backend import Backend
from backend_client.config import Settings
from backend_client.stores.postgres.models import AuditEvent, User
from tests.integration.conftest import scratch_database


@contextmanager
def fresh_database(backend: Backend) -> Iterator[Engine]:
    """A new database on the real server, migrated to head, dropped afterwards: the shared
    test database's chain is not touched by these tests, nor theirs by others. The engine
    is the database's owner (a superuser)."""
    with scratch_database(backend, "audit", pool_size=10, max_overflow=10) as engine:
        yield engine


@pytest.fixture(scope="module")
def audit_db(backend: Backend) -> Iterator[Engine]:
    with fresh_database(backend) as engine:
        yield engine


@pytest.fixture
def audit(audit_db: Engine) -> AuditService:
    return AuditService(audit_db)


@contextmanager
def superuser(engine: Engine) -> Iterator[Connection]:
    """A superuser connection with every user trigger off (as a rogue DBA would have it),
    in a transaction that is rolled back afterwards."""
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one()
        conn.rollback()
        conn.begin()
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        try:
            yield conn
        finally:
            conn.rollback()


def _record_some(audit: AuditService, n: int, patient_id: int | None = None) -> list[int]:
    return [audit.record("chart.open", user_id=7, workstation="ws-1", patient_id=patient_id,
                         object_type="patient", object_id=str(i), details={"n": i, "é": "ü"})
            for i in range(n)]


# ------------------------------------------------------------------ the chain


def test_chain_is_intact_after_records_and_mirrors_the_database(audit: AuditService,
                                                                 audit_db: Engine) -> None:
    ids = _record_some(audit, 20)
    assert ids == sorted(ids)
    report = audit.verify()
    assert report.ok, report.message
    assert report.checked >= 20
    assert report.last_id == ids[-1]
    assert report.message == f"audit chain intact: {report.checked} events"
    with audit_db.connect() as conn:
        row = conn.execute(text(
            "SELECT id, occurred_at, user_id, workstation, patient_id, action, object_type,"
            " object_id, details::text AS d, prev_hash, hash,"
            " audit_event_canonical(audit_events) AS canon"
            " FROM audit_events WHERE id = :id"), {"id": ids[-1]}).one()
    mine = canonical_bytes(id=row.id, occurred_at=row.occurred_at, user_id=row.user_id,
                           workstation=row.workstation, patient_id=row.patient_id,
                           action=row.action, object_type=row.object_type,
                           object_id=row.object_id, details_text=row.d)
    assert mine == bytes(row.canon)
    assert event_hash(bytes(row.prev_hash), mine) == bytes(row.hash)


def test_concurrent_writers_keep_one_chain(audit: AuditService, audit_db: Engine) -> None:
    before = audit.verify().checked
    errors: list[BaseException] = []
    threads_n, per_thread = 8, 25

    def writer(k: int) -> None:
        try:
            for i in range(per_thread):
                if i % 10 == 5:
                    # An event in a longer transaction that commits, and one that rolls
                    # back (leaving a gap in the ids that is not a removal).
                    with audit_db.begin() as conn:
                        AuditService.record_in(conn, "note.write", user_id=k,
                                               object_type="note", object_id=f"{k}-{i}")
                    with audit_db.connect() as conn, conn.begin() as tx:
                        AuditService.record_in(conn, "note.write", user_id=k)
                        tx.rollback()
                else:
                    audit.record("chart.open", user_id=k, workstation=f"ws-{k}",
                                 patient_id=1000 + i)
        except BaseException as exc:  # noqa: B036 - re-raised on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = audit.verify()
    assert report.ok, report.message
    assert report.checked == before + threads_n * per_thread


def test_several_events_in_one_statement_are_chained(audit: AuditService,
                                                     audit_db: Engine) -> None:
    with audit_db.begin() as conn:
        conn.execute(insert(AuditEvent), [{"action": "chart.open", "object_id": str(i)}
                                          for i in range(5)])
        AuditService.record_in(conn, "chart.close")
    assert audit.verify().ok


def test_chain_cannot_be_written_from_a_snapshot_transaction(audit_db: Engine) -> None:
    with audit_db.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        with pytest.raises(DBAPIError, match="READ COMMITTED"):
            AuditService.record_in(conn, "chart.open")
        conn.rollback()


# ------------------------------------------------------------------ tampering


def test_an_altered_event_is_named(audit: AuditService, audit_db: Engine) -> None:
    ids = _record_some(audit, 5)
    with superuser(audit_db) as conn:
        conn.execute(text("UPDATE audit_events SET action = 'chart.close' WHERE id = :id"),
                     {"id": ids[2]})
        report = AuditService(conn).verify()
    assert (report.problem, report.event_id) == ("altered", ids[2])
    assert f"event {ids[2]}" in report.message and "altered" in report.message


@pytest.mark.parametrize("change", [
    "details = details || '{\"x\": 1}'",
    "occurred_at = occurred_at + interval '1 microsecond'",
    "user_id = NULL",
    "prev_hash = sha256(prev_hash)",
    "hash = sha256(hash)",
])
def test_every_column_is_covered(audit: AuditService, audit_db: Engine, change: str) -> None:
    ids = _record_some(audit, 3)
    with superuser(audit_db) as conn:
        conn.execute(text(f"UPDATE audit_events SET {change} WHERE id = :id"), {"id": ids[1]})
        report = AuditService(conn).verify()
    assert not report.ok
    # Changing an event's own hash also breaks the link from the next event.
    assert report.event_id in (ids[1], ids[2])
    assert report.problem == "altered"


def test_a_removed_event_is_named(audit: AuditService, audit_db: Engine) -> None:
    ids = _record_some(audit, 5)
    with superuser(audit_db) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
        report = AuditService(conn).verify()
    assert (report.problem, report.previous_id, report.event_id) == (
        "removed", ids[1], ids[3])
    assert f"between event {ids[1]} and event {ids[3]}" in report.message


def test_removing_the_first_events_is_detected(audit: AuditService, audit_db: Engine) -> None:
    _record_some(audit, 3)
    with superuser(audit_db) as conn:
        first = conn.execute(text("SELECT min(id) FROM audit_events")).scalar_one()
        conn.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": first})
        report = AuditService(conn).verify()
    assert report.problem == "removed" and report.previous_id is None
    assert "before it" in report.message


def test_reordered_events_are_detected(audit: AuditService, audit_db: Engine) -> None:
    ids = _record_some(audit, 6)
    a, b = ids[1], ids[4]
    swap = """
        UPDATE audit_events t SET occurred_at = s.occurred_at, user_id = s.user_id,
            workstation = s.workstation, patient_id = s.patient_id, action = s.action,
            object_type = s.object_type, object_id = s.object_id, details = s.details
            {hashes}
        FROM audit_events s
        WHERE (t.id, s.id) IN ((:a, :b), (:b, :a))
    """
    with superuser(audit_db) as conn:
        conn.execute(text(swap.format(
            hashes=", prev_hash = s.prev_hash, hash = s.hash")), {"a": a, "b": b})
        report = AuditService(conn).verify()
    assert (report.problem, report.event_id, report.other_id) == ("reordered", a, b)
    assert "reordered" in report.message
    with superuser(audit_db) as conn:
        conn.execute(text(swap.format(hashes="")), {"a": a, "b": b})
        report = AuditService(conn).verify()
    assert not report.ok and report.event_id == a


def test_an_event_inserted_with_triggers_off_is_detected(audit: AuditService,
                                                         audit_db: Engine) -> None:
    _record_some(audit, 2)
    with superuser(audit_db) as conn:
        new_id = conn.execute(insert(AuditEvent).values(action="chart.open")
                              .returning(AuditEvent.id)).scalar_one()
        report = AuditService(conn).verify()
    assert (report.problem, report.event_id) == ("altered", new_id)


# ------------------------------------------------------------------ the app role


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'x'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
])
def test_the_app_role_cannot_change_the_audit_trail(audit: AuditService, audit_db: Engine,
                                                    statement: str) -> None:
    _record_some(audit, 1)
    with superuser(audit_db) as conn:  # triggers off: only the grants stand in the way
        conn.execute(text("SET LOCAL ROLE dra_app"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text(statement))


def test_the_app_role_appends_only_within_a_session_and_never_writes_accounts(
        audit_db: Engine) -> None:
    with audit_db.connect() as conn:
        conn.begin()
        conn.execute(text("SET LOCAL ROLE dra_app"))
        with pytest.raises(ProgrammingError, match="no signed-in session"):
            AuditService(conn).record("chart.open", patient_id=5)
        conn.rollback()
    for statement in ("INSERT INTO users (username, display_name) VALUES ('x1', 'X')",
                      "UPDATE users SET display_name = 'Role Check 2'",
                      "DELETE FROM alembic_version"):
        with audit_db.connect() as conn:
            conn.begin()
            conn.execute(text("SET LOCAL ROLE dra_app"))
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(statement))
            conn.rollback()
    assert AuditService(audit_db).verify().ok


# ------------------------------------------------------------------ the report


def test_report_lists_who_accessed_a_patient(audit: AuditService, audit_db: Engine) -> None:
    patient = 900_000 + uuid.uuid4().int % 100_000
    with audit_db.begin() as conn:
        doctor = conn.execute(insert(User).values(
            username=f"dr{uuid.uuid4().hex[:8]}", display_name="Dr Ada Byron")
            .returning(User.id)).scalar_one()
    audit.record("chart.open", user_id=doctor, workstation="exam-2", patient_id=patient,
                 object_type="patient", object_id=str(patient))
    audit.record("note.read", user_id=doctor, workstation="exam-2", patient_id=patient,
                 object_type="note", object_id="n-1")
    audit.record("chart.open", user_id=424242, patient_id=patient)
    audit.record("chart.open", user_id=doctor, patient_id=patient + 1)
    entries = audit.report_for_patient(patient)
    assert [(e.user_name, e.workstation, e.action, e.object_type, e.object_id)
            for e in entries] == [
        ("Dr Ada Byron", "exam-2", "chart.open", "patient", str(patient)),
        ("Dr Ada Byron", "exam-2", "note.read", "note", "n-1"),
        ("", "", "chart.open", "", ""),
    ]
    assert entries[2].user_id == 424242
    assert entries[0].occurred_at <= entries[1].occurred_at


# ------------------------------------------------------------------ the CLI


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_audit_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["audit", *argv])


def _settings_for(settings: Settings, backend: Backend, engine: Engine) -> Settings:
    """The CLI on that database: the app's login, and its owner for migrations."""
    app_url = backend.engine.url.set(database=engine.url.database)
    return settings.model_copy(update={
        "postgres_url": app_url.render_as_string(hide_password=False),
        "postgres_admin_url": engine.url.render_as_string(hide_password=False)})


def test_cli_verify_and_report(backend: Backend, settings: Settings,
                               capsys: pytest.CaptureFixture[str]) -> None:
    with fresh_database(backend) as engine:
        service = AuditService(engine)
        ids = _record_some(service, 3, patient_id=77)
        cli_settings = _settings_for(settings, backend, engine)

        assert run_audit_command(_args("verify"), cli_settings) == 0
        assert "audit chain intact: 3 events" in capsys.readouterr().out

        assert run_audit_command(_args("report", "--patient", "77"), cli_settings) == 0
        out = capsys.readouterr().out
        assert out.count("chart.open") == 3 and "3 events" in out

        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            conn.execute(text("UPDATE audit_events SET workstation = 'elsewhere'"
                              " WHERE id = :id"), {"id": ids[1]})
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        assert run_audit_command(_args("verify"), cli_settings) == 1
        assert f"broken at event {ids[1]}: the event was altered" in capsys.readouterr().out


# ------------------------------------------------------------------ anchors outside


def _recompute_from(conn: Connection, first_id: int) -> None:
    """What a rogue superuser does after rewriting an event: recompute every hash from it
    on, so that the chain is whole again."""
    rows = conn.execute(text(
        "SELECT id FROM audit_events WHERE id >= :i ORDER BY id"), {"i": first_id}).all()
    for (event_id,) in rows:
        conn.execute(text("""
            UPDATE audit_events e SET prev_hash = p.hash,
                   hash = sha256(p.hash || audit_event_canonical(e))
              FROM (SELECT hash FROM audit_events WHERE id < :i ORDER BY id DESC LIMIT 1) p
             WHERE e.id = :i"""), {"i": event_id})


@pytest.fixture
def anchors(audit_db: Engine, tmp_path: Path) -> AuditAnchors:
    from backend_client.stores.objects import LocalObjectStore

    return AuditAnchors(audit_db, LocalObjectStore(tmp_path / "objects"),
                        tmp_path / "audit-anchors")


def test_cutting_off_the_newest_events_passes_the_chain_but_not_the_anchor(
        audit: AuditService, audit_db: Engine, anchors: AuditAnchors) -> None:
    ids = _record_some(audit, 6)
    written = anchors.write()
    assert written is not None and written.last_id == ids[-1]
    assert anchors.write() is None  # nothing new to anchor
    assert {a.where for a in anchors.anchors()} == {"object store", "data folder"}
    with superuser(audit_db) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id >= :i"), {"i": ids[-2]})
        assert AuditService(conn).verify().ok  # the chain alone cannot tell
        check = AuditAnchors(conn, anchors.objects, anchors.local_dir).check()
    assert not check.ok
    assert f"event {ids[-1]} is missing" in check.message
    assert "removed from the end of the trail" in check.message


def test_rewriting_history_and_recomputing_the_chain_is_caught_by_the_anchor(
        audit: AuditService, audit_db: Engine, anchors: AuditAnchors) -> None:
    ids = _record_some(audit, 6)
    anchors.write()
    with superuser(audit_db) as conn:
        conn.execute(text("UPDATE audit_events SET workstation = 'nowhere' WHERE id = :i"),
                     {"i": ids[1]})
        _recompute_from(conn, ids[1])
        assert AuditService(conn).verify().ok  # whole again, as far as the chain goes
        check = AuditAnchors(conn, anchors.objects, anchors.local_dir).check()
    assert not check.ok and "was rewritten up to it" in check.message
    # Untouched, the same anchors agree.
    assert anchors.check().ok


def test_an_anchor_in_either_place_is_enough(audit: AuditService, audit_db: Engine,
                                            anchors: AuditAnchors, tmp_path: Path) -> None:
    ids = _record_some(audit, 3)
    anchors.write()
    for info in list(anchors.objects.list(f"audit/anchors/{anchors.chain_id()}/")):
        anchors.objects.delete(info.key)  # someone with the object store's keys
    with superuser(audit_db) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[-1]})
        check = AuditAnchors(conn, anchors.objects, anchors.local_dir).check()
    assert not check.ok and "data folder" in check.message


def test_cli_verify_catches_a_truncated_trail(backend: Backend, settings: Settings,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with fresh_database(backend) as engine:
        service = AuditService(engine)
        ids = _record_some(service, 4)
        cli_settings = _settings_for(settings, backend, engine)
        assert run_audit_command(_args("verify"), cli_settings) == 0  # and anchors it
        assert "anchor" in capsys.readouterr().out
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": ids[-1]})
        assert run_audit_command(_args("verify"), cli_settings) == 1
        out = capsys.readouterr().out
        assert f"tampered with: event {ids[-1]} is missing" in out
