"""The webhook replay memory in the state store, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from handoff_hub.hub.store import StateStore
from handoff_hub.hub.store.tables import SeenDeliveryRow
from handoff_hub.hub.webhooks.seen import SeenDeliveries, digest

NOW = 1_750_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(url: str) -> Iterator[StateStore]:
    opened = StateStore(url)
    yield opened
    opened.close()


def test_a_replay_within_the_window_is_recognised(store: StateStore) -> None:
    seen = SeenDeliveries(store, ttl=600)
    key, other = digest(b"jira", b"body"), digest(b"jira", b"other body")
    assert seen.claim([key], NOW)
    assert not seen.claim([key], NOW + 599), "a replay inside the window"
    assert not seen.claim([other, key], NOW + 1), "any known key gives the replay away"
    assert seen.claim([other], NOW + 2), "and the refused claim recorded none of its keys"
    assert seen.claim([key], NOW + 601), "forgotten after the window (the time check refuses it)"
    seen.release([key])
    assert seen.claim([key], NOW + 602), "a released (not accepted) delivery may come again"
    assert digest(b"ab", b"c") != digest(b"a", b"bc")


def test_entries_older_than_the_window_are_pruned(store: StateStore) -> None:
    seen = SeenDeliveries(store, ttl=600)
    assert all(seen.claim([digest(str(n).encode())], NOW + n) for n in range(5))
    assert store.count(SeenDeliveryRow) == 5
    assert seen.claim([digest(b"later")], NOW + 603)  # the first three are out of the window
    assert store.count(SeenDeliveryRow) == 3


def test_a_restarted_process_still_knows_what_was_accepted(url: str) -> None:
    key = digest(b"hubspot", b"1750000000000", b"[]")
    before = StateStore(url)
    assert SeenDeliveries(before, ttl=600).claim([key], NOW)
    before.close()
    after = StateStore(url)
    try:
        assert not SeenDeliveries(after, ttl=600).claim([key], NOW + 5)
    finally:
        after.close()


def _claim_at_once(stores: list[StateStore], keys: list[str], now: float) -> list[bool]:
    """Every store claims ``keys`` at the same moment, each from its own thread."""
    start = threading.Barrier(len(stores))

    def claim(store: StateStore) -> bool:
        start.wait()
        return SeenDeliveries(store, ttl=600).claim(keys, now)

    with ThreadPoolExecutor(len(stores)) as pool:
        return list(pool.map(claim, stores))


def test_of_processes_claiming_one_delivery_at_once_exactly_one_wins(url: str) -> None:
    stores = [StateStore(url) for _ in range(6)]
    try:
        for round_ in range(5):  # each round also forgets the last one's shared key
            keys = [digest(b"jira", str(round_).encode()), digest(b"jira-id", b"shared")]
            won = _claim_at_once(stores, keys if round_ % 2 else keys[::-1], NOW + round_ * 1000)
            assert won.count(True) == 1, (round_, won)
    finally:
        for store in stores:
            store.close()
