"""Figure 2: how much of a product's published rate limit the hub uses, and how often it is refused.

Each product's sandbox is served on localhost, by a process of its own, with
150 ms of latency per request (a SaaS API seen from a customer's network) and enforces the
product's limit: HubSpot 19 requests/s and 190 per 10 s (its default), Asana
1500 per minute counting each action of a ``/batch`` call, Jira 10 per second
(Atlassian publishes no number for API-token traffic; ten is the one commonly
cited). The hub keeps its own pacing (``requests_per_second=None``) and its
default concurrency, and makes one bulk update through the connector:
HubSpot 20,000 deals (batches of 100), Asana 1500 tasks (``/batch`` of 10),
Jira 200 issues (one PUT each). One at a time, 150 ms a request would move
at most 6.7 requests/s.

Salesforce publishes no per-second limit (a daily allocation and 25
concurrent long requests), so it has no rate to use up here.

The figure does not depend on the bench's record count: ``python -m bench``
runs it once, at its own sizes (about 100 s in all).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import OBJECTS, served_product
from bench.report import Figure
from handoff_hub.sandboxes.kit import Call

LATENCY = 0.15
SHARE_TARGET = 0.90
REFUSED_TARGET = 0.01


@dataclass(frozen=True)
class Workload:
    """One product's bulk update under its limit."""

    pair: tuple[str, str]
    seeded: int
    updates: int
    allowed_per_second: float
    limit: str
    counts_actions: bool = False
    options: dict[str, Any] = field(default_factory=dict)


WORKLOADS: dict[str, Workload] = {
    "hubspot": Workload(("hubspot", "jira"), 20_000, 20_000, 19.0, "19/s, 190/10 s"),
    "asana": Workload(
        ("hubspot", "asana"),
        2_700,
        1_500,
        25.0,
        "1500/min (paid), a batch action counts as one",
        counts_actions=True,
        options={"asana": {"rate_limit": (1500, 60.0)}},
    ),
    "jira": Workload(
        ("salesforce", "jira"),
        300,
        200,
        10.0,
        "10/s",
        options={"jira": {"rate_limit": (10, 1.0)}},
    ),
}

_TITLES: dict[str, Callable[[int], dict[str, Any]]] = {
    "hubspot": lambda n: {"dealname": f"Rate test {n}"},
    "asana": lambda n: {"name": f"Rate test {n}"},
    "jira": lambda n: {"summary": f"Rate test {n}"},
}


def measure_product(product: str, workload: Workload, size: int | None = None) -> list[Figure]:
    """Run the product's bulk update under its limit; the share used and the share refused.

    The product's sandbox is served by a process of its own: in a thread of
    this one it would share the client's interpreter lock, and the delays
    that adds to requests in flight bunch their arrivals (a second used up
    by its own requests makes the client wait for the next).
    """
    crm, pm = workload.pair
    role = "crm" if product == crm else "pm"
    with served_product(
        crm,
        pm,
        product,
        workload.seeded,
        requests_per_second=None,
        latency=LATENCY,
        options=workload.options.get(product, {}),
        ids=True,
    ) as (runtime, server):
        connector = runtime.connector(role)
        ids = server.manifest["ids"][: workload.updates]
        updates = [(record_id, _TITLES[product](n)) for n, record_id in enumerate(ids)]
        concurrency = runtime.loaded.config.systems[role].concurrency
        before = len(server.counters(journal=True)["journal"])
        started = time.perf_counter()
        results = connector.update(OBJECTS[product], updates)
        seconds = time.perf_counter() - started
        journal = server.counters(journal=True)["journal"][before:]
    calls = [
        Call(method, path, status, in_batch=in_batch) for method, path, status, in_batch in journal
    ]
    requests = [c for c in calls if not c.in_batch]
    refused = sum(1 for c in requests if c.status == 429)
    units = len([c for c in calls if c.in_batch]) if workload.counts_actions else len(requests)
    achieved = units / seconds
    details = {
        "updates": len(updates),
        "records_updated": sum(1 for r in results if r.ok),
        "failed": sum(1 for r in results if not r.ok),
        "requests": len(requests),
        "refused_429": refused,
        "units_counted": units,
        "unit": "batch actions" if workload.counts_actions else "requests",
        "seconds": round(seconds, 2),
        "achieved_per_second": round(achieved, 2),
        "allowed_per_second": workload.allowed_per_second,
        "limit": workload.limit,
        "latency_seconds": LATENCY,
        "concurrency": concurrency,
        "one_at_a_time_ceiling_per_second": round(1 / LATENCY, 2),
    }
    return [
        Figure(
            "rate-limit use (achieved / allowed)",
            product,
            size or len(updates),
            round(achieved / workload.allowed_per_second, 3),
            SHARE_TARGET,
            "min",
            details,
        ),
        Figure(
            "429 share of requests",
            product,
            size or len(updates),
            round(refused / max(1, len(requests)), 4),
            REFUSED_TARGET,
            "max",
            details,
        ),
    ]


def measure(size: int) -> list[Figure]:
    """Figure 2 for each product with a published per-second or per-minute limit.

    Each workload has the size its limit needs to be measured (a minute of
    Asana's per-minute limit); ``size`` only labels the figures.
    """
    figures: list[Figure] = []
    for product, workload in WORKLOADS.items():
        figures += measure_product(product, workload, size)
    return figures
