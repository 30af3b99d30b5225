"""Role-based permissions, as data: the matrix lives in ``role_permissions`` (migration 0004
and later), and this module names the permissions and reads a user's. The services check
them through ``backend_client.accounts.access``."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, select

from backend_client.stores.postgres.models import Role, RolePermission, UserRole
from backend_client.uow import unit_of_work

# permission → (what it allows, in words for a refusal sentence; roles that have it)
MATRIX: dict[str, tuple[str, tuple[str, ...]]] = {
    "patient.search": ("find patients", ("doctor", "nurse", "receptionist", "resident")),
    # A transcriptionist sees who a dictation is about (the worklist's captions).
    "patient.demographics.read": ("see patient details",
                                  ("doctor", "nurse", "receptionist", "resident",
                                   "transcriptionist")),
    "patient.demographics.write": ("register or edit patients",
                                   ("doctor", "nurse", "receptionist")),
    "appointment.manage": ("book, move or check in appointments",
                           ("doctor", "nurse", "receptionist")),
    "chart.open": ("open a patient's clinical chart", ("doctor", "nurse", "resident")),
    "note.read": ("read clinical notes", ("doctor", "nurse", "resident")),
    "note.write": ("write clinical notes", ("doctor", "nurse", "resident")),
    # A resident's signature waits for a co-signature (migration 0012's trigger).
    "note.sign": ("sign clinical notes", ("doctor", "resident")),
    "note.cosign": ("co-sign a trainee's notes", ("doctor",)),
    "recording.create": ("dictate", ("doctor",)),
    "recording.read": ("listen to recordings",
                       ("doctor", "nurse", "resident", "transcriptionist")),
    "transcript.read": ("read transcripts", ("doctor", "nurse", "resident")),
    "prescription.read": ("see prescriptions", ("doctor", "nurse", "resident")),
    "prescription.write": ("prescribe", ("doctor",)),
    "order.write": ("place orders", ("doctor",)),
    "alert.write": ("record allergies and warnings", ("doctor", "nurse")),
    "problem.write": ("change a patient's problem list", ("doctor", "nurse")),
    "medication.write": ("change a patient's medication list", ("doctor", "nurse")),
    "task.manage": ("manage tasks", ("doctor", "nurse", "receptionist")),
    "chart.break_glass": ("open a chart outside your usual access, giving a reason",
                          ("doctor", "nurse")),
    "patient.restrict": ("restrict or unrestrict a patient's record", ("doctor",)),
    "user.manage": ("manage user accounts", ("admin",)),
    "session.revoke": ("end other people's sessions", ("admin",)),
    "audit.report": ("see the audit report", ("admin",)),
}
# "resident": a doctor in training (migration 0012); "transcriptionist": types dictations
# (migration 0013).
ROLES = ("doctor", "nurse", "receptionist", "admin", "resident", "transcriptionist")


def matrix_rows() -> list[tuple[str, str]]:
    """(role, permission) rows for the ``role_permissions`` table."""
    return [(role, perm) for perm, (_, roles) in MATRIX.items() for role in roles]


class Authorizer:
    """A user's permissions, from their roles, as stored in ``role_permissions``. The
    check itself (and the audited refusal) is ``SessionAccess.require``, made against the
    permissions resolved here when the session starts."""

    def __init__(self, engine: Engine | Connection) -> None:
        self.engine = engine

    def permissions(self, user_id: int) -> frozenset[str]:
        with unit_of_work(self.engine) as uow:
            rows = uow.session.execute(
                select(RolePermission.permission)
                .join(Role, Role.id == RolePermission.role_id)
                .join(UserRole, UserRole.role_id == Role.id)
                .where(UserRole.user_id == user_id)).scalars().all()
        return frozenset(rows)
