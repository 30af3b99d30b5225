"""The clinic's locale settings (issue 13): the country its phone numbers belong to and
whether a date like 12.03.1984 is read day first. Both live in ``clinic_settings`` (every
workstation reads the same); when a clinic has not set them they follow the locale of the
computer reading them (``LC_ALL``, ``LC_TELEPHONE``/``LC_TIME``, ``LANG``).

An administrator sets them with ``dr-assistant-admin clinic set phone-region GB`` and
``dr-assistant-admin clinic set date-order day-first`` (``clinic show`` prints them); the
app's login may only read the table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from backend_client.dto import ClinicLocale
from backend_client.stores.postgres.models import ClinicSetting

PHONE_REGION = "locale.phone_region"   # value: "GB" (a JSON string)
DATE_ORDER = "locale.date_order"       # value: "day-first" or "month-first"
DATE_ORDERS = ("day-first", "month-first")
# Where dates are written month first (12/03/1984 is 3 December): the United States and
# the places that follow its usage. Everywhere else, day first.
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "UM",
                                 "VI", "BZ"})
# A locale without a territory (C, POSIX, C.UTF-8): numbers are North American (the
# seed's, and "+1" needs no guessing), dates day first as most of the world writes them.
FALLBACK = ClinicLocale(phone_region="US", day_first=True)
_TERRITORY = re.compile(r"^[a-z]{2,3}_([A-Z]{2})\b")


class SettingProblem(ValueError):
    """A clinic setting's value cannot be used; the message says why."""


def known_region(region: str) -> bool:
    return region in phonenumbers.SUPPORTED_REGIONS


def locale_default(env: Mapping[str, str] | None = None) -> ClinicLocale:
    """What the computer's locale suggests, for a clinic that has not said."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_TELEPHONE", "LC_TIME", "LANG"):
        m = _TERRITORY.match(env.get(var, ""))
        if m and known_region(m.group(1)):
            region = m.group(1)
            return ClinicLocale(region, region not in MONTH_FIRST_REGIONS)
    return FALLBACK


def clinic_locale(s: Session | Connection, default: ClinicLocale | None = None) -> ClinicLocale:
    """The clinic's settings; each one not set (or unusable) from ``default`` (the
    locale's when None). An unset date order follows the region when only that is set."""
    values: dict[str, Any] = dict(s.execute(
        select(ClinicSetting.key, ClinicSetting.value)
        .where(ClinicSetting.key.in_((PHONE_REGION, DATE_ORDER)))).all())
    base = default or locale_default()
    region = str(values.get(PHONE_REGION) or "").strip().upper()
    if not known_region(region):
        region = ""
    order = str(values.get(DATE_ORDER) or "").strip().lower()
    if order in DATE_ORDERS:
        day_first = order == "day-first"
    elif region:
        day_first = region not in MONTH_FIRST_REGIONS
    else:
        day_first = base.day_first
    return ClinicLocale(region or base.phone_region, day_first)


def parse_setting(name: str, value: str) -> tuple[str, str]:
    """("phone-region", "gb") → (PHONE_REGION, "GB"); raises SettingProblem."""
    value = value.strip()
    if name == "phone-region":
        region = value.upper()
        if not known_region(region):
            raise SettingProblem(f"'{value}' is not a two-letter country code such as US, "
                                 "GB, DE or IN")
        return PHONE_REGION, region
    if name == "date-order":
        order = value.lower()
        if order not in DATE_ORDERS:
            raise SettingProblem("the date order is day-first (12.03.1984 is 12 March) or "
                                 "month-first (it is 3 December)")
        return DATE_ORDER, order
    raise SettingProblem(f"there is no clinic setting '{name}'; there are phone-region and "
                         "date-order")


def set_setting(s: Session | Connection, key: str, value: str) -> None:
    """Write one setting (the owner's or an administrator's login; the app may not)."""
    s.execute(pg_insert(ClinicSetting).values(key=key, value=value).on_conflict_do_update(
        index_elements=[ClinicSetting.key], set_={"value": value, "updated_at": func.now()}))
