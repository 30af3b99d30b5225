"""PatientService: register, edit, mark deceased, find duplicates, search.

Every method opens its own unit of work (one Session, rolled back unless committed), so
it may be called from any pool thread. Nothing here logs names or other PHI.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from backend_client.accounts.access import Access
from backend_client.audit.service import AuditService
from backend_client.clinic import clinic_locale
from backend_client.dto import (
    DEATH_SOURCES,
    Actor,
    AlertSummary,
    ClinicLocale,
    Contact,
    DuplicateCandidate,
    Identifier,
    PatientDraft,
    PatientRecord,
    PreviousName,
    SearchPage,
)
from backend_client.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PossibleDuplicate,
    ValidationError,
)
from backend_client.patients import names, phones
from backend_client.patients.api import PAGE_SIZE
from backend_client.patients.search import PatientSearch, parse_query
from backend_client.patients.validation import validate
from backend_client.stores.postgres.models import (
    UNIQUE_IDENTIFIER_KINDS,
    Alert,
    NameVariant,
    Patient,
    PatientContact,
    PatientIdentifier,
    PatientName,
    PatientNamePair,
    PatientNameTerm,
    User,
)
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher
from backend_client.uow import unit_of_work

log = logging.getLogger(__name__)

_DEMOGRAPHICS = ("given_name", "middle_name", "family_name", "preferred_name", "sex",
                 "gender_identity", "phone", "email", "address_line1", "address_line2",
                 "city", "region", "postal_code", "country", "language")
MAX_QUERY = 200
# How long the clinic's locale settings are trusted before they are read again: they
# change once in a clinic's life, and a new value is seen within this on every workstation.
CLINIC_TTL = 60.0


RESTRICTED = ("This patient's record is restricted: only the clinicians who see this "
              "patient open it without a reason.")
MAX_REASON = 500


class PatientService:
    """Args:
        engine: the Engine, or in tests a Connection inside an outer transaction.
        access: who is acting; every method checks a permission through it first
            (``SessionAccess`` in the app, ``SystemAccess`` for the operator's tools).
        today: the date, for ages and "not in the future" (tests pin it).
        publisher: where every committed write is announced (a ``patient`` change event,
            published after the commit), so other workstations' open views follow.
        locale: what the clinic's locale settings default to when they are not set (None:
            this computer's locale, ``clinic.locale_default``); tests pin it.
    """

    def __init__(self, engine: Engine | Connection, access: Access, *,
                 today: Callable[[], date] | None = None,
                 publisher: ChangePublisher | None = None,
                 locale: ClinicLocale | None = None) -> None:
        self.engine = engine
        self.access = access
        self._today = today or (lambda: datetime.now().date())
        self.publisher: ChangePublisher = publisher or NullPublisher()
        self._locale_default = locale
        self._clinic: tuple[float, ClinicLocale] | None = None

    # ------------------------------------------------------------------ the clinic

    def clinic_locale(self) -> ClinicLocale:
        """The clinic's phone country and date order (``clinic_settings``), for the form
        to read a date as the service will."""
        return self._clinic_for(self.access.require("patient.search"))

    def _clinic_for(self, actor: Actor) -> ClinicLocale:
        cached = self._clinic
        if cached is not None and time.monotonic() - cached[0] < CLINIC_TTL:
            return cached[1]
        with self._work(actor) as uow:
            return self._clinic_in(uow.session)

    def _clinic_in(self, s: Session) -> ClinicLocale:
        cached = self._clinic
        if cached is not None and time.monotonic() - cached[0] < CLINIC_TTL:
            return cached[1]
        found = clinic_locale(s, self._locale_default)
        self._clinic = (time.monotonic(), found)
        return found

    def _shown(self, summaries: Any, region: str) -> Any:
        """Search rows with their numbers as the clinic reads them."""
        return tuple(replace(r, phone=phones.display(r.phone, region)) for r in summaries)

    def _work(self, actor: Actor) -> Any:
        """A unit of work for this actor: the transaction names the actor's session, so
        the database lets it do only what the session's person may."""
        return unit_of_work(self.engine, token=actor.token or None, publisher=self.publisher)

    @staticmethod
    def _announce(uow: Any, actor: Actor, patient_id: int, version: int,
                  action: str) -> None:
        """Tell every workstation once this unit commits (ids and versions only)."""
        uow.announce(ChangeEvent(kind="patient", id=patient_id, version=version,
                                 action=action, user_id=actor.user_id,
                                 workstation=actor.workstation))

    @staticmethod
    def _audit(s: Session, action: str, patient_id: int, actor: Actor,
               details: dict[str, str] | None = None) -> None:
        """One audit event in the caller's transaction; call it last (it takes the chain
        lock until commit). Nothing about the patient but the id goes into it."""
        AuditService.record_in(s, action, user_id=actor.user_id,
                               workstation=actor.workstation, patient_id=patient_id,
                               object_type="patient", object_id=str(patient_id),
                               details=details)

    # ------------------------------------------------------------------ reads

    def search(self, text_: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> SearchPage:
        query = (text_ or "")[:MAX_QUERY]
        # One transaction: the session check, the clinic's settings (when not cached) and
        # the search (a transaction each was a fifth of a search's time). Its statements
        # are prepared and planned once per connection (search.py, "Plans"); it ends with
        # COMMIT, not the unit's ROLLBACK, because psycopg forgets every prepared statement
        # of a connection whose transaction rolls back. It wrote nothing either way.
        with self.access.checked_work(self.engine, "patient.search", publisher=self.publisher,
                                      generic_plans=True) as (_actor, uow):
            clinic = self._clinic_in(uow.session)
            parsed = parse_query(query, self._today(), day_first=clinic.day_first,
                                 region=clinic.phone_region)
            if parsed.empty:
                return SearchPage(query, offset, (), False)
            region = clinic.phone_region
            page = PatientSearch(uow.session, lambda phone: phones.display(phone, region)).run(
                parsed, max(0, offset), max(1, min(limit, 500)))
            uow.commit()
            return page

    def get(self, patient_id: int, *, break_glass_reason: str | None = None) -> PatientRecord:
        """The patient's record; every open is audited.

        Clinical staff (``chart.open``) open the chart, with its alerts; others with
        ``patient.demographics.read`` (reception) see demographics only. A restricted
        record's chart opens without a reason only for a clinician who has seen or will
        see the patient; anyone else with ``chart.break_glass`` gets PermissionDenied with
        ``break_glass=True`` and may retry with a reason, which is allowed, flagged and
        audited (``chart.break_glass``). The glass stays broken for that patient for the
        rest of the session: reopening or editing the chart does not ask again.
        """
        actor = self.access.require("patient.demographics.read", patient_id=patient_id)
        clinical = actor.can("chart.open")
        reason = (break_glass_reason or "").strip()[:MAX_REASON]
        with self._refusals_audited(actor, patient_id), self._work(actor) as uow:
            s = uow.session
            broke_glass = self._check_restricted(s, actor, patient_id, reason)
            if broke_glass and actor.token and not s.execute(
                    text("SELECT dra_break_glass(:p, :r)"),
                    {"p": patient_id, "r": reason}).scalar_one():
                raise PermissionDenied(RESTRICTED + " Your role cannot open it.")
            if broke_glass and not actor.token:
                self._audit(s, "chart.break_glass", patient_id, actor,
                            {"reason": reason, "session": actor.session_id})
            record = self._record(s, patient_id, clinical=clinical)
            if broke_glass:
                log.warning("restricted chart opened by breaking the glass: patient id=%s "
                            "user id=%s", patient_id, actor.user_id)
            self._audit(s, "chart.open" if clinical else "patient.read", patient_id, actor)
            uow.commit()
            return record

    def refetch(self, patient_id: int) -> PatientRecord:
        """The record again, for a view that already shows it (another workstation changed
        it, live updates reconnected, an edit form opens or meets a conflict).

        The same permission, restriction check and row security as :meth:`get`, but no
        second "chart.open" audit event: opening was audited when the user opened the
        chart, and a refresh is not a new open. Auditing each one would write an event on
        every workstation showing the patient for every save anywhere, burying the opens
        a reviewer looks for. (It adds no reach: the audit of opens is written by the app
        itself, so a client that skips it could skip it in ``get`` too; what the stores
        enforce — grants, row security, restriction — applies here as there.) A chart
        restricted since it was opened is refused as in ``get`` (the refusal is audited),
        unless this session has broken the glass for it.
        """
        actor = self.access.require("patient.demographics.read", patient_id=patient_id)
        with self._refusals_audited(actor, patient_id), self._work(actor) as uow:
            s = uow.session
            self._check_restricted(s, actor, patient_id)
            return self._record(s, patient_id, clinical=actor.can("chart.open"))

    def _check_restricted(self, s: Session, actor: Actor, patient_id: int,
                          reason: str = "") -> bool:
        """For every call on one patient: may this clinician reach a restricted chart?

        Returns whether the glass is broken by this call (then the caller audits it with
        the reason); raises NotFound, or PermissionDenied (audited; ``break_glass=True``
        when a reason would do). Reception (no ``chart.open``) sees demographics only and
        is not asked.
        """
        restricted = s.execute(select(Patient.restricted).where(
            Patient.id == patient_id)).scalar_one_or_none()
        if restricted is None:
            raise NotFound(f"There is no patient with id {patient_id}.")
        if not restricted or not actor.can("chart.open"):
            return False
        if self._treats(s, actor, patient_id) or self._glass_broken(s, actor, patient_id):
            return False
        if not actor.can("chart.break_glass"):
            raise _Refused("chart.break_glass",
                           PermissionDenied(RESTRICTED + " Your role cannot open it."))
        if not reason:
            raise _Refused("chart.restricted", PermissionDenied(
                RESTRICTED + " To open it anyway, say why: your reason is recorded and "
                "reviewed.", break_glass=True))
        return True

    @contextmanager
    def _refusals_audited(self, actor: Actor, patient_id: int) -> Iterator[None]:
        """Enter it before the unit of work: a refusal inside is audited after the unit of
        work rolled back (an event written inside would be rolled back with it)."""
        try:
            yield
        except _Refused as refused:
            self.access.audit_denial(actor, refused.permission, patient_id)
            raise refused.error from None

    @staticmethod
    def _glass_broken(s: Session, actor: Actor, patient_id: int) -> bool:
        """Did this session already break the glass for this patient? (The database
        keeps that for the session: ``dra_break_glass``.)"""
        if not actor.token:
            return False
        return bool(s.execute(text("SELECT dra_glass_broken(:p)"),
                              {"p": patient_id}).scalar_one())

    @staticmethod
    def _treats(s: Session, actor: Actor, patient_id: int) -> bool:
        """Has the actor, as a clinician, an appointment or encounter with the patient?
        (The database's answer for the session: the same one its row security uses.)"""
        if actor.user_id is None or not actor.token:
            return True  # the operator's own tools
        return bool(s.execute(text("SELECT dra_treats(:p)"), {"p": patient_id}).scalar_one())

    def set_restricted(self, patient_id: int, restricted: bool) -> PatientRecord:
        """Restrict (or lift the restriction on) a patient's record. Audited."""
        actor = self.access.require("patient.restrict", patient_id=patient_id)
        with self._refusals_audited(actor, patient_id), self._work(actor) as uow:
            s = uow.session
            if (not restricted and actor.user_id is not None
                    and not self._treats(s, actor, patient_id)):
                is_restricted = s.execute(select(Patient.restricted).where(
                    Patient.id == patient_id)).scalar_one_or_none()
                if is_restricted:
                    # Breaking the glass opens the chart; it does not make the opener one
                    # of the patient's clinicians, who alone decide to lift it.
                    raise _Refused("patient.restrict", PermissionDenied(
                        "Only the clinicians who see this patient can lift the "
                        "restriction on their record."))
            self._check_restricted(s, actor, patient_id)  # and reaching it needs access
            changed = s.execute(update(Patient).where(Patient.id == patient_id)
                                .values(restricted=restricted, updated_by=actor.user_id,
                                        updated_at=func.now(),
                                        version=Patient.version + 1)
                                .returning(Patient.version)
                                .execution_options(synchronize_session=False)
                                ).scalar_one_or_none()
            if changed is None:
                raise NotFound(f"There is no patient with id {patient_id}.")
            self._audit(s, "patient.restrict" if restricted else "patient.unrestrict",
                        patient_id, actor)
            self._announce(uow, actor, patient_id, changed,
                           "restricted" if restricted else "unrestricted")
            uow.commit()
            return self._record(s, patient_id, clinical=actor.can("chart.open"))

    def _record(self, s: Session, patient_id: int, *, clinical: bool = True) -> PatientRecord:
        p = s.get(Patient, patient_id)
        if p is None:
            raise NotFound(f"There is no patient with id {patient_id}.")
        idents = s.execute(select(PatientIdentifier).where(
            PatientIdentifier.patient_id == patient_id).order_by(PatientIdentifier.id)
        ).scalars().all()
        contact = s.execute(select(PatientContact).where(
            PatientContact.patient_id == patient_id, PatientContact.is_emergency)
            .order_by(PatientContact.id).limit(1)).scalar_one_or_none()
        previous = s.execute(select(PatientName).where(
            PatientName.patient_id == patient_id).order_by(PatientName.id)).scalars().all()
        # Allergies and warnings are clinical: reception sees demographics only.
        alerts = s.execute(select(Alert).where(
            Alert.patient_id == patient_id, Alert.status == "active")
            .order_by(Alert.severity.desc(), Alert.id)).scalars().all() if clinical else []
        updated_by = ""
        if p.updated_by is not None:
            updated_by = s.execute(select(User.display_name).where(
                User.id == p.updated_by)).scalar_one_or_none() or ""
        # Numbers are stored in E.164 and shown as the clinic reads them (national format
        # for its own country): the form shows them so, and saves them back unchanged.
        region = self._clinic_in(s).phone_region
        draft = PatientDraft(
            **{f: getattr(p, f) for f in _DEMOGRAPHICS if f != "phone"},
            phone=phones.display(p.phone, region),
            birth_date=p.birth_date,
            identifiers=tuple(Identifier(i.kind, i.value, i.issuer) for i in idents),
            emergency_contact=(Contact(contact.name, contact.relationship,
                                       phones.display(contact.phone, region),
                                       contact.email, True) if contact else None),
            previous_names=tuple(PreviousName(n.given_name, n.family_name) for n in previous),
        )
        severity = {"high": 0, "moderate": 1, "low": 2}
        return PatientRecord(
            id=p.id, version=p.version, draft=draft,
            mrn=next((i.value for i in idents if i.kind == "MRN"), ""),
            deceased_at=p.deceased_at,
            alerts=tuple(sorted((AlertSummary(a.kind, a.severity, a.description)
                                 for a in alerts), key=lambda a: severity[a.severity])),
            updated_at=p.updated_at, updated_by=updated_by,
            restricted=p.restricted, clinical=clinical,
        )

    # ------------------------------------------------------------------ duplicates

    def find_duplicates(self, draft: PatientDraft, *,
                        exclude_id: int | None = None) -> list[DuplicateCandidate]:
        actor = self.access.require("patient.search")
        clinic = self._clinic_for(actor)
        clean = validate(draft, self._today(), clinic)
        with self._work(actor) as uow:
            found = self._duplicates(uow.session, clean.draft, clean.birth_date, exclude_id)
        return [replace(c, patient=self._shown((c.patient,), clinic.phone_region)[0])
                for c in found]

    def _duplicates(self, s: Session, d: PatientDraft, born: date,
                    exclude_id: int | None) -> list[DuplicateCandidate]:
        reasons: dict[int, list[str]] = {}
        pairs = [(i.kind, i.value) for i in d.identifiers]
        if pairs:
            for pid, kind in s.execute(text("""
                    SELECT patient_id, kind FROM patient_identifiers
                    WHERE (kind, value) IN (SELECT * FROM unnest(CAST(:k AS text[]),
                                                                 CAST(:v AS text[])))"""),
                    {"k": [k for k, _ in pairs], "v": [v for _, v in pairs]}).all():
                label = "MRN" if kind == "MRN" else kind.replace("_", " ").lower()
                reasons.setdefault(pid, []).append(f"same {label}")
        same_day = s.execute(select(Patient.id, Patient.given_name, Patient.family_name)
                             .where(Patient.birth_date == born)).all()
        others = {pid: [(g, f)] for pid, g, f in same_day}
        if others:
            for pid, g, f in s.execute(select(PatientName.patient_id, PatientName.given_name,
                                              PatientName.family_name)
                                       .where(PatientName.patient_id.in_(list(others)))).all():
                others[pid].append((g, f))
        for pid, known in others.items():
            verdict = _name_likeness(d.given_name, d.family_name, known)
            if verdict:
                reasons.setdefault(pid, []).append(f"same date of birth and {verdict}")
        reasons.pop(exclude_id or -1, None)
        if not reasons:
            return []
        rows = PatientSearch(s).summaries(list(reasons))
        return [DuplicateCandidate(r, tuple(reasons[r.id])) for r in rows]

    # ------------------------------------------------------------------ writes

    def register(self, draft: PatientDraft, *,
                 allow_duplicates: bool = False) -> PatientRecord:
        """Register a new patient; audited.

        Raises PossibleDuplicate when a patient with the same or a similar name and the
        same date of birth, or with one of the same identifiers, exists: the user decides.
        ``allow_duplicates`` is the user's "this is someone else": it registers a second
        patient with that name and birth date, never a second owner of an MRN, insurance
        or national number (ValidationError on that identifier's field).

        Two workstations registering one person at once cannot both pass the check: each
        registration takes turns with any other of the same birth date or identifier
        (:func:`_take_turns`) before it looks, and keeps its turn until it has committed.
        """
        actor = self.access.require("patient.demographics.write")
        actor_id = actor.user_id
        clean = validate(draft, self._today(), self._clinic_for(actor))
        d = clean.draft
        with self._work(actor) as uow:
            s = uow.session
            _take_turns(s, clean.birth_date, d.identifiers)
            if not allow_duplicates:
                found = self._duplicates(s, d, clean.birth_date, None)
                if found:
                    raise PossibleDuplicate(tuple(found))
            taken = _taken_identifiers(s, d.identifiers)
            if taken:
                raise ValidationError.of(taken)
            values = {f: getattr(d, f) for f in _DEMOGRAPHICS}
            pid, version = s.execute(insert(Patient).values(
                **values, birth_date=clean.birth_date,
                phone_digits=names.phone_digits(d.phone),
                sort_name=names.sort_name(d.family_name, d.given_name),
                created_by=actor_id, updated_by=actor_id,
            ).returning(Patient.id, Patient.version)).one()
            idents = list(d.identifiers)
            if not any(i.kind == "MRN" for i in idents):
                idents.insert(0, Identifier("MRN", self._next_mrn(s), names.MRN_ISSUER))
            try:
                self._write_children(s, pid, d, idents, d.previous_names)
                s.flush()
                self._audit(s, "patient.register", pid, actor)
                self._announce(uow, actor, pid, version, "created")
                uow.commit()
            except IntegrityError as exc:
                # Only when an edit elsewhere (which does not take turns) gave the number
                # to another patient since the check above.
                raise _identifier_error(exc, idents) from None
            log.info("patient registered id=%s", pid)
            return self._record(s, pid, clinical=actor.can("chart.open"))

    def update(self, patient_id: int, expected_version: int,
               draft: PatientDraft) -> PatientRecord:
        actor = self.access.require("patient.demographics.write", patient_id=patient_id)
        actor_id = actor.user_id
        clean = validate(draft, self._today(), self._clinic_for(actor))
        d = clean.draft
        with self._refusals_audited(actor, patient_id), self._work(actor) as uow:
            s = uow.session
            self._check_restricted(s, actor, patient_id)
            old = s.execute(select(Patient.given_name, Patient.family_name)
                            .where(Patient.id == patient_id)).one_or_none()
            if old is None:
                raise NotFound(f"There is no patient with id {patient_id}.")
            changed = s.execute(
                update(Patient)
                .where(Patient.id == patient_id, Patient.version == expected_version)
                .values(**{f: getattr(d, f) for f in _DEMOGRAPHICS},
                        birth_date=clean.birth_date,
                        phone_digits=names.phone_digits(d.phone),
                        sort_name=names.sort_name(d.family_name, d.given_name),
                        updated_by=actor_id, updated_at=func.now(),
                        version=Patient.version + 1)
                .returning(Patient.version)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if changed is None:
                raise self._conflict(s, patient_id)
            new_version = changed
            previous = list(d.previous_names)
            # A changed name stays findable under the old one.
            if (old.given_name, old.family_name) != (d.given_name, d.family_name):
                was = PreviousName(old.given_name, old.family_name)
                if was not in previous:
                    previous.append(was)
            idents = list(d.identifiers)
            if not any(i.kind == "MRN" for i in idents):
                # The clinic's MRN is never dropped by an edit that left it out.
                mrn = s.execute(select(PatientIdentifier.value, PatientIdentifier.issuer).where(
                    PatientIdentifier.patient_id == patient_id,
                    PatientIdentifier.kind == "MRN")).first()
                if mrn is not None:
                    idents.insert(0, Identifier("MRN", mrn.value, mrn.issuer))
            # Previous names the form kept stay as they are (with their dates and kind);
            # only the removed ones go and only new ones are added.
            kept = s.execute(select(PatientName.id, PatientName.given_name,
                                    PatientName.family_name)
                             .where(PatientName.patient_id == patient_id)).all()
            wanted = [(n.given_name, n.family_name) for n in previous]
            gone = [r.id for r in kept if (r.given_name, r.family_name) not in wanted]
            if gone:
                s.execute(delete(PatientName).where(PatientName.id.in_(gone)))
            have = {(r.given_name, r.family_name) for r in kept}
            new_previous = tuple(n for n in previous if (n.given_name, n.family_name) not in have)
            s.execute(delete(PatientIdentifier).where(PatientIdentifier.patient_id == patient_id))
            s.execute(delete(PatientContact).where(PatientContact.patient_id == patient_id,
                                                   PatientContact.is_emergency))
            for table in (PatientNameTerm, PatientNamePair):
                s.execute(delete(table).where(table.patient_id == patient_id))
            try:
                self._write_children(s, patient_id, d, idents, new_previous,
                                     all_previous=tuple(previous))
                self._audit(s, "patient.update", patient_id, actor)
                self._announce(uow, actor, patient_id, new_version, "updated")
                uow.commit()
            except IntegrityError as exc:
                raise _identifier_error(exc, idents) from None
            log.info("patient updated id=%s", patient_id)
            return self._record(s, patient_id, clinical=actor.can("chart.open"))

    def mark_deceased(self, patient_id: int, expected_version: int,
                      deceased_at: date, *, source: str = "") -> PatientRecord:
        actor = self.access.require("patient.demographics.write", patient_id=patient_id)
        actor_id = actor.user_id
        with self._refusals_audited(actor, patient_id), self._work(actor) as uow:
            s = uow.session
            self._check_restricted(s, actor, patient_id)
            if source and source not in DEATH_SOURCES:
                raise ValidationError("source", "choose where the news of the death comes "
                                      "from")
            born = s.execute(select(Patient.birth_date).where(Patient.id == patient_id)
                             ).scalar_one_or_none()
            if born is None:
                raise NotFound(f"There is no patient with id {patient_id}.")
            if deceased_at > self._today():
                raise ValidationError("deceased_at", "the date of death cannot be in the future")
            if deceased_at < born:
                raise ValidationError("deceased_at",
                                      "the date of death cannot be before the date of birth")
            changed = s.execute(
                update(Patient)
                .where(Patient.id == patient_id, Patient.version == expected_version)
                .values(deceased_at=deceased_at, updated_by=actor_id,
                        updated_at=func.now(), version=Patient.version + 1)
                .returning(Patient.version).execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if changed is None:
                raise self._conflict(s, patient_id)
            self._audit(s, "patient.deceased", patient_id, actor,
                        {"source": source} if source else None)
            self._announce(uow, actor, patient_id, changed, "deceased")
            uow.commit()
            log.info("patient marked deceased id=%s", patient_id)
            return self._record(s, patient_id, clinical=actor.can("chart.open"))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _next_mrn(s: Session) -> str:
        """The next clinic MRN, skipping any that was typed in by hand earlier."""
        while True:
            n = s.execute(text("SELECT nextval('patient_mrn_seq')")).scalar_one()
            mrn = names.format_mrn(int(n))
            taken = s.execute(select(PatientIdentifier.id).where(
                PatientIdentifier.kind == "MRN", PatientIdentifier.value == mrn)).first()
            if taken is None:
                return mrn

    def _conflict(self, s: Session, patient_id: int) -> Conflict:
        row = s.execute(select(Patient.version, Patient.updated_at, User.display_name)
                        .outerjoin(User, User.id == Patient.updated_by)
                        .where(Patient.id == patient_id)).one()
        who = row.display_name or "another user"
        at = row.updated_at.astimezone().strftime("%H:%M on %d %b %Y")
        return Conflict(
            f"{who} saved changes to this patient at {at}, while you were editing. "
            "What you typed is still in the form: check their changes, then save again.",
            current_version=row.version, changed_by=who)

    def _write_children(self, s: Session, pid: int, d: PatientDraft,
                        idents: list[Identifier], previous: tuple[PreviousName, ...], *,
                        all_previous: tuple[PreviousName, ...] | None = None) -> None:
        """Insert identifiers, the emergency contact, ``previous`` names, and the search
        index over the current and ``all_previous`` names (default: ``previous``)."""
        if idents:
            s.execute(insert(PatientIdentifier), [
                {"patient_id": pid, "kind": i.kind, "value": i.value, "issuer": i.issuer}
                for i in idents])
        if d.emergency_contact is not None:
            c = d.emergency_contact
            s.execute(insert(PatientContact).values(
                patient_id=pid, name=c.name, relationship=c.relationship, phone=c.phone,
                email=c.email, is_emergency=True))
        if previous:
            s.execute(insert(PatientName), [
                {"patient_id": pid, "kind": "previous", "given_name": n.given_name,
                 "family_name": n.family_name} for n in previous])
        indexed = previous if all_previous is None else all_previous
        terms = names.patient_terms(names.PersonNames(
            d.given_name, d.family_name, d.middle_name, d.preferred_name,
            tuple((n.given_name, n.family_name) for n in indexed)))
        key = names.sort_name(d.family_name, d.given_name)
        s.execute(insert(PatientNameTerm), [
            {"term": t, "sort_name": key, "patient_id": pid, "source": src}
            for t, src in terms])
        pairs = names.patient_pairs(terms)
        if pairs:
            s.execute(insert(PatientNamePair), [
                {"first": a, "second": b, "sort_name": key, "patient_id": pid,
                 "penalty": pen, "previous": prev} for a, b, pen, prev in pairs])
        variants = names.dictionary_for(t for t, _ in terms)
        if variants:
            s.execute(pg_insert(NameVariant).on_conflict_do_nothing(), [
                {"variant": v, "term": t, "kind": k} for v, t, k in sorted(variants)])


class _Refused(Exception):
    """A refusal to audit once the unit of work has rolled back, then raise as ``error``."""

    def __init__(self, permission: str, error: PermissionDenied) -> None:
        super().__init__(permission)
        self.permission = permission
        self.error = error


def _take_turns(s: Session, born: date, identifiers: tuple[Identifier, ...]) -> None:
    """Wait for any other registration of this birth date or of one of these identifiers
    to commit or roll back, and keep them waiting until this transaction ends.

    The duplicate check then sees what the other desk saved (a READ COMMITTED statement
    after the lock takes a fresh snapshot). The key is the birth date alone, not the name
    with it: "Jon Smyth" and "John Smith" born the same day are a likely duplicate too, and
    only a lock the two share makes one of them see the other. Registrations on one birth
    date are rare enough for the turns to cost nothing. Locks are taken in one order by
    everyone, so two registrations never wait for each other.
    """
    keys = {(_BORN_LOCKS, born.toordinal())}
    keys |= {(_IDENTIFIER_LOCKS, _key32(f"{i.kind}\x1f{i.value.strip().upper()}"))
             for i in identifiers}
    for space, key in sorted(keys):
        s.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                  {"space": space, "key": key})


# Two-integer advisory lock keys, a space of their own in PostgreSQL (apart from the
# one-bigint keys of migrations, the audit chain and the seed loader):
# int.from_bytes(b"DRAB", "big") for birth dates, b"DRAI" for identifiers.
_BORN_LOCKS = 1146241346
_IDENTIFIER_LOCKS = 1146241353


def _key32(text_: str) -> int:
    """A signed 32-bit key for ``text_`` (a collision only makes two desks take turns)."""
    return int.from_bytes(hashlib.blake2b(text_.encode(), digest_size=4).digest(), "big",
                          signed=True)


_KIND_WORDS = {"MRN": "MRN", "INSURANCE": "insurance number", "NATIONAL_ID": "national ID"}


def _taken_identifiers(s: Session, identifiers: tuple[Identifier, ...]) -> dict[str, str]:
    """For each identifier that already belongs to a patient and may belong to one only (an
    MRN; an insurance or national number from the same issuer, matched as the database's
    unique indexes match them), its field and a sentence saying so."""
    errors: dict[str, str] = {}
    owner = aliased(PatientIdentifier)
    for n, ident in enumerate(identifiers):
        value = ident.value.strip().upper()
        if ident.kind == "MRN":
            match = select(PatientIdentifier.patient_id).where(
                PatientIdentifier.kind == "MRN", PatientIdentifier.value == value)
        elif ident.kind in UNIQUE_IDENTIFIER_KINDS:
            match = select(PatientIdentifier.patient_id).where(
                # Literally the unique index's predicate and expressions, so it is used.
                text(_UNIQUE_KINDS_SQL), PatientIdentifier.kind == ident.kind,
                func.lower(func.btrim(PatientIdentifier.issuer)) == ident.issuer.strip().lower(),
                func.upper(func.btrim(PatientIdentifier.value)) == value)
        else:
            continue
        hit = match.limit(1).subquery()
        row = s.execute(select(hit.c.patient_id, owner.value).outerjoin(
            owner, (owner.patient_id == hit.c.patient_id) & (owner.kind == "MRN"))
            .limit(1)).first()
        if row is not None:
            errors[f"identifiers.{n}.value"] = _taken_sentence(ident, value, row.value or "")
    return errors


_UNIQUE_KINDS_SQL = "patient_identifiers.kind IN ({})".format(
    ", ".join(f"'{k}'" for k in UNIQUE_IDENTIFIER_KINDS))


def _taken_sentence(ident: Identifier, value: str, owner_mrn: str = "") -> str:
    if ident.kind == "MRN":
        return f"MRN {value} already belongs to another patient"
    issuer = ident.issuer.strip()
    what = f"{_KIND_WORDS[ident.kind]} {value}" + (f" from {issuer}" if issuer else "")
    whose = f"another patient (MRN {owner_mrn})" if owner_mrn else "another patient"
    return (f"{what} already belongs to {whose}; if this is that patient, open their "
            "record instead, otherwise check the number")


def _identifier_error(exc: IntegrityError, idents: list[Identifier]) -> ValidationError:
    """The identifier a unique index refused, as a sentence on its field; anything else
    is raised as it is."""
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if constraint == "uq_patient_identifiers_mrn" or "uq_patient_identifiers_mrn" in str(
            exc.orig):
        for i, ident in enumerate(idents):
            if ident.kind == "MRN":
                return ValidationError(f"identifiers.{i}.value", _taken_sentence(
                    ident, ident.value.strip().upper()))
    if constraint == "uq_patient_identifiers_issued":
        # The server's detail names the key, "Key (kind, …)=(NATIONAL_ID, tk, AB12) already
        # exists.": find which of ours it is (it goes nowhere else: it holds the number).
        detail = getattr(diag, "message_detail", None) or ""
        unique = [(i, ident) for i, ident in enumerate(idents)
                  if ident.kind in UNIQUE_IDENTIFIER_KINDS]
        for i, ident in unique:
            key = (f"=({ident.kind}, {ident.issuer.strip().lower()}, "
                   f"{ident.value.strip().upper()})")
            if key in detail or len(unique) == 1:
                return ValidationError(f"identifiers.{i}.value", _taken_sentence(
                    ident, ident.value.strip().upper()))
        return ValidationError("identifiers", "an insurance or national ID number here "
                               "already belongs to another patient; check the numbers")
    raise exc


def _name_likeness(given: str, family: str, known: list[tuple[str, str]]) -> str:
    """'the same name', 'a similar name' or '' comparing a draft with a patient's names."""
    g, f = names.tokens(given), names.tokens(family)
    best = ""
    for kg, kf in known:
        a, b = names.tokens(kg), names.tokens(kf)
        if (g, f) == (a, b) or (g, f) == (b, a):
            return "the same name"
        if _similar(f, b) and _similar(g, a) or _similar(f, a) and _similar(g, b):
            best = "a similar name"
    return best


def _similar(x: list[str], y: list[str]) -> bool:
    if not x or not y:
        return False
    for u in x:
        for v in y:
            if u == v or names.within_one_edit(u, v):
                return True
            if names.phonetic(u) and names.phonetic(u) == names.phonetic(v):
                return True
            if len(u) >= 2 and len(v) >= 2 and (u.startswith(v) or v.startswith(u)):
                return True  # "Bob" / "Bobby", "Kate" / "Katherine" share a start
    return False


