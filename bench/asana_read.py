"""Figure 5 (Asana): a full read's memory, first page and speed, against the official SDK.

A seeded Asana sandbox (its tasks spread over the team's delivery projects)
is served by a process of its own with ``LATENCY`` seconds of latency per
request and no rate limit. Each side then reads every task of the team's
projects, with the connector's default ``opt_fields``, in a fresh Python
process of its own, so that its peak resident memory (``ru_maxrss``) is the
read's and nothing else's:

- the hub: ``connector.read_changes("tasks", since=None)`` with its pacing
  lifted (1000 requests/s), every page taken and let go, as a handoff does;
- the asana SDK (v5), the way its docs list tasks: ``ProjectsApi.get_projects``
  for the team, then ``TasksApi.get_tasks({"project": gid, "limit": 100})``
  per project, its generator following ``next_page``.

The figures are the hub's peak RSS, its seconds to the first page, and the
SDK's time over the hub's. Up to 10,000 tasks there are two rounds, each side
first once, and each side's faster read counts. Both sides must read the same
tasks (same count and digest of the sorted gids). Under Asana's published
limit (1,500 requests a minute) both sides would be bound by the same floor:
100 tasks a call at 25 calls a second, 41 s for 100k tasks.

``python -m bench.asana_read --sizes 10000,100000``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.reconcile_scale import REPO, start_sandbox, stop_sandboxes
from bench.report import Figure, print_table, write_json

LATENCY = 0.03
RSS_TARGET_MB = 200.0
FIRST_PAGE_TARGET_SECONDS = 1.0
SPEED_TARGET = 1.5
SIDES = ("hub", "sdk")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _hub_read(url: str, manifest: dict[str, Any]) -> tuple[list[str], float]:
    from handoff_hub.connectors.asana import AsanaConnector
    from handoff_hub.hub.config.systems import EnvSecret, RateLimitConfig, SystemConfig

    os.environ["HUB_BENCH_ASANA_TOKEN"] = manifest["credentials"]["access_token"]
    system = SystemConfig(
        connector="asana",
        base_url=url,
        mapping="asana.yaml",
        credentials={"access_token": EnvSecret(env="HUB_BENCH_ASANA_TOKEN")},
        settings=manifest["settings"],
        rate_limit=RateLimitConfig(requests=1000, per_seconds=1),
    )
    system.bind_name("pm")
    connector = AsanaConnector.from_config(system)
    started, first = time.perf_counter(), 0.0
    gids: list[str] = []
    try:
        for page in connector.read_changes("tasks", since=None):
            if not first and page.records:
                first = time.perf_counter() - started
            gids.extend(record.id for record in page.records)
    finally:
        connector.close()
    return gids, first


def _sdk_read(url: str, manifest: dict[str, Any]) -> tuple[list[str], float]:
    import asana

    from handoff_hub.connectors.asana import settings

    configuration = asana.Configuration()
    configuration.host = f"{url}/api/1.0"
    configuration.access_token = manifest["credentials"]["access_token"]
    client = asana.ApiClient(configuration)
    fields = ",".join(dict.fromkeys([*settings.DEFAULT_TASK_FIELDS, "modified_at"]))
    wanted = manifest["settings"]
    started, first = time.perf_counter(), 0.0
    projects = asana.ProjectsApi(client).get_projects(
        {"workspace": wanted["workspace_gid"], "team": wanted["team_gid"], "limit": 100}
    )
    gids: list[str] = []
    for project in projects:
        tasks = asana.TasksApi(client).get_tasks(
            {"project": project["gid"], "limit": 100, "opt_fields": fields}
        )
        for task in tasks:
            if not first:
                first = time.perf_counter() - started
            gids.append(task["gid"])
    return gids, first


def _child(side: str, url: str, manifest_path: str) -> int:
    """One side's read in this (fresh) process; prints its figures as JSON."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    read = _hub_read if side == "hub" else _sdk_read
    if side == "hub":  # imports are not the read's time (a run has them loaded)
        import handoff_hub.connectors.asana
        import handoff_hub.hub.config.systems  # noqa: F401
    else:
        import asana  # noqa: F401
    before = _rss_mb()
    cpu, started = time.process_time(), time.perf_counter()
    gids, first = read(url, manifest)
    seconds = time.perf_counter() - started
    unique = sorted(set(gids))
    report = {
        "side": side,
        "records": len(gids),
        "unique": len(unique),
        "digest": hashlib.sha1("\n".join(unique).encode()).hexdigest(),
        "first_page_seconds": round(first, 3),
        "seconds": round(seconds, 3),
        "client_cpu_seconds": round(time.process_time() - cpu, 3),
        "rss_before_read_mb": round(before, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
    }
    print(json.dumps(report), flush=True)
    return 0


def _run_side(side: str, url: str, manifest: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.asana_read", "child", side, url, str(manifest)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def compare(size: int) -> dict[str, dict[str, Any]]:
    """Each side's fastest read of ``size`` seeded tasks (two rounds up to 10k)."""
    with tempfile.TemporaryDirectory(prefix="hub-bench-asana-") as tmp:
        server = start_sandbox("asana", size, Path(tmp), seeded=True, latency=LATENCY)
        try:
            manifest = Path(tmp) / "asana.json"
            runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
            for round_number in range(2 if size <= 10_000 else 1):
                order = SIDES if round_number % 2 == 0 else SIDES[::-1]
                for side in order:
                    runs[side].append(_run_side(side, server.url, manifest))
        finally:
            stop_sandboxes([server])
    best = {}
    for side, reports in runs.items():
        fastest = min(reports, key=lambda r: r["seconds"])
        best[side] = {**fastest, "seconds_each": [r["seconds"] for r in reports]}
    return best


def measure(size: int) -> list[Figure]:
    """Figure 6 at ``size`` tasks.

    Raises:
        AssertionError: the two sides did not read the same tasks, or a side read one twice.
    """
    sides = compare(size)
    hub, sdk = sides["hub"], sides["sdk"]
    if hub["digest"] != sdk["digest"] or hub["records"] != hub["unique"]:
        raise AssertionError(f"asana {size}: hub read {hub['records']}, SDK {sdk['records']}")
    details = {"latency_seconds": LATENCY, "load_average": os.getloadavg(), **sides}
    speed = sdk["seconds"] / hub["seconds"] if hub["seconds"] else 0.0
    return [
        Figure("asana read: peak RSS MB", "asana", size, hub["peak_rss_mb"], RSS_TARGET_MB,
               "max", details),
        Figure("asana read: seconds to first page", "asana", size, hub["first_page_seconds"],
               FIRST_PAGE_TARGET_SECONDS, "max", details),
        Figure("asana read: hub speed / sdk get_tasks", "asana", size, round(speed, 3),
               SPEED_TARGET, "min", details),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.asana_read``: figure 6 (or one side's read, as a child process)."""
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "child":
        return _child(*argv[1:4])
    parser = argparse.ArgumentParser(prog="python -m bench.asana_read", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="task counts, comma-separated")
    parser.add_argument("--json", default="bench/asana_read.json", type=Path, help="results file")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        figures.extend(measure(size))
        write_json(figures, args.json)
    print_table(figures)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
