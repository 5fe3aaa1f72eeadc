"""Figure 4 (third part): Prefect's share of a won-to-project run of up to 1000 deals.

The same run twice, each on freshly seeded sandboxes (same seed, so the same
deals) served by processes of their own (see :mod:`bench.reconcile_scale`),
each in a child process of its own so both start alike:

* plain: what the flow's body does without Prefect: load the config, open the
  runtime, build the handoff, ``run_handoff`` (``hub.handoffs.runner``);
* flow: ``flows.won_to_project.won_to_project`` on Prefect's embedded
  (ephemeral) server, as ``hub run`` runs it, with ``PREFECT_HOME`` in a
  temporary folder. ``import prefect`` and the server's start-up
  (``SubprocessASGIServer().start()``, the step the first flow call would
  otherwise take) are timed apart, before the flow run is timed.

Prefect's share = (flow seconds - plain seconds) / flow seconds; start-up and
import are not in it (they are reported in the details). Measured twice:

* pacing lifted: client pacing generous (``requests_per_second=100000``), no
  latency, so waiting does not dilute Prefect's share: its fixed cost shows;
* served: ``LATENCY`` seconds per request (conservative for a SaaS API; the
  rate-limit figure uses 150 ms) and the connectors' own pacing of the
  vendors' published limits, as a real run meets them; one run of each
  kind, since the waiting dwarfs this machine's noise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.reconcile_scale import REPO, Server, start_sandbox, stop_sandboxes
from bench.report import Figure

MAX_DEALS = 1000
SEED = 11
RATE = 100_000
TARGET = 0.10
LATENCY = 0.03
CRM, PM = "salesforce", "jira"
PREFECT_ENV = {
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}


# the child processes ----------------------------------------------------------------------


def _plain(config: Path) -> dict[str, Any]:
    from handoff_hub.hub.config.loading import load_config
    from handoff_hub.hub.handoffs.catalogue import build_handoff
    from handoff_hub.hub.handoffs.runner import run_handoff
    from handoff_hub.hub.handoffs.won_to_project import HANDOFF
    from handoff_hub.hub.runtime import open_runtime

    started = time.perf_counter()
    runtime = open_runtime(load_config(config))
    try:
        summary = run_handoff(HANDOFF, build_handoff(runtime, HANDOFF), runtime.store)
    finally:
        runtime.close()
    return {"seconds": time.perf_counter() - started, "counts": summary.counts}


def _flow(config: Path) -> dict[str, Any]:
    started = time.perf_counter()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort
    from prefect.server.api.server import SubprocessASGIServer

    from handoff_hub.flows.won_to_project import won_to_project

    import_seconds = time.perf_counter() - started
    started = time.perf_counter()
    server = SubprocessASGIServer()
    server.start(timeout=120)
    startup_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        summary: dict[str, Any] = won_to_project(str(config), 0.0)  # type: ignore[assignment]  # the state's data
        seconds = time.perf_counter() - started
        tasks = flows = 0
        with get_client(sync_client=True) as client:
            while page := client.read_task_runs(sort=TaskRunSort.ID_DESC, limit=200, offset=tasks):
                tasks += len(page)
            while runs := client.read_flow_runs(sort=FlowRunSort.ID_DESC, limit=200, offset=flows):
                flows += len(runs)
    finally:
        server.stop()
    return {
        "seconds": seconds,
        "import_seconds": import_seconds,
        "startup_seconds": startup_seconds,
        "counts": summary["counts"],
        "tasks": tasks,
        "flow_runs": flows,
    }


def _child(mode: str, config: Path, out: Path) -> int:
    report = _plain(config) if mode == "plain" else _flow(config)
    out.write_text(json.dumps(report, default=str), encoding="utf-8")
    return 0


# the caller --------------------------------------------------------------------------------


def _run(mode: str, deals: int, folder: Path, *, served: bool) -> dict[str, Any]:
    """Seed and serve fresh sandboxes, then run ``mode`` in a child process.

    ``served``: with latency and the connectors' own pacing (see the module).
    """
    from handoff_hub.hub.cli.demo import example_for, write_sandbox_config

    work = folder / mode
    work.mkdir()
    servers: list[Server] = []
    try:
        servers = [
            start_sandbox(
                product, deals, work, seeded=True, seed=SEED, latency=LATENCY if served else 0.0
            )
            for product in (CRM, PM)
        ]
        config = write_sandbox_config(
            example_for(CRM, PM),
            work,
            {s.product: (s.url, s.sandbox) for s in servers},
            env_prefix="HUB_BENCH_PREFECT",
            requests_per_second=None if served else RATE,
        )
        env = {**os.environ, **PREFECT_ENV, "PREFECT_HOME": str(work / "prefect")}
        out = work / "report.json"
        command = [sys.executable, "-m", "bench.prefect_share", "run", mode, str(config), str(out)]
        subprocess.run(command, cwd=REPO, env=env, check=True)
        report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        report["sandbox_calls"] = sum(sum(s.counters()["calls"].values()) for s in servers)
    finally:
        stop_sandboxes(servers)
    return report


def run(size: int, repeats: int = 1, *, served: bool = False) -> dict[str, Any]:
    """Plain and flow runs of ``min(size, 1000)`` deals, alternately, ``repeats`` times each.

    The run of median time of each kind is the one reported (this machine's
    noise is as large as Prefect's cost; one pair of runs cannot tell them apart).
    """
    deals = min(size, MAX_DEALS)
    plains: list[dict[str, Any]] = []
    flows: list[dict[str, Any]] = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="hub-bench-prefect-") as tmp:
            plains.append(_run("plain", deals, Path(tmp), served=served))
            flows.append(_run("flow", deals, Path(tmp), served=served))
    return {
        "deals": deals,
        "plain": _median(plains),
        "flow": _median(flows),
        "plain_runs": [round(r["seconds"], 3) for r in plains],
        "flow_runs": [round(r["seconds"], 3) for r in flows],
    }


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: float(r["seconds"]))[len(runs) // 2]


def measure(size: int, repeats: int = 3) -> list[Figure]:
    """Prefect's share of a won-to-project run of ``min(size, 1000)`` deals, pacing lifted
    (medians of ``repeats``) and served (one run)."""
    return [
        _figure(size, run(size, repeats), "prefect share of won-to-project run", RATE),
        _figure(
            size,
            run(size, 1, served=True),
            "prefect share of won-to-project run (served)",
            None,
            latency=LATENCY,
        ),
    ]


def _figure(
    size: int,
    report: dict[str, Any],
    name: str,
    requests_per_second: int | None,
    *,
    latency: float = 0.0,
) -> Figure:
    plain, flow = report["plain"], report["flow"]
    share = (flow["seconds"] - plain["seconds"]) / flow["seconds"]
    details = {
        "deals": report["deals"],
        "repeats": len(report["plain_runs"]),
        "plain_seconds_each": report["plain_runs"],
        "flow_seconds_each": report["flow_runs"],
        "plain_seconds": round(plain["seconds"], 3),
        "flow_seconds": round(flow["seconds"], 3),
        "startup_seconds": round(flow["startup_seconds"], 3),
        "import_seconds": round(flow["import_seconds"], 3),
        "tasks": flow["tasks"],
        "flow_runs": flow["flow_runs"],
        "plain_counts": plain["counts"],
        "flow_counts": flow["counts"],
        "plain_calls": plain["sandbox_calls"],
        "flow_calls": flow["sandbox_calls"],
        "requests_per_second": requests_per_second or "connectors' own pacing",
        "latency_seconds": latency,
        "pairing": f"{CRM}+{PM}",
    }
    return Figure(name, "hub", size, round(share, 4), TARGET, "max", details)


def main(argv: list[str] | None = None) -> int:
    """``run plain|flow CONFIG OUT`` (the child), or ``measure SIZE``."""
    parser = argparse.ArgumentParser(prog="python -m bench.prefect_share")
    commands = parser.add_subparsers(dest="command", required=True)
    child = commands.add_parser("run")
    child.add_argument("mode", choices=("plain", "flow"))
    child.add_argument("config", type=Path)
    child.add_argument("out", type=Path)
    sizes = commands.add_parser("measure")
    sizes.add_argument("size", type=int)
    args = parser.parse_args(argv)
    if args.command == "run":
        return _child(args.mode, args.config, args.out)
    for figure in measure(args.size):
        print(figure.figure, figure.value, json.dumps(figure.details), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
