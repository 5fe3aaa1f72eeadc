"""Figure 1: API calls of a full read of N records, and of an incremental read with no change.

The incremental read is the next run's: new connectors on the same state store,
as a scheduled run would have them (with what the run before kept, such as
Jira's time zone).

Calls the emulator refused with 429 and the hub retried are left out of the
figure and given apart (``refused_429``): here the sandbox runs in the hub's
process, so its search limit sees the hub's even pacing jittered by the two
sharing one interpreter; the pacing itself is figure 2's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.common import OBJECTS, PAGE_SIZES, PAIRS, Pair, open_pair
from bench.report import Figure
from handoff_hub.hub.handoffs.checkpoint import Checkpoint
from handoff_hub.hub.runtime import Runtime, open_runtime


@dataclass
class Read:
    """What a read from a cursor brought."""

    records: int
    cursor: str | None
    seen: frozenset[str]
    """Ids at the last cursor's instant: what the hub's checkpoint hands the next read."""
    raws: list[Mapping[str, Any]]


def mapped_fields(runtime: Runtime, role: str, obj: str) -> list[str]:
    """The fields the hub reads of ``obj``: the source fields of its mapping's entities on it.

    A handoff never reads "every field"; asking for them would add the
    products' field-list calls (Salesforce describe, HubSpot properties).
    """
    entities = [e for e in runtime.mapping(role).entities.values() if e.object == obj]
    return list(dict.fromkeys(f for e in entities for f in e.source_fields()))


def read_all(
    runtime: Runtime, role: str, obj: str, since: str | None, seen: frozenset[str] = frozenset()
) -> Read:
    """Read every page from ``since`` (mapped fields), keeping a checkpoint as a handoff does."""
    connector = runtime.connector(role)
    checkpoint = Checkpoint(since, seen)
    raws: list[Mapping[str, Any]] = []
    fields = mapped_fields(runtime, role, obj)
    for page in connector.read_changes(obj, since=since, fields=fields, seen=seen):
        checkpoint = checkpoint.after(page)
        raws.extend(record.raw for record in page.records)
    return Read(len(raws), checkpoint.cursor, checkpoint.ids, raws)


def minimum_calls(product: str, records: int, raws: list[Mapping[str, Any]]) -> int:
    """The fewest calls that bring ``records`` with what the hub reads of them.

    The largest page of the product's read; for HubSpot deals also the
    associations batch read (1000 ids) and the companies batch read (100 ids)
    the deal's company takes, as its search cannot return associations.
    """
    pages = max(1, math.ceil(records / PAGE_SIZES[product]))
    if product != "hubspot":
        return pages
    companies = {r["_company"]["id"] for r in raws if isinstance(r.get("_company"), dict)}
    return pages + math.ceil(records / 1000) + math.ceil(len(companies) / 100)


def next_run(pair: Pair, before: Runtime) -> Runtime:
    """The runtime of the next scheduled run: new connectors, the same store.

    The run ``before`` keeps what its connectors learned (Jira's time zone), as
    :meth:`Runtime.close` does; close the returned runtime's connectors only.
    """
    before.keep_facts()
    transports = {pair.role(p): sb.transport() for p, sb in pair.sandboxes.items()}
    return open_runtime(pair.runtime.loaded, transports=transports, store=pair.runtime.store)


def incremental_calls(pair: Pair, product: str, full: Read) -> tuple[int, int, list[Any]]:
    """Records and calls of a no-change read in the steady state: the third run.

    The second run is the first to read from a cursor and learns what such a
    read needs (Jira's time zone, kept a day); the third's read is what every
    scheduled run costs. A run's fit of its mapping to the org comes before.
    Returns the records re-read, the second run's calls and the third's calls.
    """
    sandbox, role, obj = pair.sandboxes[product], pair.role(product), OBJECTS[product]
    before, counts = pair.runtime, []
    for _ in range(2):
        later = next_run(pair, before)
        mapped_fields(later, role, obj)
        sandbox.journal.clear()
        try:
            again = read_all(later, role, obj, full.cursor, full.seen).records
        finally:
            for connector in later.connectors.values():
                connector.close()
        counts.append(sandbox.journal.requests())
        before = later
    return again, len(counts[0]), counts[1]


def measure(size: int) -> list[Figure]:
    """Full and incremental read calls of each product at ``size`` records."""
    figures: list[Figure] = []
    for crm, pm in PAIRS:
        with open_pair(crm, pm, size) as pair:
            for product in (crm, pm):
                sandbox, role, obj = pair.sandboxes[product], pair.role(product), OBJECTS[product]
                sandbox.journal.clear()
                mapped_fields(pair.runtime, role, obj)
                setup = Counter(f"{c.method} {c.path}" for c in sandbox.journal.requests())
                sandbox.journal.clear()
                full = read_all(pair.runtime, role, obj, None)
                records = full.records
                answered = sandbox.journal.requests()
                calls = [c for c in answered if c.status != 429]
                minimum = minimum_calls(product, records, full.raws)
                by_path = Counter(f"{c.method} {c.path}" for c in calls)
                figures.append(
                    Figure(
                        "full read calls / minimum",
                        product,
                        size,
                        round(len(calls) / minimum, 2),
                        1.05,
                        "max",
                        {
                            "records": records,
                            "calls": len(calls),
                            "minimum": minimum,
                            "page_size": PAGE_SIZES[product],
                            "by_path": dict(by_path),
                            # retried, not counted: the emulator shares the hub's process
                            # (and GIL) here, so its limits see the hub's pacing jittered
                            "refused_429": len(answered) - len(calls),
                            # once per run, before any read: auth, the mapping's fit to the org
                            "run_setup_calls": sum(setup.values()),
                            "run_setup_by_path": dict(setup),
                        },
                    )
                )
                again, first_calls, calls = incremental_calls(pair, product, full)
                figures.append(
                    Figure(
                        "no-change incremental calls",
                        product,
                        size,
                        len(calls),
                        1,
                        "max",
                        {
                            "records_reread": again,
                            "seen_at_cursor": len(full.seen),
                            "first_incremental_run_calls": first_calls,
                            "by_path": dict(Counter(f"{c.method} {c.path}" for c in calls)),
                        },
                    )
                )
    return figures
