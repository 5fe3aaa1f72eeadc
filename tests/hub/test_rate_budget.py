"""Processes sharing a rate budget through the store stay under the rate together.

Grants are counted on a simulated clock (the ledger's and the consumers'), never wall time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from handoff_hub.hub.config.loading import LoadedConfig
from handoff_hub.hub.config.root import StoreConfig
from handoff_hub.hub.config.systems import SystemConfig
from handoff_hub.hub.http import SharedTokenBucket, TokenBucket
from handoff_hub.hub.runtime import open_runtime
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.store.rate_budget import StoreRateLedger
from handoff_hub.sandboxes.kit import Sandbox

RATE = 10.0
BURST = 5
CALL_SECONDS = 0.05
"""How long each consumer's API call takes once it has its token."""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


class _Consumers:
    """N consumers, each with its own clock, run in time order on one simulated timeline."""

    def __init__(self, url: str, count: int, *, shared: bool) -> None:
        self.times = [0.0] * count
        self.turn = 0
        self.stores = [StateStore(url) for _ in range(count)]
        self.buckets: list[TokenBucket] = []
        for n, store in enumerate(self.stores):
            clock, sleep = self._clock(n), self._sleep(n)
            if shared:
                ledger = StoreRateLedger(store.engine, clock=lambda: self.times[self.turn])
                bucket: TokenBucket = SharedTokenBucket(
                    ledger,
                    "vendor",
                    requests=10,
                    per_seconds=1,
                    burst=BURST,
                    clock=clock,
                    sleep=sleep,
                )
            else:
                bucket = TokenBucket(
                    requests=10, per_seconds=1, burst=BURST, clock=clock, sleep=sleep
                )
            self.buckets.append(bucket)

    def _clock(self, n: int):  # type: ignore[no-untyped-def]
        return lambda: self.times[n]

    def _sleep(self, n: int):  # type: ignore[no-untyped-def]
        def sleep(seconds: float) -> None:
            self.times[n] += seconds

        return sleep

    def run(self, until: float) -> list[float]:
        """Each consumer calls the API back to back until ``until``; the calls' start times."""
        sent: list[float] = []
        while min(self.times) < until:
            self.turn = min(range(len(self.times)), key=self.times.__getitem__)
            self.buckets[self.turn].acquire()
            sent.append(self.times[self.turn])
            self.times[self.turn] += CALL_SECONDS
        return sorted(t for t in sent if t < until)

    def close(self) -> None:
        for store in self.stores:
            store.close()


def _busiest(sent: list[float], window: float) -> int:
    """The most calls started within any ``window`` seconds."""
    most, first = 0, 0
    for last, at in enumerate(sent):
        while at - sent[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_three_consumers_of_one_shared_budget_stay_under_its_rate(url: str) -> None:
    consumers = _Consumers(url, 3, shared=True)
    try:
        sent = consumers.run(until=20.0)
        reservations = sum(b.reservations for b in consumers.buckets)  # type: ignore[attr-defined]
    finally:
        consumers.close()
    assert len(sent) <= RATE * 20 + BURST
    assert len(sent) >= 0.9 * RATE * 20
    for window in (1.0, 2.0, 5.0):
        assert _busiest(sent, window) <= RATE * window + BURST
    assert reservations <= 0.6 * len(sent)  # a grant is 2 tokens at 10/s: half the round trips


def test_per_process_buckets_each_take_the_whole_rate(url: str) -> None:
    consumers = _Consumers(url, 3, shared=False)
    try:
        sent = consumers.run(until=20.0)
    finally:
        consumers.close()
    assert len(sent) >= 2.5 * RATE * 20  # what the shared budget prevents


def test_concurrent_reservations_never_spend_a_token_twice(url: str) -> None:
    stores = [StateStore(url) for _ in range(4)]
    ledgers = [StoreRateLedger(store.engine, clock=lambda: 100.0) for store in stores]
    try:
        with ThreadPoolExecutor(4) as pool:
            balances = list(
                pool.map(
                    lambda n: ledgers[n % 4].reserve("vendor", 1, rate=RATE, capacity=10),
                    range(40),
                )
            )
    finally:
        for store in stores:
            store.close()
    assert sorted(balances) == [float(b) for b in range(-29, 11)]


def test_lowering_a_budget_makes_the_next_taker_wait(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    now = [0.0]
    ledger = StoreRateLedger(store.engine, clock=lambda: now[0])
    try:
        assert ledger.reserve("vendor", 1, rate=RATE, capacity=10) == 10
        ledger.lower("vendor", -2, rate=RATE, capacity=10)
        now[0] = 0.1  # one token's refill
        assert ledger.reserve("vendor", 1, rate=RATE, capacity=10) == pytest.approx(-1)
        ledger.lower("fresh", 3, rate=RATE, capacity=10)
        assert ledger.reserve("fresh", 1, rate=RATE, capacity=10) == pytest.approx(3)
    finally:
        store.close()


def test_the_runtime_shares_budgets_when_the_store_says_so(
    loaded: LoadedConfig, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    assert not loaded.config.store.shares_rate_limit  # SQLite: off by default
    loaded.config.store.shared_rate_limit = True
    runtime = open_runtime(
        loaded, transports={"crm": sf_sandbox.transport(), "pm": jira_sandbox.transport()}
    )
    try:
        limiter = runtime.connector("crm").client.api.limiter  # type: ignore[attr-defined]
        assert isinstance(limiter, SharedTokenBucket)
        system = loaded.config.systems["crm"]
        assert limiter.name == f"salesforce {system.base_url.rstrip('/')} requests"
        assert limiter.ledger is runtime.store.rate_ledger
        assert system.rate_ledger is None  # the loaded config is left as it was
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("url", "setting", "shared"),
    [
        ("postgresql+psycopg://hub@db/hub", None, True),
        ("sqlite:///state.db", None, False),
        ("postgresql+psycopg://hub@db/hub", False, False),
        ("sqlite:///state.db", True, True),
    ],
)
def test_sharing_defaults_to_postgresql(url: str, setting: bool | None, shared: bool) -> None:
    assert StoreConfig(url=url, shared_rate_limit=setting).shares_rate_limit is shared


def test_a_budget_is_named_after_the_account_unless_the_admin_names_it() -> None:
    shard = SystemConfig(connector="hubspot", base_url="https://api.hubapi.com/", mapping="m.yaml")
    assert shard.budget_name == "hubspot https://api.hubapi.com"
    named = shard.model_copy(update={"rate_budget": "portal-b"})
    assert named.budget_name == "portal-b"
