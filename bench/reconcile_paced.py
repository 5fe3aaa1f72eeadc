"""Figure 4 (third part): what the hub adds to a reconcile the products' limits pace.

The reconcile of ``bench.reconcile_scale`` (same served systems, same linked
pairs), with the connectors' own pacing of the vendors' published limits left
on, as against the real products. The calls it makes need a time of their
own at those rates (per product, the calls beyond the bucket's burst at its
refill rate); the reconcile reads both products side by side, so the limits'
floor is the slower product's. What the wall time has beyond that floor is
what the hub adds: the work it could not do while waiting for a token (the
first page, the last page's comparing, the index's queries at the end).

The target is the issue's reconcile target, 5 s, applied to the seconds the
hub adds at every size. ``--crm-pacing`` paces Salesforce tighter than its
published limit, to see a reconcile whose CRM is the slower side (as
HubSpot's search, 4 a second, would be).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from bench.reconcile_scale import MAX_SECONDS, run
from bench.report import Figure


def published_pacing(product: str) -> dict[str, float]:
    """The connector's pacing of the product's published limit: requests, per_seconds, burst."""
    if product == "salesforce":
        from handoff_hub.connectors.salesforce.settings import DEFAULT_RATE_LIMIT
    elif product == "jira":
        from handoff_hub.connectors.jira.settings import DEFAULT_RATE_LIMIT
    elif product == "hubspot":
        from handoff_hub.connectors.hubspot.settings import DEFAULT_RATE_LIMIT
    else:
        raise ValueError(f"no published pacing for {product!r}")
    return dict(DEFAULT_RATE_LIMIT)


UNPACED = ("/services/oauth2/token",)
"""Calls the client's pacing does not take a token for (Salesforce's OAuth grant)."""


def calls_by_product(calls_by_path: Mapping[str, int]) -> dict[str, int]:
    """``{"jira GET /rest/...": n, ...}`` -> paced calls per product."""
    totals: Counter[str] = Counter()
    for call, count in calls_by_path.items():
        if not call.endswith(UNPACED):
            totals[call.split(" ", 1)[0]] += count
    return dict(totals)


def floor_seconds(calls: int, pacing: Mapping[str, float]) -> float:
    """Seconds ``calls`` requests need under ``pacing``: those beyond the burst, at its rate."""
    rate = pacing["requests"] / pacing["per_seconds"]
    burst = pacing.get("burst") or pacing["requests"]
    return max(0, calls - math.floor(burst)) / rate


def measure(size: int, *, crm_pacing: Mapping[str, float] | None = None) -> list[Figure]:
    """Seconds a paced reconcile of ``size`` pairs takes beyond its limits' floor.

    ``crm_pacing`` paces the CRM (Salesforce) tighter than its published
    limit, to see the reconcile when the CRM is the slower side.
    """
    overrides = {"salesforce": dict(crm_pacing)} if crm_pacing else {}
    report = run(size, paced=True, pacing=overrides)
    calls = calls_by_product(report["calls_by_path"])
    pacing = {p: overrides.get(p) or published_pacing(p) for p in calls}
    floors = {p: floor_seconds(n, pacing[p]) for p, n in calls.items()}
    floor = max(floors.values())  # the products are read side by side
    seconds = float(report["seconds"])
    added = max(0.0, seconds - floor)
    details: dict[str, Any] = {
        "pairs": report["pairs"],
        "discrepancies": sum(report["discrepancies"].values()),
        "seconds": round(seconds, 3),
        "floor_seconds": round(floor, 3),
        "floor_seconds_by_product": {p: round(s, 3) for p, s in floors.items()},
        "calls_by_product": calls,
        "pacing": pacing,
        "hub_added_share": round(added / seconds, 4) if seconds else 0.0,
        "before_first_call_seconds": report.get("before_first_call_seconds"),
        "after_last_call_seconds": report.get("after_last_call_seconds"),
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


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.reconcile_paced SIZE... [--crm-pacing REQUESTS/SECONDS]``: print each."""
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile_paced")
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument(
        "--crm-pacing",
        help="pace Salesforce at REQUESTS per SECONDS (burst 1) instead of its published limit",
    )
    args = parser.parse_args(argv)
    crm_pacing = None
    if args.crm_pacing:
        requests, seconds = args.crm_pacing.split("/")
        crm_pacing = {"requests": float(requests), "per_seconds": float(seconds), "burst": 1}
    for size in args.sizes:
        (figure,) = measure(size, crm_pacing=crm_pacing)
        print(size, figure.value, json.dumps(figure.details), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
