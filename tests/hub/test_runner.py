from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.handoffs.engine import BatchReport, Decision, Verdict
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.store import StateStore


class FakeHandoff:
    def __init__(self, pages: list[ChangePage], fail_on: int | None = None) -> None:
        self.run_id: str | None = None
        self._pages = pages
        self.fail_on = fail_on
        self.advanced: list[str | None] = []
        self.processed = 0
        self.lease_name = "fake:crm"

    def pages(self) -> Iterator[ChangePage]:
        return iter(self._pages)

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        self.processed += 1
        if self.fail_on == self.processed:
            raise RuntimeError("batch exploded")
        report = BatchReport()
        report.counts["seen"] += len(records)
        report.decisions += [Decision(Verdict.CREATE, r.id, r.id, "new") for r in records]
        return report

    def advance(self, page: ChangePage) -> None:
        self.advanced.append(page.cursor)


def _page(n: int, cursor: str) -> ChangePage:
    return ChangePage(
        [RecordEnvelope("crm", "Opportunity", f"{cursor}-{i}", {}) for i in range(n)], cursor
    )


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(f"sqlite:///{tmp_path / 's.db'}")


def test_cursor_advances_after_each_batch(store: StateStore) -> None:
    handoff = FakeHandoff([_page(2, "c1"), _page(3, "c2")])
    summary = run_handoff("h", handoff, store)
    assert summary.counts == {"seen": 5}
    assert handoff.advanced == ["c1", "c2"]
    assert store.runs("h")[0].status == "succeeded"


def test_failed_batch_keeps_cursor_and_marks_run_failed(store: StateStore) -> None:
    handoff = FakeHandoff([_page(2, "c1"), _page(3, "c2")], fail_on=2)
    with pytest.raises(RuntimeError):
        run_handoff("h", handoff, store)
    assert handoff.advanced == ["c1"]
    [run] = store.runs("h")
    assert run.status == "failed" and run.error == "batch exploded"
    assert run.counts == {"seen": 2}


def test_dry_run_records_nothing(store: StateStore) -> None:
    handoff = FakeHandoff([_page(2, "c1")])
    summary = run_handoff("h", handoff, store, dry_run=True)
    assert [d.source_id for d in summary.decisions] == ["c1-0", "c1-1"]
    assert handoff.advanced == []
    assert store.runs() == []


def test_process_batch_hook_is_used(store: StateStore) -> None:
    handoff = FakeHandoff([_page(4, "c1")])
    seen: list[int] = []
    summary = run_handoff(
        "h", handoff, store, process_batch=lambda recs: seen.append(len(recs)) or {"created": 4}
    )
    assert seen == [4]
    assert summary.counts == {"created": 4}
