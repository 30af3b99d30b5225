"""Failed sign-ins are counted by the database itself (the only door is ``dra_sign_in``),
per account and per workstation, atomically, with an escalating cooldown; what was typed as
a user name is never stored."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from backend_client.accounts.service import AccountService
from backend_client.accounts.sessions import SessionStore, SignInOutcome
from backend_client.backend import Backend
from tests.clock import DatabaseTime
from tests.integration.conftest import FAST

PASSWORD = "amber meadow lantern 19"
WRONG = "not the right one at all"


@dataclass
class Door:
    store: SessionStore
    clock: DatabaseTime
    user: str
    ws: str
    backend: Backend

    def attempt(self, password: str = WRONG, *, user: str | None = None,
                ws: str | None = None) -> SignInOutcome:
        name = self.user if user is None else user
        outcome = self.store.sign_in(name, self.store.keys_for(name, password), ws or self.ws)
        if outcome.actor is not None:
            self.store.end(outcome.actor.token, "test")
        return outcome


@pytest.fixture
def door(backend: Backend) -> Iterator[Door]:
    tag = uuid.uuid4().hex[:8]
    user = AccountService(backend.owner_engine, hashing=FAST).add_user(
        f"rl{tag}", "Rate Limited", PASSWORD, ["receptionist"])
    yield Door(SessionStore(backend.engine), DatabaseTime(backend.owner_engine, [user.id]),
               user.username, f"ws{tag}", backend)
    AccountService(backend.owner_engine).disable(user.username)


def test_cooldown_starts_after_the_free_failures_and_escalates(door: Door) -> None:
    for _ in range(5):
        assert door.attempt() == SignInOutcome("wrong", 0.0)
    started = door.attempt()
    assert started.status == "wrong" and round(started.seconds_left) == 30
    refused = door.attempt(PASSWORD)  # even the right password, while cooling down
    assert refused.status == "refused" and 28 < refused.seconds_left <= 30
    door.clock.advance(seconds=31)
    second = door.attempt()
    assert second.status == "wrong" and round(second.seconds_left) == 60  # doubled
    door.clock.advance(seconds=61)
    third = door.attempt()
    assert round(third.seconds_left) == 120


def test_failures_during_a_cooldown_do_not_count(door: Door) -> None:
    for _ in range(6):
        door.attempt()
    for _ in range(10):
        assert door.attempt().status == "refused"  # hammering while locked
    door.clock.advance(seconds=31)
    assert round(door.attempt().seconds_left) == 60


def test_cooldown_has_a_ceiling(door: Door) -> None:
    last = None
    for _ in range(12):
        last = door.attempt()
        door.clock.advance(seconds=1000)
    assert last is not None and round(last.seconds_left) == 900


def test_success_clears_the_account(door: Door) -> None:
    for _ in range(4):
        door.attempt()
    assert door.attempt(PASSWORD).status == "ok"
    for _ in range(5):
        assert door.attempt().seconds_left == 0


def test_one_workstation_trying_many_accounts_is_stopped(door: Door) -> None:
    for i in range(20):
        assert door.attempt(user=f"nobody-{i}-{door.ws}").seconds_left == 0
    assert door.attempt(user=f"someone-new-{door.ws}").seconds_left == 30
    assert door.attempt(user="anyone-else").status == "refused"
    assert door.attempt(PASSWORD, ws="another-workstation").status == "ok"


def _from_eight_workstations(call: Callable[[str], SignInOutcome], ws: str
                             ) -> list[SignInOutcome]:
    results: list[SignInOutcome] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        r = call(f"{ws}-{threading.get_ident()}")
        with lock:
            results.append(r)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_parallel_attempts_are_counted_before_the_password_is_checked(door: Door) -> None:
    """Eight workstations try one account at once: five free failures, one that starts the
    cooldown, and two refused without their password being looked at."""
    results = _from_eight_workstations(lambda station: door.attempt(ws=station), door.ws)
    assert sorted((r.status, round(r.seconds_left)) for r in results) == sorted(
        [("wrong", 0)] * 5 + [("wrong", 30)] + [("refused", 30)] * 2)


def test_successful_sign_ins_never_lock_a_busy_workstation(door: Door) -> None:
    for _ in range(30):  # 20 free failures per workstation
        assert door.attempt(PASSWORD).status == "ok"
    assert door.attempt(user="anyone").seconds_left == 0


def test_what_was_typed_as_a_user_name_is_never_stored(door: Door) -> None:
    typed = f"my secret phrase {uuid.uuid4().hex[:6]}"
    assert door.attempt(user=typed).status == "wrong"
    with door.backend.owner_engine.connect() as conn:
        keys = conn.execute(text("SELECT key FROM signin_failures")).scalars().all()
        events = conn.execute(text(
            "SELECT count(*) FROM audit_events WHERE workstation = :w "
            "AND (details::text LIKE :t OR object_id LIKE :t OR user_id IS NOT NULL)"),
            {"w": door.ws, "t": f"%{typed[-6:]}%"}).scalar_one()
    assert not any(typed in k or typed.split()[-1] in k for k in keys)
    assert events == 0
