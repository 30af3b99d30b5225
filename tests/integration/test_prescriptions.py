"""Prescriptions through the service on the app's own login: drafted with every wrong field
named, signed only by the prescriber it is written for (the database decides who and
when), frozen once signed even against the app's own UPDATE, stopped with a reason,
printed only when signed, and the print audited."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import DBAPIError

from backend_client.chart.dto import PrescriptionDraft
from backend_client.chart.orders import OrdersService
from backend_client.errors import (
    Conflict,
    IllegalTransition,
    PermissionDenied,
    ValidationError,
)
from tests.integration.test_orders import Ward, ward

__all__ = ["ward"]  # the fixture, imported for these tests


def amoxicillin(**kw: object) -> PrescriptionDraft:
    values: dict[str, object] = {"drug": "Amoxicillin", "strength": "500", "unit": "mg",
                                 "form": "capsule", "frequency": "tds", "duration_days": 5,
                                 "instructions": "with food"}
    values.update(kw)
    return PrescriptionDraft(**values)  # type: ignore[arg-type]


def test_a_draft_is_saved_normalised_for_the_doctor_as_prescriber(ward: Ward) -> None:
    item = ward.orders("doctor").create_prescription(ward.patient, amoxicillin())
    assert item.status == "draft" and not item.signed and item.signed_by == ""
    assert item.draft.frequency == "three times daily"
    assert item.draft.quantity == "15"
    assert item.prescriber == f"Dr Eva Berg{ward.tag}"
    assert item.stamp.recorded_by == ward.names["doctor"]
    # No start date given: the database's today.
    assert item.draft.starts_on == ward.owner("SELECT current_date")[0][0]
    row = ward.owner("SELECT medication, strength, unit, form, ends_on - starts_on "
                     "FROM prescriptions WHERE id = :i", i=item.id)[0]
    assert tuple(row) == ("Amoxicillin", "500", "mg", "capsule", 4)
    assert [(e.kind, e.id, e.action) for e in ward.events.events] == [
        ("chart", ward.patient, "prescription")]


def test_every_wrong_field_is_named_and_nothing_is_saved(ward: Ward) -> None:
    with pytest.raises(ValidationError) as caught:
        ward.orders("doctor").create_prescription(ward.patient, amoxicillin(
            drug="", strength="0", unit="tablets", route="mouth", frequency="often",
            duration_days=0, refills=20))
    assert set(caught.value.errors) == {"drug", "strength", "unit", "route", "frequency",
                                        "duration_days", "refills"}
    assert caught.value.message.startswith("7 fields need attention: drug: Say which drug")
    assert ward.orders("doctor").prescriptions(ward.patient) == ()


def test_check_prescription_works_out_the_quantity_before_saving(ward: Ward) -> None:
    checked = ward.orders("doctor").check_prescription(amoxicillin(frequency="bd",
                                                                   duration_days=7))
    assert checked.quantity == "14" and checked.frequency == "twice daily"


def test_the_prescriber_signs_and_the_database_says_who_and_when(ward: Ward) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    before = ward.db_now()
    signed = service.sign_prescription(draft.id, draft.version)
    after = ward.db_now()
    assert signed.status == "active" and signed.signed
    assert signed.signed_by == ward.names["doctor"]
    assert signed.signed_at is not None and before <= signed.signed_at <= after
    assert ward.owner("SELECT signed_by FROM prescriptions WHERE id = :i",
                      i=draft.id)[0][0] == ward.users["doctor"]
    assert [e.action for e in ward.events.events] == ["prescription", "prescription",
                                                     "medication"]
    with pytest.raises(IllegalTransition, match="cannot be signed again"):
        service.sign_prescription(signed.id, signed.version)


def test_another_doctor_cannot_sign_it(ward: Ward) -> None:
    draft = ward.orders("doctor").create_prescription(ward.patient, amoxicillin())
    with pytest.raises(PermissionDenied, match=f"Only Dr Eva Berg{ward.tag}"):
        ward.orders("locum").sign_prescription(draft.id, draft.version)
    # Straight through the database with the locum's own session: refused there too.
    with pytest.raises(DBAPIError, match="signed only by the prescriber") as refused:
        ward.as_app("locum", "UPDATE prescriptions SET status = 'active' WHERE id = :i",
                    i=draft.id)
    # Had the service's own check been passed, the database's refusal reads the same way.
    with pytest.raises(PermissionDenied) as denied:
        OrdersService._refused(refused.value)
    assert denied.value.message == ("A prescription is signed only by the prescriber it is "
                                    "written for.")
    assert ward.owner("SELECT status, signed_at FROM prescriptions WHERE id = :i",
                      i=draft.id)[0] == ("draft", None)


@pytest.mark.parametrize("who", ["nurse", "reception"])
def test_nurses_and_reception_cannot_prescribe_or_sign(ward: Ward, who: str) -> None:
    draft = ward.orders("doctor").create_prescription(ward.patient, amoxicillin())
    with pytest.raises(PermissionDenied):
        ward.orders(who).create_prescription(ward.patient, amoxicillin())
    with pytest.raises(PermissionDenied):
        ward.orders(who).sign_prescription(draft.id, draft.version)
    # Their session cannot do it behind the service's back either: the row is not theirs
    # to update (row security), so nothing changes.
    ward.as_app(who, "UPDATE prescriptions SET status = 'active' WHERE id = :i", i=draft.id)
    assert ward.owner("SELECT status FROM prescriptions WHERE id = :i",
                      i=draft.id)[0][0] == "draft"


@pytest.mark.parametrize("assignment", [
    "medication = 'Co-amoxiclav'", "dose = '2'", "quantity = '100'", "refills = 3",
    "starts_on = starts_on - 1", "signed_at = now() - interval '1 day'",
    "signed_by = NULL", "instructions = ''", "status = 'draft'",
])
def test_a_signed_prescription_is_frozen_even_for_the_apps_own_update(
        ward: Ward, assignment: str) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    signed = service.sign_prescription(draft.id, draft.version)
    sql = f"UPDATE prescriptions SET {assignment} WHERE id = :i"
    with pytest.raises(DBAPIError) as caught:
        ward.as_app("doctor", sql, i=signed.id)
    assert "DRA0" in (getattr(caught.value.orig, "sqlstate", "") or "")
    with pytest.raises(IllegalTransition) as sentence:
        OrdersService._refused(caught.value)
    assert sentence.value.message.startswith(("A signed prescription cannot be changed",
                                              "A prescription that is active cannot become"))
    # Not even the schema's owner.
    with pytest.raises(DBAPIError):
        ward.owner(sql, i=signed.id)
    after = service.prescriptions(ward.patient)[0]
    assert after.draft == signed.draft and after.signed_at == signed.signed_at


def test_stopping_needs_a_reason_and_is_the_only_change_a_signed_one_takes(
        ward: Ward) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    signed = service.sign_prescription(draft.id, draft.version)
    with pytest.raises(ValidationError, match="Say why the prescription is stopped"):
        service.discontinue_prescription(signed.id, signed.version, "")
    stopped = service.discontinue_prescription(signed.id, signed.version, "Rash on day 2")
    assert stopped.status == "stopped" and stopped.stop_reason == "Rash on day 2"
    assert stopped.signed_at == signed.signed_at and stopped.signed_by == signed.signed_by
    with pytest.raises(IllegalTransition, match="already stopped"):
        service.discontinue_prescription(stopped.id, stopped.version, "again")
    with pytest.raises(DBAPIError, match="cannot be changed"):
        ward.as_app("doctor", "UPDATE prescriptions SET stop_reason = 'x' WHERE id = :i",
                    i=stopped.id)


def test_a_draft_can_be_discarded_without_ever_being_signed(ward: Ward) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    discarded = service.discontinue_prescription(draft.id, draft.version, "Wrong patient")
    assert discarded.status == "stopped" and not discarded.signed


def test_a_stale_version_names_who_changed_it(ward: Ward) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    service.sign_prescription(draft.id, draft.version)
    with pytest.raises(Conflict) as caught:
        service.discontinue_prescription(draft.id, draft.version, "Changed my mind")
    assert caught.value.changed_by == ward.names["doctor"]


@pytest.fixture
def clinic_settings(ward: Ward) -> Iterator[None]:
    ward.owner("INSERT INTO clinic_settings (key, value) VALUES "
               "('clinic.name', CAST(:n AS jsonb)), ('clinic.address', CAST(:a AS jsonb)), "
               "('clinic.phone', CAST(:p AS jsonb))",
               n=json.dumps("Riverside Practice"),
               a=json.dumps(["2 River Road", "Springfield 12345"]), p=json.dumps("555 0100"))
    yield
    ward.owner("DELETE FROM clinic_settings WHERE key LIKE 'clinic.%'")


def test_only_a_signed_prescription_prints(ward: Ward) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    with pytest.raises(IllegalTransition, match="a draft: sign it first"):
        service.printable(draft.id)
    signed = service.sign_prescription(draft.id, draft.version)
    printed = service.printable(signed.id)
    assert printed.clinic_lines == ("Dr. Assistant clinic",)
    assert printed.patient_name == ward.patient_name
    assert printed.patient_mrn and printed.patient_address.startswith("1 Market Street")
    assert printed.prescriber_name == f"Dr Eva Berg{ward.tag}"
    assert printed.prescriber_number == f"GMC{ward.tag}"
    assert printed.item.id == signed.id and printed.item.signed
    stopped = service.discontinue_prescription(signed.id, signed.version, "Finished early")
    with pytest.raises(IllegalTransition, match="stopped"):
        service.printable(stopped.id)


def test_printing_uses_the_clinics_header_and_clock_and_is_audited(
        ward: Ward, clinic_settings: None) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    signed = service.sign_prescription(draft.id, draft.version)
    before = ward.db_now()
    printed = ward.orders("nurse").printable(signed.id)
    after = ward.db_now()
    assert printed.clinic_lines == ("Riverside Practice", "2 River Road",
                                    "Springfield 12345", "Tel. 555 0100")
    assert before <= printed.printed_at <= after
    events = ward.owner("SELECT user_id, workstation, patient_id FROM audit_events "
                        "WHERE action = 'prescription.print' AND object_id = :i",
                        i=str(signed.id))
    assert [tuple(e) for e in events] == [(ward.users["nurse"], "DESK-nurse", ward.patient)]


def test_a_restricted_chart_not_opened_says_so_instead_of_showing_nothing(
        ward: Ward) -> None:
    from backend_client.accounts.access import SystemAccess
    from backend_client.patients.service import PatientService

    ward.orders("doctor").create_prescription(ward.patient, amoxicillin())
    PatientService(ward.backend.owner_engine, SystemAccess("ws-setup")).set_restricted(
        ward.patient, True)
    for read in (ward.orders("locum").prescriptions, ward.orders("locum").orders):
        with pytest.raises(PermissionDenied) as caught:
            read(ward.patient)
        assert caught.value.break_glass and "restricted" in caught.value.message
    with pytest.raises(PermissionDenied, match="restricted"):
        ward.orders("locum").create_prescription(ward.patient, amoxicillin())
    # Once the locum has opened the chart giving a reason, the list is there.
    PatientService(ward.backend.engine, ward.access["locum"]).get(
        ward.patient, break_glass_reason="Covering for Dr Berg")
    assert len(ward.orders("locum").prescriptions(ward.patient)) == 1


def test_a_signed_prescription_joins_the_medication_list_and_stops_with_it(
        ward: Ward) -> None:
    service = ward.orders("doctor")
    draft = service.create_prescription(ward.patient, amoxicillin())
    before = ward.owner("SELECT count(*) FROM medications WHERE patient_id = :p",
                        p=ward.patient)[0][0]
    signed = service.sign_prescription(draft.id, draft.version)
    rows = ward.owner("SELECT name, dose, route, frequency, status, created_by "
                      "FROM medications WHERE prescription_id = :i", i=draft.id)
    assert rows == [(signed.draft.drug, f"{signed.draft.strength} {signed.draft.unit}",
                     signed.draft.route, signed.draft.frequency, "active",
                     ward.users["doctor"])]
    assert ward.owner("SELECT count(*) FROM medications WHERE patient_id = :p",
                      p=ward.patient)[0][0] == before + 1
    service.discontinue_prescription(signed.id, signed.version, "Rash on day 3")
    assert ward.owner("SELECT status, stopped_on IS NOT NULL FROM medications "
                      "WHERE prescription_id = :i", i=draft.id) == [("stopped", True)]
