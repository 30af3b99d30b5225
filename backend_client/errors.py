"""Errors every layer understands.

Each carries a sentence a clinician (or an administrator, for configuration) can read.
Messages never contain PHI or secrets.
"""

from __future__ import annotations


class DraError(Exception):
    """Base of every error the backend raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(DraError):
    """Bad input: says which field and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DraError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(DraError):
    """Someone else changed it first; carries the current version."""

    def __init__(self, message: str, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class PermissionDenied(DraError):
    """The signed-in user may not do this."""


class Unavailable(DraError):
    """A store is down or unreachable; callers retry, then show a banner."""

    def __init__(self, store: str, message: str) -> None:
        super().__init__(message)
        self.store = store


class ConfigError(DraError):
    """A setting has a wrong value; the message names the setting and what is wrong."""
