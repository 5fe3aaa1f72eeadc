"""Sandboxes and runtimes for the benchmarks, built as the demo builds them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.kit import Faults, Sandbox
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

if TYPE_CHECKING:
    from bench.reconcile_scale import Server

PAIRS = (("salesforce", "jira"), ("hubspot", "asana"))
OBJECTS = {"salesforce": "Opportunity", "hubspot": "deals", "jira": "issue", "asana": "tasks"}
PAGE_SIZES = {"salesforce": 2000, "hubspot": 200, "jira": 100, "asana": 100}
"""Largest page per product read (SOQL batchSize, search limit, maxResults, limit)."""

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@dataclass
class Pair:
    """A runtime on the sandboxes of one CRM + PM pairing."""

    runtime: Runtime
    sandboxes: dict[str, Sandbox]
    served: list[RunningSandbox] = field(default_factory=list)

    def role(self, product: str) -> str:
        """``crm`` or ``pm``: the hub-config system name of a product."""
        return "crm" if product in {"salesforce", "hubspot"} else "pm"


@contextmanager
def open_pair(
    crm: str,
    pm: str,
    records: int,
    *,
    served: bool = False,
    latency: float = 0.0,
    requests_per_second: int | None = 1000,
    seed: int = 11,
) -> Iterator[Pair]:
    """Seed both sandboxes with ``records`` records each; in-process unless ``served``.

    ``requests_per_second=None`` keeps the connectors' own pacing of the
    vendors' published limits (slow, realistic); a number replaces it.
    """
    sandboxes = {
        name: make_sandbox(
            name,
            seed=seed,
            records=records,
            faults=Faults(latency=latency),
        )
        for name in (crm, pm)
    }
    running: list[RunningSandbox] = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        try:
            if served:
                running = [serve_in_thread(sb) for sb in sandboxes.values()]
                targets = {r.sandbox.name: (r.url, r.sandbox) for r in running}
                transports = {}
            else:
                targets = {n: (f"http://{n}.sandbox", sb) for n, sb in sandboxes.items()}
                transports = {"crm": sandboxes[crm].transport(), "pm": sandboxes[pm].transport()}
            config = write_sandbox_config(
                example_for(crm, pm),
                Path(tmp),
                targets,
                env_prefix="HUB_BENCH",
                requests_per_second=requests_per_second,
            )
            loaded = load_config(config, known_connectors=known_connectors())
            runtime = open_runtime(loaded, transports=transports)
            try:
                yield Pair(runtime, sandboxes, running)
            finally:
                runtime.close()
        finally:
            for run in running:
                run.stop()


def record_ids(product: str, sandbox: Sandbox) -> list[str]:
    """The ids of the product's records, from the sandbox's own state (no API calls)."""
    state: Any = sandbox.state  # type: ignore[attr-defined]
    if product == "hubspot":
        return list(state.ids("deals"))
    if product == "jira":
        return list(state.keys())
    return [task for project in state.projects() for task in state.tasks(project)]


@contextmanager
def served_product(
    crm: str,
    pm: str,
    product: str,
    records: int,
    *,
    requests_per_second: int | None,
    seed: int = 11,
    **serve: Any,
) -> Iterator[tuple[Runtime, Server]]:
    """``product``'s sandbox served by a process of its own, and a runtime on the pair.

    In a thread of the measuring process the sandbox would share the client's
    interpreter lock, which delays requests in flight and hides any overlap of
    client and server work; a product's servers are never in the client's
    process. The other system of the pair is an in-process sandbox the
    measurement does not use. ``serve``: ``start_sandbox``'s options.
    """
    from bench.reconcile_scale import start_sandbox, stop_sandboxes

    other = pm if product == crm else crm
    role, other_role = ("crm", "pm") if product == crm else ("pm", "crm")
    with tempfile.TemporaryDirectory(prefix="hub-bench-served-") as tmp:
        folder = Path(tmp)
        server = start_sandbox(product, records, folder, seeded=True, seed=seed, **serve)
        try:
            sandbox = make_sandbox(other, seed=seed, records=10)
            config = write_sandbox_config(
                example_for(crm, pm),
                folder,
                {product: (server.url, server.sandbox), other: ("http://other.sandbox", sandbox)},
                env_prefix="HUB_BENCH_SERVED",
                requests_per_second=requests_per_second,
            )
            loaded = load_config(config, known_connectors=known_connectors())
            runtime = open_runtime(loaded, transports={other_role: sandbox.transport()})
            try:
                assert runtime.loaded.config.systems[role].connector == product
                yield runtime, server
            finally:
                runtime.close()
        finally:
            stop_sandboxes([server])
