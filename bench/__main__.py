"""``python -m bench``: run the measurements, print the table, write the JSON."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench import (
    asana_read,
    calls,
    incremental,
    link_store,
    overhead,
    peers,
    prefect_share,
    quick_run,
    ratelimit,
    reconcile_paced,
    reconcile_scale,
    shared_rate,
    won_batched,
)
from bench.report import Figure, markdown_table, print_table, write_json

MEASUREMENTS: dict[str, Callable[[int], list[Figure]]] = {
    "calls": calls.measure,
    "ratelimit": ratelimit.measure,
    "incremental": incremental.measure,
    "overhead": overhead.measure,
    "store": link_store.measure,
    "reconcile": reconcile_scale.measure,
    "reconcile-paced": reconcile_paced.measure,
    "prefect": prefect_share.measure,
    "peers": peers.measure,
    "asana-read": asana_read.measure,
    "quickrun": quick_run.measure,
    "won-batched": won_batched.measure,
    "shared-rate": shared_rate.measure,
}
ONCE = {"ratelimit", "prefect", "quickrun", "store", "shared-rate"}
"""Figures that do not depend on the record count: measured at the first size only."""


def main(argv: list[str] | None = None) -> int:
    """Run the chosen measurements at every size."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="record counts, comma-separated")
    parser.add_argument("--json", default="bench/results.json", type=Path, help="results file")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument(
        "--only", choices=sorted(MEASUREMENTS), action="append", help="run only these"
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    figures: list[Figure] = []
    for name in args.only or list(MEASUREMENTS):
        for size in sizes[:1] if name in ONCE else sizes:
            figures.extend(MEASUREMENTS[name](size))
    print_table(figures)
    write_json(figures, args.json)
    print(f"wrote {args.json}")
    if args.markdown:
        args.markdown.write_text(markdown_table(figures), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
