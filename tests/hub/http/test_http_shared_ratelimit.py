"""SharedTokenBucket: ledger grants spent evenly; stale tokens dropped; low counts shared."""

from __future__ import annotations

import pytest

from handoff_hub.hub.http import SharedTokenBucket
from handoff_hub.hub.http.shared_ratelimit import grant_size


class _Ledger:
    """One budget in memory, on the test's clock."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.tokens: float | None = None
        self.at = 0.0
        self.lowered: list[float] = []

    def _refill(self, rate: float, capacity: float) -> None:
        if self.tokens is None:
            self.tokens = capacity
        self.tokens = min(capacity, self.tokens + (self.clock[0] - self.at) * rate)
        self.at = self.clock[0]

    def reserve(self, name: str, tokens: float, *, rate: float, capacity: float) -> float:
        self._refill(rate, capacity)
        assert self.tokens is not None
        before = self.tokens
        self.tokens -= tokens
        return before

    def lower(self, name: str, tokens: float, *, rate: float, capacity: float) -> None:
        self._refill(rate, capacity)
        assert self.tokens is not None
        self.tokens = min(self.tokens, tokens)
        self.lowered.append(tokens)


def _bucket(ledger: _Ledger, clock: list[float], **options: int) -> SharedTokenBucket:
    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return SharedTokenBucket(
        ledger, "vendor", requests=10, per_seconds=1, clock=lambda: clock[0], sleep=sleep, **options
    )


def test_a_grant_is_spent_evenly_after_the_burst() -> None:
    clock = [0.0]
    ledger = _Ledger(clock)
    bucket = _bucket(ledger, clock, burst=1, grant=4)
    waits = [bucket.acquire() for _ in range(8)]
    assert waits == pytest.approx([0.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert bucket.reservations == 2


def test_a_cost_larger_than_a_grant_reserves_it_whole() -> None:
    clock = [0.0]
    ledger = _Ledger(clock)
    bucket = _bucket(ledger, clock, burst=10, grant=2)
    assert bucket.acquire(9) == 0.0
    assert bucket.acquire(3) == pytest.approx(0.2)  # the budget has 1 left: 2 more take 0.2 s


def test_tokens_held_too_long_go_back_unspent() -> None:
    clock = [0.0]
    ledger = _Ledger(clock)
    bucket = _bucket(ledger, clock, burst=10, grant=4)
    bucket.acquire()
    clock[0] = 5.0  # three reserved tokens were never spent
    bucket.acquire()
    assert bucket.reservations == 2


def test_only_a_low_remaining_count_reaches_the_ledger() -> None:
    clock = [0.0]
    ledger = _Ledger(clock)
    bucket = _bucket(ledger, clock, burst=10, grant=2)
    bucket.acquire()
    bucket.observe(remaining=2)
    assert ledger.lowered == []
    bucket.observe(remaining=0, reset_seconds=0.5)
    assert ledger.lowered == [pytest.approx(-4.0)]
    assert bucket.acquire() == 0.0  # the grant's spare token was counted before
    assert bucket.acquire() == pytest.approx(0.5)  # the budget, lowered to -4, refills


def test_a_grant_is_a_quarter_second_of_the_rate() -> None:
    assert [grant_size(rate) for rate in (1, 9.5, 17.5, 100)] == [1, 2, 4, 8]


def test_a_client_that_is_done_gives_its_unspent_grant_back() -> None:
    clock = [0.0]
    ledger = _Ledger(clock)
    first = _bucket(ledger, clock, burst=1, grant=4)
    other = _bucket(ledger, clock, burst=1, grant=4)
    first.acquire()  # a grant of 4 from a budget of 1: -3
    first.release()
    assert ledger.tokens == pytest.approx(0.0)
    assert other.acquire() == pytest.approx(0.1)  # not 0.4: the 3 unspent tokens came back
    first.release()  # nothing left to give
    assert ledger.tokens == pytest.approx(-4.0)  # the other's grant only


def test_a_local_bucket_has_nothing_to_give_back() -> None:
    from handoff_hub.hub.http.ratelimit import TokenBucket

    bucket = TokenBucket(requests=10, per_seconds=1)
    bucket.acquire()
    bucket.release()
    assert bucket.acquire() >= 0.0
