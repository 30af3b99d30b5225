"""An administrator sets the clinic's phone country and date order from a terminal (issue
13); the patient service reads numbers and dates by them from then on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import text

from backend_client.accounts.access import SystemAccess
from backend_client.backend import Backend
from backend_client.dto import ClinicLocale, PatientDraft
from backend_client.patients.service import PatientService
from tests.integration.conftest import add_user, signed_in
from tests.integration.test_admin_schedule_cli import cli_env, run  # noqa: F401 (fixture)


@pytest.fixture
def clean_settings(backend: Backend) -> Iterator[None]:
    """The CLI commits: the settings go again, so no other test meets them."""
    yield
    with backend.owner_engine.begin() as conn:
        conn.execute(text("DELETE FROM clinic_settings WHERE key LIKE 'locale.%'"))


def test_an_administrator_sets_the_phone_country_and_the_date_order(
        capsys: pytest.CaptureFixture[str], cli_env: None, clean_settings: None,  # noqa: F811
        backend: Backend) -> None:
    status, out, _ = run(capsys, "clinic", "show")
    assert status == 0 and "(from this computer's locale)" in out

    assert run(capsys, "clinic", "set", "phone-region", "gb")[0] == 0
    status, out, _ = run(capsys, "clinic", "set", "date-order", "month-first")
    assert status == 0
    assert out.splitlines() == ["phone-region  GB           (set)",
                                "date-order    month-first  (set)"]
    status, _, err = run(capsys, "clinic", "set", "phone-region", "Britain")
    assert status == 1 and "'Britain' is not a two-letter country code" in err

    service = PatientService(backend.owner_engine, SystemAccess("ws-cli"),
                             today=lambda: date(2026, 11, 27), locale=ClinicLocale("US", True))
    # Committed, as the race test's patients are: a name and a number no other test
    # searches for (the search tests look for +44 20 7946 0958).
    rec = service.register(PatientDraft("Ada", f"Clinicset{uuid.uuid4().hex[:8]}",
                                        "03.04.1984", "female", phone="020 7946 0321"),
                           allow_duplicates=True)
    assert rec.draft.birth_date == date(1984, 3, 4)   # month first
    assert rec.draft.phone == "020 7946 0321"         # a British number, shown nationally

    # A receptionist signed in at a workstation (the app's login, under row security) reads
    # the same settings: her form reads 03.04.1984 as the service will.
    uid = add_user(backend.owner_engine, ("receptionist",), display_name="Rosa Reception")
    desk = PatientService(backend.engine, signed_in(backend, backend.owner_engine, uid),
                          today=lambda: date(2026, 11, 27), locale=ClinicLocale("US", True))
    assert desk.clinic_locale() == ClinicLocale("GB", False)
