"""Figure 4 (second part): reconcile of N linked deal <-> delivery project pairs.

Three processes besides the caller, so the figure is the hub's own cost:

* each sandbox (Salesforce, Jira) is served by uvicorn in a Python process of
  its own (``python -m bench.reconcile_scale serve ...``), which seeds it
  directly through the sandbox's store (no API calls): N won opportunities on
  the seeded users and accounts, and N Epics stamped as won-to-project stamps
  them (label, ``handoff-hub`` property, budget, account, manager, due date),
  every field already in step with its deal;
* the links go into the hub's SQLite store in one executemany;
* the reconcile (``hub.reconcile.fix.reconcile(rt, fix=False)``, what
  ``hub reconcile`` runs) runs in a child process
  (``python -m bench.reconcile_scale reconcile ...``) that reports its own wall
  time, CPU time and peak RSS (``VmHWM``).

The client pacing is generous (``requests_per_second=100000`` in the hub
config), so the connectors' pacing of the vendors' published limits does not
hide the hub's own cost; against the real products those limits, not the hub,
bound a reconcile of 100k pairs (Jira returns 100 issues per search page).

The figure "reconcile seconds" is the wall time of the reconcile call in the
child; its details also give the child's CPU seconds (the hub's work: mapping,
comparison, index, HTTP client) and the sandboxes' CPU seconds during the
reconcile (the emulated products' work, which shares the machine's cores).
Each Epic carries the example template's tasks as won-to-project makes them
(``standard-delivery`` of ``examples/salesforce-jira.yaml``: 6 Tasks under the
Epic, 2 Subtasks under their Tasks), the first ``n % 7`` of its Tasks done, and
its deal's ``Delivery_Percent__c`` says that share: the reconcile reads every
compared project's progress, as against a real site, and finds no drift.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.report import Figure

SEED = 11
BASE_RECORDS = 1000
"""The CRM's users and accounts are those of a seed of this many deals (100 sales reps)."""
LOG_CALLS = os.environ.get("HUB_BENCH_CALL_LOG")
RATE = 100_000
MAX_SECONDS = 5.0
RUNS = 3
"""Reconciles per size, on the same served systems; the figure is the fastest (machine noise)."""
MAX_RSS_MB = 300.0
REPO = Path(__file__).resolve().parents[1]
CALLS_PATH = "/__bench/calls"
CLOSE_DATE = dt.date(2026, 10, 1)
DUE_DATE = dt.date(2027, 3, 1)
TEMPLATE = "standard-delivery"
"""The example config's template whose tasks every seeded Epic carries."""


def template_tasks() -> list[dict[str, Any]]:
    """The tasks of :data:`TEMPLATE` in the Salesforce + Jira example config."""
    from handoff_hub.hub.cli.demo import example_for

    data = yaml.safe_load(example_for("salesforce", "jira").read_text(encoding="utf-8"))
    return list(data["templates"][TEMPLATE]["tasks"])


def done_tasks(n: int, top_level: int) -> int:
    """How many of the ``n``-th Epic's top-level tasks are done (0 up to all of them)."""
    return n % (top_level + 1)


def seeded_percent(n: int, top_level: int) -> int:
    """The ``n``-th project's percent complete: its done Tasks among its Tasks."""
    return round(100 * done_tasks(n, top_level) / top_level)


# the sandbox processes ------------------------------------------------------------------


class _Counted:
    """ASGI wrapper: counts requests (and 429 answers) by method and path.

    ``GET /__bench/calls`` reads the counts and the process's CPU seconds.
    """

    def __init__(self, app: Any, journal: Any = None) -> None:
        self.app = app
        self.journal = journal
        self.calls: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == CALLS_PATH:
            counts: dict[str, Any] = {
                "calls": self.calls,
                "refused": self.refused,
                "cpu_seconds": time.process_time(),
            }
            if self.journal is not None and b"journal=1" in scope.get("query_string", b""):
                counts["journal"] = [
                    [c.method, c.path, c.status, c.in_batch] for c in self.journal.calls
                ]
            body = json.dumps(counts).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        call = f"{scope['method']} {scope['path']}"
        self.calls[call] += 1

        async def counted_send(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 429:
                self.refused[call] += 1
            await send(message)

        await self.app(scope, receive, counted_send)


def _seed_salesforce(sandbox: Any, size: int) -> dict[str, Any]:
    """N won opportunities spread over the seeded accounts and active sales reps."""
    from handoff_hub.sandboxes.salesforce.schema import OBJECTS

    store = sandbox.state.store
    with store.lock:
        for name in ("Opportunity", "Task"):
            for record_id in list(store.tables[name]):
                store.delete(name, record_id)
        users = {u["Id"]: u for u in store.records("User")[1:] if u.get("IsActive")}
        owners = list(users)
        accounts = store.records("Account")
        stamp = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC)
        top_level = sum(1 for t in template_tasks() if not t.get("parent"))
        deals = []
        for n in range(size):
            account, owner = accounts[n % len(accounts)], owners[n % len(owners)]
            amount = float((50 + n % 4950) * 100)
            name = f"{account['Name']} - Delivery {n + 1}"
            deal_id = store.put(
                OBJECTS["Opportunity"],
                {
                    "Name": name,
                    "AccountId": account["Id"],
                    "StageName": "Closed Won",
                    "Amount": amount,
                    "CurrencyIsoCode": "USD",
                    "CloseDate": CLOSE_DATE.isoformat(),
                    "OwnerId": owner,
                    "Type": "New Customer",
                    "LeadSource": "Web",
                    "Delivery_Project__c": f"DEL-{n + 1}",
                    "Delivery_Status__c": "Not Started",
                    "Delivery_Due__c": DUE_DATE.isoformat(),
                    "Delivery_Percent__c": seeded_percent(n, top_level),
                },
                stamp,
            )
            deals.append([deal_id, name, amount, account["Name"], users[owner]["Email"]])
    return {"deals": deals}


def _seed_jira(sandbox: Any, deals: list[list[Any]]) -> dict[str, Any]:
    """One Epic per deal in DEL, stamped and filled in as won-to-project leaves it."""
    from handoff_hub.connectors.jira.records import stamp_label

    store = sandbox.state.store
    people = {email.lower(): account for email, account in sandbox.state.user_ids().items()}
    created = dt.datetime(2026, 10, 2, 10, 0, tzinfo=dt.UTC)
    tasks = template_tasks()
    with store.lock:
        project = store.project("DEL")
        epic = store.issue_type("Epic")
        for issue_id in list(store.issues):
            store.issues.pop(issue_id)
        project.counter = 0
        made = []
        for n, (deal_id, name, amount, account, email) in enumerate(deals):
            source = f"crm:{deal_id}"
            issue = store.add_issue(
                project,
                epic,
                f"{account} - {name}",
                created=created,
                labels=[stamp_label(source)],
                assignee=people.get(str(email).lower()),
                priority="Medium",
                duedate=DUE_DATE,
                custom={
                    "customfield_10050": amount,
                    "customfield_10051": account,
                    "customfield_10053": "USD",
                },
                properties={
                    "handoff-hub": {
                        "source": source,
                        "template": "standard-delivery",
                        "project": "DEL",
                        "createdBy": "handoff-hub",
                    }
                },
            )
            _seed_tasks(store, project, issue, tasks, n, stamp_label(source), created)
            made.append([deal_id, str(issue.id), issue.key])
    return {"projects": made, "tasks": len(tasks) * len(made)}


def _seed_tasks(
    store: Any,
    project: Any,
    epic: Any,
    tasks: list[dict[str, Any]],
    n: int,
    label: str,
    created: dt.datetime,
) -> None:
    """The template's tasks under ``epic`` as won-to-project creates them; some done."""
    kinds = {"task": store.issue_type("Task"), "subtask": store.issue_type("Subtask")}
    top = [t for t in tasks if not t.get("parent")]
    done = {t["name"] for t in top[: done_tasks(n, len(top))]}
    made: dict[str, Any] = {}
    for task in sorted(tasks, key=lambda t: bool(t.get("parent"))):
        parent = made[task["parent"]] if task.get("parent") else epic
        made[task["name"]] = store.add_issue(
            project,
            kinds["subtask" if task.get("parent") else "task"],
            task["name"],
            created=created,
            status="Done" if task["name"] in done else "To Do",
            parent=parent.id,
            labels=[label],
            duedate=DUE_DATE - dt.timedelta(days=90 - int(task.get("due_offset_days") or 0)),
        )


def _limits(product: str, *, lifted: bool) -> dict[str, Any]:
    """Sandbox options that lift the product's published rate limits (HubSpot enforces them)."""
    if not lifted or product != "hubspot":
        return {}
    from handoff_hub.sandboxes.hubspot.limits import RateLimits

    return {"rate_limit": RateLimits.generous()}


def _options(text: str | None) -> dict[str, Any]:
    """Sandbox options from JSON (a list stands for a tuple, as in ``rate_limit``)."""
    options = json.loads(text) if text else {}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}


def _serve(args: argparse.Namespace) -> int:
    """Seed one sandbox, write its manifest, then serve it until killed."""
    import uvicorn

    from handoff_hub.sandboxes.kit import Faults
    from handoff_hub.sandboxes.kit.server import make_sandbox

    if args.seeded:
        sandbox = make_sandbox(
            args.product,
            seed=args.seed,
            records=args.size,
            faults=Faults(latency=args.latency),
            **_limits(args.product, lifted=args.lifted),
            **_options(args.options),
        )
        manifest: dict[str, Any] = {}
        if args.ids:
            from bench.common import record_ids

            manifest["ids"] = record_ids(args.product, sandbox)
    elif args.product == "salesforce":
        sandbox = make_sandbox("salesforce", seed=args.seed, records=BASE_RECORDS)
        manifest = _seed_salesforce(sandbox, args.size)
    else:
        sandbox = make_sandbox("jira", seed=args.seed, records=0)
        deals = json.loads(Path(args.deals).read_text(encoding="utf-8"))["deals"]
        manifest = _seed_jira(sandbox, deals)
    manifest |= {
        "settings": sandbox.settings,
        "credentials": sandbox.credentials,
        "seed_cpu_seconds": time.process_time(),
    }
    out = Path(args.manifest)
    out.with_suffix(".tmp").write_text(json.dumps(manifest), encoding="utf-8")
    out.with_suffix(".tmp").replace(out)
    # The seeded records live as long as the server, as a product's database outlives its
    # requests: left to the collector, each full collection walks them all (about a second
    # at 100k Epics with their tasks, stalling every request in flight).
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(
        _Counted(sandbox.app, sandbox.journal),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    asyncio.run(uvicorn.Server(config).serve())
    return 0


# the reconcile process -------------------------------------------------------------------


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _CallTimes:
    """When the child's first HTTP call started and its last one ended (httpx's transport)."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.log: list[tuple[int | None, float, float, str]] = []

    @classmethod
    def install(cls) -> _CallTimes:
        times = cls()
        send = httpx.HTTPTransport.handle_request

        def timed(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
            begun = time.perf_counter()
            if times.first is None:
                times.first = begun
            try:
                return send(transport, request)
            finally:
                times.last = max(times.last or 0.0, time.perf_counter())
                if LOG_CALLS:
                    times.log.append((request.url.port, begun, times.last, request.url.path))

        httpx.HTTPTransport.handle_request = timed  # type: ignore[method-assign,assignment]
        return times

    def phases(self, started: float, seconds: float) -> dict[str, float]:
        """Seconds of the reconcile before its first call and after its last (the hub's alone)."""
        if self.first is None or self.last is None:
            return {}
        return {
            "before_first_call_seconds": round(max(0.0, self.first - started), 3),
            "after_last_call_seconds": round(max(0.0, started + seconds - self.last), 3),
        }


def _reconcile(args: argparse.Namespace) -> int:
    """Run ``reconcile(rt, fix=False)`` once; write time, CPU, peak RSS and what it found."""
    from handoff_hub.hub.config.loading import load_config
    from handoff_hub.hub.reconcile.fix import reconcile
    from handoff_hub.hub.registry import known_connectors
    from handoff_hub.hub.runtime import open_runtime

    rss_before = _peak_rss_mb()
    calls = _CallTimes.install()
    started, cpu = time.perf_counter(), _cpu()
    loaded = load_config(Path(args.config), known_connectors=known_connectors())
    runtime = open_runtime(loaded)
    setup_seconds = time.perf_counter() - started
    try:
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        calls.first = None
        started, cpu = time.perf_counter(), _cpu()
        result, _ = reconcile(runtime, fix=False)
        seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
        if args.profile:
            profiler.disable()
            profiler.dump_stats(args.profile)
        kinds = Counter(d.kind.value for d in result.discrepancies())
        result.spool.close()
    finally:
        runtime.close()
    report = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "setup_seconds": setup_seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_after_imports_mb": rss_before,
        "discrepancies": dict(kinds),
        "scanned": result.scanned,
        **calls.phases(started, seconds),
    }
    Path(args.out).write_text(json.dumps(report), encoding="utf-8")
    if LOG_CALLS:
        Path(LOG_CALLS).write_text(json.dumps([started, calls.log]), encoding="utf-8")
    return 0


# the caller ------------------------------------------------------------------------------


@dataclass
class Server:
    """A sandbox served by a process of its own."""

    product: str
    url: str
    process: subprocess.Popen[bytes]
    manifest: dict[str, Any]

    @property
    def sandbox(self) -> Any:
        """What ``write_sandbox_config`` reads of a sandbox: its settings and credentials."""
        return argparse.Namespace(
            settings=self.manifest["settings"], credentials=self.manifest["credentials"]
        )

    def counters(self, *, journal: bool = False) -> dict[str, Any]:
        """Requests served so far by method and path, and the process's CPU seconds.

        With ``journal``, also the sandbox's journal: ``[method, path, status,
        in_batch]`` per call, batch actions included.
        """
        reply = httpx.get(
            self.url + CALLS_PATH, params={"journal": 1} if journal else {}, timeout=30
        )
        reply.raise_for_status()
        return dict(reply.json())


def _module(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.reconcile_scale", *args]


def start_sandbox(
    product: str,
    size: int,
    folder: Path,
    *,
    deals: Path | None = None,
    seeded: bool = False,
    seed: int = SEED,
    latency: float = 0.0,
    lifted: bool = False,
    options: dict[str, Any] | None = None,
    ids: bool = False,
    timeout: float = 600,
) -> Server:
    """Serve a sandbox in a process of its own; return once it answers.

    ``seeded``: the sandbox's own seed of ``size`` records (``latency`` seconds
    added per request, ``lifted``: without its published rate limits); else
    the linked pairs of this module (Salesforce first, then Jira with its
    ``deals``). ``options``: more sandbox options; ``ids``: the manifest
    lists the ids of the records a bulk update would change.
    """
    from handoff_hub.sandboxes.kit.server import free_port

    port = free_port()
    manifest = folder / f"{product}.json"
    command = _module(
        "serve", product, "--size", str(size), "--port", str(port), "--manifest", str(manifest)
    )
    command += ["--seed", str(seed)]
    if deals is not None:
        command += ["--deals", str(deals)]
    if seeded:
        command += ["--seeded", "--latency", str(latency)] + (["--lifted"] if lifted else [])
        command += ["--options", json.dumps(options or {})] + (["--ids"] if ids else [])
    process = subprocess.Popen(command, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{product} sandbox exited with {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{product} sandbox did not start in {timeout:.0f} s")
        if manifest.exists():
            try:
                httpx.get(url + CALLS_PATH, timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return Server(product, url, process, data)


@contextmanager
def _served(size: int, folder: Path) -> Iterator[tuple[Server, Server]]:
    servers: list[Server] = []
    try:
        servers.append(start_sandbox("salesforce", size, folder))
        servers.append(start_sandbox("jira", size, folder, deals=folder / "salesforce.json"))
        yield servers[0], servers[1]
    finally:
        stop_sandboxes(servers)


def stop_sandboxes(servers: list[Server]) -> None:
    """Terminate the sandbox processes and wait for them."""
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _insert_links(url: str, projects: list[list[str]], jira_url: str) -> float:
    """Every won-to-project link in one executemany; returns the seconds it took."""
    from sqlalchemy import insert

    from handoff_hub.hub.handoffs.won_to_project import HANDOFF
    from handoff_hub.hub.store import StateStore
    from handoff_hub.hub.store.tables import LinkRow

    store = StateStore(url)
    now = dt.datetime.now(dt.UTC)
    rows = [
        {
            "handoff": HANDOFF,
            "source_system": "crm",
            "source_object": "Opportunity",
            "source_id": deal,
            "target_system": "pm",
            "target_object": "issue",
            "target_id": issue_id,
            "target_key": key,
            "target_url": f"{jira_url}/browse/{key}",
            "state": "complete",
            "fingerprint": None,
            "created_at": now,
            "updated_at": now,
        }
        for deal, issue_id, key in projects
    ]
    started = time.perf_counter()
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(LinkRow), rows)
    finally:
        store.close()
    return time.perf_counter() - started


def run(
    size: int,
    *,
    runs: int = 1,
    profile: Path | None = None,
    paced: bool = False,
    pacing: Mapping[str, Mapping[str, float]] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Seed, serve, link and reconcile ``size`` pairs ``runs`` times; the fastest run's report.

    A reconcile writes nothing, so every run sees the same systems; the report
    is the child's own (with the calls and sandbox CPU of that run) plus the
    setup's, and ``runs_seconds``/``runs_cpu_seconds`` list every run.
    ``paced``: the connectors keep their own pacing of the vendors' published
    limits (else it is lifted, so that the hub's own cost is what is timed);
    ``pacing`` replaces it for the named connectors (requests, per_seconds, burst).
    ``progress=False``: sync compares no percent complete, so no task is read.
    """
    from handoff_hub.hub.cli.demo import example_for, write_sandbox_config

    with tempfile.TemporaryDirectory(prefix="hub-bench-reconcile-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        with _served(size, folder) as (crm, pm):
            serve_seconds = time.perf_counter() - started
            config = write_sandbox_config(
                example_for("salesforce", "jira"),
                folder,
                {"salesforce": (crm.url, crm.sandbox), "jira": (pm.url, pm.sandbox)},
                env_prefix="HUB_BENCH_RECONCILE",
                requests_per_second=None if paced else RATE,
            )
            if pacing:
                _set_pacing(config, pacing)
            if not progress:
                _drop_percent(config)
            projects = pm.manifest["projects"]
            link_seconds = _insert_links(f"sqlite:///{folder / 'state.db'}", projects, pm.url)
            reports = [
                _child_run(config, folder / f"reconcile-{n}.json", (crm, pm), profile)
                for n in range(max(1, runs))
            ]
    report = min(reports, key=lambda r: float(r["seconds"]))
    report |= {
        "pairs": len(projects),
        "runs_seconds": [round(r["seconds"], 3) for r in reports],
        "runs_cpu_seconds": [round(r["cpu_seconds"], 3) for r in reports],
        "serve_and_seed_seconds": round(serve_seconds, 3),
        "link_insert_seconds": round(link_seconds, 3),
    }
    return report


@contextmanager
def edit_config(config: Path) -> Iterator[dict[str, Any]]:
    """The hub config's YAML as data, written back when the block ends."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    yield data
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _set_pacing(config: Path, pacing: Mapping[str, Mapping[str, float]]) -> None:
    """Give the systems of these connectors this client pacing."""
    with edit_config(config) as data:
        for system in data["systems"].values():
            if system["connector"] in pacing:
                system["rate_limit"] = dict(pacing[system["connector"]])


def _drop_percent(config: Path) -> None:
    """Take percent complete out of the sync's pairs: the reconcile then reads no task."""
    with edit_config(config) as data:
        sync = data["handoffs"]["sync"]
        sync["fields"] = [f for f in sync["fields"] if f["pm"] != "percent_complete"]


def _child_run(
    config: Path, out: Path, served: tuple[Server, Server], profile: Path | None
) -> dict[str, Any]:
    """One reconcile in a child process: its report, the calls it made and the sandboxes' CPU."""
    before = {s.product: s.counters() for s in served}
    command = _module("reconcile", str(config), str(out))
    if profile is not None:
        command += ["--profile", str(profile)]
    subprocess.run(command, cwd=REPO, check=True)
    after = {s.product: s.counters() for s in served}
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    calls: Counter[str] = Counter()
    sandbox_cpu = 0.0
    for product in before:
        was, now = before[product], after[product]
        sandbox_cpu += now["cpu_seconds"] - was["cpu_seconds"]
        for path, count in now["calls"].items():
            calls[f"{product} {path}"] += count - was["calls"].get(path, 0)
    return report | {
        "calls": sum(calls.values()),
        "calls_by_path": dict(calls.most_common()),
        "sandbox_cpu_seconds": round(sandbox_cpu, 3),
    }


def measure(size: int, runs: int = RUNS) -> list[Figure]:
    """Wall seconds and peak RSS of the reconcile process at ``size`` linked pairs (best run)."""
    report = run(size, runs=runs)
    found = report["discrepancies"]
    details = {
        "pairs": report["pairs"],
        "deals": report["scanned"].get("deals", 0),
        "projects": report["scanned"].get("projects", 0),
        "discrepancies": sum(found.values()),
        "discrepancies_by_kind": found,
        "calls": report["calls"],
        "calls_by_path": report["calls_by_path"],
        "seconds": round(report["seconds"], 3),
        "cpu_seconds": round(report["cpu_seconds"], 3),
        "runs_seconds": report["runs_seconds"],
        "runs_cpu_seconds": report["runs_cpu_seconds"],
        "timer": f"wall time of the reconcile process, best of {runs} on the same systems",
        "sandbox_cpu_seconds": report["sandbox_cpu_seconds"],
        "peak_rss_mb": round(report["peak_rss_mb"], 1),
        "rss_after_imports_mb": round(report["rss_after_imports_mb"], 1),
        "setup_seconds": round(report["setup_seconds"], 3),
        "serve_and_seed_seconds": report["serve_and_seed_seconds"],
        "link_insert_seconds": report["link_insert_seconds"],
        "requests_per_second": RATE,
        "pairing": "salesforce+jira",
    }
    return [
        Figure(
            "reconcile seconds",
            "hub",
            size,
            round(report["seconds"], 3),
            MAX_SECONDS,
            "max",
            details,
        ),
        Figure(
            "reconcile peak RSS MB",
            "hub",
            size,
            round(report["peak_rss_mb"], 1),
            MAX_RSS_MB,
            "max",
            details,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """``serve`` a sandbox, ``reconcile`` once (the child processes), or ``measure`` sizes."""
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile_scale")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("product", choices=("salesforce", "hubspot", "jira", "asana"))
    serve.add_argument(
        "--seeded", action="store_true", help="the sandbox's own seed of --size records"
    )
    serve.add_argument("--size", type=int, required=True)
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--manifest", required=True)
    serve.add_argument("--deals")
    serve.add_argument("--seed", type=int, default=SEED)
    serve.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    serve.add_argument("--lifted", action="store_true", help="no published rate limits")
    serve.add_argument("--options", help="more sandbox options, as JSON")
    serve.add_argument("--ids", action="store_true", help="list the record ids in the manifest")
    child = commands.add_parser("reconcile")
    child.add_argument("config")
    child.add_argument("out")
    child.add_argument("--profile")
    sizes = commands.add_parser("measure")
    sizes.add_argument("sizes", nargs="+", type=int)
    sizes.add_argument("--profile", help="cProfile output of the reconcile child (last size)")
    sizes.add_argument("--runs", type=int, default=1, help="reconciles per size; the fastest")
    sizes.add_argument(
        "--without-progress",
        action="store_true",
        help="no pair compares percent complete, so no task is read",
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "reconcile":
        return _reconcile(args)
    for size in args.sizes:
        report = run(
            size,
            runs=args.runs,
            profile=Path(args.profile) if args.profile else None,
            progress=not args.without_progress,
        )
        report.pop("calls_by_path")
        print(size, json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    raise SystemExit(main())
