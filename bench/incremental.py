"""Figure 3: 100 changed records among N, read incrementally, as a share of the full read.

The sandboxes are served on localhost with 20 ms of latency per request and
the connectors keep their own pacing of the vendors' published rate limits,
so the times are those of a real network read, not of an in-process one.
"""

from __future__ import annotations

import time
from typing import Any

from bench.calls import mapped_fields, read_all
from bench.common import OBJECTS, PAIRS, open_pair
from bench.report import Figure
from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.sandboxes.kit import Sandbox

CHANGED = 100
LATENCY = 0.02
TARGET = 0.02


def change(sandbox: Sandbox, records: list[RecordEnvelope]) -> None:
    """Edit the title of each record as a person would (moves its modified date on)."""
    state: Any = sandbox.state  # type: ignore[attr-defined]
    for n, record in enumerate(records):
        title = f"Benchmark edit {n}"
        if sandbox.name == "salesforce":
            state.modify_record("Opportunity", record.id, Name=title)
        elif sandbox.name == "hubspot":
            state.modify_record("deals", record.id, dealname=title)
        elif sandbox.name == "jira":
            state.modify(str(record.raw.get("key", record.id)), summary=title)
        else:
            state.modify(record.id, name=title)


def measure(size: int) -> list[Figure]:
    """Time and calls of the incremental read of 100 changes vs the full read, per product."""
    figures: list[Figure] = []
    for crm, pm in PAIRS:
        with open_pair(
            crm, pm, size, served=True, latency=LATENCY, requests_per_second=None
        ) as pair:
            for product in (crm, pm):
                sandbox, role, obj = pair.sandboxes[product], pair.role(product), OBJECTS[product]
                connector = pair.runtime.connector(role)
                # a run's setup, before either read: auth and the mapping's fit to the org
                fields = mapped_fields(pair.runtime, role, obj)
                next(iter(connector.read_changes(obj, since=None, fields=fields)))
                sandbox.journal.clear()
                started = time.perf_counter()
                pages = list(connector.read_changes(obj, since=None, fields=fields))
                full_seconds = time.perf_counter() - started
                full_calls = len(sandbox.journal.requests())
                records = [r for p in pages for r in p.records]
                cursor = pages[-1].cursor if pages else None
                step = max(1, len(records) // CHANGED)
                change(sandbox, records[::step][:CHANGED])
                sandbox.journal.clear()
                started = time.perf_counter()
                read = read_all(pair.runtime, role, obj, cursor).records
                seconds = time.perf_counter() - started
                calls = len(sandbox.journal.requests())
                details = {
                    "records": len(records),
                    "changed": min(CHANGED, len(records)),
                    "read_back": read,
                    "full_seconds": round(full_seconds, 3),
                    "incremental_seconds": round(seconds, 3),
                    "full_calls": full_calls,
                    "incremental_calls": calls,
                    "latency_seconds": LATENCY,
                }
                figures.append(
                    Figure(
                        "incremental time / full",
                        product,
                        size,
                        round(seconds / full_seconds, 4),
                        TARGET,
                        "max",
                        details,
                    )
                )
                figures.append(
                    Figure(
                        "incremental calls / full",
                        product,
                        size,
                        round(calls / max(1, full_calls), 4),
                        TARGET,
                        "max",
                        details,
                    )
                )
    return figures
