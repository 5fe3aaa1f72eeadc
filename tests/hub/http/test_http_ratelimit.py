"""TokenBucket on a fake clock: burst, refill, and pauses from the product's own counters."""

from __future__ import annotations

import pytest
from http_fakes import FakeClock

from handoff_hub.hub.http.ratelimit import TokenBucket


def _bucket(clock: FakeClock, **kwargs: float) -> TokenBucket:
    return TokenBucket(clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]


def test_burst_goes_out_without_waiting_then_the_rate_applies(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=10, per_seconds=1, burst=3)

    waits = [bucket.acquire() for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert clock.sleeps == []

    assert bucket.acquire() == pytest.approx(0.1)
    assert bucket.acquire() == pytest.approx(0.1)
    assert clock.sleeps == [pytest.approx(0.1), pytest.approx(0.1)]


def test_burst_defaults_to_the_request_count(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=5, per_seconds=60)

    for _ in range(5):
        bucket.acquire()
    assert clock.sleeps == []
    bucket.acquire()

    assert clock.sleeps == [pytest.approx(12.0)]


def test_refill_follows_the_rate_and_stops_at_capacity(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=4, per_seconds=2, burst=4)  # 2 tokens a second
    for _ in range(4):
        bucket.acquire()

    clock.advance(1.0)  # two tokens back
    bucket.acquire()
    bucket.acquire()
    assert clock.sleeps == []
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.5)]

    clock.advance(3600)  # an idle hour refills only up to the burst
    for _ in range(4):
        bucket.acquire()
    assert len(clock.sleeps) == 1
    bucket.acquire()
    assert len(clock.sleeps) == 2


def test_waited_seconds_add_up(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=2, per_seconds=1, burst=1)

    for _ in range(4):
        bucket.acquire()

    assert bucket.waited_seconds == pytest.approx(1.5)


def test_cost_takes_several_tokens(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=10, per_seconds=1, burst=10)

    bucket.acquire(cost=10)  # an Asana batch of 10 counts as 10
    bucket.acquire(cost=5)

    assert clock.sleeps == [pytest.approx(0.5)]


def test_cost_above_capacity_waits_off_the_debt_instead_of_hanging(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=10, per_seconds=1, burst=5)

    assert bucket.acquire(cost=6) == pytest.approx(0.1)
    assert bucket.acquire() == pytest.approx(0.1)


def test_observe_nothing_left_pauses_until_the_reset(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=100, per_seconds=10)
    bucket.acquire()

    bucket.observe(remaining=0, reset_seconds=4.0)
    waited = bucket.acquire()

    assert waited == pytest.approx(4.0)
    assert clock.sleeps == [pytest.approx(4.0)]


def test_observe_nothing_left_without_a_reset_waits_one_token(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=10, per_seconds=1)

    bucket.observe(remaining=0)
    bucket.acquire()

    assert clock.sleeps == [pytest.approx(0.1)]


def test_observe_remaining_lowers_but_never_raises_the_bucket(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=100, per_seconds=1, burst=10)

    bucket.observe(remaining=2)
    bucket.acquire()
    bucket.acquire()
    assert clock.sleeps == []
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.01)]

    bucket.observe(remaining=1000)  # more than the burst: the bucket stays where it is
    bucket.acquire()
    assert len(clock.sleeps) == 2


def test_observe_none_changes_nothing(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=3, per_seconds=1)

    bucket.observe(remaining=None, reset_seconds=100)
    for _ in range(3):
        bucket.acquire()

    assert clock.sleeps == []


def test_observe_reset_in_the_past_does_not_overfill(clock: FakeClock) -> None:
    bucket = _bucket(clock, requests=10, per_seconds=1, burst=2)

    bucket.observe(remaining=0, reset_seconds=-30.0)  # clock skew
    bucket.acquire()

    assert clock.sleeps == [pytest.approx(0.1)]
    bucket.acquire()
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"requests": 0, "per_seconds": 1},
        {"requests": 5, "per_seconds": 0},
        {"requests": -1, "per_seconds": 1},
        {"requests": 5, "per_seconds": 1, "burst": 0},
    ],
)
def test_invalid_limits_are_refused(kwargs: dict[str, float], clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        _bucket(clock, **kwargs)


@pytest.mark.parametrize(
    ("requests", "per_seconds", "start"),
    [
        (100, 1, 1000.0),
        (7, 3, 5e8),
        (150, 60, 123456.789),
        (3, 0.1, 0.0),
    ],
)
def test_float_rounding_never_makes_acquire_spin(
    requests: int, per_seconds: float, start: float
) -> None:
    clock = FakeClock(start)

    def bounded_sleep(seconds: float) -> None:
        # A spin shows up as ever more (ever tinier) sleeps; fail instead of hanging.
        assert len(clock.sleeps) < 1000, "acquire is spinning"
        clock.sleep(seconds)

    bucket = TokenBucket(
        requests=requests, per_seconds=per_seconds, burst=1, clock=clock, sleep=bounded_sleep
    )
    for _ in range(300):
        bucket.acquire()

    assert len(clock.sleeps) == 299
    assert clock.now - start == pytest.approx(299 * per_seconds / requests, rel=1e-6)


def test_concurrent_callers_queue_up_behind_each_other(clock: FakeClock) -> None:
    import threading

    waits: list[float] = []
    lock = threading.Lock()
    # Sleeps do not move the clock here: each caller's wait shows its place in the queue.
    bucket = TokenBucket(requests=10, per_seconds=1, burst=1, clock=clock, sleep=lambda _: None)

    def call() -> None:
        waited = bucket.acquire()
        with lock:
            waits.append(waited)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == [0.0, pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.3)]
