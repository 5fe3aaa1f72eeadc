"""The batch loop every handoff shares: read a page, handle it, then move the cursor.

The loop is plain Python so it is tested without Prefect; a flow passes its
Prefect task as ``process_batch`` to get retries and observability per batch.
Progress goes out as log records on ``hub.progress`` (the CLI draws them as a
progress bar), so the loop knows nothing about terminals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.digest import RunOutcome
from handoff_hub.hub.handoffs.engine import BatchReport, Counts, Decision
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.store.leases import DEFAULT_LEASE_SECONDS, Lease, LeaseHeld

__all__ = ["BatchHandoff", "RunSummary", "TellsAtEnd", "run_handoff", "tell_run_end"]

progress_log = logging.getLogger("hub.progress")
log = logging.getLogger("hub.runner")


class BatchHandoff(Protocol):
    """What the loop needs from a handoff."""

    run_id: str | None

    @property
    def lease_name(self) -> str:
        """One run at a time per lease name: the handoff and its source system."""
        ...

    def pages(self) -> Iterator[ChangePage]:
        """Pages of changed source records since the stored cursor."""
        ...

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        """Handle (or, dry, only plan) one batch."""
        ...

    def advance(self, page: ChangePage) -> None:
        """Store the read position after ``page`` once the batch's writes are recorded."""
        ...


@runtime_checkable
class TellsAtEnd(Protocol):
    """A handoff that tells people of a run at its end (digests, alerts)."""

    def finish(self, outcome: RunOutcome) -> None:
        """Send what the run's end calls for; never raises for a delivery."""
        ...


BatchFn = Callable[[Sequence[RecordEnvelope]], Mapping[str, int]]


@dataclass
class RunSummary:
    """The outcome of one run."""

    handoff: str
    run_id: str
    status: str
    counts: dict[str, int]
    seconds: float
    decisions: list[Decision] = field(default_factory=list)
    error: str | None = None


def run_handoff(
    name: str,
    handoff: BatchHandoff,
    store: StateStore,
    *,
    process_batch: BatchFn | None = None,
    dry_run: bool = False,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> RunSummary:
    """Run every page of ``handoff``; the run row records the counts and outcome.

    A run holds the handoff's lease (``handoff.lease_name``, renewed before
    each page): while another run of the same handoff and system holds it,
    this one is recorded as ``skipped`` and does nothing. A dry run only
    plans: it writes nothing, not even a run row or a cursor, and takes no lease.
    """
    if dry_run:
        return _run(name, handoff, store, "dry-run", process_batch, None, dry_run=True)
    lease = store.lease(handoff.lease_name, seconds=lease_seconds)
    try:
        with store.holding(lease):
            run_id = store.start_run(name, holder=lease.holder)
            return _run(name, handoff, store, run_id, process_batch, lease, dry_run=False)
    except LeaseHeld as exc:
        log.warning("%s: not started: %s", name, exc)
        run_id = store.start_run(name)
        store.finish_run(run_id, status="skipped", counts={}, error=str(exc))
        return RunSummary(name, run_id, "skipped", {}, 0.0, error=str(exc))


def _run(
    name: str,
    handoff: BatchHandoff,
    store: StateStore,
    run_id: str,
    process_batch: BatchFn | None,
    lease: Lease | None,
    *,
    dry_run: bool,
) -> RunSummary:
    handoff.run_id = None if dry_run else run_id
    counts, decisions = Counts(), []
    started = time.monotonic()
    done = 0
    try:
        for page in handoff.pages():
            if lease is not None:
                lease.renew()
            if not page.records:
                if not dry_run:
                    handoff.advance(page)
                continue
            if dry_run or process_batch is None:
                report = handoff.process(page.records, dry_run=dry_run)
                counts.update(report.counts)
                decisions.extend(report.decisions)
            else:
                counts.update(process_batch(page.records))
            if not dry_run:
                handoff.advance(page)
            done += len(page.records)
            progress_log.info(
                "%s: %d records",
                name,
                done,
                extra={
                    "hub_progress": {"done": done, "total": page.total, "counts": counts.as_dict()}
                },
            )
    except BaseException as exc:
        if not dry_run:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            store.finish_run(run_id, status=status, counts=counts.as_dict(), error=str(exc))
            tell_run_end(handoff, RunOutcome(name, run_id, status, counts.as_dict(), str(exc)))
        raise
    status = "completed_with_failures" if counts.get("failed") else "succeeded"
    if not dry_run:
        store.finish_run(run_id, status=status, counts=counts.as_dict())
        tell_run_end(handoff, RunOutcome(name, run_id, status, counts.as_dict()))
    return RunSummary(name, run_id, status, counts.as_dict(), time.monotonic() - started, decisions)


def tell_run_end(handoff: object, outcome: RunOutcome) -> None:
    """The run's digests and alerts; a failure to tell is logged, never the run's failure."""
    if not isinstance(handoff, TellsAtEnd):
        return
    try:
        handoff.finish(outcome)
    except Exception as exc:
        log.warning("%s: digest or alert not sent: %s", outcome.handoff, exc)
