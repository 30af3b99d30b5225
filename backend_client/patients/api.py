"""What the patient registry offers the app. ``PatientService`` implements it against
PostgreSQL; presenter tests use a fake with the same methods."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from backend_client.dto import (
    ClinicLocale,
    DuplicateCandidate,
    PatientDraft,
    PatientRecord,
    SearchPage,
)

PAGE_SIZE = 50


class PatientsApi(Protocol):
    """Every method checks the signed-in user's permission first and raises
    ``PermissionDenied`` (audited), ``WorkstationLocked`` or ``SessionEnded`` when they may
    not act now."""

    def search(self, text: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> SearchPage:
        """Ranked matches for what was typed in the one search box (names in any order,
        prefixes from 2 letters, previous names, misspellings and sound-alikes, other
        spellings of a name, names typed joined or without a space, initials and years of
        birth that narrow a name, date of birth in common written forms, MRN exactly, a
        phone number in any format or by its last 7+ digits). Empty or too-short text
        gives an empty page. Raises ``Unavailable`` when PostgreSQL cannot be reached.
        Each row's ``score`` and ``tier`` say how well it matched, ``matched_on`` why.

        Among equally good matches, who is at the desk comes first: patients with an
        appointment today at this clinic (not cancelled, not a no-show), then those seen
        in the last 90 days (a completed appointment, or an encounter where the role may
        read them), the most recent first, then by name and patient id; a better match
        always comes before a worse one. "Today" is the service's date (the workstation's
        local day). Each row's ``appointment_today`` is the next such appointment still
        to come today, or the last one if all have begun (see ``patients/desk.py``)."""
        ...

    def clinic_locale(self) -> ClinicLocale:
        """The clinic's phone country and date order (issue 13): the register form reads
        a date like 12.03.1984 as ``register`` will, and shows the reading in words."""
        ...

    def get(self, patient_id: int, *, break_glass_reason: str | None = None) -> PatientRecord:
        """The patient's record (opening it is audited); ``NotFound`` if there is none.
        A restricted chart the user does not normally see raises ``PermissionDenied`` with
        ``break_glass=True``; calling again with a reason opens it, flagged and audited."""
        ...

    def refetch(self, patient_id: int) -> PatientRecord:
        """The record again for a view that already shows it (after a change elsewhere, a
        reconnect, or to start an edit from what is saved now): as ``get`` — permission,
        restriction, row security — without auditing a second open."""
        ...

    def find_duplicates(self, draft: PatientDraft, *,
                        exclude_id: int | None = None) -> list[DuplicateCandidate]:
        """Existing patients likely to be the same person: same or sound-alike name with the
        same date of birth, or the same identifier."""
        ...

    def register(self, draft: PatientDraft, *,
                 allow_duplicates: bool = False) -> PatientRecord:
        """Validate and save a new patient. ``ValidationError`` (with ``errors`` per field)
        for bad input; ``PossibleDuplicate`` (with ``candidates``) when likely duplicates
        exist and ``allow_duplicates`` is false. An MRN is assigned if none is given."""
        ...

    def update(self, patient_id: int, expected_version: int,
               draft: PatientDraft) -> PatientRecord:
        """Save edited demographics. ``Conflict`` (saying who changed it, carrying the
        current version) when someone saved in between; nothing is written then."""
        ...

    def mark_deceased(self, patient_id: int, expected_version: int,
                      deceased_at: date, *, source: str = "") -> PatientRecord:
        """``source``: where the news comes from, a key of ``DEATH_SOURCES`` (kept in the
        audit event; issue 11 added it, optional for older callers)."""
        ...

    def set_restricted(self, patient_id: int, restricted: bool) -> PatientRecord:
        """Restrict a record, or lift the restriction (``patient.restrict``; audited)."""
        ...
