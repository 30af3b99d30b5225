"""The attack suite for orders, prescriptions and tasks: someone with the app's PostgreSQL
login (what every workstation holds) and a live session's token writes SQL directly,
around the services. Signing as someone else, dating or attributing a signature, changing
a signed prescription, deleting anything, writing without a session and forging who did a
task must all fail or be overwritten by the database's own values."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from backend_client.chart.dto import OrderDraft, PrescriptionDraft, TaskDraft
from tests.integration.test_orders import Ward, ward

__all__ = ["ward"]


def _draft(ward: Ward) -> int:
    item = ward.orders("doctor").create_prescription(ward.patient, PrescriptionDraft(
        drug="Metformin", strength="500", unit="mg", frequency="bd", duration_days=28))
    return item.id


def _signed(ward: Ward) -> int:
    rx = _draft(ward)
    service = ward.orders("doctor")
    version = service.prescriptions(ward.patient)[0].version
    service.sign_prescription(rx, version)
    return rx


def _state(ward: Ward, rx: int) -> tuple[object, ...]:
    return tuple(ward.owner("SELECT status, signed_at, signed_by, medication, dose "
                            "FROM prescriptions WHERE id = :i", i=rx)[0])


def test_another_prescribers_session_cannot_sign(ward: Ward) -> None:
    rx = _draft(ward)
    with pytest.raises(DBAPIError) as caught:
        ward.as_app("locum", "UPDATE prescriptions SET status = 'active', "
                             "signed_by = :me WHERE id = :i", i=rx, me=ward.users["doctor"])
    assert getattr(caught.value.orig, "sqlstate", None) == "DRA04"
    assert _state(ward, rx)[:3] == ("draft", None, None)


def test_moving_the_prescription_to_oneself_does_not_sign_it_for_the_prescriber(
        ward: Ward) -> None:
    """The locum may only sign what is written for them: rewriting the prescriber while
    signing makes it theirs, signed by them, never the doctor's."""
    rx = _draft(ward)
    ward.as_app("locum", "UPDATE prescriptions SET prescriber_id = :p, status = 'active', "
                         "signed_by = :doc WHERE id = :i",
                i=rx, p=ward.providers["locum"], doc=ward.users["doctor"])
    status, _, signed_by, _, _ = _state(ward, rx)
    assert (status, signed_by) == ("active", ward.users["locum"])


def test_the_signature_is_the_databases_whatever_the_client_sends(ward: Ward) -> None:
    rx = _draft(ward)
    before = ward.db_now()
    ward.as_app("doctor", "UPDATE prescriptions SET status = 'active', "
                          "signed_at = '2001-01-01', signed_by = :other WHERE id = :i",
                i=rx, other=ward.users["locum"])
    status, signed_at, signed_by, _, _ = _state(ward, rx)
    assert status == "active" and signed_by == ward.users["doctor"]
    assert isinstance(signed_at, type(before)) and signed_at >= before


def test_a_prescription_cannot_be_inserted_signed_nor_a_draft_carry_a_signature(
        ward: Ward) -> None:
    insert = ("INSERT INTO prescriptions (patient_id, prescriber_id, medication, dose, "
              "frequency, starts_on, status, signed_at, signed_by) VALUES (:p, :pr, 'X', "
              "'1', 'od', current_date, :s, now(), :u) RETURNING id")
    params = {"p": ward.patient, "pr": ward.providers["doctor"], "u": ward.users["doctor"]}
    with pytest.raises(DBAPIError, match="saved as a draft"):
        ward.as_app("doctor", insert, s="active", **params)
    rx = ward.as_app("doctor", insert, s="draft", **params)[0][0]
    assert _state(ward, rx)[:3] == ("draft", None, None)
    # Nor can a draft be given a signature without being signed.
    ward.as_app("doctor", "UPDATE prescriptions SET signed_at = now(), signed_by = :u "
                          "WHERE id = :i", i=rx, u=ward.users["doctor"])
    assert _state(ward, rx)[:3] == ("draft", None, None)


@pytest.mark.parametrize("assignment", [
    "medication = 'Insulin'", "dose = '10'", "prescriber_id = prescriber_id + 0 + 1",
    "patient_id = patient_id + 1", "signed_at = signed_at - interval '1 hour'",
    "signed_by = NULL", "status = 'draft'", "stop_reason = 'edited'",
])
def test_a_signed_prescription_cannot_be_altered(ward: Ward, assignment: str) -> None:
    rx = _signed(ward)
    before = _state(ward, rx)
    with pytest.raises(DBAPIError):
        ward.as_app("doctor", f"UPDATE prescriptions SET {assignment} WHERE id = :i", i=rx)
    assert _state(ward, rx) == before


@pytest.mark.parametrize("table", ["orders", "prescriptions", "tasks"])
def test_nothing_can_be_deleted_or_truncated(ward: Ward, table: str) -> None:
    ward.orders("doctor").place_order(ward.patient, OrderDraft(kind="lab",
                                                               description="FBC"))
    _draft(ward)
    ward.tasks("doctor").create_task(TaskDraft(title="x", assignee_role="nurse"))
    for sql in (f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
        with pytest.raises(DBAPIError, match="permission denied"):
            ward.as_app("doctor", sql)
    assert ward.owner(f"SELECT count(*) FROM {table}")[0][0] > 0


@pytest.mark.parametrize("sql", [
    "INSERT INTO tasks (title, assignee_role) VALUES ('x', 'nurse')",
    "INSERT INTO orders (patient_id, ordered_by, kind, description) "
    "VALUES (:p, :pr, 'lab', 'x')",
    "INSERT INTO prescriptions (patient_id, prescriber_id, medication, dose, frequency, "
    "starts_on) VALUES (:p, :pr, 'X', '1', 'od', current_date)",
])
def test_nothing_is_written_without_a_session(ward: Ward, sql: str) -> None:
    with pytest.raises(DBAPIError):
        ward.as_app(None, sql, p=ward.patient, pr=ward.providers["doctor"])


def test_without_a_session_nothing_is_read_or_changed(ward: Ward) -> None:
    rx = _draft(ward)
    assert ward.as_app(None, "SELECT id FROM prescriptions") == []
    assert ward.as_app(None, "SELECT id FROM tasks") == []
    ward.as_app(None, "UPDATE prescriptions SET status = 'active' WHERE id = :i", i=rx)
    assert _state(ward, rx)[0] == "draft"


def test_reception_reads_no_prescription_and_a_nurse_cannot_sign_one(ward: Ward) -> None:
    rx = _draft(ward)
    assert ward.as_app("reception", "SELECT id FROM prescriptions WHERE id = :i",
                       i=rx) == []
    ward.as_app("nurse", "UPDATE prescriptions SET status = 'active' WHERE id = :i", i=rx)
    assert _state(ward, rx)[0] == "draft"
    with pytest.raises(DBAPIError):
        ward.as_app("nurse", "INSERT INTO prescriptions (patient_id, prescriber_id, "
                             "medication, dose, frequency, starts_on) VALUES "
                             "(:p, :pr, 'X', '1', 'od', current_date)",
                    p=ward.patient, pr=ward.providers["doctor"])


def test_who_did_a_task_and_when_cannot_be_forged(ward: Ward) -> None:
    task = ward.tasks("doctor").create_task(TaskDraft(title="Dress wound",
                                                      assignee_role="nurse"))
    before = ward.db_now()
    ward.as_app("reception", "UPDATE tasks SET status = 'done', done_by = :n, "
                             "done_at = '2001-01-01' WHERE id = :i",
                i=task.id, n=ward.users["nurse"])
    done_by, done_at = ward.owner("SELECT done_by, done_at FROM tasks WHERE id = :i",
                                  i=task.id)[0]
    assert done_by == ward.users["reception"] and done_at >= before
    # Once done, who did it stays; and nothing else about the task changes.
    ward.as_app("nurse", "UPDATE tasks SET done_by = :n, done_at = now() WHERE id = :i",
                i=task.id, n=ward.users["nurse"])
    assert ward.owner("SELECT done_by, done_at FROM tasks WHERE id = :i",
                      i=task.id)[0] == (done_by, done_at)
    with pytest.raises(DBAPIError, match="cannot be changed"):
        ward.as_app("nurse", "UPDATE tasks SET title = 'z' WHERE id = :i", i=task.id)
    # An open task cannot be given a done_by either.
    other = ward.tasks("doctor").create_task(TaskDraft(title="y", assignee_role="nurse"))
    ward.as_app("nurse", "UPDATE tasks SET done_by = :n, done_at = now() WHERE id = :i",
                i=other.id, n=ward.users["doctor"])
    assert ward.owner("SELECT done_by, done_at FROM tasks WHERE id = :i",
                      i=other.id)[0] == (None, None)


def test_a_task_cannot_be_inserted_done_or_without_exactly_one_assignee(ward: Ward) -> None:
    with pytest.raises(DBAPIError, match="a new task is open"):
        ward.as_app("nurse", "INSERT INTO tasks (title, assignee_role, status, done_at) "
                             "VALUES ('x', 'nurse', 'done', now())")
    for values in ("('x', NULL, NULL)", "('x', :u, 'nurse')"):
        with pytest.raises(DBAPIError, match="one_assignee"):
            ward.as_app("nurse", "INSERT INTO tasks (title, assignee_id, assignee_role) "
                                 f"VALUES {values}", u=ward.users["doctor"])


def test_a_writes_author_is_the_session_whatever_is_sent(ward: Ward) -> None:
    rx = ward.as_app("doctor", "INSERT INTO orders (patient_id, ordered_by, kind, "
                               "description, created_by, updated_by) VALUES "
                               "(:p, :pr, 'lab', 'x', :o, :o) RETURNING id",
                     p=ward.patient, pr=ward.providers["doctor"], o=ward.users["locum"])[0][0]
    assert ward.owner("SELECT created_by, updated_by FROM orders WHERE id = :i",
                      i=rx)[0] == (ward.users["doctor"], ward.users["doctor"])
    events = ward.owner("SELECT user_id FROM audit_events WHERE object_type = 'orders' "
                        "AND object_id = :i", i=str(rx))
    assert [e[0] for e in events] == [ward.users["doctor"]]
