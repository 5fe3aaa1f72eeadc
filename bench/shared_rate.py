"""Figure 2 (shared part): three workers on one PostgreSQL store, one vendor limit between them.

The product's sandbox is served by a process of its own with 150 ms of
latency per request and its published limit, which counts every request of
one token however many workers send them: HubSpot 19 requests/s and 190 per
10 s, Jira 10/s. Three worker processes, each with the same hub config on
one PostgreSQL store (a database created and dropped here, on the server of
``HUB_BENCH_DATABASE_URL``), bulk-update their own third of the records
(HubSpot: 8000 deals each in batches of 100; Jira: 100 issues each, one PUT
per issue), with the connector's default concurrency. Each worker builds its
runtime first and starts its update when all three are ready, so imports
and start-up are not timed.

Reported: the accepted requests of all three per second of the shared
window (first start to last end) over the vendor's rate (target <= 1.0 and
>= 0.9), and the share of requests refused with 429, with
``store.shared_rate_limit`` off (each worker paces to the whole limit) and on.

``python -m bench.shared_rate`` runs it alone; in ``python -m bench``:
``--only shared-rate`` (once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.link_store import postgres_url
from bench.reconcile_scale import REPO, start_sandbox, stop_sandboxes
from bench.report import Figure, print_table
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.sandboxes.kit.server import make_sandbox

WORKERS = 3
LATENCY = 0.15
SHARE_MAX = 1.0
SHARE_MIN = 0.9


@dataclass(frozen=True)
class Workload:
    """One product's bulk update, split between the workers."""

    pair: tuple[str, str]
    role: str
    object: str
    per_worker: int
    allowed_per_second: float
    title_field: str
    seeded: int
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def product(self) -> str:
        """The product whose limit is shared."""
        return self.pair[0] if self.role == "crm" else self.pair[1]

    @property
    def other(self) -> str:
        """The other product of the pair (an in-process sandbox nobody calls)."""
        return self.pair[1] if self.role == "crm" else self.pair[0]


WORKLOADS = {
    "hubspot": Workload(("hubspot", "asana"), "crm", "deals", 8000, 19.0, "dealname", 24_000),
    "jira": Workload(
        ("salesforce", "jira"), "pm", "issue", 100, 10.0, "summary", 400, {"rate_limit": [10, 1.0]}
    ),
}


def _config(folder: Path, work: Workload, server: Any, store_url: str, *, shared: bool) -> Path:
    other = make_sandbox(work.other, seed=11, records=10)
    targets = {
        work.product: (server.url, server.sandbox),
        work.other: ("http://other.sandbox", other),
    }
    path = write_sandbox_config(
        example_for(*work.pair),
        folder,
        targets,
        env_prefix="HUB_BENCH_SHARED",
        requests_per_second=None,
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["store"] = {"url": store_url, "shared_rate_limit": shared}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run_workers(product: str, config: Path, ids: list[str]) -> list[dict[str, Any]]:
    """Start the workers, let them go together once all are ready; their reports."""
    workers = []
    per_worker = WORKLOADS[product].per_worker
    for n in range(WORKERS):
        share = ids[n * per_worker : (n + 1) * per_worker]
        ids_file = config.parent / f"ids-{n}.json"
        ids_file.write_text(json.dumps(share), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "bench.shared_rate",
            "--worker",
            product,
            str(config),
            str(ids_file),
        ]
        workers.append(
            subprocess.Popen(
                command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    reports = []
    for worker in workers:
        out, _ = worker.communicate(timeout=900)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def _worker(product: str, config: str, ids_file: str) -> None:
    """One worker: build the runtime, say ready, wait for go, update its records, report."""
    from handoff_hub.hub.config.loading import load_config
    from handoff_hub.hub.registry import known_connectors
    from handoff_hub.hub.runtime import open_runtime

    work = WORKLOADS[product]
    other_role = "pm" if work.role == "crm" else "crm"
    loaded = load_config(Path(config), known_connectors=known_connectors())
    other = make_sandbox(work.other, seed=11, records=10)
    runtime = open_runtime(loaded, transports={other_role: other.transport()})
    ids = json.loads(Path(ids_file).read_text(encoding="utf-8"))
    updates = [(record, {work.title_field: f"Shared rate {n}"}) for n, record in enumerate(ids)]
    connector = runtime.connector(work.role)
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    results = connector.update(work.object, updates)
    ended = time.time()
    limiter = connector.client.api.limiter  # type: ignore[attr-defined]
    report = {
        "started": started,
        "ended": ended,
        "ok": sum(1 for r in results if r.ok),
        "failed": sum(1 for r in results if not r.ok),
        "limiter": type(limiter).__name__,
        "ledger_round_trips": getattr(limiter, "reservations", 0),
        "limiter_waited_seconds": round(limiter.waited_seconds, 2),
    }
    runtime.close()
    print(json.dumps(report), flush=True)


def measure_mode(
    product: str, shared: bool, server: Any, store_url: str, folder: Path
) -> list[Figure]:
    """The workers' summed rate over the limit, and the 429 share, with sharing on or off."""
    work = WORKLOADS[product]
    config = _config(folder, work, server, store_url, shared=shared)
    ids = server.manifest["ids"][: WORKERS * work.per_worker]
    assert len(ids) == WORKERS * work.per_worker, f"{product}: only {len(ids)} records to update"
    before = len(server.counters(journal=True)["journal"])
    reports = _run_workers(product, config, ids)
    journal = server.counters(journal=True)["journal"][before:]
    requests = [status for _, _, status, in_batch in journal if not in_batch]
    refused = sum(1 for status in requests if status == 429)
    accepted = len(requests) - refused
    window = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    label = "shared budget" if shared else "per-process buckets"
    details = {
        "mode": label,
        "workers": WORKERS,
        "records_per_worker": work.per_worker,
        "requests": len(requests),
        "accepted": accepted,
        "refused_429": refused,
        "window_seconds": round(window, 2),
        "accepted_per_second": round(accepted / window, 2),
        "sent_per_second": round(len(requests) / window, 2),
        "allowed_per_second": work.allowed_per_second,
        "updated": sum(r["ok"] for r in reports),
        "failed": sum(r["failed"] for r in reports),
        "ledger_round_trips": sum(r["ledger_round_trips"] for r in reports),
        "limiter_waited_seconds": [r["limiter_waited_seconds"] for r in reports],
        "latency_seconds": LATENCY,
        "load_average": os.getloadavg()[0],
        "workers_report": reports,
    }
    print(json.dumps({k: v for k, v in details.items() if k != "workers_report"}), flush=True)
    allowed = work.allowed_per_second
    product = f"{product}, {label}"
    return [
        Figure(
            "3 workers: accepted rate / limit",
            product,
            WORKERS,
            round(accepted / window / allowed, 3),
            SHARE_MAX,
            "max",
            details,
        ),
        Figure(
            "3 workers: 429 share of requests",
            product,
            WORKERS,
            round(refused / max(1, len(requests)), 4),
            0.01,
            "max",
            details,
        ),
    ]


def measure_product(product: str) -> list[Figure]:
    """Both modes on one served sandbox of ``product`` and one PostgreSQL database."""
    work = WORKLOADS[product]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-shared-") as tmp, postgres_url() as url:
        folder = Path(tmp)
        server = start_sandbox(
            product,
            work.seeded,
            folder,
            seeded=True,
            latency=LATENCY,
            ids=True,
            options=work.options,
        )
        try:
            for shared in (False, True):
                figures += measure_mode(product, shared, server, url, folder)
        finally:
            stop_sandboxes([server])
    return figures


def measure(size: int, products: tuple[str, ...] = tuple(WORKLOADS)) -> list[Figure]:
    """Each product's figures (``size`` is not used: the workloads have their own)."""
    return [f for product in products for f in measure_product(product)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print_table(measure(0, tuple(sys.argv[1:]) or tuple(WORKLOADS)))
