"""``dr-assistant-admin user``: accounts from a terminal.

    dr-assistant-admin user add USERNAME --name "Display Name" --role doctor [--role admin]
                                [--email E] [--password-stdin]
    dr-assistant-admin user passwd USERNAME [--password-stdin]
    dr-assistant-admin user disable USERNAME
    dr-assistant-admin user enable USERNAME
    dr-assistant-admin user list

Passwords are asked for twice without echo, or read as one line from standard input with
``--password-stdin`` (for scripts). No password or hash is ever printed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import warnings
from typing import TYPE_CHECKING, Any

from backend_client.admin.output import (
    AdminArgumentParser,
    clean,
    emit,
    guarded,
    text_argument,
)
from backend_client.backend import open_backend
from backend_client.config import Settings

if TYPE_CHECKING:
    from backend_client.accounts.service import UserSummary

PROG = "dr-assistant-admin user"
NO_TERMINAL = ("there is no terminal to ask for the password on: give it as one line on "
               "standard input with --password-stdin; nothing changed.")
_USERNAME = text_argument("a user name", max_length=200)


def add_user_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``user`` command to ``subparsers`` (from ``add_subparsers``)."""
    user = subparsers.add_parser("user", help="add, change, disable and list accounts",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = user.add_subparsers(dest="user_command", required=True,
                              parser_class=AdminArgumentParser)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("username", type=_USERNAME)
    add.add_argument("--name", required=True, type=text_argument("the person's name"),
                     help="the name shown in the app")
    add.add_argument("--role", action="append", required=True, dest="roles",
                     type=text_argument("a role", max_length=100),
                     help="doctor, resident, nurse, receptionist or admin; repeat for several")
    add.add_argument("--email", default="", type=text_argument("an e-mail address"))
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password as one line from standard input")
    passwd = sub.add_parser("passwd", help="set a new password")
    passwd.add_argument("username", type=_USERNAME)
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the password as one line from standard input")
    for action, text in (("disable", "stop an account from signing in"),
                         ("enable", "let a disabled account sign in again")):
        p = sub.add_parser(action, help=text)
        p.add_argument("username", type=_USERNAME)
    sub.add_parser("list", help="list accounts, their roles and whether they are active")
    return user


class _NoTerminal(Exception):
    """getpass found no terminal and would have read the password, echoed, from stdin."""


def _ask(prompt: str) -> str:
    # Without a terminal getpass warns and then reads standard input with echo on (or
    # fails on an empty one). Neither is what anyone asked for: say so instead.
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt)
        except getpass.GetPassWarning:
            raise _NoTerminal from None


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        line = sys.stdin.readline()
        return line.removesuffix("\n").removesuffix("\r")
    try:
        first = _ask("New password: ")
        again = _ask("Repeat it: ")
    except (EOFError, KeyboardInterrupt):
        emit("", err=True)
        emit(f"{PROG}: no password given; nothing changed.", err=True)
        return None
    if again != first:
        emit(f"{PROG}: the two passwords differ; nothing changed.", err=True)
        return None
    return first


def run_user_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``user …``; returns the exit status (0 done, 1 refused input, 2 wrong use)."""
    return guarded(PROG, lambda: _run(args, settings))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from backend_client.accounts.service import AccountService
    from backend_client.schema import migrate

    password = ""
    if args.user_command in ("add", "passwd"):
        try:
            read = _read_password(args.password_stdin)
        except _NoTerminal:
            emit(f"{PROG} {args.user_command}: {NO_TERMINAL}", err=True)
            return 2
        if read is None:
            return 1
        password = read
    backend = open_backend(settings)
    try:
        migrate(backend)
        # Accounts are the operator's: the schema owner's engine (the app's login may
        # neither write them nor read their credentials).
        accounts = AccountService(backend.owner_engine)
        if args.user_command == "add":
            u = accounts.add_user(args.username, args.name, password, args.roles, args.email)
            emit(f"added {clean(u.username)} ({clean(', '.join(u.roles))})")
        elif args.user_command == "passwd":
            u = accounts.set_password(args.username, password)
            emit(f"password changed for {clean(u.username)}")
        elif args.user_command == "disable":
            u = accounts.disable(args.username)
            # A disabled account's open sessions end now, not at their time limit.
            from backend_client.accounts.access import SystemAccess
            from backend_client.accounts.sessions import SessionStore
            from backend_client.accounts.signin import SessionAdmin
            ended = SessionAdmin(SessionStore(backend.owner_engine),
                                 SystemAccess("admin-cli")).revoke_user(u.id)
            emit(f"disabled {clean(u.username)}" + (f"; ended {ended} open session"
                                                    f"{'s' if ended != 1 else ''}"
                                                    if ended else ""))
        elif args.user_command == "enable":
            u = accounts.enable(args.username)
            emit(f"enabled {clean(u.username)}")
        elif args.user_command == "list":
            _print_table(accounts.list_users())
        else:
            return 2
    finally:
        backend.close(stop_stack=False)
    return 0


def _print_table(users: list[UserSummary]) -> None:
    rows = [("USERNAME", "NAME", "ROLES", "ACTIVE")]
    rows += [(clean(u.username), clean(u.display_name), clean(",".join(u.roles)),
              "yes" if u.is_active else "no") for u in users]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        emit(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
