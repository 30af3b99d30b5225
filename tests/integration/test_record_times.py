"""Times of record are the database's: whatever a workstation's login sends, an audit event
is dated when the database wrote it and an update when the database made it. Everything
here goes through ``backend.engine``, the app's own login that every workstation holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from backend_client.audit import AuditService
from backend_client.backend import Backend


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


def test_created_and_updated_at_are_the_databases_time_whatever_the_client_sends(
        backend: Backend) -> None:
    """Each statement in its own transaction (now() differs), from any client: the schema
    owner's here, since the app's login may not write accounts at all."""
    name = f"t{uuid.uuid4().hex[:10]}"
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with backend.owner_engine.begin() as conn:
        began = conn.execute(text("SELECT now()")).scalar_one()
        row = conn.execute(text(
            "INSERT INTO users (username, display_name, created_at, updated_at) "
            "VALUES (:u, 'Time Tester', :t, :t) RETURNING id, created_at, updated_at"),
            {"u": name, "t": long_ago}).one()
    assert row.created_at == row.updated_at == began
    with backend.owner_engine.begin() as conn:
        # Backdating the creation is ignored; hiding a change behind the old updated_at too.
        conn.execute(text("UPDATE users SET display_name = 'Changed', created_at = :t, "
                          "updated_at = :old WHERE id = :i"),
                     {"t": long_ago, "old": row.updated_at, "i": row.id})
        now = conn.execute(text("SELECT now()")).scalar_one()
    with backend.owner_engine.connect() as conn:
        after = conn.execute(text("SELECT created_at, updated_at FROM users WHERE id = :i"),
                             {"i": row.id}).one()
    assert after.created_at == row.created_at
    assert after.updated_at == now > row.updated_at
    with backend.owner_engine.begin() as conn:
        # An update that does not name updated_at leaves it alone.
        conn.execute(text("UPDATE users SET email = 'x@clinic.example' WHERE id = :i"),
                     {"i": row.id})
        conn.execute(text("UPDATE users SET is_active = false WHERE id = :i"), {"i": row.id})
    with backend.owner_engine.connect() as conn:
        assert conn.execute(text("SELECT updated_at FROM users WHERE id = :i"),
                            {"i": row.id}).scalar_one() == now


def test_every_table_with_created_or_updated_at_has_its_trigger(db: Connection) -> None:
    missing = db.execute(text(
        "SELECT c.table_name || '.' || c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables tb ON tb.table_schema = c.table_schema "
        "  AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() "
        "AND c.column_name IN ('created_at', 'updated_at') "
        "AND NOT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class k ON k.oid = t.tgrelid "
        "  JOIN pg_proc p ON p.oid = t.tgfoid "
        "  WHERE k.relname = c.table_name AND p.proname = 'stamp_' || c.column_name "
        "  AND NOT t.tgisinternal)")).scalars().all()
    assert missing == []
