"""Figure 4 (fourth part): what ``hub run`` costs when there is nothing to do, and with one change.

``hub run won-to-project -c hub.yaml --json`` runs as an admin's cron starts it:
the venv's ``hub`` console script in a child process, timed from here (wall
seconds; CPU seconds of the child, ``RUSAGE_CHILDREN``), against Salesforce
and Jira sandboxes served on localhost (threads of this process; the child
reaches them over HTTP, and their journals count its calls). The state is
prepared in this process first: the seeded won deals handed off and the ids
written back read once more, so the next run has nothing to do.

Every child shares one fresh ``PREFECT_HOME``. A cold run is the first after
install: Prefect's database not yet made, the hub's own modules compiled from
source (this repository's editable install, with ``PYTHONDONTWRITEBYTECODE``
set, compiles them on every start; the installed packages have their
bytecode). A warm run has every module's bytecode (``PYTHONPYCACHEPREFIX``, a
fresh folder filled by one unmeasured run). In order:

1. no change, cold;
2. one change (an open deal marked won, so one project is created), cold:
   the first flow run, whose embedded server creates Prefect's database;
3. the run that reads the id written back (through the flow; fills the
   bytecode folder, not measured);
4. no change, warm: ``WARM_RUNS`` runs, the median reported;
5. one change, warm (then the run that reads its id back, not measured);
6. no change through the flow (``--flow``, what every ``hub run`` did
   before), warm, for the comparison.

The store's runs show the path each run took: a flow run id for the flow,
none for a run settled without Prefect.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import open_pair
from bench.report import Figure
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF
from handoff_hub.hub.runtime import Runtime
from handoff_hub.sandboxes.kit import Sandbox

CRM, PM = "salesforce", "jira"
MAX_RECORDS = 100
"""Seeded records per product: a no-change read costs the same at any size."""
WARM_RUNS = 3
TARGET_SECONDS = 3.0
ONE_CHANGE_TARGET = 12.0
"""A no-change run through Prefect took 10.5-11.7 s warm (issue 22): one with work may too."""
COLD_ONE_CHANGE_TARGET = 30.0
"""The embedded server's first start creates its database: 17-22 s here (DESIGN.md)."""
HUB = Path(sys.executable).with_name("hub")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _child_env(folder: Path, *, warm: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # the embedded server, as on a machine without one
    env.update(PREFECT_HOME=str(folder / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    if warm:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "bytecode")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def hub_run(
    config: Path, env: dict[str, str], sandboxes: list[Sandbox], *options: str
) -> dict[str, Any]:
    """One ``hub run`` in a child process: wall and CPU seconds, calls, its JSON result."""
    for sandbox in sandboxes:
        sandbox.journal.clear()
    command = [str(HUB), "run", HANDOFF, "-c", str(config), "--json", *options]
    cpu, started = _cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"hub run exited {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    calls = sum(len(sandbox.journal.requests()) for sandbox in sandboxes)
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "calls": calls,
        "counts": result["counts"],
        "run_id": result["run_id"],
    }


def _prepare(runtime: Runtime) -> None:
    """Hand off the seeded won deals, then read the ids written back: nothing left to do."""
    for _ in range(2):
        run_handoff(HANDOFF, build_handoff(runtime, HANDOFF), runtime.store)


def _win_an_open_deal(sandbox: Sandbox) -> None:
    state: Any = sandbox.state  # type: ignore[attr-defined]
    deal = next(
        r
        for r in state.store.visible("Opportunity")
        if not r.get("IsClosed") and r.get("AccountId") and r.get("OwnerId")
    )
    state.mark_won(deal["Id"])


def _flow_runs(runtime: Runtime) -> dict[str, str | None]:
    return {run.id: run.flow_run_id for run in runtime.store.runs(HANDOFF)}


def run(size: int, warm_runs: int = WARM_RUNS) -> dict[str, Any]:
    """Every run of the module's sequence on freshly seeded sandboxes, with the machine load."""
    records = min(size, MAX_RECORDS)
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-quickrun-"))
    try:
        with open_pair(CRM, PM, records, served=True) as pair:
            runtime = pair.runtime
            config = runtime.loaded.path
            sandboxes = list(pair.sandboxes.values())
            cold_env, warm_env = (_child_env(folder, warm=warm) for warm in (False, True))
            _prepare(runtime)

            def once(env: dict[str, str], *options: str) -> dict[str, Any]:
                return hub_run(config, env, sandboxes, *options)

            cold = once(cold_env)
            _win_an_open_deal(pair.sandboxes[CRM])
            change_cold = once(cold_env)
            once(warm_env)  # the id written back
            warm = [once(warm_env) for _ in range(warm_runs)]
            _win_an_open_deal(pair.sandboxes[CRM])
            change_warm = once(warm_env)
            once(warm_env)
            through_flow = once(warm_env, "--flow")
            paths = _flow_runs(runtime)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    every = [cold, *warm, change_cold, change_warm, through_flow]
    for item in every:
        item["flow_run"] = paths.get(item.pop("run_id")) is not None
    return {
        "records": records,
        "cold": cold,
        "warm": warm,
        "change_cold": change_cold,
        "change_warm": change_warm,
        "through_flow": through_flow,
        "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }


def measure(size: int) -> list[Figure]:
    """No-change ``hub run`` seconds warm and cold (and CPU seconds), and with one change."""
    report = run(size)
    warm = sorted(report["warm"], key=lambda r: float(r["seconds"]))[len(report["warm"]) // 2]
    cpu = statistics.median(float(r["cpu_seconds"]) for r in report["warm"])
    common = {
        "records_seeded": report["records"],
        "pairing": f"{CRM}+{PM}",
        "load_average_before_after": report["load_average"],
        "cpu_count": os.cpu_count(),
    }
    flow = report["through_flow"]
    no_change = {
        **common,
        "warm_runs": report["warm"],
        "cold": report["cold"],
        "through_flow": flow,
        "warm_over_through_flow": round(float(warm["seconds"]) / float(flow["seconds"]), 3),
    }
    name = "no-change hub run seconds"
    return [
        Figure(f"{name} (warm)", "hub", size, warm["seconds"], TARGET_SECONDS, "max", no_change),
        Figure(
            f"{name} (cold)",
            "hub",
            size,
            report["cold"]["seconds"],
            TARGET_SECONDS,
            "max",
            {**common, "run": report["cold"]},
        ),
        Figure(
            "no-change hub run CPU seconds (warm)",
            "hub",
            size,
            round(cpu, 3),
            TARGET_SECONDS,
            "max",
            {**common, "warm_runs": report["warm"]},
        ),
        Figure(
            "one-change hub run seconds (cold Prefect)",
            "hub",
            size,
            report["change_cold"]["seconds"],
            COLD_ONE_CHANGE_TARGET,
            "max",
            {**common, "run": report["change_cold"]},
        ),
        Figure(
            "one-change hub run seconds (warm)",
            "hub",
            size,
            report["change_warm"]["seconds"],
            ONE_CHANGE_TARGET,
            "max",
            {**common, "run": report["change_warm"]},
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.quick_run [SIZE]``: print each figure and its details."""
    size = int((argv if argv is not None else sys.argv[1:] or ["1000"])[0])
    for figure in measure(size):
        print(figure.figure, figure.value, json.dumps(figure.details), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
