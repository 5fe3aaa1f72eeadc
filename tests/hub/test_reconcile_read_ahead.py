"""Reconcile's last reads (risks, feedback) go out beside the progress read, not after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.http.fanin import ReadAhead
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.scan import Reconciler
from handoff_hub.hub.runtime import Runtime


def test_pages_are_read_before_they_are_asked_for_and_come_in_order() -> None:
    read: list[int] = []
    all_read = threading.Event()

    def pages() -> Iterator[int]:
        for n in range(20):
            read.append(n)
            yield n
        all_read.set()

    with ReadAhead(pages(), depth=2) as ahead:
        assert all_read.wait(5)  # more than depth: the rest went to the spill file
        assert list(ahead.pages()) == list(range(20))


def test_a_failed_read_raises_where_its_pages_are_asked_for() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise ValueError("the product refused the search")

    with ReadAhead(pages(), depth=2) as ahead, pytest.raises(ValueError, match="refused"):
        list(ahead.pages())


def test_leaving_early_stops_the_read() -> None:
    def pages() -> Iterator[int]:
        n = 0
        while True:
            n += 1
            yield n

    with ReadAhead(pages(), depth=2) as ahead:
        assert next(ahead.pages()) == 1


@pytest.fixture
def handed_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """Salesforce and Jira with won-to-project run: projects, their tasks, links."""
    rt = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    try:
        settings = rt.loaded.config.handoffs.won_to_project
        assert settings is not None
        run_handoff(WON, WonToProject(rt, settings), rt.store)
        yield rt
    finally:
        rt.close()


def _watch_pm_reads(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, seen: Callable[[dict[str, Any]], None]
) -> str:
    """Call ``seen(where)`` as each read of the project tool starts; the Task scope field."""
    pm = rt.pm("pm")
    real = pm.read_changes

    def read(object_name: str, **kw: Any) -> Iterator[Any]:
        seen(dict(kw.get("where") or {}))
        return real(object_name, **kw)

    monkeypatch.setattr(pm, "read_changes", read)
    scope = rt.mapping("pm").entities["Task"].scope_field
    assert scope is not None
    return scope


def _reconcile(rt: Runtime) -> dict[str, int]:
    """What the reconcile scanned."""
    result, _ = reconcile(rt, fix=False)
    result.spool.close()
    return result.scanned


def test_risk_and_feedback_are_read_while_the_progress_is(
    handed_off: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    side_reads = {"risk": threading.Event(), "feedback": threading.Event()}
    seen_during_progress: list[bool] = []
    scope = ""

    def seen(where: dict[str, Any]) -> None:
        labels = str(where.get("labels"))
        for name, started in side_reads.items():
            if name in labels:
                started.set()
        if scope in where:  # the progress read waits for the two others to start
            seen_during_progress.append(all(e.wait(10) for e in side_reads.values()))

    scope = _watch_pm_reads(handed_off, monkeypatch, seen)
    scanned = _reconcile(handed_off)
    assert seen_during_progress == [True]
    assert scanned["projects"] > 0


def test_check_raises_a_failure_before_the_pages_are_asked_for() -> None:
    failed = threading.Event()

    def pages() -> Iterator[int]:
        yield 1
        failed.set()
        raise ValueError("the listing went away")

    with ReadAhead(pages(), depth=2) as ahead:
        assert failed.wait(5)
        for _ in range(100):  # the failure is recorded just after the event
            try:
                ahead.check()
            except ValueError:
                break
            time.sleep(0.01)
        else:
            pytest.fail("check() never raised the read's failure")


def test_the_index_checks_run_while_the_progress_is_read(
    handed_off: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress_out = threading.Event()
    scope = _watch_pm_reads(
        handed_off, monkeypatch, lambda where: progress_out.set() if scope in where else None
    )
    checked: list[bool] = []
    report_index = Reconciler._report_index

    def index_checks(self: Reconciler, *args: Any) -> None:
        checked.append(progress_out.wait(10))
        report_index(self, *args)

    monkeypatch.setattr(Reconciler, "_report_index", index_checks)
    _reconcile(handed_off)
    assert checked == [True]
