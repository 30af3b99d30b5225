"""AccountService: one account per person, with roles and a password the database checks.

The operator's tool (``dr-assistant-admin user``, the demo seed): it needs the schema
owner's engine, because the app's own login may neither write accounts nor read their
credentials (migration 0007). Signing in is ``SignInService``, through the database.
Every method opens its own unit of work, so it may be called from any pool thread. Nothing
here logs a password or a key; usernames are not PHI but are still kept out of logs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend_client.accounts.passwords import PasswordHashing, PasswordPolicy
from backend_client.errors import NotFound, ValidationError
from backend_client.stores.postgres.models import Provider, Role, User, UserRole
from backend_client.uow import unit_of_work

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"[a-z0-9._-]{2,64}")
MAX_DISPLAY_NAME = 200
MAX_EMAIL = 254


@dataclass(frozen=True)
class UserSummary:
    """An account as the app and the admin CLI see it: never its password hash."""

    id: int
    username: str
    display_name: str
    email: str
    roles: tuple[str, ...]
    is_active: bool


# Demo accounts, one per role. The passwords are public (README) and pass the policy;
# they exist for the demo seed only.
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    # username, role, display name, password
    ("doctor", "doctor", "Demo Doctor", "quiet harbour morning 41"),
    ("nurse", "nurse", "Demo Nurse", "violet lantern river 27"),
    ("reception", "receptionist", "Demo Receptionist", "copper kettle meadow 58"),
    ("admin", "admin", "Demo Administrator", "silent orchard compass 63"),
    ("transcription", "transcriptionist", "Demo Transcriptionist", "amber willow ledger 35"),
)


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


class AccountService:
    """Args:
        engine: the Engine, or in tests a Connection inside an outer transaction.
        policy: the rules for new passwords.
        hashing: argon2id parameters; tests may pass cheaper ones.
    """

    def __init__(self, engine: Engine | Connection, *, policy: PasswordPolicy | None = None,
                 hashing: PasswordHashing | None = None) -> None:
        self.engine = engine
        self.policy = policy or PasswordPolicy()
        self.hashing = hashing or PasswordHashing()

    # ------------------------------------------------------------------ reads

    def list_users(self) -> list[UserSummary]:
        with unit_of_work(self.engine) as uow:
            users = uow.session.execute(select(*_PUBLIC).order_by(User.username)).all()
            roles = _roles_by_user(uow.session, [u.id for u in users])
            return [_summary(u, roles.get(u.id, ())) for u in users]

    def get(self, username: str) -> UserSummary:
        with unit_of_work(self.engine) as uow:
            user = _user(uow.session, normalise_username(username))
            return _summary(user, _roles_by_user(uow.session, [user.id]).get(user.id, ()))

    # ------------------------------------------------------------------ writes

    def add_user(self, username: str, display_name: str, password: str,
                 roles: list[str] | tuple[str, ...], email: str = "") -> UserSummary:
        name = normalise_username(username)
        display = (display_name or "").strip()
        mail = (email or "").strip()
        wanted = sorted({r.strip().lower() for r in roles if r.strip()})
        errors: dict[str, str] = {}
        if not USERNAME_RE.fullmatch(name):
            errors["username"] = ("Use 2 to 64 characters: lower-case letters, digits, "
                                  "dots, hyphens or underscores.")
        if not display:
            errors["display_name"] = "Enter the person's name as it should be shown."
        elif len(display) > MAX_DISPLAY_NAME or not display.isprintable():
            errors["display_name"] = (f"Use at most {MAX_DISPLAY_NAME} characters and no "
                                      "control characters.")
        if mail and (len(mail) > MAX_EMAIL or not re.fullmatch(r"[^@\s]+@[^@\s]+", mail)):
            errors["email"] = "Enter an e-mail address such as name@clinic.example, or nothing."
        if not wanted:
            errors["roles"] = "Give the account at least one role."
        reason = self.policy.problem(password, name)
        if reason is not None:
            errors["password"] = reason
        with unit_of_work(self.engine) as uow:
            s = uow.session
            role_ids = dict(s.execute(select(Role.name, Role.id)
                                      .where(Role.name.in_(wanted))).all())
            unknown = [r for r in wanted if r not in role_ids]
            if unknown:
                known = ", ".join(s.execute(select(Role.name).order_by(Role.name)).scalars())
                errors["roles"] = (f"There is no role {', '.join(unknown)}; "
                                   f"the roles are {known}.")
            if "username" not in errors and s.execute(
                    select(User.id).where(User.username == name)).first() is not None:
                errors["username"] = "That username is taken; choose another."
            if errors:
                raise ValidationError.of(errors)
            cred = self.hashing.credential(password)
            try:
                uid = s.execute(insert(User).values(
                    username=name, display_name=display, email=mail or None,
                    auth_salt=cred.salt, auth_params=cred.params, auth_key=cred.key,
                    is_active=True,
                ).returning(User.id)).scalar_one()
                s.execute(insert(UserRole), [{"user_id": uid, "role_id": role_ids[r]}
                                             for r in wanted])
                uow.commit()
            except IntegrityError:
                # Someone added the same username between our check and our insert.
                raise ValidationError("username", "That username is taken; choose another.") \
                    from None
            log.info("account added id=%s", uid)
            return _summary(_user(s, name), tuple(wanted))

    def set_password(self, username: str, new_password: str) -> UserSummary:
        name = normalise_username(username)
        self.policy.check(new_password, name)
        with unit_of_work(self.engine) as uow:
            user = _user(uow.session, name)
            cred = self.hashing.credential(new_password)
            uow.session.execute(
                update(User).where(User.id == user.id)
                .values(auth_salt=cred.salt, auth_params=cred.params, auth_key=cred.key,
                        updated_at=func.now(), version=User.version + 1)
                .execution_options(synchronize_session=False))
            uow.commit()
            log.info("password changed id=%s", user.id)
            return self._reload(uow.session, name)

    def disable(self, username: str) -> UserSummary:
        return self._set_active(username, False)

    def enable(self, username: str) -> UserSummary:
        return self._set_active(username, True)

    def _set_active(self, username: str, active: bool) -> UserSummary:
        name = normalise_username(username)
        with unit_of_work(self.engine) as uow:
            user = _user(uow.session, name)
            uow.session.execute(
                update(User).where(User.id == user.id)
                .values(is_active=active, updated_at=func.now(),
                        version=User.version + 1)
                .execution_options(synchronize_session=False))
            uow.commit()
            log.info("account %s id=%s", "enabled" if active else "disabled", user.id)
            return self._reload(uow.session, name)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _reload(s: Session, name: str) -> UserSummary:
        s.expire_all()
        user = _user(s, name)
        return _summary(user, _roles_by_user(s, [user.id]).get(user.id, ()))


def signable_accounts(engine: Engine | Connection) -> int:
    """How many active accounts have a password (anyone who could sign in)."""
    with unit_of_work(engine) as uow:
        return len(uow.session.execute(
            select(User.id).where(User.is_active, User.auth_key.is_not(None))
            .limit(1000)).all())


def ensure_demo_accounts(engine: Engine | Connection) -> list[tuple[str, str, str]]:
    """Create the demo account of each role that does not exist yet.

    Returns:
        (username, role, password) for each account created by this call; an account that
        already existed is left as it is (its password may have been changed) and omitted.
    """
    service = AccountService(engine)
    existing = {u.username for u in service.list_users()}
    created: list[tuple[str, str, str]] = []
    for username, role, display, password in DEMO_ACCOUNTS:
        if username not in existing:
            user = service.add_user(username, display, password, [role])
            created.append((username, role, password))
            if role == "doctor":
                _be_a_provider(engine, user.id)
    return created


def _be_a_provider(engine: Engine | Connection, user_id: int) -> None:
    """The demo doctor sees their own day: they are the demo clinic's first provider
    without an account, in the day sheet's order (the first column), and their
    appointments, check-ins and presence are theirs."""
    with unit_of_work(engine) as uow:
        first = uow.session.execute(
            select(Provider.id).where(Provider.user_id.is_(None), Provider.is_active)
            .order_by(Provider.family_name, Provider.given_name, Provider.id)
            .limit(1)).scalar_one_or_none()
        if first is not None:
            uow.session.execute(update(Provider).where(Provider.id == first)
                                .values(user_id=user_id))
            uow.commit()


# Everything but the credential.
_PUBLIC = (User.id, User.username, User.display_name, User.email, User.is_active)


def _user(s: Session, name: str) -> Any:
    user = s.execute(select(*_PUBLIC).where(User.username == name)).one_or_none()
    if user is None:
        raise NotFound("There is no account with that username.")
    return user


def _roles_by_user(s: Session, user_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not user_ids:
        return {}
    out: dict[int, list[str]] = {}
    for uid, role in s.execute(select(UserRole.user_id, Role.name)
                               .join(Role, Role.id == UserRole.role_id)
                               .where(UserRole.user_id.in_(user_ids))
                               .order_by(UserRole.user_id, Role.name)):
        out.setdefault(uid, []).append(role)
    return {uid: tuple(roles) for uid, roles in out.items()}


def _summary(user: Any, roles: tuple[str, ...]) -> UserSummary:
    return UserSummary(id=user.id, username=user.username, display_name=user.display_name,
                       email=user.email or "", roles=roles, is_active=user.is_active)
