"""``TasksService``: tasks for a person or for everyone with a role, and each person's
inbox. Implements ``TasksApi`` (api.py).

The database keeps (migration 0011): exactly one of a person and a role; a new task is
open; ``done_at``/``done_by`` are its clock and the session's person when a task becomes
done, whatever the client sends; a task that is done or cancelled stays as it was. Each
write tells the assignee's workstation at once (a "task" change event with
``notify_user_id``), so its inbox count moves without polling.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend_client.accounts.access import Access
from backend_client.chart.dto import TASK_PRIORITIES, Assignee, TaskDraft, TaskItem
from backend_client.chart.orders import ChartWrites, required_reason, stamp_of
from backend_client.dto import Actor
from backend_client.errors import IllegalTransition, NotFound, ValidationError
from backend_client.scheduling.booking import local_zone
from backend_client.stores.postgres.models import (
    Patient,
    PatientIdentifier,
    Role,
    RolePermission,
    Task,
    User,
    UserRole,
)
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher

if TYPE_CHECKING:
    from backend_client.backend import Backend

# Roles a task can go to are those whose people may see tasks at all.
TASK_PERMISSION = "task.manage"
ROLE_PLURALS = {"doctor": "doctors", "nurse": "nurses", "receptionist": "receptionists",
                "admin": "administrators"}
_PRIORITY_ORDER = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Task.priority,
                       else_=4)
_CREATOR, _UPDATER, _ASSIGNEE, _DONE = (aliased(User) for _ in range(4))
_MRN = aliased(PatientIdentifier)


def role_label(role: str) -> str:
    return f"All {ROLE_PLURALS.get(role, role + 's')}"


class TasksService(ChartWrites):
    """Args:
        engine: the app's Engine (or a test's Connection in an outer transaction).
        access: who is acting.
        publisher: where change events go after each commit.
        tz: the workstation's zone (times in sentences and patient labels' dates).
    """

    def __init__(self, engine: Engine | Connection, access: Access, *,
                 publisher: ChangePublisher | None = None, tz: tzinfo | None = None) -> None:
        self.engine = engine
        self.access = access
        self.publisher = publisher or NullPublisher()
        self.tz = tz or local_zone()

    # ------------------------------------------------------------------ reads

    def assignees(self) -> tuple[Assignee, ...]:
        actor = self.access.require(TASK_PERMISSION)
        with self._work(actor) as uow:
            s = uow.session
            roles = s.execute(
                select(Role.name).join(RolePermission, RolePermission.role_id == Role.id)
                .where(RolePermission.permission == TASK_PERMISSION).order_by(Role.name)
            ).scalars().all()
            people = s.execute(
                select(User.id, User.display_name).join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id).where(User.is_active,
                                                               Role.name.in_(roles))
                .distinct().order_by(User.display_name, User.id)).all()
        return (*(Assignee(user_id=i, role="", label=name) for i, name in people),
                *(Assignee(user_id=None, role=r, label=role_label(r)) for r in roles))

    def _mine(self, actor: Actor) -> Any:
        # The system actor has no user id: it is nobody's inbox (never "IS NULL").
        return or_(Task.assignee_id == (actor.user_id if actor.user_id is not None else -1),
                   Task.assignee_role.in_(actor.roles or ("",)))

    def inbox(self, *, include_done: bool = False) -> tuple[TaskItem, ...]:
        actor = self.access.require(TASK_PERMISSION)
        where = self._mine(actor)
        if not include_done:
            where = and_(where, Task.status == "open")
        with self._work(actor) as uow:
            return tuple(self._items(uow.session, where))

    def open_count(self) -> int:
        actor = self.access.require(TASK_PERMISSION)
        with self._work(actor) as uow:
            return int(uow.session.execute(select(func.count()).select_from(Task).where(
                self._mine(actor), Task.status == "open")).scalar_one())

    def patient_tasks(self, patient_id: int) -> tuple[TaskItem, ...]:
        actor = self.access.require(TASK_PERMISSION, patient_id=patient_id)
        with self._work(actor) as uow:
            return tuple(self._items(uow.session, Task.patient_id == patient_id))

    def _items(self, s: Session, where: Any) -> list[TaskItem]:
        rows = s.execute(
            select(Task, Patient.family_name, Patient.given_name, Patient.birth_date,
                   _MRN.value, _ASSIGNEE.display_name, _DONE.display_name,
                   _CREATOR.display_name, _UPDATER.display_name)
            .outerjoin(Patient, Patient.id == Task.patient_id)
            .outerjoin(_MRN, and_(_MRN.patient_id == Task.patient_id, _MRN.kind == "MRN"))
            .outerjoin(_ASSIGNEE, _ASSIGNEE.id == Task.assignee_id)
            .outerjoin(_DONE, _DONE.id == Task.done_by)
            .outerjoin(_CREATOR, _CREATOR.id == Task.created_by)
            .outerjoin(_UPDATER, _UPDATER.id == Task.updated_by)
            .where(where)
            # Open ones first; then due first (no due date last), most urgent first.
            .order_by((Task.status != "open"), Task.due_at.asc().nulls_last(),
                      _PRIORITY_ORDER, Task.created_at, Task.id)
            .execution_options(populate_existing=True)).all()
        items = []
        for t, family, given, born, mrn, assignee, done_by, creator, updater in rows:
            patient = ""
            if t.patient_id is not None and family is not None:
                patient = f"{family}, {given} · {born:%d %b %Y} · MRN {mrn or '—'}"
            items.append(TaskItem(
                id=t.id, version=t.version,
                draft=TaskDraft(title=t.title, details=t.details, patient_id=t.patient_id,
                                assignee_user_id=t.assignee_id,
                                assignee_role=t.assignee_role or "", due_at=t.due_at,
                                priority=t.priority),
                patient_label=patient,
                assignee_label=(assignee or "") if t.assignee_id is not None
                else role_label(t.assignee_role or ""),
                status=t.status, done_by=done_by or "", done_at=t.done_at,
                stamp=stamp_of(t, creator, updater)))
        return items

    # ------------------------------------------------------------------ writes

    def _checked(self, s: Session, draft: TaskDraft) -> dict[str, Any]:
        errors: dict[str, str] = {}
        title = " ".join(draft.title.split())
        if not title:
            errors["title"] = "Say what is to be done."
        elif len(title) > 200:
            errors["title"] = ("The title is longer than 200 characters; put the rest in "
                               "the details.")
        priority = draft.priority.strip().lower()
        if priority not in TASK_PRIORITIES:
            errors["priority"] = "Choose a priority: " + ", ".join(TASK_PRIORITIES) + "."
        role = draft.assignee_role.strip() or None
        if (draft.assignee_user_id is None) == (role is None):
            errors["assignee"] = ("Give the task to one person or to one role."
                                  if role else "Say who is to do it: a person or a role.")
        elif draft.assignee_user_id is not None:
            active = s.execute(select(User.is_active).where(User.id == draft.assignee_user_id)
                               ).scalar_one_or_none()
            if not active:
                errors["assignee"] = "That person has no active account; choose someone else."
        elif role is not None and s.execute(select(Role.id).where(Role.name == role)
                                            ).scalar_one_or_none() is None:
            errors["assignee"] = f"There is no role called {role!r}."
        if draft.patient_id is not None and s.get(Patient, draft.patient_id) is None:
            errors["patient_id"] = "There is no such patient."
        if errors:
            raise ValidationError.of(errors)
        return {"title": title, "details": draft.details.strip(),
                "patient_id": draft.patient_id, "assignee_id": draft.assignee_user_id,
                "assignee_role": role, "due_at": draft.due_at, "priority": priority}

    def _event(self, actor: Actor, item: TaskItem, action: str, notify: int | None
               ) -> ChangeEvent:
        return ChangeEvent(kind="task", id=item.id, version=item.version, action=action,
                           user_id=actor.user_id, workstation=actor.workstation,
                           notify_user_id=notify)

    def create_task(self, draft: TaskDraft) -> TaskItem:
        actor = self.access.require(TASK_PERMISSION, patient_id=draft.patient_id)
        with self._work(actor) as uow:
            s = uow.session
            row = Task(**self._checked(s, draft), status="open")
            s.add(row)
            self._flush(s)
            item = self._items(s, Task.id == row.id)[0]
            uow.announce(self._event(actor, item, "created", row.assignee_id))
            uow.commit()
        return item

    def _open_task(self, s: Session, task_id: int, version: int) -> Task:
        row = s.execute(select(Task).where(Task.id == task_id).with_for_update()
                        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"There is no task with id {task_id}.")
        self._stale(s, "task", row, version)
        if row.status != "open":
            raise IllegalTransition(f"This task is already {row.status}; it cannot be "
                                    "changed any more.")
        return row

    def update_task(self, task_id: int, version: int, draft: TaskDraft) -> TaskItem:
        actor = self.access.require(TASK_PERMISSION)
        with self._work(actor) as uow:
            s = uow.session
            row = self._open_task(s, task_id, version)
            before = row.assignee_id
            for key, value in self._checked(s, draft).items():
                setattr(row, key, value)
            self._flush(s)
            item = self._items(s, Task.id == task_id)[0]
            uow.announce(self._event(actor, item, "updated", row.assignee_id))
            if before is not None and before != row.assignee_id:
                # The person it was taken from: their inbox loses it.
                uow.announce(self._event(actor, item, "reassigned", before))
            uow.commit()
        return item

    def complete_task(self, task_id: int, version: int) -> TaskItem:
        actor = self.access.require(TASK_PERMISSION)
        with self._work(actor) as uow:
            s = uow.session
            row = self._open_task(s, task_id, version)
            row.status = "done"
            self._flush(s)
            item = self._items(s, Task.id == task_id)[0]
            uow.announce(self._event(actor, item, "done", row.assignee_id))
            uow.commit()
        return item

    def cancel_task(self, task_id: int, version: int, reason: str) -> TaskItem:
        actor = self.access.require(TASK_PERMISSION)
        text = required_reason(reason, "Say why the task is cancelled.")
        with self._work(actor) as uow:
            s = uow.session
            row = self._open_task(s, task_id, version)
            row.status, row.cancel_reason = "cancelled", text
            self._flush(s)
            item = self._items(s, Task.id == task_id)[0]
            uow.announce(self._event(actor, item, "cancelled", row.assignee_id))
            uow.commit()
        return item


def build_tasks(backend: Backend, access: Access, publisher: ChangePublisher | None, *,
                tz: tzinfo | None = None) -> TasksService:
    """The tasks service as the composition root builds it (the app's engine)."""
    return TasksService(backend.engine, access, publisher=publisher, tz=tz)
