"""Errors every layer understands.

Each carries a sentence a clinician (or an administrator, for configuration) can read.
Messages never contain PHI or secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_client.dto import DuplicateCandidate


class DraError(Exception):
    """Base of every error the backend raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(DraError):
    """Bad input: says which field and why. ``errors`` holds every field's problem
    (field name → sentence) so a form can show them all at once."""

    def __init__(self, field: str, reason: str,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.errors = errors or {field: reason}

    @classmethod
    def of(cls, errors: dict[str, str]) -> ValidationError:
        field, reason = next(iter(errors.items()))
        exc = cls(field, reason, dict(errors))
        if len(errors) > 1:
            exc.message = f"{len(errors)} fields need attention: " + "; ".join(
                f"{f}: {r}" for f, r in errors.items())
        return exc


class NotFound(DraError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(DraError):
    """Someone else changed it first; carries the current version."""

    def __init__(self, message: str, current_version: int | None = None,
                 changed_by: str = "") -> None:
        super().__init__(message)
        self.current_version = current_version
        self.changed_by = changed_by


class PossibleDuplicate(DraError):
    """Registration found likely duplicates; ``candidates`` are DuplicateCandidate DTOs.
    Registering again with ``allow_duplicates=True`` is the user's "it is someone else"."""

    def __init__(self, candidates: tuple[DuplicateCandidate, ...]) -> None:
        n = len(candidates)
        super().__init__(f"{n} existing patient{'s' if n != 1 else ''} may be the same person.")
        self.candidates = candidates


class PermissionDenied(DraError):
    """The signed-in user may not do this.

    ``break_glass`` is true when the user may still proceed by giving a reason (a
    restricted chart they are not treating): the caller asks why and retries with it.
    """

    def __init__(self, message: str, *, break_glass: bool = False) -> None:
        super().__init__(message)
        self.break_glass = break_glass


class SignInFailed(DraError):
    """Wrong user name or password, or too many attempts (the sentence says until when).
    It never tells which of user name and password was wrong."""


class SessionEnded(DraError):
    """The session is over (revoked by an administrator, past its absolute limit, or
    signed out elsewhere): the user must sign in again. Nothing typed is lost; the
    sentence says why."""

    def __init__(self, message: str, *, state: str = "ended") -> None:
        super().__init__(message)
        self.state = state


class WorkstationLocked(DraError):
    """The session is locked (idle or by the user): unlock it before anything else."""


class Unavailable(DraError):
    """A store is down or unreachable; callers retry, then show a banner."""

    def __init__(self, store: str, message: str) -> None:
        super().__init__(message)
        self.store = store


class ConfigError(DraError):
    """A setting has a wrong value; the message names the setting and what is wrong."""
