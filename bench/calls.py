"""Figure 1: API calls of a full read of N records, and of an incremental read with no change."""

from __future__ import annotations

import math
from collections import Counter

from bench.common import OBJECTS, PAGE_SIZES, PAIRS, open_pair
from bench.report import Figure
from hub.runtime import Runtime


def read_all(runtime: Runtime, role: str, obj: str, since: str | None) -> tuple[int, str | None]:
    """Read every page from ``since``; return (records, last cursor)."""
    connector = runtime.connector(role)
    count, cursor = 0, since
    for page in connector.read_changes(obj, since=since):
        count += len(page.records)
        cursor = page.cursor
    return count, cursor


def measure(size: int) -> list[Figure]:
    """Full and incremental read calls of each product at ``size`` records."""
    figures: list[Figure] = []
    for crm, pm in PAIRS:
        with open_pair(crm, pm, size) as pair:
            for product in (crm, pm):
                sandbox, role, obj = pair.sandboxes[product], pair.role(product), OBJECTS[product]
                sandbox.journal.clear()
                records, cursor = read_all(pair.runtime, role, obj, None)
                calls = sandbox.journal.requests()
                minimum = max(1, math.ceil(records / PAGE_SIZES[product]))
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
                        },
                    )
                )
                sandbox.journal.clear()
                again, _ = read_all(pair.runtime, role, obj, cursor)
                calls = sandbox.journal.requests()
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
                            "by_path": dict(Counter(f"{c.method} {c.path}" for c in calls)),
                        },
                    )
                )
    return figures
