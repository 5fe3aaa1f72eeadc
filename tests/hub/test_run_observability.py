"""What a run tells an orchestrator without knowing it: batch log lines and hub events."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from handoff_hub.hub.events import HubEvent, announce, listening
from handoff_hub.hub.handoffs.runner import batch_line, run_handoff
from handoff_hub.hub.store import StateStore
from tests.hub.test_runner import FakeHandoff, _page


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(f"sqlite:///{tmp_path / 's.db'}")


def test_batch_line_names_the_headline_counts_and_any_other() -> None:
    line = batch_line(200, {"seen": 200, "created": 5, "skipped": 190, "failed": 5, "not_won": 3})
    assert line == ("read 200, created 5, updated 0, skipped 190, dead-lettered 5, not won 3")


def test_each_batch_logs_its_counts_and_dead_letters_are_announced(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    handoff = FakeHandoff([_page(2, "c1"), _page(3, "c2")])
    batches = iter([{"created": 2}, {"created": 1, "failed": 2, "conflicts": 1}])
    events: list[HubEvent] = []
    with listening(events.append), caplog.at_level(logging.INFO, logger="hub.runner"):
        summary = run_handoff(
            "h", handoff, store, process_batch=lambda _: next(batches), flow_run_id="fr-1"
        )
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "hub.runner"]
    assert lines == [
        ("INFO", "h batch 1: read 2, created 2, updated 0, skipped 0, dead-lettered 0"),
        (
            "WARNING",
            "h batch 2: read 3, created 1, updated 0, skipped 0, dead-lettered 2, conflicts 1",
        ),
    ]
    resource = f"handoff-hub.run.{summary.run_id}"
    assert [(e.name, e.resource_id) for e in events] == [
        ("handoff-hub.dead-letters.created", resource),
        ("handoff-hub.conflicts.found", resource),
        ("handoff-hub.run.completed_with_failures", resource),
    ]
    assert events[0].payload["count"] == 2 and events[0].payload["batch"] == 2
    assert events[2].payload["counts"] == {"created": 3, "failed": 2, "conflicts": 1}
    assert events[2].labels == {"handoff-hub.handoff": "h"}
    assert store.run(summary.run_id).flow_run_id == "fr-1"  # type: ignore[union-attr]


def test_a_skipped_run_is_announced_with_its_reason(store: StateStore) -> None:
    lease = store.lease("fake:crm")
    lease.acquire()
    events: list[HubEvent] = []
    with listening(events.append):
        summary = run_handoff("h", FakeHandoff([_page(1, "c1")]), store)
    assert summary.status == "skipped"
    [event] = events
    assert event.name == "handoff-hub.run.skipped"
    assert "holds the lease" in event.payload["error"]


def test_a_dry_run_announces_nothing(store: StateStore) -> None:
    events: list[HubEvent] = []
    with listening(events.append):
        run_handoff("h", FakeHandoff([_page(2, "c1")]), store, dry_run=True)
    assert events == []


def test_a_failing_sink_never_fails_the_run(caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: HubEvent) -> None:
        raise ConnectionError("server gone")

    seen: list[HubEvent] = []
    with listening(broken), listening(seen.append), caplog.at_level(logging.WARNING):
        announce("run.succeeded", "handoff-hub.run.x", {})
    assert [e.name for e in seen] == ["handoff-hub.run.succeeded"]
    assert "event handoff-hub.run.succeeded not sent: server gone" in caplog.text
