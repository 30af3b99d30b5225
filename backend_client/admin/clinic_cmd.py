"""``dr-assistant-admin clinic``: the clinic's locale settings (issue 13).

    dr-assistant-admin clinic show
    dr-assistant-admin clinic set phone-region GB        (a two-letter country code)
    dr-assistant-admin clinic set date-order day-first   (or month-first)

``phone-region``: the country of a phone number typed without "+" and a country code; its
numbers are shown in its national format, others internationally. ``date-order``: whether
12.03.1984 is 12 March (day-first) or 3 December (month-first), in the register form and
in search. Unset, both follow the locale of the computer reading them. Every workstation
sees a change within a minute. Numbers already stored are not re-read: run the change
before patients are registered (migration 0016 used the setting in force then).
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import text

from backend_client.admin.output import AdminArgumentParser, emit, guarded, text_argument
from backend_client.backend import open_backend
from backend_client.clinic import (
    DATE_ORDER,
    PHONE_REGION,
    SettingProblem,
    clinic_locale,
    parse_setting,
    set_setting,
)
from backend_client.config import Settings
from backend_client.errors import ValidationError

PROG = "dr-assistant-admin clinic"


def add_clinic_parser(subparsers: Any) -> argparse.ArgumentParser:
    clinic = subparsers.add_parser("clinic", help="the clinic's phone country and date order",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = clinic.add_subparsers(dest="clinic_command", required=True,
                                parser_class=AdminArgumentParser)
    sub.add_parser("show", help="the settings in force, and whether each is set or a default")
    change = sub.add_parser("set", help="set one setting")
    change.add_argument("name", choices=["phone-region", "date-order"])
    change.add_argument("value", type=text_argument("a value", max_length=20))
    return clinic


def run_clinic_command(args: argparse.Namespace, settings: Settings) -> int:
    return guarded(PROG, lambda: _run(args, settings))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    backend = open_backend(settings)
    try:
        # The owner's engine: the app's login may only read clinic_settings.
        with backend.owner_engine.begin() as conn:
            if args.clinic_command == "set":
                try:
                    key, value = parse_setting(args.name, args.value)
                except SettingProblem as exc:
                    raise ValidationError.of({args.name: str(exc)}) from None
                set_setting(conn, key, value)
            stored: dict[str, Any] = dict(conn.execute(
                text("SELECT key, value FROM clinic_settings WHERE key = ANY(:k)"),
                {"k": [PHONE_REGION, DATE_ORDER]}).all())
            current = clinic_locale(conn)
    finally:
        backend.close(stop_stack=False)
    region_from = "set" if PHONE_REGION in stored else "from this computer's locale"
    order_from = "set" if DATE_ORDER in stored else (
        "follows the phone region" if PHONE_REGION in stored
        else "from this computer's locale")
    emit(f"phone-region  {current.phone_region:<12} ({region_from})")
    emit(f"date-order    {'day-first' if current.day_first else 'month-first':<12} "
         f"({order_from})")
    return 0
