"""``dr-assistant-admin provider`` and ``appointment-type``: the schedule's directory.

    dr-assistant-admin provider list
    dr-assistant-admin provider add --title Dr --given Anna --family Demo \\
                                    --specialty "Family medicine" [--user USERNAME]
    dr-assistant-admin provider link ID --user USERNAME | provider unlink ID
    dr-assistant-admin provider hours ID --weekday mon --from 09:00 --to 12:00 \\
                                    [--from2 13:00 --to2 17:00]     (replaces Monday's hours)
    dr-assistant-admin provider hours ID --weekday sat --off       (no hours, no breaks)
    dr-assistant-admin provider break ID --weekday mon --from 12:30 --to 13:30 [--label L]
    dr-assistant-admin provider break ID --weekday mon --clear
    dr-assistant-admin provider deactivate ID | provider activate ID
    dr-assistant-admin appointment-type list
    dr-assistant-admin appointment-type add --name N --minutes M [--colour '#1976d2']
    dr-assistant-admin appointment-type set ID [--name N] [--minutes M] [--colour C]

These tables are the administrator's: the app's login only reads them, so the commands use
the schema owner's engine. Each change writes one audit event (as the operator, workstation
``admin-cli``). The app's cached lists follow by themselves: the tables' triggers move the
``directory`` cache version, so every desk's next read is fresh.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import time
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from backend_client.admin.output import (
    AdminArgumentParser,
    clean,
    emit,
    guarded,
    text_argument,
    whole_number,
)
from backend_client.audit.service import AuditService
from backend_client.backend import open_backend
from backend_client.config import Settings
from backend_client.stores.postgres.models import (
    Appointment,
    AppointmentType,
    Provider,
    ProviderBreak,
    ProviderWorkingHours,
    User,
)

PROG = "dr-assistant-admin"
WORKSTATION = "admin-cli"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ID = whole_number("an id", 1, 2**63 - 1)
_TYPE_ID = whole_number("an appointment type id", 1, 32767)
_MINUTES = whole_number("a number of minutes", 5, 480)
_USERNAME = text_argument("a user name", max_length=200)


class Refused(Exception):
    """The database's state says no (exit status 1); the text is the sentence."""


class BadArguments(Exception):
    """The arguments contradict each other (exit status 2); the text is the sentence."""


# ------------------------------------------------------------------ argument types


def _weekday(text: str) -> int:
    word = text.strip().lower()  # "mon" or "monday"
    for n, (short, full) in enumerate(zip(WEEKDAYS, DAY_NAMES, strict=True), start=1):
        if word in (short, full.lower()):
            return n
    raise argparse.ArgumentTypeError(
        f"must be a weekday: mon, tue, wed, thu, fri, sat or sun, not {text[:20]!r}")


def _clock(text: str) -> time:
    m = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(
            f"must be a time of day as HH:MM on the 24-hour clock (such as 09:00 or 17:30), "
            f"not {text[:20]!r}")
    return time(int(m.group(1)), int(m.group(2)))


def _colour(text: str) -> str:
    if re.fullmatch(r"#[0-9a-fA-F]{6}", text.strip()):
        return text.strip().lower()
    raise argparse.ArgumentTypeError(
        f"must be a colour as #rrggbb (such as #1976d2), not {text[:20]!r}")


def _words(what: str, max_length: int, *, empty: bool = False) -> Callable[[str], str]:
    base = text_argument(what, max_length=max_length)

    def parse(text: str) -> str:
        value = base(text).strip()
        if (not value and not empty) or not value.isprintable():
            raise argparse.ArgumentTypeError(
                f"must be {what}: some text without control characters")
        return value

    parse.__name__ = what
    return parse


# ------------------------------------------------------------------ parsers


def _sub(parent: Any, dest: str) -> Any:
    return parent.add_subparsers(dest=dest, required=True, parser_class=AdminArgumentParser)


def add_schedule_parsers(subparsers: Any) -> None:
    """Add the ``provider`` and ``appointment-type`` commands to ``subparsers``."""
    provider = subparsers.add_parser("provider", help="providers, their hours and breaks",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = _sub(provider, "provider_command")
    sub.add_parser("list", help="every provider with account, state, hours and breaks")
    add = sub.add_parser("add", help="add a provider (no hours yet)")
    add.add_argument("--title", default="", type=_words("a title", 40, empty=True))
    add.add_argument("--given", required=True, type=_words("a given name", 100))
    add.add_argument("--family", required=True, type=_words("a family name", 100))
    add.add_argument("--specialty", required=True, type=_words("a specialty", 100))
    add.add_argument("--user", type=_USERNAME, help="the provider's own account")
    link = sub.add_parser("link", help="say which account is this provider")
    link.add_argument("id", type=_ID)
    link.add_argument("--user", required=True, type=_USERNAME)
    unlink = sub.add_parser("unlink", help="the provider has no account any more")
    unlink.add_argument("id", type=_ID)
    hours = sub.add_parser("hours", help="replace one weekday's working hours")
    hours.add_argument("id", type=_ID)
    hours.add_argument("--weekday", required=True, type=_weekday, metavar="mon..sun")
    for flag, dest in (("--from", "start"), ("--to", "end"), ("--from2", "start2"),
                       ("--to2", "end2")):
        hours.add_argument(flag, dest=dest, type=_clock, metavar="HH:MM")
    hours.add_argument("--off", action="store_true", help="no hours (and no breaks) that day")
    brk = sub.add_parser("break", help="add a weekly break, or clear a weekday's breaks")
    brk.add_argument("id", type=_ID)
    brk.add_argument("--weekday", required=True, type=_weekday, metavar="mon..sun")
    brk.add_argument("--from", dest="start", type=_clock, metavar="HH:MM")
    brk.add_argument("--to", dest="end", type=_clock, metavar="HH:MM")
    brk.add_argument("--label", default="", type=_words("a label", 100, empty=True))
    brk.add_argument("--clear", action="store_true", help="remove that weekday's breaks")
    for action, text in (("deactivate", "no longer bookable (the history stays)"),
                         ("activate", "bookable again")):
        p = sub.add_parser(action, help=text)
        p.add_argument("id", type=_ID)

    types = subparsers.add_parser("appointment-type", help="appointment types",
                                  description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = _sub(types, "type_command")
    tsub.add_parser("list", help="every appointment type")
    tadd = tsub.add_parser("add", help="add an appointment type")
    tadd.add_argument("--name", required=True, type=_words("a name", 80))
    tadd.add_argument("--minutes", required=True, type=_MINUTES)
    tadd.add_argument("--colour", default="#607d8b", type=_colour)
    tset = tsub.add_parser("set", help="change an appointment type")
    tset.add_argument("id", type=_TYPE_ID)
    tset.add_argument("--name", type=_words("a name", 80))
    tset.add_argument("--minutes", type=_MINUTES)
    tset.add_argument("--colour", type=_colour)


# ------------------------------------------------------------------ running


def run_schedule_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``provider …`` or ``appointment-type …``: 0 done, 1 refused, 2 wrong use."""
    command = f"{PROG} {args.command} " + (
        args.provider_command if args.command == "provider" else args.type_command)
    try:
        _check(args)
    except BadArguments as exc:
        emit(f"{command}: {exc}; see '{command} --help'.", err=True)
        return 2

    def run() -> int:
        try:
            return _run(args, settings)
        except Refused as exc:
            emit(f"{command}: {exc}", err=True)
            return 1

    return guarded(command, run)


def _check(args: argparse.Namespace) -> None:
    """What argparse cannot see: arguments that contradict each other."""
    if args.command == "provider" and args.provider_command == "hours":
        times = (args.start, args.end, args.start2, args.end2)
        if args.off:
            if any(t is not None for t in times):
                raise BadArguments("--off means no hours that day; give it without "
                                   "--from, --to, --from2 or --to2")
            return
        if args.start is None or args.end is None:
            raise BadArguments("give --from and --to (or --off for a day without hours)")
        if args.end <= args.start:
            raise BadArguments("--to must be after --from")
        if (args.start2 is None) != (args.end2 is None):
            raise BadArguments("give --from2 and --to2 together")
        if args.start2 is not None:
            if args.start2 < args.end:
                raise BadArguments("--from2 must not be before --to (the second period "
                                   "follows the first)")
            if args.end2 <= args.start2:
                raise BadArguments("--to2 must be after --from2")
    elif args.command == "provider" and args.provider_command == "break":
        if args.clear:
            if args.start is not None or args.end is not None or args.label:
                raise BadArguments("--clear removes that weekday's breaks; give it without "
                                   "--from, --to or --label")
            return
        if args.start is None or args.end is None:
            raise BadArguments("give --from and --to (or --clear to remove the breaks)")
        if args.end <= args.start:
            raise BadArguments("--to must be after --from")
    elif args.command == "appointment-type" and args.type_command == "set":
        if args.name is None and args.minutes is None and args.colour is None:
            raise BadArguments("give at least one of --name, --minutes or --colour")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from backend_client.schema import migrate

    backend = open_backend(settings)
    try:
        migrate(backend)
        # The directory is the operator's: the schema owner's engine (the app's login
        # may only read it). One transaction per command, its audit event last.
        with backend.owner_engine.begin() as conn:
            if args.command == "provider":
                return _provider(conn, args)
            return _appointment_type(conn, args)
    finally:
        backend.close(stop_stack=False)


def _audit(conn: Connection, action: str, object_type: str, object_id: int,
           details: dict[str, Any]) -> None:
    AuditService.record_in(conn, action, workstation=WORKSTATION, object_type=object_type,
                           object_id=str(object_id), details=details)


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


# ------------------------------------------------------------------ providers


def _provider_row(conn: Connection, provider_id: int) -> Any:
    row = conn.execute(select(Provider.id, Provider.title, Provider.given_name,
                              Provider.family_name).where(Provider.id == provider_id)
                       .with_for_update()).one_or_none()
    if row is None:
        raise Refused(f"there is no provider {provider_id}; 'provider list' shows them.")
    return row


def _user_id(conn: Connection, username: str) -> int:
    uid = conn.execute(select(User.id).where(User.username == username.strip().lower())
                       ).scalar_one_or_none()
    if uid is None:
        raise Refused(f"there is no account {clean(username)!r} for --user; "
                      "'user list' shows them.")
    return int(uid)


def _free_account(conn: Connection, user_id: int, username: str, provider_id: int) -> None:
    other = conn.execute(select(Provider.id).where(Provider.user_id == user_id,
                                                   Provider.id != provider_id)
                         ).scalar_one_or_none()
    if other is not None:
        raise Refused(f"the account {clean(username)!r} is already provider {other}; "
                      f"one account is one provider ('provider unlink {other}' first).")


def _name(p: Any) -> str:
    return " ".join(x for x in (p.title, p.given_name, p.family_name) if x)


def _periods(conn: Connection, table: Any, provider_id: int, weekday: int) -> list[Any]:
    return list(conn.execute(select(table.starts_at, table.ends_at)
                             .where(table.provider_id == provider_id,
                                    table.weekday == weekday)
                             .order_by(table.starts_at)).all())


def _provider(conn: Connection, args: argparse.Namespace) -> int:
    cmd = args.provider_command
    if cmd == "list":
        _list_providers(conn)
        return 0
    if cmd == "add":
        uid = _user_id(conn, args.user) if args.user else None
        if uid is not None:
            _free_account(conn, uid, args.user, 0)
        pid = conn.execute(insert(Provider).values(
            title=args.title, given_name=args.given, family_name=args.family,
            specialty=args.specialty, user_id=uid).returning(Provider.id)).scalar_one()
        _audit(conn, "provider.add", "providers", pid,
               {"linked": uid is not None})
        emit(f"added provider {pid}: "
             f"{clean(' '.join(x for x in (args.title, args.given, args.family) if x))}"
             + (f", account {clean(args.user)}" if args.user else ""))
        return 0
    p = _provider_row(conn, args.id)
    if cmd in ("link", "unlink"):
        uid = _user_id(conn, args.user) if cmd == "link" else None
        if uid is not None:
            _free_account(conn, uid, args.user, p.id)
        try:
            with conn.begin_nested():
                conn.execute(update(Provider).where(Provider.id == p.id).values(
                    user_id=uid, updated_at=func.now(), version=Provider.version + 1))
        except IntegrityError:  # linked elsewhere between our check and our write
            raise Refused(f"the account {clean(args.user)!r} is already another provider; "
                          "one account is one provider.") from None
        _audit(conn, f"provider.{cmd}", "providers", p.id, {"user_id": uid})
        emit(f"provider {p.id} ({clean(_name(p))}) "
             + (f"is the account {clean(args.user)}" if uid else "has no account now"))
        return 0
    if cmd in ("activate", "deactivate"):
        active = cmd == "activate"
        conn.execute(update(Provider).where(Provider.id == p.id).values(
            is_active=active, updated_at=func.now(), version=Provider.version + 1))
        _audit(conn, f"provider.{cmd}", "providers", p.id, {"is_active": active})
        emit(f"provider {p.id} ({clean(_name(p))}) is "
             + ("bookable again" if active else "no longer bookable; the history stays"))
        if not active:
            # Counted, not named: the appointments are patients' (the desk moves them).
            ahead = conn.execute(select(func.count()).select_from(Appointment).where(
                Appointment.provider_id == p.id, Appointment.status == "booked",
                Appointment.starts_at >= func.now())).scalar_one()
            if ahead:
                emit(f"note: {ahead} booked appointment{'s' if ahead != 1 else ''} from now "
                     "on stay booked with this provider; move or cancel them at a desk")
        return 0
    if cmd == "hours":
        return _hours(conn, p, args)
    if cmd == "break":
        return _break(conn, p, args)
    return 2


def _hours(conn: Connection, p: Any, args: argparse.Namespace) -> int:
    day = DAY_NAMES[args.weekday - 1]
    new = [] if args.off else [(args.start, args.end)] + (
        [(args.start2, args.end2)] if args.start2 is not None else [])
    breaks = _periods(conn, ProviderBreak, p.id, args.weekday)
    if not args.off:
        for b in breaks:
            if not any(s <= b.starts_at and b.ends_at <= e for s, e in new):
                raise Refused(
                    f"the break {_hhmm(b.starts_at)}-{_hhmm(b.ends_at)} on {day} would be "
                    f"outside the new hours; clear it first ('provider break {p.id} "
                    f"--weekday {WEEKDAYS[args.weekday - 1]} --clear'). Nothing changed.")
    conn.execute(delete(ProviderWorkingHours).where(
        ProviderWorkingHours.provider_id == p.id, ProviderWorkingHours.weekday == args.weekday))
    if args.off and breaks:
        conn.execute(delete(ProviderBreak).where(
            ProviderBreak.provider_id == p.id, ProviderBreak.weekday == args.weekday))
    if new:
        conn.execute(insert(ProviderWorkingHours), [
            {"provider_id": p.id, "weekday": args.weekday, "starts_at": s, "ends_at": e}
            for s, e in new])
    shown = [f"{_hhmm(s)}-{_hhmm(e)}" for s, e in new]
    _audit(conn, "provider.hours", "providers", p.id,
           {"weekday": args.weekday, "hours": shown})
    if new:
        emit(f"provider {p.id} ({clean(_name(p))}) works {day}s {', '.join(shown)}")
    else:
        emit(f"provider {p.id} ({clean(_name(p))}) does not work on {day}s"
             + (f"; removed {len(breaks)} break{'s' if len(breaks) != 1 else ''}"
                if breaks else ""))
    return 0


def _break(conn: Connection, p: Any, args: argparse.Namespace) -> int:
    day = DAY_NAMES[args.weekday - 1]
    if args.clear:
        n = conn.execute(delete(ProviderBreak).where(
            ProviderBreak.provider_id == p.id, ProviderBreak.weekday == args.weekday)).rowcount
        _audit(conn, "provider.break", "providers", p.id,
               {"weekday": args.weekday, "cleared": n})
        emit(f"provider {p.id} ({clean(_name(p))}): removed {n} break{'s' if n != 1 else ''} "
             f"on {day}s")
        return 0
    hours = _periods(conn, ProviderWorkingHours, p.id, args.weekday)
    when = f"{_hhmm(args.start)}-{_hhmm(args.end)}"
    if not hours:
        raise Refused(f"provider {p.id} has no hours on {day}s, so a break --from --to has "
                      f"nothing to be part of; set the hours first ('provider hours').")
    if not any(h.starts_at <= args.start and args.end <= h.ends_at for h in hours):
        shown = ", ".join(f"{_hhmm(h.starts_at)}-{_hhmm(h.ends_at)}" for h in hours)
        raise Refused(f"the break {when} (--from, --to) is outside provider {p.id}'s hours "
                      f"on {day}s ({shown}); a break lies within them.")
    for b in _periods(conn, ProviderBreak, p.id, args.weekday):
        if b.starts_at < args.end and args.start < b.ends_at:
            raise Refused(f"the break {when} overlaps the break {_hhmm(b.starts_at)}-"
                          f"{_hhmm(b.ends_at)} on {day}s; clear the day's breaks first "
                          "(--clear).")
    conn.execute(insert(ProviderBreak).values(provider_id=p.id, weekday=args.weekday,
                                              starts_at=args.start, ends_at=args.end,
                                              label=args.label))
    _audit(conn, "provider.break", "providers", p.id,
           {"weekday": args.weekday, "break": when})
    emit(f"provider {p.id} ({clean(_name(p))}) has a break on {day}s {when}")
    return 0


def _periods_by_provider(conn: Connection, table: Any) -> dict[int, list[Any]]:
    """Every provider's weekly periods from ``table``, in two queries for the whole list
    (a seeded clinic has thousands of providers)."""
    rows = conn.execute(select(table.provider_id, table.weekday, table.starts_at, table.ends_at)
                        .order_by(table.provider_id, table.weekday, table.starts_at))
    found: dict[int, list[Any]] = {}
    for r in rows:
        found.setdefault(r.provider_id, []).append(r)
    return found


def _week(hours: list[Any], breaks: list[Any]) -> str:
    days = []
    for wd in range(1, 8):
        h = [f"{_hhmm(r.starts_at)}-{_hhmm(r.ends_at)}" for r in hours if r.weekday == wd]
        b = [f"{_hhmm(r.starts_at)}-{_hhmm(r.ends_at)}" for r in breaks if r.weekday == wd]
        if h:
            days.append(f"{WEEKDAYS[wd - 1].capitalize()} {' '.join(h)}"
                        + (f" (break {' '.join(b)})" if b else ""))
    return "; ".join(days) if days else "no working hours"


def _list_providers(conn: Connection) -> None:
    rows = conn.execute(select(Provider.id, Provider.title, Provider.given_name,
                               Provider.family_name, Provider.specialty, Provider.is_active,
                               User.username)
                        .outerjoin(User, User.id == Provider.user_id)
                        .order_by(Provider.family_name, Provider.given_name, Provider.id)
                        ).all()
    if not rows:
        emit("there are no providers; add one with 'provider add'")
        return
    hours = _periods_by_provider(conn, ProviderWorkingHours)
    breaks = _periods_by_provider(conn, ProviderBreak)
    for r in rows:
        account = f"account {clean(r.username)}" if r.username else "no account"
        emit(f"{r.id:>5}  {clean(_name(r))} - {clean(r.specialty)} - {account} - "
             f"{'active' if r.is_active else 'inactive'} - "
             f"{_week(hours.get(r.id, []), breaks.get(r.id, []))}")
    emit(f"{len(rows)} provider{'s' if len(rows) != 1 else ''}")


# ------------------------------------------------------------------ appointment types

_TYPE_COLUMNS = select(AppointmentType.id, AppointmentType.name,
                       AppointmentType.default_minutes, AppointmentType.colour)


def _appointment_type(conn: Connection, args: argparse.Namespace) -> int:
    if args.type_command == "list":
        rows = conn.execute(_TYPE_COLUMNS.order_by(AppointmentType.name)).all()
        shown = 0
        for row in rows:
            emit(f"{row.id:>5}  {clean(row.name):<30} {row.default_minutes:>3} min  "
                 f"{row.colour}")
            shown += 1
        emit(f"{shown} appointment type{'s' if shown != 1 else ''}")
        return 0
    name = args.name
    if name is not None:
        taken = conn.execute(select(AppointmentType.id).where(
            func.lower(AppointmentType.name) == name.lower())).scalar_one_or_none()
        if taken is not None and (args.type_command == "add" or taken != args.id):
            raise Refused(f"there is already an appointment type named {clean(name)!r} "
                          f"(id {taken}); --name must be new.")
    if args.type_command == "add":
        try:
            with conn.begin_nested():
                tid = conn.execute(insert(AppointmentType).values(
                    name=name, default_minutes=args.minutes, colour=args.colour)
                    .returning(AppointmentType.id)).scalar_one()
        except IntegrityError:
            raise Refused(f"there is already an appointment type named {clean(name)!r}; "
                          "--name must be new.") from None
        _audit(conn, "appointment_type.add", "appointment_types", tid,
               {"minutes": args.minutes, "colour": args.colour})
        emit(f"added appointment type {tid}: {clean(name)}, {args.minutes} min, {args.colour}")
        return 0
    t = conn.execute(_TYPE_COLUMNS.where(AppointmentType.id == args.id)
                     .with_for_update()).one_or_none()
    if t is None:
        raise Refused(f"there is no appointment type {args.id}; "
                      "'appointment-type list' shows them.")
    values = {k: v for k, v in (("name", name), ("default_minutes", args.minutes),
                                ("colour", args.colour)) if v is not None}
    try:
        with conn.begin_nested():
            conn.execute(update(AppointmentType).where(AppointmentType.id == t.id)
                         .values(**values))
    except IntegrityError:
        raise Refused(f"there is already an appointment type named {clean(name)!r}; "
                      "--name must be new.") from None
    _audit(conn, "appointment_type.set", "appointment_types", t.id,
           {"columns": sorted(values)})
    after = conn.execute(_TYPE_COLUMNS.where(AppointmentType.id == t.id)).one()
    emit(f"appointment type {after.id}: {clean(after.name)}, {after.default_minutes} min, "
         f"{after.colour}")
    return 0
