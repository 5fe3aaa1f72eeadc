"""Figure 2 (HubSpot search): refusals and speed of the hub's search read at a given pacing.

A seeded HubSpot sandbox is served by a process of its own with its published
limits (search: 5 a second, a fixed one-second window) and 30 ms of latency;
the hub reads every deal with the won-to-project mapping's fields, once per
pacing asked, evenly spaced at that many searches a second. Reported: the
429s among all the read's calls, and the searches a second reached.

``python -m bench.search_pacing --size 10000 --rates 5,4.75,5,4.75``
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from bench import peers
from handoff_hub.hub.http import TokenBucket

SEARCH = "POST /crm/v3/objects/deals/search"


def measure(size: int, rates: list[float]) -> list[dict[str, Any]]:
    """One full read of ``size`` deals per pacing in ``rates``, on one served sandbox."""
    rows = []
    with peers._bench("hubspot", size, "published") as bench:
        fields = peers._fields(bench, "deals")
        connector: Any = bench.runtime.connector("crm")
        for rate in rates:
            connector.client.search_limiter = TokenBucket(requests=1, per_seconds=1 / rate, burst=1)
            side = peers._run("hub connector", bench, peers._hub_read(bench, "deals", fields))
            searches = side.by_path.get(SEARCH, 0)
            rows.append(
                {
                    "searches_per_second_paced": rate,
                    "records": len(side.ids),
                    "seconds": round(side.seconds, 2),
                    "calls": side.calls,
                    "searches": searches,
                    "status_429": side.status_429,
                    "share_429": round(side.status_429 / max(1, side.calls), 4),
                    "searches_per_second": round(searches / side.seconds, 2),
                    "load_average": [round(x, 1) for x in os.getloadavg()],
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print one line per read."""
    parser = argparse.ArgumentParser(prog="python -m bench.search_pacing", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rates", default="5,4.75", help="searches a second, comma-separated")
    args = parser.parse_args(argv)
    for row in measure(args.size, [float(r) for r in args.rates.split(",")]):
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
