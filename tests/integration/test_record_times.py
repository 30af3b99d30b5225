"""Times of record are the database's: whatever a workstation's login sends, an audit event
is dated when the database wrote it and an update when the database made it. Everything
here goes through ``backend.engine``, the app's own login that every workstation holds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Connection, text

from backend_client.audit import AuditService
from backend_client.dto import PatientDraft
from backend_client.patients.service import PatientService


def _clock(db: Connection) -> datetime:
    return db.execute(text("SELECT clock_timestamp()")).scalar_one()  # type: ignore[no-any-return]


def test_an_audit_event_cannot_be_backdated_by_the_app_login(db: Connection) -> None:
    before = _clock(db)
    event_id = db.execute(text(
        "INSERT INTO audit_events (occurred_at, workstation, action) "
        "VALUES (now() - interval '400 days', 'attacker', 'chart.open') RETURNING id"
    )).scalar_one()
    after = _clock(db)
    stamped = db.execute(text("SELECT occurred_at FROM audit_events WHERE id = :i"),
                         {"i": event_id}).scalar_one()
    assert before <= stamped <= after


def test_audit_events_are_in_time_order_in_the_order_they_were_written(
        db: Connection) -> None:
    audit = AuditService(db)
    ids = [audit.record("chart.open", workstation=f"desk-{i % 3}", object_type="test",
                        object_id=str(i)) for i in range(12)]
    rows = db.execute(text("SELECT id, occurred_at FROM audit_events WHERE id = ANY(:i) "
                           "ORDER BY id"), {"i": ids}).all()
    times = [r.occurred_at for r in rows]
    # Strictly increasing even inside one transaction: clock_timestamp(), not now().
    assert all(a < b for a, b in zip(times, times[1:], strict=False))


def test_updated_at_is_the_databases_time_whatever_the_client_sends(
        db: Connection, patients: PatientService) -> None:
    record = patients.register(PatientDraft(given_name="Clock", family_name="Tester",
                                       birth_date=date(1970, 5, 6), sex="female"))
    now = db.execute(text("SELECT now()")).scalar_one()
    db.execute(text("UPDATE patients SET updated_at = :t, city = 'Elsewhere' WHERE id = :i"),
               {"t": now - timedelta(days=400), "i": record.id})
    stamped = db.execute(text("SELECT updated_at FROM patients WHERE id = :i"),
                         {"i": record.id}).scalar_one()
    assert stamped == now
    # An update that does not touch updated_at (a password rehash, say) leaves it alone.
    db.execute(text("UPDATE patients SET updated_at = :t WHERE id = :i"),
               {"t": now - timedelta(days=1), "i": record.id})
    assert db.execute(text("SELECT updated_at FROM patients WHERE id = :i"),
                      {"i": record.id}).scalar_one() == now  # the time is never the client's
    db.execute(text("UPDATE patients SET updated_at = '2000-01-01' WHERE id = :i"),
               {"i": record.id})
    db.execute(text("UPDATE patients SET phone = '+1 555 0100' WHERE id = :i"),
               {"i": record.id})
    assert db.execute(text("SELECT updated_at FROM patients WHERE id = :i"),
                      {"i": record.id}).scalar_one() == now


def test_every_table_with_updated_at_has_the_trigger(db: Connection) -> None:
    missing = db.execute(text(
        "SELECT c.table_name FROM information_schema.columns c "
        "WHERE c.table_schema = current_schema() AND c.column_name = 'updated_at' "
        "AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class k ON k.oid = t.tgrelid "
        "  JOIN pg_proc p ON p.oid = t.tgfoid "
        "  WHERE k.relname = c.table_name AND p.proname = 'stamp_updated_at' "
        "  AND NOT t.tgisinternal)")).scalars().all()
    assert missing == []
