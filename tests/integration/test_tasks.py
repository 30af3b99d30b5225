"""Tasks through the service on the app's own login: given to a person or to a role, each
person's inbox (due first) and its count, done with who and when from the database,
cancelled with a reason, stale versions named, and the assignee told at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend_client.chart.dto import TaskDraft
from backend_client.errors import Conflict, IllegalTransition, ValidationError
from tests.integration.test_orders import Ward, ward

__all__ = ["ward"]


def test_a_task_for_a_person_is_in_their_inbox_and_they_are_told(ward: Ward) -> None:
    doctor = ward.tasks("doctor")
    item = doctor.create_task(TaskDraft(title="Call back about results",
                                        patient_id=ward.patient,
                                        assignee_user_id=ward.users["nurse"]))
    assert item.assignee_label == ward.names["nurse"]
    assert item.stamp.recorded_by == ward.names["doctor"]
    assert item.patient_label.startswith(f"{ward.patient_name} · 12 Mar 1984 · MRN ")
    nurse = ward.tasks("nurse")
    assert [t.id for t in nurse.inbox()] == [item.id]
    assert nurse.open_count() == 1
    assert doctor.inbox() == () and doctor.open_count() == 0
    assert [(e.kind, e.id, e.action, e.notify_user_id) for e in ward.events.events] == [
        ("task", item.id, "created", ward.users["nurse"])]


def test_a_task_for_a_role_reaches_everyone_with_it_and_no_one_else(ward: Ward) -> None:
    item = ward.tasks("reception").create_task(TaskDraft(
        title="Restock the dressing trolley", assignee_role="nurse"))
    assert item.assignee_label == "All nurses"
    assert [t.id for t in ward.tasks("nurse").inbox()] == [item.id]
    assert ward.tasks("doctor").inbox() == ()
    # Nobody in particular to notify: every nurse's workstation refetches on the event.
    assert ward.events.events[-1].notify_user_id is None


def test_the_inbox_puts_the_soonest_due_first_and_undated_last(ward: Ward) -> None:
    now = ward.db_now()
    service = ward.tasks("doctor")
    me = ward.users["doctor"]
    later = service.create_task(TaskDraft(title="Later", assignee_user_id=me,
                                          due_at=now + timedelta(days=2)))
    undated = service.create_task(TaskDraft(title="Whenever", assignee_user_id=me))
    overdue = service.create_task(TaskDraft(title="Overdue", assignee_role="doctor",
                                            due_at=now - timedelta(hours=3)))
    soon = service.create_task(TaskDraft(title="Soon", assignee_user_id=me,
                                         due_at=now + timedelta(hours=1), priority="urgent"))
    assert [t.id for t in service.inbox()] == [overdue.id, soon.id, later.id, undated.id]
    assert service.open_count() == 4


def test_done_records_who_and_when_from_the_database(ward: Ward) -> None:
    task = ward.tasks("doctor").create_task(TaskDraft(title="Check INR",
                                                      assignee_role="nurse"))
    before = ward.db_now()
    done = ward.tasks("nurse").complete_task(task.id, task.version)
    after = ward.db_now()
    assert done.status == "done" and not done.open
    assert done.done_by == ward.names["nurse"]
    assert done.done_at is not None and before <= done.done_at <= after
    assert ward.tasks("nurse").inbox() == ()
    history = {t.id: t.status for t in ward.tasks("nurse").inbox(include_done=True)}
    assert history[task.id] == "done"
    assert ward.tasks("nurse").open_count() == 0
    with pytest.raises(IllegalTransition, match="already done"):
        ward.tasks("nurse").cancel_task(done.id, done.version, "oops")


def test_cancelling_needs_a_reason(ward: Ward) -> None:
    service = ward.tasks("doctor")
    task = service.create_task(TaskDraft(title="Fax letter",
                                         assignee_user_id=ward.users["reception"]))
    with pytest.raises(ValidationError) as caught:
        service.cancel_task(task.id, task.version, " ")
    assert caught.value.errors == {"reason": "Say why the task is cancelled."}
    cancelled = service.cancel_task(task.id, task.version, "Sent by post instead")
    assert cancelled.status == "cancelled"
    assert ward.tasks("reception").open_count() == 0
    assert ward.events.events[-1].notify_user_id == ward.users["reception"]


def test_every_wrong_field_of_a_task_is_named(ward: Ward) -> None:
    with pytest.raises(ValidationError) as caught:
        ward.tasks("doctor").create_task(TaskDraft(
            title="", assignee_user_id=ward.users["nurse"], assignee_role="nurse",
            priority="asap"))
    assert caught.value.errors == {
        "title": "Say what is to be done.",
        "priority": "Choose a priority: low, normal, high, urgent.",
        "assignee": "Give the task to one person or to one role."}
    with pytest.raises(ValidationError) as caught:
        ward.tasks("doctor").create_task(TaskDraft(title="x"))
    assert caught.value.errors == {"assignee": "Say who is to do it: a person or a role."}
    with pytest.raises(ValidationError, match="no role called 'porter'"):
        ward.tasks("doctor").create_task(TaskDraft(title="x", assignee_role="porter"))


def test_reassigning_tells_both_people(ward: Ward) -> None:
    service = ward.tasks("doctor")
    task = service.create_task(TaskDraft(title="Review bloods",
                                         assignee_user_id=ward.users["doctor"]))
    moved = service.update_task(task.id, task.version, TaskDraft(
        title="Review bloods today", assignee_user_id=ward.users["locum"]))
    assert moved.draft.title == "Review bloods today" and moved.version == task.version + 1
    assert {e.notify_user_id for e in ward.events.events[-2:]} == {
        ward.users["doctor"], ward.users["locum"]}
    assert service.inbox() == ()
    assert [t.id for t in ward.tasks("locum").inbox()] == [task.id]


def test_a_stale_version_names_who_changed_the_task(ward: Ward) -> None:
    task = ward.tasks("doctor").create_task(TaskDraft(title="Phone pharmacy",
                                                      assignee_role="nurse"))
    ward.tasks("nurse").complete_task(task.id, task.version)
    with pytest.raises(Conflict) as caught:
        ward.tasks("doctor").cancel_task(task.id, task.version, "Not needed")
    assert caught.value.changed_by == ward.names["nurse"]


def test_assignees_are_active_people_and_the_roles_that_see_tasks(ward: Ward) -> None:
    ward.owner("UPDATE users SET is_active = false WHERE id = :i", i=ward.users["locum"])
    assignees = ward.tasks("nurse").assignees()
    people = {a.user_id: a.label for a in assignees if a.user_id is not None}
    assert people[ward.users["doctor"]] == ward.names["doctor"]
    assert ward.users["locum"] not in people          # inactive
    assert ward.users["admin"] not in people          # administrators do not see tasks
    roles = [(a.role, a.label) for a in assignees if a.user_id is None]
    assert roles == [("doctor", "All doctors"), ("nurse", "All nurses"),
                     ("receptionist", "All receptionists")]


def test_a_patients_tasks_open_first(ward: Ward) -> None:
    service = ward.tasks("doctor")
    first = service.create_task(TaskDraft(title="One", patient_id=ward.patient,
                                          assignee_role="nurse"))
    second = service.create_task(TaskDraft(title="Two", patient_id=ward.patient,
                                           assignee_role="nurse"))
    service.complete_task(first.id, first.version)
    assert [t.id for t in service.patient_tasks(ward.patient)] == [second.id, first.id]
