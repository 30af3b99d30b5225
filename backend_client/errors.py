"""Errors every layer understands.

Each carries a sentence a clinician (or an administrator, for configuration) can read.
Messages never contain PHI or secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
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


class Clash(DraError):
    """The provider already has an appointment then: the sentence names it ("Dr Demo is
    already booked 09:40–09:55 with Müller, Anna (Consultation)"). The database refuses
    the overlap (ex_appointments_provider_overlap); nothing is written."""

    def __init__(self, message: str, appointment_id: int | None = None) -> None:
        super().__init__(message)
        self.appointment_id = appointment_id


class NeedsOverride(DraError):
    """The booking or move is possible but has warnings (``BookingWarning``s): the same
    patient booked elsewhere then, outside working hours, in the past. Nothing is
    written; calling again with an ``override_reason`` books it, reason recorded."""

    def __init__(self, message: str, warnings: tuple[object, ...]) -> None:
        super().__init__(message)
        self.warnings = warnings


class IllegalTransition(DraError):
    """The status change is not allowed from where the appointment is, e.g. "An
    appointment that was cancelled cannot be marked arrived"."""


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


# What a store's connection error means, as the end of a sentence. Each store module hands
# over the error's text (never shown as it is: it may be long, technical or, for some
# libraries, carry the URL); the first pattern found wins, so the specific ones come first.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("certificate verify failed", "certificate_verify_failed", "self-signed certificate",
      "self signed certificate", "unable to get local issuer"),
     "its certificate is not signed by {ca}"),
    (("hostname mismatch", "does not match host name", "doesn't match", "ip address mismatch",
      "not valid for"),
     "its certificate is for another host name"),
    (("alert unknown ca", "alert bad certificate", "certificate unknown",
      "alert_unknown_ca", "alert_bad_certificate"),
     "it does not accept this computer's client certificate"),
    (("certificate required", "did not return a certificate", "requires a valid client "
      "certificate", "no certificate returned", "peer did not return"),
     "it asks for a client certificate{cert}"),
    (("server does not support ssl", "wrong version number", "wrong_version_number",
      "unknown protocol", "packet length too long", "record layer failure", "http request"),
     "it does not offer TLS there (check the port, and that the server has TLS on)"),
    (("no pg_hba.conf entry",), "it does not accept this computer's connection{encryption}"),
    (("password authentication failed", "authentication failed", "invalid username-password",
      "wrongpass", "noauth", "authentication required", "invalidaccesskeyid",
      "signaturedoesnotmatch", "invalid password", "auth failed", "access denied",
      "forbidden"),
     "the user name or password{in_url} was refused"),
    (("db index is out of range",), "it has no such database number{in_url}"),
    (("connection refused", "errno 111", "econnrefused", "actively refused"),
     "connection refused (is the server running?)"),
    (("name or service not known", "nodename nor servname", "temporary failure in name "
      "resolution", "could not translate host name", "getaddrinfo failed",
      "no address associated", "name resolution"),
     "the host name is unknown"),
    (("no route to host", "network is unreachable"), "the network cannot reach it"),
    (("too many clients", "too many connections", "max number of clients"),
     "it has too many connections open"),
    (("starting up", "shutting down", "loading the dataset", "in recovery mode"),
     "it is starting up or shutting down"),
    (("timed out", "timeout", "did not answer"),
     "no answer within the {timeout} timeout (server frozen or network down)"),
    (("connection reset", "closed the connection", "broken pipe", "connection aborted",
      "unexpected eof", "connection closed", "eof occurred"),
     "it closed the connection{maybe_cert}"),
    (("permission denied",), "permission denied"),
    (("no such file",), "the folder is missing"),
)


@dataclass(frozen=True)
class StoreLabels:
    """How a store's connection is named in a sentence.

    Attributes:
        location: ``host:port``, never credentials.
        timeout: the limit the connection was given, in seconds.
        url_setting: the setting holding its URL (and password); None on the local stack,
            whose passwords nobody types.
        ca_setting: the CA file setting, when one is set.
        missing_cert_setting: the client certificate setting, when it is not set (a server
            that asks for a certificate is then told apart from one that refused it).
    """

    location: str
    timeout: float | None = None
    url_setting: str | None = None
    ca_setting: str | None = None
    missing_cert_setting: str | None = None


def connection_reason(text: str, labels: StoreLabels) -> str | None:
    """Why a store could not be used, as the end of a sentence ("connection refused (is
    the server running?)"), or None when the text is not a connection problem we know.

    The settings named are the ones an administrator would change: the URL holding the
    password, the CA file the server's certificate was checked against.
    """
    lowered = text.lower()
    for needles, reason in _REASONS:
        if any(n in lowered for n in needles):
            timeout = f"{labels.timeout:g} s " if labels.timeout else ""
            return reason.format(
                ca=(f"the CA in {labels.ca_setting}" if labels.ca_setting
                    else "a CA this computer trusts"),
                cert=(f" ({labels.missing_cert_setting} is not set)"
                      if labels.missing_cert_setting else ""),
                in_url=f" in {labels.url_setting}" if labels.url_setting else "",
                timeout=timeout.rstrip(),
                encryption=" without TLS" if "no encryption" in lowered else "",
                # A TLS server that wants a client certificate often just hangs up.
                maybe_cert=(f" (perhaps it asks for a client certificate: "
                            f"{labels.missing_cert_setting} is not set)"
                            if labels.missing_cert_setting and labels.ca_setting else ""),
            ).replace("the  timeout", "the timeout")
    return None


def first_line(text: str, *, secrets: tuple[str, ...] = (), limit: int = 160) -> str:
    """The first line of an error text, shortened, with any secret in it blanked out: the
    last resort of a sentence when :func:`connection_reason` does not know the error."""
    line = (text.strip().splitlines() or [""])[0].strip().rstrip(".")
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line if len(line) <= limit else line[: limit - 1] + "…"


class NoteConflict(Conflict):
    """Someone else saved the note since this author's revision. ``merge`` is a
    ``backend_client.notes.dto.MergeResult``: sections only one side changed are merged,
    sections both changed are left for the user (theirs / yours)."""

    def __init__(self, message: str, merge: object, changed_by: str = "") -> None:
        super().__init__(message, None, changed_by)
        self.merge = merge


class DeviceProblem(DraError):
    """The microphone cannot be used (none, taken away, refused) or the recording cannot be
    written (disk full): the sentence says which and what was kept. Never loses what was
    already written."""
