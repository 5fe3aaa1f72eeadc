"""Round-robin turns live in the store: they survive a restart and concurrent takers."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from handoff_hub.hub.store import StateStore


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_turns_go_round_and_go_on_after_a_restart(url: str) -> None:
    store = StateStore(url)
    assert [store.take_turn("pool-a", 3) for _ in range(4)] == [0, 1, 2, 0]
    assert store.take_turn("pool-b", 3) == 0
    store.close()
    reopened = StateStore(url)
    assert reopened.take_turn("pool-a", 3) == 1
    reopened.close()


def test_concurrent_takers_never_share_a_turn(url: str) -> None:
    stores = [StateStore(url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            turns = list(pool.map(lambda i: stores[i % 4].take_turn("pool", 1000), range(40)))
        assert sorted(turns) == list(range(40))
        assert max(Counter(turns).values()) == 1
    finally:
        for store in stores:
            store.close()


def test_a_pool_needs_a_member(url: str) -> None:
    store = StateStore(url)
    with pytest.raises(ValueError, match="at least one"):
        store.take_turn("pool", 0)
    store.close()
