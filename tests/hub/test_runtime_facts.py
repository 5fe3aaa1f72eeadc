"""Facts a connector learned (Jira's time zone) are kept in the store for the next run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.hub.connector import KeepsFacts
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import StateStore


class Learner:
    def __init__(self) -> None:
        self.known: dict[str, str] = {}
        self.closed = False

    def facts(self) -> dict[str, str]:
        return dict(self.known)

    def recall(self, facts: Mapping[str, str]) -> None:
        self.known.update(facts)

    def close(self) -> None:
        self.closed = True


def runtime(store: StateStore, connector: Any) -> Runtime:
    return Runtime(loaded=None, store=store, connectors={"pm": connector})  # type: ignore[arg-type]


def test_a_run_keeps_what_its_connectors_learned_and_the_next_recalls_it(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    first = Learner()
    assert isinstance(first, KeepsFacts)
    first.known["time_zone"] = "Europe/Paris"
    runtime(StateStore(url), first).close()
    assert first.closed
    second = Learner()
    runtime(StateStore(url), second).recall_facts()
    assert second.known == {"time_zone": "Europe/Paris"}


def test_an_unreadable_row_is_ignored(tmp_path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.set_cursor("facts:pm", "not json")
    learner = Learner()
    runtime(store, learner).recall_facts()
    assert learner.known == {}
    store.close()
