"""What scheduling offers the app. ``SchedulingService`` implements it against PostgreSQL
(with the Redis cache for day sheets); presenter tests use a fake with the same methods.

Every method checks the signed-in person's permission first (``appointment.manage`` to
write; reading the schedule needs ``appointment.manage`` or ``chart.open``) and raises
``PermissionDenied``, ``WorkstationLocked`` or ``SessionEnded`` when they may not act now,
``Unavailable`` when PostgreSQL cannot be reached. Writes publish change events after the
commit (kind "appointment", "waitlist").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Protocol

from backend_client.dto import (
    AppointmentInfo,
    AppointmentTypeInfo,
    BookingRequest,
    BookingResult,
    BookingWarning,
    DaySheet,
    ProviderInfo,
    SlotOffer,
    WaitlistEntry,
)

# Which occurrences of a series a change applies to.
Scope = Literal["one", "following"]


class SchedulingApi(Protocol):
    # ------------------------------------------------------------------ reads
    def providers(self) -> tuple[ProviderInfo, ...]:
        """Active providers, in the order the day sheet shows them (cached)."""
        ...

    def appointment_types(self) -> tuple[AppointmentTypeInfo, ...]:
        """Appointment types with default durations and colours (cached)."""
        ...

    def day_sheet(self, day: date, provider_ids: tuple[int, ...] | None = None) -> DaySheet:
        """The day (the workstation's local day) for these providers (None: all active):
        their working periods and every appointment overlapping it, cancelled and no-show
        ones included (the view decides whether to show them). Served from the cache when
        nothing in it changed since; never stale."""
        ...

    def week(self, provider_id: int, monday: date) -> tuple[DaySheet, ...]:
        """Seven day sheets, Monday first, for one provider."""
        ...

    def agenda(self, start: date, end: date,
               provider_ids: tuple[int, ...] | None = None) -> tuple[AppointmentInfo, ...]:
        """Appointments from ``start`` up to and including ``end``, in time order."""
        ...

    def get(self, appointment_id: int) -> AppointmentInfo:
        ...

    def patient_appointments(self, patient_id: int) -> tuple[AppointmentInfo, ...]:
        """The patient's appointments, upcoming first then past (newest first)."""
        ...

    # ------------------------------------------------------------------ writes
    def check(self, request: BookingRequest) -> tuple[BookingWarning, ...]:
        """The warnings booking this would give (for the dialog to show before saving);
        a clash raises ``Clash``; bad input ``ValidationError``."""
        ...

    def book(self, request: BookingRequest) -> BookingResult:
        """Book one appointment or a series. ``Clash`` names what it clashes with;
        ``NeedsOverride`` carries the warnings when there is no ``override_reason``."""
        ...

    def move(self, appointment_id: int, expected_version: int, *, provider_id: int,
             starts_at: datetime, ends_at: datetime, scope: Scope = "one",
             override_reason: str = "") -> BookingResult:
        """Move and/or resize (drag and drop, edge drag, the edit dialog). For a series,
        "following" shifts this and every later occurrence by the same amount and leaves
        the earlier ones as they were. ``Conflict`` if it changed since ``expected_version``."""
        ...

    def cancel(self, appointment_id: int, expected_version: int, reason: str, *,
               scope: Scope = "one") -> BookingResult:
        """Cancel with a reason (required); the slot is offered to the waitlist."""
        ...

    def set_status(self, appointment_id: int, expected_version: int, status: str, *,
                   reason: str = "") -> AppointmentInfo:
        """Move along the status flow (``APPOINTMENT_TRANSITIONS``); ``IllegalTransition``
        otherwise. "checked_in" opens an encounter for the provider (who then counts as
        the patient's treating clinician) and tells the provider's workstation at once."""
        ...

    # ------------------------------------------------------------------ waitlist
    def waitlist(self) -> tuple[WaitlistEntry, ...]:
        ...

    def add_to_waitlist(self, patient_id: int, *, provider_id: int | None, type_id: int | None,
                        minutes: int, earliest: date, latest: date | None,
                        part_of_day: str = "any", note: str = "") -> WaitlistEntry:
        ...

    def remove_from_waitlist(self, entry_id: int, expected_version: int,
                             reason: str = "") -> None:
        ...

    def offers(self, day: date) -> tuple[SlotOffer, ...]:
        """Free slots of ``day`` (from now on) that waitlist entries fit, with the
        entries, best first."""
        ...
