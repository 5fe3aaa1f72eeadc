"""Figure 4 (first part): hub overhead without network, records per second on one core.

Three stages on the raw records a Salesforce read returns, timed apart:
mapping (``to_unified_many``), won-to-project planning (links looked up in the
SQLite store, decisions made; a stub stands in for the PM's stamp search so
nothing goes over the network) and recording the links in the store.
"""

from __future__ import annotations

import time

from bench.common import open_pair
from bench.report import Figure
from hub.connector import ProjectHandle
from hub.engine import BatchReport
from hub.handoffs.won_to_project import HANDOFF, WonToProject
from hub.mapping.engine import to_unified_many
from hub.store.repo import Link

TARGET = 20_000.0


class _NoStampPm:
    """The PM side of planning, answering "no project carries this stamp" at once."""

    def find_project(self, source_id: str) -> ProjectHandle | None:
        return None


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

        started = time.perf_counter()
        opps, failures = to_unified_many(handoff.crm_map, "Opportunity", raws)
        map_seconds = time.perf_counter() - started

        batch_report = BatchReport()
        started = time.perf_counter()
        work = handoff._plan(records, batch_report, record_failures=False)
        plan_seconds = time.perf_counter() - started

        links = [
            Link(HANDOFF, "crm", "Opportunity", r.id, "pm", "Project", f"P{n}", f"DEL-{n}")
            for n, r in enumerate(records)
        ]
        started = time.perf_counter()
        for link in links:
            pair.runtime.store.record_link(link)
        link_seconds = time.perf_counter() - started

    n = len(records)
    total = map_seconds + plan_seconds + link_seconds
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
        "unified": len(opps),
    }
    return [
        Figure("map+plan+store records/s", "hub", size, round(n / total), TARGET, "min", details),
        Figure(
            "map+plan records/s (no store writes)",
            "hub",
            size,
            round(n / (map_seconds + plan_seconds)),
            TARGET,
            "min",
            details,
        ),
    ]
