"""Figure 4 (first part): hub overhead without network, records per second on one core.

On the raw records a Salesforce read returns, timed apart: mapping alone
(``to_unified_many``), won-to-project planning (which maps, looks the links up
in the SQLite store and decides; a stub stands in for the PM's stamp search so
nothing goes over the network) and recording the batch's links
(``StateStore.record_links``). The headline rate is plan + links: every record
goes through map + plan + store once.

The in-process sandbox holds every seeded record; before timing, the heap is
collected and frozen (``gc.freeze``) so the collector's scans of the sandbox's
objects, which a hub run against the real products does not carry, are not
billed to the hub. Each stage works page by page (500 records, the largest
batch a handoff takes) and lets a page's result go before the next, as a run
does; its time is the best of three
runs (new links each time, so every run inserts).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from bench.common import open_pair
from bench.report import Figure
from handoff_hub.hub.connector import ProjectHandle
from handoff_hub.hub.handoffs.engine import BatchReport
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.store.repo import Link, StateStore

TARGET = 20_000.0
PAGE = 500
"""Records a handoff's batch holds at most (``batch_size``); each stage works page by page."""
_T = TypeVar("_T")


class _NoStampPm:
    """The PM side of planning, answering "no project carries this stamp" at once."""

    def find_projects(self, source_ids: Sequence[str]) -> dict[str, ProjectHandle]:
        return {}


def _pages(items: Sequence[_T]) -> list[Sequence[_T]]:
    """``items`` in pages of :data:`PAGE`, as a handoff's run takes them."""
    return [items[start : start + PAGE] for start in range(0, len(items), PAGE)]


def _each_page(step: Callable[[Sequence[_T]], object], items: Sequence[_T]) -> None:
    """``step`` on each page, keeping nothing: a run lets a page go before the next.

    Holding every page's result instead would bill the hub for the garbage
    collector's scans of 100k live entities, which no run keeps (3x slower
    mapping at 100k).
    """
    for page in _pages(items):
        step(page)


def _record_pages(store: StateStore, links: list[Link]) -> None:
    _each_page(store.record_links, links)


def _best(step: Callable[[], object], runs: int = 3) -> float:
    """The least seconds of ``runs`` runs of ``step``."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    return max(best, 1e-9)


def measure(size: int) -> list[Figure]:
    """map, plan and link-write rates at ``size`` opportunities."""
    with open_pair("salesforce", "jira", size) as pair:
        connector = pair.runtime.connector("crm")
        config = pair.runtime.loaded.config.handoffs.won_to_project
        assert config is not None
        handoff = WonToProject(pair.runtime, config)
        handoff.pm = _NoStampPm()  # type: ignore[assignment]
        entity = handoff.crm_map.entities["Opportunity"]
        records = [
            r
            for p in connector.read_changes(
                entity.object, since=None, fields=entity.source_fields()
            )
            for r in p.records
        ]
        raws = [r.raw for r in records]
        batches = iter(
            [
                Link(f"{HANDOFF}-{run}", "crm", "Opportunity", r.id, "pm", "Project", f"P{n}")
                for n, r in enumerate(records)
            ]
            for run in range(3)
        )
        gc.collect()
        gc.freeze()
        try:
            map_seconds = _best(
                lambda: _each_page(
                    lambda page: to_unified_many(handoff.crm_map, "Opportunity", page), raws
                )
            )
            plan_seconds = _best(
                lambda: _each_page(
                    lambda page: handoff._plan(page, BatchReport(), record_failures=False),
                    records,
                )
            )
            link_seconds = _best(lambda: _record_pages(pair.runtime.store, next(batches)))
        finally:
            gc.unfreeze()
        _, failures = to_unified_many(handoff.crm_map, "Opportunity", raws)
        work = handoff._plan(records, BatchReport(), record_failures=False)

    n = len(records)
    total = plan_seconds + link_seconds
    details = {
        "records": n,
        "mapping_failures": len(failures),
        "won_planned": len(work),
        "map_per_s": round(n / map_seconds),
        "plan_per_s": round(n / plan_seconds),
        "link_writes_per_s": round(n / link_seconds),
        "map_seconds": round(map_seconds, 3),
        "plan_seconds": round(plan_seconds, 3),
        "link_seconds": round(link_seconds, 3),
        "timer": "wall time, best of 3, heap frozen, pages of 500",
    }
    return [
        Figure("map+plan+store records/s", "hub", size, round(n / total), TARGET, "min", details),
        Figure("map+plan records/s", "hub", size, round(n / plan_seconds), TARGET, "min", details),
    ]
