"""A run with nothing to process is recorded without its flow; one with work is left to it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.handoffs.engine import BatchReport
from handoff_hub.hub.handoffs.idle import run_if_idle
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import StateStore


class Reads:
    """A handoff whose pages are given; it records what was advanced and processed."""

    def __init__(self, pages: list[ChangePage], fail_after: int | None = None) -> None:
        self.run_id: str | None = None
        self._pages = pages
        self.fail_after = fail_after
        self.advanced: list[str | None] = []
        self.processed = 0
        self.lease_name = "reads:crm"

    def pages(self) -> Iterator[ChangePage]:
        for number, page in enumerate(self._pages):
            if number == self.fail_after:
                raise ConnectionError("the product went away")
            yield page

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        self.processed += 1
        return BatchReport()

    def advance(self, page: ChangePage) -> None:
        self.advanced.append(page.cursor)


def _page(n: int, cursor: str) -> ChangePage:
    return ChangePage(
        [RecordEnvelope("crm", "Opportunity", f"{cursor}-{i}", {}) for i in range(n)], cursor
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    yield store
    store.close()


def test_no_records_is_a_recorded_run_that_moved_its_checkpoints(store: StateStore) -> None:
    handoff = Reads([_page(0, "c1"), _page(0, "c2")])

    summary = run_if_idle("h", handoff, store)

    assert summary is not None and summary.status == "succeeded" and summary.counts == {}
    assert handoff.advanced == ["c1", "c2"] and handoff.processed == 0
    [run] = store.runs("h")
    assert run.id == summary.run_id == handoff.run_id
    assert run.status == "succeeded" and run.counts == {} and run.flow_run_id is None


def test_a_page_with_records_is_left_to_the_flow_unrecorded(store: StateStore) -> None:
    handoff = Reads([_page(0, "c1"), _page(2, "c2"), _page(0, "c3")])

    assert run_if_idle("h", handoff, store) is None

    assert handoff.advanced == ["c1"] and handoff.processed == 0
    assert store.runs() == []
    again = Reads([_page(2, "c2"), _page(0, "c3")])
    assert run_handoff("h", again, store).counts == {}  # the lease is free again
    assert again.advanced == ["c2", "c3"]


def test_a_failed_read_is_a_failed_run(store: StateStore) -> None:
    handoff = Reads([_page(0, "c1"), _page(0, "c2")], fail_after=1)

    with pytest.raises(ConnectionError):
        run_if_idle("h", handoff, store)

    [run] = store.runs("h")
    assert run.status == "failed" and run.error == "the product went away"
    assert handoff.advanced == ["c1"]


def test_a_held_lease_is_a_skipped_run(store: StateStore) -> None:
    other = store.lease("reads:crm")
    with store.holding(other):
        summary = run_if_idle("h", Reads([_page(0, "c1")]), store)

    assert summary is not None and summary.status == "skipped"
    assert [run.status for run in store.runs("h")] == ["skipped"]


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _handoff(rt: Runtime, **changes: object) -> WonToProject:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return WonToProject(rt, settings.model_copy(update=changes))


def test_a_deal_won_is_handled_once_after_idle_runs(rt: Runtime) -> None:
    assert run_if_idle(HANDOFF, _handoff(rt), rt.store) is None  # the seeded won deals
    created = run_handoff(HANDOFF, _handoff(rt), rt.store).counts["created"]
    assert created >= 1
    assert run_if_idle(HANDOFF, _handoff(rt), rt.store) is None  # the ids written back
    assert "created" not in run_handoff(HANDOFF, _handoff(rt), rt.store).counts

    idle = run_if_idle(HANDOFF, _handoff(rt), rt.store)

    assert idle is not None and idle.counts == {}
    assert len(rt.store.links(HANDOFF)) == created
    assert [r.status for r in rt.store.runs(HANDOFF)] == ["succeeded"] * 3


def test_go_live_now_is_kept_by_an_idle_first_run(rt: Runtime) -> None:
    idle = run_if_idle(HANDOFF, _handoff(rt, start_from="now"), rt.store)

    assert idle is not None and idle.counts == {}
    assert rt.store.get_cursor(_handoff(rt).cursor_name())  # the bound, as a run stores it
    assert run_if_idle(HANDOFF, _handoff(rt, start_from="now"), rt.store) is not None
    assert rt.store.links(HANDOFF) == []
