"""Failed sign-ins are rate-limited in real Redis, atomically, with an escalating cooldown."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest

from backend_client.accounts.ratelimit import SignInRateLimiter
from backend_client.backend import Backend
from tests.clock import StoreTime


@pytest.fixture
def limiter(backend: Backend) -> tuple[SignInRateLimiter, StoreTime, str, str]:
    clock = StoreTime()
    tag = uuid.uuid4().hex[:8]
    return (SignInRateLimiter(backend.redis, time_shift=clock, account_free_failures=3,
                              workstation_free_failures=10, first_cooldown=30,
                              max_cooldown=300),
            clock, f"user{tag}", f"ws{tag}")


def test_cooldown_starts_after_the_free_failures_and_escalates(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, clock, user, ws = limiter
    for _ in range(3):
        assert rl.record_failure(user, ws) is None
    refusal = rl.record_failure(user, ws)
    assert refusal is not None and refusal.seconds_left == 30
    assert rl.check(user, ws) is not None
    assert "Try again in 30 seconds" in refusal.sentence()
    clock.advance(seconds=31)
    assert rl.check(user, ws) is None
    second = rl.record_failure(user, ws)
    assert second is not None and second.seconds_left == 60  # doubled
    clock.advance(seconds=61)
    third = rl.record_failure(user, ws)
    assert third is not None and third.seconds_left == 120
    assert "Try again in 2 minutes" in third.sentence()


def test_failures_during_a_cooldown_do_not_count(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, clock, user, ws = limiter
    for _ in range(4):
        rl.record_failure(user, ws)
    for _ in range(10):
        rl.record_failure(user, ws)  # hammering while locked
    clock.advance(seconds=31)
    again = rl.record_failure(user, ws)
    assert again is not None and again.seconds_left == 60


def test_cooldown_has_a_ceiling(limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, clock, user, ws = limiter
    last = None
    for _ in range(12):
        last = rl.record_failure(user, ws)
        clock.advance(seconds=1000)
    assert last is not None and last.seconds_left == 300


def test_success_clears_the_account(limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, _, user, ws = limiter
    for _ in range(3):
        rl.record_failure(user, ws)
    rl.record_success(user, ws)
    assert rl.record_failure(user, ws) is None


def test_one_workstation_trying_many_accounts_is_stopped(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, _, user, ws = limiter
    for i in range(10):
        assert rl.record_failure(f"{user}-{i}", ws) is None
    assert rl.record_failure(f"{user}-new", ws) is not None
    assert rl.check("someone-else", ws) is not None
    assert rl.check(user, "another-workstation") is None


def _from_eight_workstations(call: Callable[[str], object], ws: str) -> list[object]:
    """``call(workstation)`` from eight threads at once, each its own workstation."""
    results: list[object] = []
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
        t.join(10)
    return results


def test_concurrent_failures_are_counted_exactly(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, _, user, ws = limiter
    results = _from_eight_workstations(lambda station: rl.record_failure(user, station), ws)
    # Exactly three free failures; the fourth starts the cooldown and the rest are refused.
    assert sum(r is None for r in results) == 3


def test_parallel_attempts_are_counted_before_the_password_is_checked(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    """Eight workstations try one account at once: the three free attempts and the one
    that starts the cooldown go ahead; the other four are refused before any password is
    verified (none of them can slip between a check and a count)."""
    rl, _, user, ws = limiter
    results = _from_eight_workstations(lambda station: rl.begin_attempt(user, station), ws)
    assert sum(r is None for r in results) == 4
    assert rl.check(user, ws) is not None


def test_successful_sign_ins_never_lock_a_busy_workstation(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, _, user, ws = limiter
    for i in range(30):  # workstation_free_failures is 10
        assert rl.begin_attempt(f"{user}-{i}", ws) is None
        rl.record_success(f"{user}-{i}", ws)
    assert rl.check("anyone", ws) is None


def test_an_attempt_that_could_not_be_judged_is_given_back(
        limiter: tuple[SignInRateLimiter, StoreTime, str, str]) -> None:
    rl, _, user, ws = limiter
    for _ in range(6):  # the database was down six times
        assert rl.begin_attempt(user, ws) is None
        rl.refund(user, ws)
    assert rl.check(user, ws) is None
    for _ in range(3):  # the three free failures are all still there
        assert rl.record_failure(user, ws) is None
