"""Figure 4 (third part): what the hub adds to a reconcile the products' limits pace.

The reconcile of ``bench.reconcile_scale`` (same served systems, same linked
pairs), with the connectors' own pacing of the vendors' published limits left
on, as against the real products. The calls it makes need a time of their
own at those rates (the limits' floor: per product, the calls beyond the
bucket's burst at its refill rate); what the wall time has beyond that floor
is what the hub adds: the work it could not do while waiting for a token
(the first page, the last page's comparing, the index's queries at the end).

The target is the issue's reconcile target, 5 s, applied to the seconds the
hub adds at every size.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from bench.reconcile_scale import MAX_SECONDS, run
from bench.report import Figure


def published_pacing(product: str) -> dict[str, float]:
    """The connector's pacing of the product's published limit: requests, per_seconds, burst."""
    if product == "salesforce":
        from connectors.salesforce.settings import DEFAULT_RATE_LIMIT
    elif product == "jira":
        from connectors.jira.settings import DEFAULT_RATE_LIMIT
    elif product == "hubspot":
        from connectors.hubspot.settings import DEFAULT_RATE_LIMIT
    else:
        raise ValueError(f"no published pacing for {product!r}")
    return dict(DEFAULT_RATE_LIMIT)


def calls_by_product(calls_by_path: Mapping[str, int]) -> dict[str, int]:
    """``{"jira GET /rest/...": n, ...}`` -> calls per product."""
    totals: Counter[str] = Counter()
    for path, count in calls_by_path.items():
        totals[path.split(" ", 1)[0]] += count
    return dict(totals)


def floor_seconds(calls: int, pacing: Mapping[str, float]) -> float:
    """Seconds ``calls`` requests need under ``pacing``: those beyond the burst, at its rate."""
    rate = pacing["requests"] / pacing["per_seconds"]
    burst = pacing.get("burst") or pacing["requests"]
    return max(0, calls - math.floor(burst)) / rate


def measure(size: int) -> list[Figure]:
    """Seconds a paced reconcile of ``size`` pairs takes beyond its limits' floor."""
    report = run(size, paced=True)
    calls = calls_by_product(report["calls_by_path"])
    floors = {p: floor_seconds(n, published_pacing(p)) for p, n in calls.items()}
    floor = sum(floors.values())  # the passes read the products one after the other
    seconds = float(report["seconds"])
    added = max(0.0, seconds - floor)
    details: dict[str, Any] = {
        "pairs": report["pairs"],
        "discrepancies": sum(report["discrepancies"].values()),
        "seconds": round(seconds, 3),
        "floor_seconds": round(floor, 3),
        "floor_seconds_by_product": {p: round(s, 3) for p, s in floors.items()},
        "calls_by_product": calls,
        "pacing": {p: published_pacing(p) for p in calls},
        "hub_added_share": round(added / seconds, 4) if seconds else 0.0,
        "cpu_seconds": round(report["cpu_seconds"], 3),
        "sandbox_cpu_seconds": report["sandbox_cpu_seconds"],
        "peak_rss_mb": round(report["peak_rss_mb"], 1),
        "requests_per_second": "connectors' own pacing",
        "timer": "wall time of the reconcile process minus the limits' floor, one run",
        "pairing": "salesforce+jira",
    }
    return [
        Figure(
            "reconcile seconds over the limits' floor",
            "hub",
            size,
            round(added, 3),
            MAX_SECONDS,
            "max",
            details,
        )
    ]
