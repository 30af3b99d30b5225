"""``OrdersService``: a patient's orders and prescriptions against PostgreSQL. Implements
``OrdersApi`` (api.py).

What the database guarantees whatever this code does (migration 0011): an order's status
flow and that an order which left draft keeps what was ordered; a prescription is saved as
a draft and signed only by its own prescriber's session (``signed_at``/``signed_by`` are
the database's clock and that session's person); a signed prescription's content never
changes. Its refusals become errors with the database's sentence: DRA01 (a status move
the flow does not allow) and DRA03 (a frozen record) ``IllegalTransition``, DRA04 (not
this session's to sign) ``PermissionDenied``. This service adds the checks that name
every wrong field (prescribing.py), optimistic versions (``Conflict`` naming who changed
it), the audit of printing and the change events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from backend_client.accounts.access import Access
from backend_client.audit.service import AuditService
from backend_client.chart import prescribing
from backend_client.chart.dto import (
    ORDER_KINDS,
    OrderDraft,
    OrderItem,
    PrescriptionDraft,
    PrescriptionItem,
    PrintablePrescription,
    Stamp,
)
from backend_client.dto import Actor
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from backend_client.scheduling.booking import local_zone, sqlstate
from backend_client.stores.postgres.models import (
    ClinicSetting,
    Encounter,
    Medication,
    Order,
    Patient,
    PatientIdentifier,
    Prescription,
    Provider,
    User,
)
from backend_client.sync.events import ChangeEvent, ChangePublisher, NullPublisher
from backend_client.uow import UnitOfWork, unit_of_work

if TYPE_CHECKING:
    from backend_client.backend import Backend

MAX_REASON = 500
# clinic_settings keys a printed prescription's header is made of: "clinic.name" (text),
# "clinic.address" (a list of lines, or one text with line breaks), "clinic.phone" (text).
CLINIC_NAME, CLINIC_ADDRESS, CLINIC_PHONE = "clinic.name", "clinic.address", "clinic.phone"
CLINIC_FALLBACK = "Dr. Assistant clinic"
_CREATOR, _UPDATER = aliased(User), aliased(User)


# ------------------------------------------------------------------ shared plumbing


class ChartWrites:
    """What every write of orders, prescriptions and tasks shares: the unit of work
    naming the session, the database's refusals as sentences, ``Conflict``."""

    engine: Engine | Connection
    access: Access
    publisher: ChangePublisher
    tz: tzinfo

    @contextmanager
    def _work(self, actor: Actor) -> Iterator[UnitOfWork]:
        with unit_of_work(self.engine, token=actor.token or None,
                          publisher=self.publisher) as uow:
            yield uow

    @staticmethod
    def _refused(exc: DBAPIError) -> NoReturn:
        """The database said no with a sentence (a trigger's DRA01/DRA03, a missing
        permission): raise it as the error the UI knows."""
        code = sqlstate(exc)
        detail = getattr(getattr(exc.orig, "diag", None), "message_primary", None) or ""
        sentence = detail[:1].upper() + detail[1:] + ("." if detail else "")
        if code == "DRA01":
            raise IllegalTransition(sentence) from None
        if code == "DRA04":  # not this session's to do (signing for someone else)
            raise PermissionDenied(sentence) from None
        if code == "DRA03":  # a frozen record
            raise IllegalTransition(sentence) from None
        if code == "42501":
            raise PermissionDenied("The database refused this for your session: "
                                   + (sentence or "not allowed.")) from None
        raise exc

    def _flush(self, s: Session) -> None:
        try:
            s.flush()
        except DBAPIError as exc:
            self._refused(exc)

    def _stale(self, s: Session, what: str, row: Any, expected_version: int) -> None:
        if row.version == expected_version:
            return
        who = s.execute(select(User.display_name).where(User.id == row.updated_by)
                        ).scalar_one_or_none() or "Someone else"
        at = row.updated_at.astimezone(self.tz).strftime("%H:%M")
        raise Conflict(f"{who} changed this {what} at {at}, after you opened it. Look at it "
                       "again, then try once more.", current_version=row.version,
                       changed_by=who)


RESTRICTED = ("This record is restricted and not open to you in this session: open the "
              "patient's chart first (it asks why, and records it).")


def check_may_open(s: Session, actor: Actor, patient_id: int) -> None:
    """A restricted chart not opened in this session (row security would hide its rows):
    say so rather than show an empty list that reads as "no prescriptions"."""
    if not actor.token:
        return  # the operator's tools: not held by row security
    if not s.execute(select(func.dra_may_open(patient_id))).scalar_one():
        raise PermissionDenied(RESTRICTED, break_glass=True)


def required_reason(reason: str, ask: str) -> str:
    """The reason, tidied; ``ask`` is the sentence when there is none."""
    text = " ".join(reason.split())
    if not text:
        raise ValidationError("reason", ask)
    if len(text) > MAX_REASON:
        raise ValidationError("reason", f"The reason is longer than {MAX_REASON} characters.")
    return text


def stamp_of(row: Any, created_by: str | None, updated_by: str | None) -> Stamp:
    return Stamp(recorded_by=created_by or "", recorded_at=row.created_at,
                 updated_by=updated_by or "", updated_at=row.updated_at)


def provider_name(p: Provider) -> str:
    return " ".join(x for x in (p.title, p.given_name, p.family_name) if x)


def own_provider(s: Session, actor: Actor) -> Provider | None:
    return s.execute(select(Provider).where(Provider.user_id == actor.user_id,
                                            Provider.is_active)).scalar_one_or_none()


def mrn_of(s: Session, patient_id: int) -> str:
    return s.execute(select(PatientIdentifier.value).where(
        PatientIdentifier.patient_id == patient_id, PatientIdentifier.kind == "MRN")
    ).scalar_one_or_none() or ""


# ------------------------------------------------------------------ the service


class OrdersService(ChartWrites):
    """Args:
        engine: the app's Engine (or a test's Connection in an outer transaction).
        access: who is acting (``SessionAccess``; ``SystemAccess`` for operator tools).
        publisher: where change events go after each commit.
        tz: the workstation's zone (times in sentences).
        clinic_fallback: the printed header's first line when the clinic has set no name.
    """

    def __init__(self, engine: Engine | Connection, access: Access, *,
                 publisher: ChangePublisher | None = None, tz: tzinfo | None = None,
                 clinic_fallback: str = CLINIC_FALLBACK) -> None:
        self.engine = engine
        self.access = access
        self.publisher = publisher or NullPublisher()
        self.tz = tz or local_zone()
        self.clinic_fallback = clinic_fallback

    def _event(self, actor: Actor, patient_id: int, version: int, action: str
               ) -> ChangeEvent:
        return ChangeEvent(kind="chart", id=patient_id, version=version, action=action,
                           user_id=actor.user_id, workstation=actor.workstation)

    # ------------------------------------------------------------------ orders

    def orders(self, patient_id: int) -> tuple[OrderItem, ...]:
        actor = self.access.require("chart.open", patient_id=patient_id)
        with self._work(actor) as uow:
            check_may_open(uow.session, actor, patient_id)
            return tuple(self._order_items(uow.session, Order.patient_id == patient_id))

    def _order_items(self, s: Session, where: Any) -> list[OrderItem]:
        rows = s.execute(
            select(Order, Provider, _CREATOR.display_name, _UPDATER.display_name)
            .join(Provider, Provider.id == Order.ordered_by)
            .outerjoin(_CREATOR, _CREATOR.id == Order.created_by)
            .outerjoin(_UPDATER, _UPDATER.id == Order.updated_by)
            .where(where).order_by(Order.created_at.desc(), Order.id.desc())
            .execution_options(populate_existing=True)).all()
        return [OrderItem(
            id=o.id, version=o.version, patient_id=o.patient_id,
            draft=OrderDraft(kind=o.kind, description=o.description, code=o.code,
                             details=o.details, encounter_id=o.encounter_id),
            status=o.status, ordered_by=provider_name(p),
            discontinued_reason=o.discontinued_reason, stamp=stamp_of(o, c, u))
            for o, p, c, u in rows]

    def place_order(self, patient_id: int, draft: OrderDraft) -> OrderItem:
        actor = self.access.require("order.write", patient_id=patient_id)
        errors: dict[str, str] = {}
        kind = draft.kind.strip().lower()
        if kind not in ORDER_KINDS:
            errors["kind"] = "Choose what is ordered: " + ", ".join(ORDER_KINDS) + "."
        description = " ".join(draft.description.split())
        if not description:
            errors["description"] = "Say what is ordered (for example, Full blood count)."
        elif len(description) > 500:
            errors["description"] = "The description is longer than 500 characters."
        code = draft.code.strip()
        if len(code) > 40:
            errors["code"] = "The code is longer than 40 characters."
        with self._work(actor) as uow:
            s = uow.session
            self._check_encounter(s, patient_id, draft.encounter_id, errors)
            check_may_open(s, actor, patient_id)
            if errors:
                raise ValidationError.of(errors)
            provider = self._provider_for(s, actor, draft.encounter_id, "place orders")
            row = Order(patient_id=patient_id, encounter_id=draft.encounter_id,
                        ordered_by=provider.id, kind=kind, code=code, description=description,
                        details=draft.details.strip(), status="active")
            s.add(row)
            self._flush(s)
            item = self._order_items(s, Order.id == row.id)[0]
            uow.announce(self._event(actor, patient_id, item.version, "order"))
            uow.commit()
        return item

    def discontinue_order(self, order_id: int, version: int, reason: str) -> OrderItem:
        actor = self.access.require("order.write")
        text = required_reason(
            reason, "Say why the order is discontinued; the reason stays with it.")
        with self._work(actor) as uow:
            s = uow.session
            row = s.execute(select(Order).where(Order.id == order_id).with_for_update()
                            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"There is no order with id {order_id}.")
            self._stale(s, "order", row, version)
            if row.status not in ("draft", "active"):
                raise IllegalTransition(f"This order is already {row.status}: it cannot be "
                                        "discontinued.")
            row.status, row.discontinued_reason = "cancelled", text
            self._flush(s)
            item = self._order_items(s, Order.id == order_id)[0]
            uow.announce(self._event(actor, row.patient_id, item.version, "order"))
            uow.commit()
        return item

    # ------------------------------------------------------------------ prescriptions

    def prescriptions(self, patient_id: int) -> tuple[PrescriptionItem, ...]:
        actor = self.access.require("prescription.read", patient_id=patient_id)
        with self._work(actor) as uow:
            check_may_open(uow.session, actor, patient_id)
            return tuple(self._rx_items(uow.session, Prescription.patient_id == patient_id))

    def _rx_rows(self, s: Session, where: Any) -> Sequence[Any]:
        signer = aliased(User)
        return s.execute(
            select(Prescription, Provider, _CREATOR.display_name, _UPDATER.display_name,
                   signer.display_name)
            .join(Provider, Provider.id == Prescription.prescriber_id)
            .outerjoin(_CREATOR, _CREATOR.id == Prescription.created_by)
            .outerjoin(_UPDATER, _UPDATER.id == Prescription.updated_by)
            .outerjoin(signer, signer.id == Prescription.signed_by)
            .where(where)
            .order_by(Prescription.created_at.desc(), Prescription.id.desc())
            .execution_options(populate_existing=True)).all()

    def _rx_items(self, s: Session, where: Any) -> list[PrescriptionItem]:
        return [rx_item(*row) for row in self._rx_rows(s, where)]

    def check_prescription(self, draft: PrescriptionDraft) -> PrescriptionDraft:
        return prescribing.check(draft)

    def create_prescription(self, patient_id: int, draft: PrescriptionDraft
                            ) -> PrescriptionItem:
        actor = self.access.require("prescription.write", patient_id=patient_id)
        errors: dict[str, str] = {}
        try:
            checked = prescribing.check(draft)
        except ValidationError as exc:
            errors.update(exc.errors)
            checked = draft
        with self._work(actor) as uow:
            s = uow.session
            self._check_encounter(s, patient_id, draft.encounter_id, errors)
            check_may_open(s, actor, patient_id)
            if errors:
                raise ValidationError.of(errors)
            provider = self._provider_for(s, actor, draft.encounter_id, "write prescriptions")
            starts: date = checked.starts_on or s.execute(select(func.current_date())
                                                          ).scalar_one()
            row = Prescription(
                patient_id=patient_id, encounter_id=checked.encounter_id,
                prescriber_id=provider.id, medication=checked.drug, dose=checked.dose,
                route=checked.route, frequency=checked.frequency, quantity=checked.quantity,
                refills=checked.refills, starts_on=starts,
                ends_on=starts + timedelta(days=checked.duration_days - 1),
                strength=checked.strength, unit=checked.unit, form=checked.form,
                duration_days=checked.duration_days, instructions=checked.instructions,
                status="draft")
            s.add(row)
            self._flush(s)
            item = self._rx_items(s, Prescription.id == row.id)[0]
            uow.announce(self._event(actor, patient_id, item.version, "prescription"))
            uow.commit()
        return item

    def sign_prescription(self, prescription_id: int, version: int) -> PrescriptionItem:
        """Signs a draft; the signed prescription joins the patient's medication list
        (one row linked by ``prescription_id``, in the same transaction)."""
        actor = self.access.require("prescription.write")
        with self._work(actor) as uow:
            s = uow.session
            row = self._locked_rx(s, prescription_id, version)
            if row.status != "draft":
                raise IllegalTransition(f"This prescription is already {row.status}: it "
                                        "was signed before and cannot be signed again.")
            prescriber = s.get(Provider, row.prescriber_id)
            if prescriber is None or prescriber.user_id != actor.user_id:
                name = provider_name(prescriber) if prescriber else "its prescriber"
                raise PermissionDenied(f"Only {name}, for whom it is written, can sign this "
                                       "prescription.")
            row.status = "active"
            self._flush(s)
            s.add(Medication(
                patient_id=row.patient_id, name=row.medication,
                dose=f"{row.strength} {row.unit}".strip()[:100], route=row.route,
                frequency=row.frequency, started_on=row.starts_on, prescription_id=row.id,
                comment=row.instructions[:2000]))
            self._flush(s)
            item = self._rx_items(s, Prescription.id == prescription_id)[0]
            uow.announce(self._event(actor, row.patient_id, item.version, "prescription"),
                         self._event(actor, row.patient_id, 0, "medication"))
            uow.commit()
        return item

    def discontinue_prescription(self, prescription_id: int, version: int, reason: str
                                 ) -> PrescriptionItem:
        """Stops a signed prescription, or discards a draft (never signed), with a reason."""
        actor = self.access.require("prescription.write")
        text = required_reason(
            reason, "Say why the prescription is stopped; the reason stays with it.")
        with self._work(actor) as uow:
            s = uow.session
            row = self._locked_rx(s, prescription_id, version)
            if row.status not in ("draft", "active"):
                raise IllegalTransition(f"This prescription is already {row.status}: it "
                                        "cannot be stopped again.")
            was_signed = row.status == "active"
            row.status, row.stop_reason = "stopped", text
            self._flush(s)
            if was_signed:
                # Its entry on the medication list stops with it (never before it started).
                for med in s.execute(select(Medication).where(
                        Medication.prescription_id == row.id,
                        Medication.status == "active")).scalars():
                    med.status = "stopped"
                    med.stopped_on = func.greatest(func.current_date(), med.started_on)
                self._flush(s)
            item = self._rx_items(s, Prescription.id == prescription_id)[0]
            uow.announce(self._event(actor, row.patient_id, item.version, "prescription"),
                         *([self._event(actor, row.patient_id, 0, "medication")]
                           if was_signed else []))
            uow.commit()
        return item

    def printable(self, prescription_id: int) -> PrintablePrescription:
        actor = self.access.require("prescription.read")
        with self._work(actor) as uow:
            s = uow.session
            rows = self._rx_rows(s, Prescription.id == prescription_id)
            if not rows:
                raise NotFound(f"There is no prescription with id {prescription_id}.")
            item = rx_item(*rows[0])
            provider: Provider = rows[0][1]
            if item.status != "active":
                raise IllegalTransition(
                    "Only a signed prescription in use can be printed; this one is "
                    + ("a draft: sign it first." if item.status == "draft" else
                       f"{item.status}."))
            patient = s.get(Patient, item.patient_id)
            if patient is None:  # pragma: no cover - the foreign key keeps it
                raise NotFound("The prescription's patient cannot be read.")
            printed_at: datetime = s.execute(select(func.now())).scalar_one()
            result = PrintablePrescription(
                clinic_lines=self._clinic_lines(s),
                patient_name=f"{patient.family_name}, {patient.given_name}",
                patient_birth_date=patient.birth_date, patient_mrn=mrn_of(s, patient.id),
                patient_address=", ".join(x for x in (
                    patient.address_line1, patient.address_line2,
                    " ".join(y for y in (patient.postal_code, patient.city) if y)) if x),
                prescriber_name=provider_name(provider),
                prescriber_number=provider.license_number or "", item=item,
                printed_at=printed_at)
            AuditService.record_in(s, "prescription.print", user_id=actor.user_id,
                                   workstation=actor.workstation, patient_id=item.patient_id,
                                   object_type="prescriptions",
                                   object_id=str(prescription_id))
            uow.commit()
        return result

    # ------------------------------------------------------------------ helpers

    def _clinic_lines(self, s: Session) -> tuple[str, ...]:
        keys = (CLINIC_NAME, CLINIC_ADDRESS, CLINIC_PHONE)
        values: dict[str, Any] = {key: value for key, value in s.execute(
            select(ClinicSetting.key, ClinicSetting.value).where(ClinicSetting.key.in_(keys)))}
        name = str(values.get(CLINIC_NAME) or "").strip() or self.clinic_fallback
        address = values.get(CLINIC_ADDRESS) or []
        if isinstance(address, str):
            address = address.splitlines()
        lines = [name, *(str(a).strip() for a in address if str(a).strip())]
        phone = str(values.get(CLINIC_PHONE) or "").strip()
        if phone:
            lines.append(f"Tel. {phone}")
        return tuple(lines)

    def _locked_rx(self, s: Session, prescription_id: int, version: int) -> Prescription:
        row = s.execute(select(Prescription).where(Prescription.id == prescription_id)
                        .with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(f"There is no prescription with id {prescription_id}.")
        self._stale(s, "prescription", row, version)
        return row

    @staticmethod
    def _check_encounter(s: Session, patient_id: int, encounter_id: int | None,
                         errors: dict[str, str]) -> None:
        if s.get(Patient, patient_id) is None:
            raise NotFound(f"There is no patient with id {patient_id}.")
        if encounter_id is None:
            return
        owner = s.execute(select(Encounter.patient_id).where(Encounter.id == encounter_id)
                          ).scalar_one_or_none()
        if owner != patient_id:
            errors["encounter_id"] = "That encounter is not one of this patient's."

    @staticmethod
    def _provider_for(s: Session, actor: Actor, encounter_id: int | None,
                      doing: str) -> Provider:
        provider = own_provider(s, actor)
        if provider is None and encounter_id is not None:
            enc = s.get(Encounter, encounter_id)
            provider = s.get(Provider, enc.provider_id) if enc is not None else None
        if provider is None:
            raise PermissionDenied(f"Only a provider can {doing}, and your account is not "
                                   "linked to one. Ask an administrator.")
        return provider


def rx_item(row: Prescription, prescriber: Provider, created_by: str | None,
            updated_by: str | None, signed_by: str | None) -> PrescriptionItem:
    draft = PrescriptionDraft(
        drug=row.medication, strength=row.strength, unit=row.unit, form=row.form,
        dose=row.dose, route=row.route, frequency=row.frequency,
        duration_days=row.duration_days or 0, quantity=row.quantity, refills=row.refills,
        starts_on=row.starts_on, instructions=row.instructions,
        encounter_id=row.encounter_id)
    return PrescriptionItem(
        id=row.id, version=row.version, patient_id=row.patient_id, draft=draft,
        status=row.status, prescriber=provider_name(prescriber), signed_by=signed_by or "",
        signed_at=row.signed_at, stop_reason=row.stop_reason,
        stamp=stamp_of(row, created_by, updated_by))


def build_orders(backend: Backend, access: Access, publisher: ChangePublisher | None, *,
                 tz: tzinfo | None = None) -> OrdersService:
    """The orders service as the composition root builds it (the app's engine)."""
    return OrdersService(backend.engine, access, publisher=publisher, tz=tz)

