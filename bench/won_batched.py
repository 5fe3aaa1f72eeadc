"""Figure 6: won-to-project's creates in bulk across deals: write calls and rate while creating.

N won opportunities (Salesforce, seeded through its store and served by a
process of its own, so that its answers do not take the hub's interpreter)
go through ``run_handoff`` (what ``hub run won-to-project`` runs) into each
PM product, whose sandbox is served by a process of its own with 150 ms of
latency per request and the product's limit enforced: Jira 10 requests/s
(Atlassian publishes no number for API-token traffic), Asana 1500 per
minute counting each ``/batch`` action. The connectors keep their own
pacing (``requests_per_second=None``) and default concurrency. The example
configs' template makes 8 tasks per deal (6 top-level, 2 below them).

Measured over the windows in which the PM connector creates a batch's
projects (``create_projects``), from the sandbox's journal:

* **write calls / batch minimum**: the write requests sent, against the
  fewest a batch's projects and tasks need in the product's bulk calls
  (per batch, per level of the work breakdown: Jira issues / 50, Asana
  creates / 10);
* **rate while creating / allowed**: requests (Asana: batch actions) per
  second in those windows, against the product's limit.

``deals/s`` (whole run, reads, write-backs and links included) is in the
details. Runs with ``batch_size`` 500 deals (the config's maximum, what a
backfill would set); ``--batch-size`` changes it.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.report import Figure, print_table
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.connector import PROJECT_ERRORS, ProjectOutcome
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime

LATENCY = 0.15
CALLS_TARGET = 1.05
SHARE_TARGET = 0.90
BATCH_SIZE = 500
SEED = 11
_READ_POSTS = ("/rest/api/3/search/jql",)
CRM_COLLECTION = 200
"""Records per Salesforce sObject-collections update: the write-backs' batch."""
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FIGURE_CALLS = "won-to-project write calls / batch minimum"
FIGURE_RATE = "won-to-project rate while creating / allowed"


@dataclass(frozen=True)
class Product:
    """One PM product's limit and bulk size."""

    allowed_per_second: float
    limit: str
    bulk: int
    options: dict[str, Any]
    counts_actions: bool = False


PRODUCTS: dict[str, Product] = {
    "jira": Product(10.0, "10/s", 50, {"rate_limit": (10, 1.0)}),
    "asana": Product(
        25.0,
        "1500/min (paid), a batch action counts as one",
        10,
        {"rate_limit": (1500, 60.0)},
        counts_actions=True,
    ),
}


@dataclass
class Window:
    """One ``create_projects`` call: how many projects, how long, what went over the wire."""

    projects: int
    levels: list[int]
    seconds: float
    journal: list[list[Any]] = field(default_factory=list)


@contextmanager
def _pair(
    pm: str, deals: int, folder: Path, batch_size: int, concurrency: int | None
) -> Iterator[tuple[Runtime, Any, Any]]:
    """A runtime on a served Salesforce with ``deals`` won deals and a served ``pm``.

    Salesforce once ran in the hub's process: at 100k deals its answer to each
    batch's query (a scan of every deal, in Python) held the hub's interpreter,
    and the run measured the emulator (15 deals/s against 29.6 at 10k).
    """
    from bench.reconcile_scale import edit_config, start_sandbox, stop_sandboxes

    servers = [
        start_sandbox(
            pm, 10, folder, seeded=True, seed=SEED, latency=LATENCY, options=PRODUCTS[pm].options
        )
    ]
    try:
        servers.append(start_sandbox("salesforce", deals, folder, seed=SEED))
        server, crm = servers
        config = write_sandbox_config(
            example_for("salesforce", pm),
            folder,
            {pm: (server.url, server.sandbox), "salesforce": (crm.url, crm.sandbox)},
            env_prefix="HUB_BENCH_WON",
            requests_per_second=None,
        )
        with edit_config(config) as data:
            data["handoffs"]["won_to_project"]["batch_size"] = batch_size
            if concurrency is not None:
                data["systems"]["pm"]["concurrency"] = concurrency
        loaded = load_config(config, known_connectors=known_connectors())
        runtime = open_runtime(loaded)
        try:
            yield runtime, server, crm
        finally:
            runtime.close()
    finally:
        stop_sandboxes(servers)


def _levels(projects: Sequence[Any]) -> list[int]:
    """Records per level a batch creates: the projects, then each depth of their tasks."""
    counts = [len(projects)]
    for project in projects:
        depths: dict[str, int] = {}
        for task in project.template.tasks:
            depths[task.name] = 0 if task.parent is None else depths.get(task.parent, 0) + 1
        for depth in depths.values():
            while len(counts) <= depth + 1:
                counts.append(0)
            counts[depth + 1] += 1
    return counts


def _one_by_one(pm: Any) -> Any:
    """The create before batching, for comparison: each project after the other."""

    def create(projects: Sequence[Any]) -> list[ProjectOutcome]:
        outcomes = []
        for project in projects:
            try:
                outcomes.append(ProjectOutcome(pm.create_project(project)))
            except PROJECT_ERRORS as exc:
                outcomes.append(ProjectOutcome(error=exc))
        return outcomes

    return create


def _watch(runtime: Runtime, server: Any, windows: list[Window], *, sequential: bool) -> None:
    """Wrap the PM connector's batch create to time each call and keep its journal slice."""
    pm: Any = runtime.pm("pm")
    create = _one_by_one(pm) if sequential else pm.create_projects

    def timed(projects: Sequence[Any]) -> Any:
        before = len(server.counters(journal=True)["journal"])
        started = time.perf_counter()
        outcomes = create(projects)
        seconds = time.perf_counter() - started
        journal = server.counters(journal=True)["journal"][before:]
        windows.append(Window(len(projects), _levels(projects), seconds, journal))
        return outcomes

    pm.create_projects = timed


def run(
    pm: str,
    deals: int,
    *,
    batch_size: int = BATCH_SIZE,
    concurrency: int | None = None,
    sequential: bool = False,
) -> list[Figure]:
    """won-to-project for ``deals`` won deals into ``pm``; the two figures."""
    from handoff_hub.hub.handoffs.runner import run_handoff
    from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject

    windows: list[Window] = []
    with (
        tempfile.TemporaryDirectory(prefix="hub-bench-won-") as tmp,
        _pair(pm, deals, Path(tmp), batch_size, concurrency) as (runtime, server, crm),
    ):
        _watch(runtime, server, windows, sequential=sequential)
        settings = runtime.loaded.config.handoffs.won_to_project
        assert settings is not None
        started = time.perf_counter()
        summary = run_handoff(HANDOFF, WonToProject(runtime, settings), runtime.store)
        seconds = time.perf_counter() - started
        crm_writes = _crm_writes(crm.counters(journal=True)["journal"])
        in_flight = runtime.loaded.config.systems["pm"].concurrency
    details = _details(PRODUCTS[pm], windows) | {
        "crm_write_calls": crm_writes,
        "crm_write_minimum": sum(math.ceil(w.projects / CRM_COLLECTION) for w in windows),
        "deals": deals,
        "created": summary.counts.get("created", 0),
        "failed": summary.counts.get("failed", 0),
        "batch_size": batch_size,
        "concurrency": in_flight,
        "sequential": sequential,
        "run_seconds": round(seconds, 2),
        "deals_per_second": round(deals / seconds, 2),
        "latency_seconds": LATENCY,
    }
    calls = details["write_calls"] / max(1, details["batch_minimum"])
    share = details["achieved_per_second"] / PRODUCTS[pm].allowed_per_second
    return [
        Figure(FIGURE_CALLS, pm, deals, round(calls, 3), CALLS_TARGET, "max", details),
        Figure(FIGURE_RATE, pm, deals, round(share, 3), SHARE_TARGET, "min", details),
    ]


_CRM_READ_POSTS = re.compile(
    r"/services/oauth2/token|/services/Soap/u/[0-9.]+"
    r"|/services/data/v[0-9.]+/composite/sobjects/[A-Za-z0-9_]+"  # retrieve by ids
)
"""The Salesforce sandbox's POSTs that only read (its journal's ``read_only_posts``)."""


def _crm_writes(journal: Sequence[Sequence[Any]]) -> int:
    """Salesforce's write requests (the ids written back), from a served sandbox's journal."""
    return sum(
        1
        for method, path, *_ in journal
        if method in _WRITES and not (method == "POST" and _CRM_READ_POSTS.fullmatch(path))
    )


def _details(product: Product, windows: list[Window]) -> dict[str, Any]:
    """Calls, their batch minimum and the rate over the creating windows."""
    requests = [c for w in windows for c in w.journal if not c[3]]
    writes = [c for c in requests if c[0] in _WRITES and c[1] not in _READ_POSTS]
    minimum = sum(math.ceil(n / product.bulk) for w in windows for n in w.levels if n)
    units = [c for w in windows for c in w.journal if c[3]] if product.counts_actions else requests
    creating = sum(w.seconds for w in windows)
    return {
        "batches": len(windows),
        "write_calls": len(writes),
        "batch_minimum": minimum,
        "write_calls_per_deal": round(len(writes) / max(1, sum(w.projects for w in windows)), 3),
        "requests_while_creating": len(requests),
        "refused_429": sum(1 for c in requests if c[2] == 429),
        "units_counted": len(units),
        "unit": "batch actions" if product.counts_actions else "requests",
        "creating_seconds": round(creating, 2),
        "achieved_per_second": round(len(units) / creating if creating else 0.0, 2),
        "allowed_per_second": product.allowed_per_second,
        "limit": product.limit,
    }


def measure(size: int) -> list[Figure]:
    """Figure 6 for each PM product at ``size`` won deals."""
    figures: list[Figure] = []
    for pm in PRODUCTS:
        figures += run(pm, size)
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.won_batched --sizes 300,1000``: print the figures and their details."""
    parser = argparse.ArgumentParser(prog="python -m bench.won_batched", description=__doc__)
    parser.add_argument("--sizes", default="300,1000")
    parser.add_argument("--products", default=",".join(PRODUCTS))
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--concurrency", type=int, help="systems.pm.concurrency (default: 4)")
    parser.add_argument(
        "--sequential", action="store_true", help="one project after another (as before)"
    )
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        for pm in [p for p in args.products.split(",") if p.strip()]:
            figures += run(
                pm,
                size,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                sequential=args.sequential,
            )
    print_table(figures)
    for figure in figures[::2]:
        print(figure.product, figure.size, figure.details)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
