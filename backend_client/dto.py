"""Frozen data-transfer objects: what services return and the UI renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# More apart than this and the status bar warns: times typed or recorded at a workstation
# (a dictation's start, a booking made "now") would be that far off in the record.
CLOCK_SKEW_WARN_SECONDS = 120.0

STORES: tuple[str, ...] = ("postgres", "mongo", "redis", "objects")
STORE_LABELS = {"postgres": "PostgreSQL", "mongo": "MongoDB", "redis": "Redis",
                "objects": "Object storage"}


@dataclass(frozen=True)
class ClockReading:
    """This workstation's clock against a store's, read at one moment.

    Attributes:
        store: whose clock ("postgres", "redis").
        workstation: this computer's clock half way through the round trip.
        store_time: the store's clock as it answered.
        uncertainty_s: half the round trip: the reading is good to within this.
    """

    store: str
    workstation: datetime
    store_time: datetime
    uncertainty_s: float

    @property
    def offset_s(self) -> float:
        """Seconds the store is ahead of this workstation (negative: behind)."""
        return (self.store_time - self.workstation).total_seconds()

    @property
    def store_label(self) -> str:
        return STORE_LABELS.get(self.store, self.store)

    @property
    def skewed(self) -> bool:
        """Apart by more than the limit, even allowing for the round trip."""
        return abs(self.offset_s) - self.uncertainty_s > CLOCK_SKEW_WARN_SECONDS

    def difference(self) -> str:
        """This computer against the store: "0.2 s ahead", "3 min 5 s behind",
        "2 days 0 h ahead"."""
        off = self.offset_s
        word = "behind" if off > 0 else "ahead"
        if abs(off) < 60:
            return f"{abs(off):.1f} s {word}"
        return f"{_duration(abs(off))} {word}"

    def sentence(self) -> str:
        label = self.store_label
        mine = _moment(self.workstation)
        theirs = _moment(self.store_time)
        if not self.skewed:
            return (f"This computer's clock agrees with {label}'s (it is "
                    f"{self.difference()}; this computer {mine}, {label} {theirs}).")
        return (f"This computer's clock is {self.difference()} {label}'s: this computer "
                f"says {mine}, {label} says {theirs}. Times taken here (when a dictation "
                "started, a booking made for now) would be wrong by as much; ask whoever "
                "looks after this computer to set its clock.")


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _moment(at: datetime) -> str:
    # In this computer's time zone, as the person at it reads a clock.
    return at.astimezone().strftime("%d %b %Y %H:%M:%S")


@dataclass(frozen=True)
class StoreHealth:
    """One store's health as last checked; PostgreSQL's carries its clock reading."""

    store: str
    ok: bool
    version: str
    round_trip_ms: float | None
    location: str
    error: str = ""
    clock: ClockReading | None = None

    @property
    def label(self) -> str:
        return STORE_LABELS[self.store]

    def sentence(self) -> str:
        if self.ok:
            return (f"{self.label} is reachable at {self.location} ({self.version}, "
                    f"{self.round_trip_ms or 0:.1f} ms round trip).")
        return f"{self.label} is not reachable at {self.location}: {self.error}"


# --------------------------------------------------------------------------- patients

SEX_CHOICES: tuple[tuple[str, str], ...] = (
    ("female", "Female"), ("male", "Male"), ("other", "Other"), ("unknown", "Unknown"),
)
IDENTIFIER_KIND_CHOICES: tuple[tuple[str, str], ...] = (
    ("MRN", "Medical record number"), ("INSURANCE", "Insurance number"),
    ("NATIONAL_ID", "National ID"), ("OTHER", "Other"),
)


@dataclass(frozen=True)
class ClinicLocale:
    """How the clinic writes numbers and dates (issue 13), from its settings
    (``backend_client/clinic.py``): every workstation reads and writes them alike.

    Attributes:
        phone_region: two-letter country ("US", "GB"): a number typed without "+" and a
            country code is of this country, and its numbers are shown in its national
            format (others in international format).
        day_first: 12.03.1984 is 12 March (True) or 3 December (False), in the register
            form and in search alike.
    """

    phone_region: str = "US"
    day_first: bool = True


@dataclass(frozen=True)
class Identifier:
    kind: str          # one of IDENTIFIER_KIND_CHOICES
    value: str
    issuer: str = ""


@dataclass(frozen=True)
class Contact:
    name: str
    relationship: str = ""
    phone: str = ""
    email: str = ""
    is_emergency: bool = True


@dataclass(frozen=True)
class PreviousName:
    given_name: str
    family_name: str


@dataclass(frozen=True)
class PatientDraft:
    """What the register/edit form submits. Validated by the service, field by field.

    ``birth_date`` may be the text the user typed ("31/02/1980", "12 Mar 1980"): the service
    parses it in the common written forms and says why it is impossible or in the future.
    """

    given_name: str
    family_name: str
    birth_date: date | str | None
    sex: str
    middle_name: str = ""
    preferred_name: str = ""
    gender_identity: str = ""
    phone: str = ""
    email: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    language: str = ""
    identifiers: tuple[Identifier, ...] = ()
    emergency_contact: Contact | None = None
    previous_names: tuple[PreviousName, ...] = ()


@dataclass(frozen=True)
class AlertSummary:
    kind: str        # allergy, clinical, infection, other
    severity: str    # low, moderate, high
    description: str


@dataclass(frozen=True)
class PatientSummary:
    """One search result row."""

    id: int
    given_name: str
    family_name: str
    middle_name: str
    birth_date: date
    sex: str
    mrn: str
    phone: str
    deceased: bool
    matched_on: str = ""   # e.g. "previous name", "sounds like", "date of birth"
    # The patient's next appointment today at this clinic (not cancelled), if any: the
    # desk sees it in the row, and it ranks the patient first among equal matches.
    appointment_today: datetime | None = None
    # How well it matched (issue 13), so the ranking can be seen and tested: ``score`` sums
    # each typed word's match (16 whole word, 14 another spelling, 12 prefix or initial,
    # 8 one edit, 4 sounds alike; one less for a part, middle or previous name; higher is
    # better); ``tier`` names the weakest: "exact", "other spelling", "prefix", "similar
    # spelling", "sounds alike", or what found the patient without a name ("phone",
    # "identifier", "date of birth"). Results are ordered by score, then as desk.py says.
    score: int = 0
    tier: str = ""

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}" + (
            f" {self.middle_name}" if self.middle_name else "")


@dataclass(frozen=True)
class PatientRecord:
    """A whole patient: for the edit dialog and the patient header."""

    id: int
    version: int
    draft: PatientDraft
    mrn: str
    deceased_at: date | None
    alerts: tuple[AlertSummary, ...]
    updated_at: datetime
    updated_by: str          # display name of who last changed it ("" if unknown)
    restricted: bool = False
    # False when the reader's role sees demographics only (reception): ``alerts`` is then
    # empty because it was withheld, not because the patient has none.
    clinical: bool = True

    def age(self, today: date) -> int:
        born = self.draft.birth_date
        assert isinstance(born, date)
        end = self.deceased_at or today
        return end.year - born.year - ((end.month, end.day) < (born.month, born.day))


# Where the news of a death comes from (issue 11: recording a death names its source).
# Codes only, so the audit trail can hold one without holding anything about the patient.
DEATH_SOURCES = {
    "certificate": "Death certificate",
    "hospital": "Hospital or hospice notification",
    "coroner": "Coroner or medical examiner",
    "clinician": "Another clinician",
    "family": "Family member or next of kin",
    "registry": "Civil registry",
}


@dataclass(frozen=True)
class DuplicateCandidate:
    patient: PatientSummary
    reasons: tuple[str, ...]   # e.g. ("same name and date of birth",)


@dataclass(frozen=True)
class SearchPage:
    query: str
    offset: int
    items: tuple[PatientSummary, ...]
    has_more: bool


@dataclass(frozen=True)
class Changes:
    """What a write changed; views decide whether to reload."""

    patients: frozenset[int] = frozenset()
    appointments: frozenset[int] = frozenset()


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Actor:
    """The person signed in at this workstation, as every service call sees them.

    ``permissions`` are resolved from the roles when the session starts (the database
    checks them again on every statement); ``user_id`` is None only for the system actor
    of admin tools (seed, benchmarks), never in the app.

    ``token`` is the session's bearer secret: the database knows only its hash, and every
    transaction the app opens names it. ``draft_key`` (derived from the password at sign-in)
    encrypts the person's kept forms. Neither is ever shown, logged or compared.
    """

    user_id: int | None
    username: str
    display_name: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    session_id: str
    workstation: str
    started_at: datetime
    expires_at: datetime
    token: str = field(default="", repr=False, compare=False)
    draft_key: bytes = field(default=b"", repr=False, compare=False)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


SESSION_STATES = ("active", "locked", "revoked", "expired", "ended")


@dataclass(frozen=True)
class SessionInfo:
    """A session as an administrator lists it (no secrets in it)."""

    session_id: str
    user_id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    workstation: str
    started_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    state: str  # one of SESSION_STATES


@dataclass(frozen=True)
class SavedDraft:
    """Unsaved work kept for its author: a form's content when the workstation changed
    hands, offered back at their next sign-in."""

    draft_id: str
    kind: str  # "patient.register" | "patient.edit"
    title: str  # shown in the restore offer, e.g. "Edit patient M0000042"
    saved_at: datetime
    reason: str  # why it was kept, as a sentence
    payload: dict[str, object]
    key: str = ""  # the form it came from: keeping it again replaces this draft


@dataclass(frozen=True)
class BreakGlassEntry:
    """One chart opened by breaking the glass: who, when, where, which patient, why."""

    event_id: int
    occurred_at: datetime
    user_id: int | None
    user_name: str
    workstation: str
    patient_id: int
    reason: str
    # Whose chart, as the reader may see it (issue 13): "Family, Given" and the MRN, or
    # None when the reader's role does not include patient records (the database's
    # row-level security decides, so nothing the reader may not see leaves it).
    patient_name: str | None = None
    patient_mrn: str | None = None


@dataclass(frozen=True)
class DraftToKeep:
    """A form's unsaved content, collected by the window before the workstation changes
    hands (kept for its author by the sign-in service)."""

    kind: str
    title: str
    payload: dict[str, Any]
    key: str = ""


# --------------------------------------------------------------------------- scheduling

# The database's status names (appointments.status) and what the desk calls them.
APPOINTMENT_STATUS_LABELS = {
    "booked": "Booked",
    "checked_in": "Arrived",
    "in_progress": "In room",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}
# Legal moves of the status flow (the database refuses the others too, migration 0009).
APPOINTMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "booked": ("checked_in", "cancelled", "no_show"),
    "checked_in": ("in_progress", "booked", "cancelled", "no_show"),  # booked: undo arrival
    "in_progress": ("completed",),
    "completed": (),
    "cancelled": (),
    "no_show": (),
}
LIVE_APPOINTMENT_STATUSES = ("booked", "checked_in", "in_progress", "completed")


@dataclass(frozen=True)
class ProviderInfo:
    """A bookable clinician, as the schedule shows them."""

    id: int
    display_name: str          # "Dr Anna Demo"
    specialty: str
    user_id: int | None        # the provider's own account, if they have one


@dataclass(frozen=True)
class AppointmentTypeInfo:
    id: int
    name: str
    default_minutes: int
    colour: str                # "#1976d2"


@dataclass(frozen=True)
class WorkingPeriod:
    """Time a provider can be booked on one day (their hours minus their breaks)."""

    provider_id: int
    starts_at: datetime        # aware
    ends_at: datetime


@dataclass(frozen=True)
class AppointmentInfo:
    """One appointment as the schedule shows it. Times are aware (UTC from the database;
    the UI shows them in the workstation's zone)."""

    id: int
    version: int
    provider_id: int
    patient_id: int
    patient_name: str          # "Müller, Anna"
    patient_mrn: str
    patient_birth_date: date | None
    type_id: int | None
    type_name: str
    colour: str
    starts_at: datetime
    ends_at: datetime
    status: str                # key of APPOINTMENT_STATUS_LABELS
    reason: str
    series_id: int | None = None
    cancel_reason: str = ""
    override_reason: str = ""  # why a warning was overridden when it was booked/moved
    updated_at: datetime | None = None
    updated_by: str = ""

    @property
    def status_label(self) -> str:
        return APPOINTMENT_STATUS_LABELS.get(self.status, self.status)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class DaySheet:
    """A day's schedule for some providers (the desk's main screen, a week view's day).

    ``stamp`` identifies the data's version (the cache's key); two sheets with the same
    stamp are the same."""

    day: date
    providers: tuple[ProviderInfo, ...]
    working: tuple[WorkingPeriod, ...]
    appointments: tuple[AppointmentInfo, ...]
    stamp: str = ""


RECURRENCE_FREQUENCIES = ("daily", "weekly", "monthly_date", "monthly_weekday")


@dataclass(frozen=True)
class Recurrence:
    """How a series repeats: every ``interval`` days/weeks/months, ``count`` times or
    until ``until`` (one of the two). monthly_date: the same day of the month;
    monthly_weekday: the same weekday and week of the month ("2nd Tuesday")."""

    frequency: str
    interval: int = 1
    count: int | None = None
    until: date | None = None


@dataclass(frozen=True)
class BookingRequest:
    provider_id: int
    patient_id: int
    starts_at: datetime
    ends_at: datetime
    type_id: int | None = None
    reason: str = ""
    recurrence: Recurrence | None = None
    # Given when the user chose to book despite the warnings (BookingWarning): why.
    override_reason: str = ""


WARNING_CODES = ("patient_elsewhere", "outside_hours", "in_past")


@dataclass(frozen=True)
class BookingWarning:
    """Something the desk may override with a reason, e.g. "Anna Müller is already booked
    with Dr Demo 09:40–09:55 that day"."""

    code: str                  # one of WARNING_CODES
    sentence: str
    starts_at: datetime | None = None   # which occurrence, for a series


@dataclass(frozen=True)
class BookingResult:
    appointments: tuple[AppointmentInfo, ...]
    changes: Changes
    skipped: tuple[str, ...] = ()   # occurrences of a series not booked, each a sentence


@dataclass(frozen=True)
class WaitlistEntry:
    id: int
    version: int
    patient_id: int
    patient_name: str
    provider_id: int | None          # None: any provider
    type_id: int | None
    minutes: int
    earliest: date
    latest: date | None
    part_of_day: str                 # "any" | "morning" | "afternoon"
    note: str
    created_at: datetime


@dataclass(frozen=True)
class SlotOffer:
    """A freed slot and the waitlist entries that fit it, best first."""

    provider_id: int
    starts_at: datetime
    ends_at: datetime
    entries: tuple[WaitlistEntry, ...]


PRESENCE_STATES = ("available", "with_patient", "away", "signed_out")


@dataclass(frozen=True)
class PresenceInfo:
    """Who is signed in where (from Redis heartbeats; gone when they stop)."""

    user_id: int
    display_name: str
    workstation: str
    state: str                       # one of PRESENCE_STATES
    since: datetime | None = None    # Redis's clock
    provider_id: int | None = None
