"""SQLAlchemy 2.0 typed models of everything the product keeps in PostgreSQL.

Alembic owns the schema (migrations/versions); a test compares these models with the
migrated database. Clinical rows carry who/when created and updated them and a ``version``
for optimistic locking. Timestamps are timezone-aware.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    Time,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TS = DateTime(timezone=True)
C_COLLATION = Text(collation="C")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Tracked:
    """Who and when created/updated a row, and its version for optimistic locking."""

    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    @declared_attr
    def created_by(cls) -> Mapped[int | None]:  # noqa: N805 (SQLAlchemy declared_attr)
        return mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)

    @declared_attr
    def updated_by(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(BigInteger, ForeignKey("users.id"), nullable=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


# ----------------------------------------------------------------------- settings


class ClinicSetting(Base):
    """Clinic-wide settings every workstation shares (clinic name, time zone, ...)."""

    __tablename__ = "clinic_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())


# ----------------------------------------------------------------------- people


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    # The password as the database checks it (migration 0007): argon2id salt and
    # parameters, and the SCRAM-style stored key. The app's login may read none of them.
    auth_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    auth_params: Mapped[str | None] = mapped_column(Text)
    auth_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (
        CheckConstraint("username = lower(username) AND length(username) >= 2",
                        name="username_lower"),
        CheckConstraint("(auth_key IS NULL) = (auth_salt IS NULL) AND "
                        "(auth_key IS NULL) = (auth_params IS NULL)", name="auth_complete"),
    )


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(SmallInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(200), server_default="")


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("roles.id"), primary_key=True,
                                         index=True)


class RolePermission(Base):
    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True)
    permission: Mapped[str] = mapped_column(String(80), primary_key=True)


class Provider(Tracked, Base):
    """A clinician who can be booked."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), unique=True)
    title: Mapped[str] = mapped_column(String(40), server_default="")
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    specialty: Mapped[str] = mapped_column(String(100))
    license_number: Mapped[str | None] = mapped_column(String(50))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class ProviderWorkingHours(Base):
    __tablename__ = "provider_working_hours"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO: 1 = Monday … 7 = Sunday
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        CheckConstraint("ends_at > starts_at", name="hours_order"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
                        name="validity_order"),
    )


SEXES = ("female", "male", "other", "unknown")
IDENTIFIER_KINDS = ("MRN", "INSURANCE", "NATIONAL_ID", "OTHER")
# Kinds that belong to one person per issuer: a second patient with the same number from
# the same issuer is refused by the database (an MRN is unique by itself; OTHER is free).
UNIQUE_IDENTIFIER_KINDS = ("INSURANCE", "NATIONAL_ID")


class Patient(Tracked, Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str] = mapped_column(String(100), server_default="")
    family_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str] = mapped_column(String(100), server_default="")
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))  # administrative sex
    gender_identity: Mapped[str] = mapped_column(String(60), server_default="")
    phone: Mapped[str] = mapped_column(String(40), server_default="")
    phone_digits: Mapped[str] = mapped_column(String(20), server_default="")
    # The last seven digits, kept by the database (migration 0014): search finds a number by
    # its last 7+ digits in any format. A column, not an index on right(phone_digits, 7):
    # under row-level security only leakproof conditions reach an index, and right() is not.
    phone_tail: Mapped[str] = mapped_column(
        String(7), Computed("right(phone_digits, 7)", persisted=True))
    email: Mapped[str] = mapped_column(String(254), server_default="")
    address_line1: Mapped[str] = mapped_column(String(200), server_default="")
    address_line2: Mapped[str] = mapped_column(String(200), server_default="")
    city: Mapped[str] = mapped_column(String(100), server_default="")
    region: Mapped[str] = mapped_column(String(100), server_default="")
    postal_code: Mapped[str] = mapped_column(String(20), server_default="")
    country: Mapped[str] = mapped_column(String(2), server_default="")
    language: Mapped[str] = mapped_column(String(35), server_default="")
    deceased_at: Mapped[date | None] = mapped_column(Date)
    # A restricted record (a staff member, a public figure, a sensitive case): its chart
    # opens without a reason only for the clinicians who see the patient; anyone else
    # with the right must break the glass.
    restricted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Normalised "family given" for a stable alphabetical order of search results.
    sort_name: Mapped[str] = mapped_column(C_COLLATION, server_default="")

    __table_args__ = (
        CheckConstraint(_in("sex", SEXES), name="sex_known"),
        CheckConstraint("birth_date >= DATE '1880-01-01'", name="birth_date_plausible"),
        CheckConstraint("deceased_at IS NULL OR deceased_at >= birth_date",
                        name="deceased_after_birth"),
        CheckConstraint("length(btrim(given_name)) > 0 AND length(btrim(family_name)) > 0",
                        name="names_present"),
        # With the id, a year of births is read from the index alone (search, 0014).
        Index("ix_patients_birth_date", "birth_date", "id"),
        Index("ix_patients_phone_digits", "phone_digits",
              postgresql_where=text("phone_digits <> ''")),
        Index("ix_patients_phone_tail", "phone_tail", postgresql_where=text("phone_tail <> ''")),
    )


class PatientIdentifier(Base):
    __tablename__ = "patient_identifiers"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(100), server_default="")
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("kind", IDENTIFIER_KINDS), name="kind_known"),
        CheckConstraint("length(btrim(value)) > 0", name="value_present"),
        # One MRN per clinic database identifies one patient.
        Index("uq_patient_identifiers_mrn", "value", unique=True,
              postgresql_where=text("kind = 'MRN'")),
        # An insurance or national number identifies one patient per issuer (migration
        # 0007). The issuer's case and the value's case do not make another number.
        Index("uq_patient_identifiers_issued", "kind", text("lower(btrim(issuer))"),
              text("upper(btrim(value))"), unique=True,
              postgresql_where=text(_in("kind", UNIQUE_IDENTIFIER_KINDS))),
        Index("ix_patient_identifiers_value", "value"),
    )


class PatientName(Base):
    """Previous names and aliases, searchable like the current name."""

    __tablename__ = "patient_names"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), server_default="previous")
    given_name: Mapped[str] = mapped_column(String(100), server_default="")
    family_name: Mapped[str] = mapped_column(String(100), server_default="")
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())

    __table_args__ = (CheckConstraint(_in("kind", ("previous", "alias")), name="kind_known"),)


class PatientContact(Base):
    """People to call: emergency contacts, next of kin, guardians."""

    __tablename__ = "patient_contacts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str] = mapped_column(String(60), server_default="")
    phone: Mapped[str] = mapped_column(String(40), server_default="")
    email: Mapped[str] = mapped_column(String(254), server_default="")
    is_emergency: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class PatientNameTerm(Base):
    """Search index: one row per normalised name token (current and previous names).

    ``term`` uses the C collation so a prefix is a btree range scan on vanilla PostgreSQL;
    ``sort_name`` follows it in the key so the matches of one term come out in name order
    without a sort.
    """

    __tablename__ = "patient_name_terms"

    term: Mapped[str] = mapped_column(C_COLLATION, primary_key=True)
    sort_name: Mapped[str] = mapped_column(C_COLLATION, primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    # The patient's year of birth, set by the database from the patient's row (0017):
    # whatever an INSERT says is replaced, and a changed birth date is written through.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)

    # Covering, so checking a known patient's terms is an index-only scan (search with a
    # date of birth or identifier) and the foreign key has its index. By year: "john 1963"
    # is one narrow range (the year, then the word's prefix), index only.
    __table_args__ = (Index("ix_patient_name_terms_patient", "patient_id", "term", "source"),
                      Index("ix_patient_name_terms_year", "birth_year", "term",
                            postgresql_include=["patient_id", "sort_name", "source"]))


class PatientNamePair(Base):
    """Search index for several-word queries: every ordered pair of a patient's terms, so
    "john smith" (or "smith john", or "john smi…") is one index range scan, not a join of
    every John with every Smith."""

    __tablename__ = "patient_name_pairs"

    first: Mapped[str] = mapped_column(C_COLLATION)
    second: Mapped[str] = mapped_column(C_COLLATION)
    sort_name: Mapped[str] = mapped_column(C_COLLATION)
    patient_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    penalty: Mapped[int] = mapped_column(SmallInteger)   # 0-2: non-primary sources
    previous: Mapped[bool] = mapped_column(Boolean)      # a term from a previous name

    # penalty and previous ride in the key's index, so band scans never visit the heap.
    __table_args__ = (PrimaryKeyConstraint("first", "second", "sort_name", "patient_id",
                                           postgresql_include=["penalty", "previous"]),)


class NameVariant(Base):
    """Spelling dictionary over distinct name terms: single-deletion variants and phonetic
    keys, so that a misspelt or sound-alike name finds the names it could mean."""

    __tablename__ = "name_variants"

    variant: Mapped[str] = mapped_column(C_COLLATION, primary_key=True)
    term: Mapped[str] = mapped_column(C_COLLATION, primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


# ----------------------------------------------------------------------- scheduling

APPOINTMENT_STATUSES = ("booked", "checked_in", "in_progress", "completed", "cancelled",
                        "no_show")


class AppointmentType(Base):
    __tablename__ = "appointment_types"

    id: Mapped[int] = mapped_column(SmallInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    default_minutes: Mapped[int] = mapped_column(SmallInteger)
    colour: Mapped[str] = mapped_column(String(7), server_default="#607d8b")

    __table_args__ = (CheckConstraint("default_minutes BETWEEN 5 AND 480", name="minutes_range"),)


class ProviderBreak(Base):
    """A provider's weekly break (lunch, a meeting): the day sheet shows their working
    hours minus these (migration 0009). A separate table rather than more rows of
    ``provider_working_hours``, so that a break can change without touching the hours and a
    booking in a break gets its own warning sentence."""

    __tablename__ = "provider_breaks"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("providers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO: 1 = Monday … 7 = Sunday
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(100), server_default="")

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 1 AND 7", name="weekday_iso"),
        CheckConstraint("ends_at > starts_at", name="break_order"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
                        name="validity_order"),
    )


RECURRENCE_FREQUENCIES = ("daily", "weekly", "monthly_date", "monthly_weekday")


class AppointmentSeries(Tracked, Base):
    """A recurring booking: the rule and the first occurrence. Its appointments point at it
    (``appointments.series_id``); editing "this and following" ends the series' rule where
    the edit starts and keeps the earlier occurrences and the history as they were."""

    __tablename__ = "appointment_series"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("providers.id"),
                                             index=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    appointment_type_id: Mapped[int | None] = mapped_column(
        SmallInteger, ForeignKey("appointment_types.id"))
    frequency: Mapped[str] = mapped_column(String(20))
    interval: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    count: Mapped[int | None] = mapped_column(SmallInteger)
    until: Mapped[date | None] = mapped_column(Date)
    first_starts_at: Mapped[datetime] = mapped_column(TS)
    minutes: Mapped[int] = mapped_column(SmallInteger)
    # The IANA zone of the workstation that booked it: occurrences keep their local time
    # across daylight-saving changes.
    time_zone: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint(_in("frequency", RECURRENCE_FREQUENCIES), name="frequency_known"),
        CheckConstraint('"interval" BETWEEN 1 AND 52', name="interval_range"),
        CheckConstraint("(count IS NULL) <> (until IS NULL)", name="count_or_until"),
        CheckConstraint("count IS NULL OR count BETWEEN 1 AND 500", name="count_range"),
        CheckConstraint("minutes BETWEEN 5 AND 480", name="minutes_range"),
        CheckConstraint("length(time_zone) BETWEEN 1 AND 64", name="time_zone_present"),
    )


class Appointment(Tracked, Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("providers.id"))
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"))
    appointment_type_id: Mapped[int | None] = mapped_column(
        SmallInteger, ForeignKey("appointment_types.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(TS)
    ends_at: Mapped[datetime] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(20), server_default="booked")
    reason: Mapped[str] = mapped_column(String(500), server_default="")
    # Migration 0009: the series it belongs to, why it was cancelled, why a booking
    # warning was overridden, and when the patient arrived (stamped by the database).
    series_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("appointment_series.id"), index=True)
    cancel_reason: Mapped[str] = mapped_column(String(500), server_default="")
    override_reason: Mapped[str] = mapped_column(String(500), server_default="")
    checked_in_at: Mapped[datetime | None] = mapped_column(TS)

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("ends_at <= starts_at + interval '1 day'", name="at_most_a_day"),
        CheckConstraint(_in("status", APPOINTMENT_STATUSES), name="status_known"),
        Index("ix_appointments_provider_starts", "provider_id", "starts_at"),
        Index("ix_appointments_patient_starts", "patient_id", "starts_at"),
        # The no-overlap rule lives in the migration as an EXCLUDE constraint (see 0002);
        # the status flow is a trigger (0009).
    )


PARTS_OF_DAY = ("any", "morning", "afternoon")
WAITLIST_STATUSES = ("waiting", "booked", "removed")


class WaitlistItem(Tracked, Base):
    """Someone who wants an earlier or any slot: offered freed slots that fit."""

    __tablename__ = "waitlist_entries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("providers.id"))
    appointment_type_id: Mapped[int | None] = mapped_column(
        SmallInteger, ForeignKey("appointment_types.id"))
    minutes: Mapped[int] = mapped_column(SmallInteger)
    earliest: Mapped[date] = mapped_column(Date)
    latest: Mapped[date | None] = mapped_column(Date)
    part_of_day: Mapped[str] = mapped_column(String(10), server_default="any")
    note: Mapped[str] = mapped_column(String(500), server_default="")
    status: Mapped[str] = mapped_column(String(10), server_default="waiting")
    removed_reason: Mapped[str] = mapped_column(String(500), server_default="")
    booked_appointment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("appointments.id"))

    __table_args__ = (
        CheckConstraint("minutes BETWEEN 5 AND 480", name="minutes_range"),
        CheckConstraint("latest IS NULL OR latest >= earliest", name="latest_after_earliest"),
        CheckConstraint(_in("part_of_day", PARTS_OF_DAY), name="part_of_day_known"),
        CheckConstraint(_in("status", WAITLIST_STATUSES), name="status_known"),
        Index("ix_waitlist_entries_waiting", "earliest",
              postgresql_where=text("status = 'waiting'")),
    )


class CacheVersion(Base):
    """The version of one cache scope (``appt:<provider>:<UTC date>``, ``directory``),
    bumped by triggers in the transaction that changes what it covers (migration 0009).
    Versions come from one sequence, so a scope never gets a version it had before."""

    __tablename__ = "cache_versions"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class Encounter(Tracked, Base):
    __tablename__ = "encounters"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"))
    provider_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("providers.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("appointments.id"), unique=True)
    started_at: Mapped[datetime] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    reason: Mapped[str] = mapped_column(String(500), server_default="")
    summary: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (
        CheckConstraint(_in("status", ("open", "closed", "cancelled")), name="status_known"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint("status <> 'closed' OR length(btrim(summary)) > 0",
                        name="closed_has_summary"),
        Index("ix_encounters_patient_started", "patient_id", "started_at"),
    )


# ----------------------------------------------------------------------- clinical


class Order(Tracked, Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("encounters.id"), index=True)
    ordered_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("providers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40), server_default="")
    description: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    # Migration 0011: the status flow and the freeze of what was ordered are a trigger's.
    details: Mapped[str] = mapped_column(Text, server_default="")
    discontinued_reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint(_in("kind", ("lab", "imaging", "referral", "procedure", "other")),
                        name="kind_known"),
        CheckConstraint(_in("status", ("draft", "active", "completed", "cancelled")),
                        name="status_known"),
        CheckConstraint("status <> 'cancelled' OR length(btrim(discontinued_reason)) > 0",
                        name="reason_when_cancelled"),
    )


class Prescription(Tracked, Base):
    __tablename__ = "prescriptions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("encounters.id"), index=True)
    prescriber_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("providers.id"),
                                               index=True)
    medication: Mapped[str] = mapped_column(String(200))
    dose: Mapped[str] = mapped_column(String(100))
    route: Mapped[str] = mapped_column(String(40), server_default="oral")
    frequency: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[str] = mapped_column(String(40), server_default="")
    refills: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    signed_at: Mapped[datetime | None] = mapped_column(TS)
    # Migration 0011. signed_at/signed_by are set by the database when the prescriber's
    # own session signs; after that only the status (and why it stopped) can change.
    strength: Mapped[str] = mapped_column(String(40), server_default="")
    unit: Mapped[str] = mapped_column(String(20), server_default="")
    form: Mapped[str] = mapped_column(String(40), server_default="tablet")
    duration_days: Mapped[int | None] = mapped_column(SmallInteger)
    instructions: Mapped[str] = mapped_column(String(500), server_default="")
    signed_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    stop_reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint("refills BETWEEN 0 AND 12", name="refills_range"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint(_in("status", ("draft", "active", "stopped", "completed")),
                        name="status_known"),
        # A discarded draft is stopped without having been signed.
        CheckConstraint("status IN ('draft', 'stopped') OR signed_at IS NOT NULL",
                        name="signed_unless_draft"),
        CheckConstraint("duration_days IS NULL OR duration_days BETWEEN 1 AND 365",
                        name="duration_range"),
        CheckConstraint("status <> 'stopped' OR length(btrim(stop_reason)) > 0",
                        name="reason_when_stopped"),
    )


class Task(Tracked, Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("patients.id"),
                                                   index=True)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, server_default="")
    due_at: Mapped[datetime | None] = mapped_column(TS)
    priority: Mapped[str] = mapped_column(String(10), server_default="normal")
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    # Migration 0011: a person or a role (exactly one); done_at/done_by are the database's.
    assignee_role: Mapped[str | None] = mapped_column(String(40), ForeignKey("roles.name"))
    done_at: Mapped[datetime | None] = mapped_column(TS)
    done_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint(_in("priority", ("low", "normal", "high", "urgent")),
                        name="priority_known"),
        CheckConstraint(_in("status", ("open", "done", "cancelled")), name="status_known"),
        CheckConstraint("(assignee_id IS NULL) <> (assignee_role IS NULL)",
                        name="one_assignee"),
        CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="done_when_done"),
        CheckConstraint("status <> 'cancelled' OR length(btrim(cancel_reason)) > 0",
                        name="reason_when_cancelled"),
        Index("ix_tasks_assignee_open", "assignee_id", "due_at",
              postgresql_where=text("status = 'open'")),
        Index("ix_tasks_role_open", "assignee_role", "due_at",
              postgresql_where=text("status = 'open'")),
    )


class Alert(Tracked, Base):
    """Allergies and clinical warnings shown in the patient header."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), server_default="moderate")
    description: Mapped[str] = mapped_column(String(300))
    reaction: Mapped[str] = mapped_column(String(300), server_default="")
    onset_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="active")
    retired_reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint(_in("kind", ("allergy", "clinical", "infection", "other")),
                        name="kind_known"),
        CheckConstraint(_in("severity", ("low", "moderate", "high")), name="severity_known"),
        CheckConstraint(_in("status", ("active", "inactive", "resolved")), name="status_known"),
        CheckConstraint("status = 'active' OR length(btrim(retired_reason)) > 0",
                        name="retired_needs_reason"),
    )


class Recording(Tracked, Base):
    """A dictation: the audio is a sealed object in storage, its metadata a MongoDB
    document, its transcript another. Registered ``pending`` at stop (invisible), turned
    ``uploaded`` by ``recording_delivered`` once stored (migration 0013)."""

    __tablename__ = "recordings"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("encounters.id"), index=True)
    author_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    object_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    transcript_doc_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), server_default="pending")
    note_id: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(Text, server_default="routine")
    work_type: Mapped[str] = mapped_column(Text, server_default="note")
    # Not readable by the app's login (column grants): recording_data_key() gives it out.
    data_key: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    delivered_at: Mapped[datetime | None] = mapped_column(TS)
    # sha256 of the registering workstation's delivery proof (recording_delivered checks it).
    delivery_check: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    __table_args__ = (
        CheckConstraint("size_bytes >= 0 AND duration_ms >= 0", name="sizes_non_negative"),
        CheckConstraint(_in("status", ("pending", "uploaded", "transcribing", "transcribed",
                                       "failed")), name="status_known"),
        CheckConstraint(_in("priority", ("routine", "urgent", "stat")), name="priority_known"),
        CheckConstraint(_in("work_type", ("letter", "note", "report")),
                        name="work_type_known"),
        CheckConstraint("note_id IS NULL OR note_id ~ '^[0-9a-f]{32}$'", name="note_id_hex"),
        CheckConstraint("status = 'pending' OR (object_key IS NOT NULL AND sha256 IS NOT NULL "
                        "AND size_bytes IS NOT NULL AND duration_ms IS NOT NULL AND "
                        "content_type IS NOT NULL AND data_key IS NOT NULL AND "
                        "delivered_at IS NOT NULL)", name="delivered_complete"),
        CheckConstraint("data_key IS NULL OR octet_length(data_key) = 32",
                        name="data_key_length"),
        CheckConstraint("octet_length(delivery_check) = 32", name="delivery_check_length"),
        Index("ix_recordings_worklist", "status", "priority", "created_at"),
        Index("ix_recordings_patient_created", "patient_id", "created_at"),
    )


class Document(Tracked, Base):
    """A note, letter, scan or attachment: content in MongoDB and/or object storage."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("encounters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    mongo_id: Mapped[str | None] = mapped_column(String(64))
    object_key: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    # Notes and letters (migration 0012): the head and the signed revision in MongoDB's
    # note_revisions; a signed row is frozen by the database (trigger documents_guard).
    template_id: Mapped[str | None] = mapped_column(String(100))
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    head_revision: Mapped[str | None] = mapped_column(String(32))
    revision_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    signed_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    signed_at: Mapped[datetime | None] = mapped_column(TS)
    signed_revision: Mapped[str | None] = mapped_column(String(32))
    signed_hash: Mapped[str | None] = mapped_column(String(64))
    cosign_required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    cosigned_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    cosigned_at: Mapped[datetime | None] = mapped_column(TS)
    addendum_of: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id"), index=True)

    __table_args__ = (
        CheckConstraint("status <> 'signed' OR (signed_by IS NOT NULL AND signed_at IS NOT "
                        "NULL AND signed_revision IS NOT NULL AND signed_hash IS NOT NULL)",
                        name="signed_complete"),
        CheckConstraint("(cosigned_by IS NULL) = (cosigned_at IS NULL)",
                        name="cosign_complete"),
        CheckConstraint("revision_count >= 0", name="revision_count_positive"),
        Index("ix_documents_patient_created", "patient_id", "created_at"),
        CheckConstraint(_in("kind", ("note", "letter", "scan", "attachment")),
                        name="kind_known"),
        CheckConstraint(_in("status", ("draft", "signed", "amended", "entered_in_error")),
                        name="status_known"),
        CheckConstraint("mongo_id IS NOT NULL OR object_key IS NOT NULL", name="has_content"),
    )


# ----------------------------------------------------------------------- sessions
# Private to the database's own functions (migration 0007): the app's login has no grant
# on them. Declared here so that the schema and the models are one.


class AppSession(Base):
    """A signed-in session; the workstation holds the token, this table its sha256."""

    __tablename__ = "app_sessions"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    workstation: Mapped[str] = mapped_column(String(100), server_default="")
    started_at: Mapped[datetime] = mapped_column(TS)
    last_seen: Mapped[datetime] = mapped_column(TS)
    changed_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    idle_seconds: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    locked_by: Mapped[str] = mapped_column(Text, server_default="")

    __table_args__ = (
        CheckConstraint("idle_seconds > 0", name="idle_positive"),
        CheckConstraint("state IN ('active', 'locked', 'revoked')", name="state_known"),
        Index("ix_app_sessions_user", "user_id"),
        Index("ix_app_sessions_expires", "expires_at"),
    )


class SessionGlass(Base):
    """A restricted chart this session opened by breaking the glass."""

    __tablename__ = "session_glass"

    session_id: Mapped[str] = mapped_column(
        Text, ForeignKey("app_sessions.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class SigninFailure(Base):
    """Failed sign-ins of one account or workstation (keyed by a keyed hash, never the
    text typed)."""

    __tablename__ = "signin_failures"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    until: Mapped[datetime | None] = mapped_column(TS)
    last_at: Mapped[datetime] = mapped_column(TS)


class AppSecret(Base):
    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


# ----------------------------------------------------------------------- audit


class AuditEvent(Base):
    """Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE); hash-chained."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    workstation: Mapped[str] = mapped_column(String(100), server_default="")
    patient_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), server_default="")
    object_id: Mapped[str] = mapped_column(String(64), server_default="")
    details: Mapped[Any] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    hash: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_audit_events_patient", "patient_id", "occurred_at",
              postgresql_where=text("patient_id IS NOT NULL")),
        Index("ix_audit_events_user", "user_id", "occurred_at"),
        Index("ix_audit_events_break_glass", "occurred_at",
              postgresql_where=text("action = 'chart.break_glass'")),
        # No INSERT ... RETURNING: row security lets the app append events it may not
        # read back (the id comes from currval).
        {"implicit_returning": False},
    )


# ----------------------------------------------------------------------- migration 0010


class Problem(Tracked, Base):
    """An entry of a patient's problem list; retired (entered in error) with a reason,
    never deleted."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"))
    encounter_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("encounters.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    code: Mapped[str] = mapped_column(String(40), server_default="")
    onset_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="active")
    comment: Mapped[str] = mapped_column(String(2000), server_default="")
    retired_reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint(_in("status", ("active", "resolved", "retired")), name="status_known"),
        CheckConstraint("length(btrim(description)) > 0", name="description_present"),
        CheckConstraint("status <> 'retired' OR length(btrim(retired_reason)) > 0",
                        name="retired_needs_reason"),
        Index("ix_problems_patient_status", "patient_id", "status"),
    )


class Medication(Tracked, Base):
    """An entry of a patient's medication list (typed, or added when a prescription is
    signed); retired (entered in error) with a reason, never deleted."""

    __tablename__ = "medications"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("patients.id"))
    name: Mapped[str] = mapped_column(String(200))
    dose: Mapped[str] = mapped_column(String(100), server_default="")
    route: Mapped[str] = mapped_column(String(40), server_default="oral")
    frequency: Mapped[str] = mapped_column(String(100), server_default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="active")
    prescription_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("prescriptions.id"), index=True)
    comment: Mapped[str] = mapped_column(String(2000), server_default="")
    retired_reason: Mapped[str] = mapped_column(String(500), server_default="")

    __table_args__ = (
        CheckConstraint(_in("status", ("active", "stopped", "retired")), name="status_known"),
        CheckConstraint("length(btrim(name)) > 0", name="name_present"),
        CheckConstraint("stopped_on IS NULL OR started_on IS NULL OR stopped_on >= started_on",
                        name="stopped_after_started"),
        CheckConstraint("status <> 'retired' OR length(btrim(retired_reason)) > 0",
                        name="retired_needs_reason"),
        Index("ix_medications_patient_status", "patient_id", "status"),
    )
