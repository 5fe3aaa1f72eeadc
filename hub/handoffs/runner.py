"""The batch loop every handoff shares: read a page, handle it, then move the cursor.

The loop is plain Python so it is tested without Prefect; a flow passes its
Prefect task as ``process_batch`` to get retries and observability per batch.
Progress goes out as log records on ``hub.progress`` (the CLI draws them as a
progress bar), so the loop knows nothing about terminals. Each batch also logs
one line on ``hub.runner`` with its counts (read, created, updated, skipped,
dead-lettered), which a flow sends to the flow run's logs, and announces dead
letters, conflicts and the run's outcome as :mod:`handoff_hub.hub.events`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.digest import RunOutcome
from handoff_hub.hub.events import announce, run_resource
from handoff_hub.hub.handoffs.engine import BatchReport, Counts, Decision
from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.store.leases import DEFAULT_LEASE_SECONDS, Lease, LeaseHeld

__all__ = [
    "BatchHandoff",
    "RunSummary",
    "TellsAtEnd",
    "batch_line",
    "record_end",
    "record_skipped",
    "run_handoff",
    "tell_run_end",
]

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
    flow_run_id: str | None = None,
) -> RunSummary:
    """Run every page of ``handoff``; the run row records the counts and outcome.

    A run holds the handoff's lease (``handoff.lease_name``, renewed before
    each page): while another run of the same handoff and system holds it,
    this one is recorded as ``skipped`` and does nothing. A dry run only
    plans: it writes nothing, not even a run row or a cursor, and takes no lease.
    ``flow_run_id``: the orchestrator's run (Prefect flow run) this run is part of.
    """
    if dry_run:
        return _run(name, handoff, store, "dry-run", process_batch, None, dry_run=True)
    lease = store.lease(handoff.lease_name, seconds=lease_seconds)
    try:
        with store.holding(lease):
            run_id = store.start_run(name, holder=lease.holder, flow_run_id=flow_run_id)
            return _run(name, handoff, store, run_id, process_batch, lease, dry_run=False)
    except LeaseHeld as exc:
        return record_skipped(name, store, exc, flow_run_id=flow_run_id)


def record_skipped(
    name: str, store: StateStore, held: LeaseHeld, *, flow_run_id: str | None = None
) -> RunSummary:
    """Record a run of ``name`` that did not start: another run holds the lease."""
    log.warning("%s: not started: %s", name, held)
    run_id = store.start_run(name, flow_run_id=flow_run_id)
    store.finish_run(run_id, status="skipped", counts={}, error=str(held))
    summary = RunSummary(name, run_id, "skipped", {}, 0.0, error=str(held))
    _announce_outcome(summary)
    return summary


def record_end(handoff: object, store: StateStore, summary: RunSummary) -> None:
    """Store a started run's outcome, announce it, and send its digests and alerts."""
    store.finish_run(
        summary.run_id, status=summary.status, counts=summary.counts, error=summary.error
    )
    _announce_outcome(summary)
    outcome = RunOutcome(
        summary.handoff, summary.run_id, summary.status, summary.counts, summary.error
    )
    tell_run_end(handoff, outcome)


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
    done = number = 0
    try:
        for page in handoff.pages():
            if lease is not None:
                lease.renew()
            if not page.records:
                if not dry_run:
                    handoff.advance(page)
                continue
            number += 1
            if dry_run or process_batch is None:
                report = handoff.process(page.records, dry_run=dry_run)
                batch = report.counts.as_dict()
                decisions.extend(report.decisions)
            else:
                batch = dict(process_batch(page.records))
            counts.update(batch)
            if not dry_run:
                handoff.advance(page)
                _batch_done(name, run_id, number, len(page.records), batch)
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
            took = time.monotonic() - started
            failed = RunSummary(name, run_id, status, counts.as_dict(), took, error=str(exc))
            record_end(handoff, store, failed)
        raise
    status = "completed_with_failures" if counts.get("failed") else "succeeded"
    summary = RunSummary(
        name, run_id, status, counts.as_dict(), time.monotonic() - started, decisions
    )
    if not dry_run:
        record_end(handoff, store, summary)
    return summary


def tell_run_end(handoff: object, outcome: RunOutcome) -> None:
    """The run's digests and alerts; a failure to tell is logged, never the run's failure."""
    if not isinstance(handoff, TellsAtEnd):
        return
    try:
        handoff.finish(outcome)
    except Exception as exc:
        log.warning("%s: digest or alert not sent: %s", outcome.handoff, exc)


_HEADLINE = (("created", "created"), ("updated", "updated"), ("skipped", "skipped"))
_QUIET = {"seen", "failed", *(key for key, _ in _HEADLINE)}


def batch_line(read: int, counts: Mapping[str, int]) -> str:
    """``read 200, created 5, updated 0, skipped 190, dead-lettered 5`` and any other count."""
    parts = [f"read {read}"]
    parts += [f"{label} {counts.get(key, 0)}" for key, label in _HEADLINE]
    parts.append(f"dead-lettered {counts.get('failed', 0)}")
    parts += [
        f"{key.replace('_', ' ')} {value}"
        for key, value in sorted(counts.items())
        if key not in _QUIET and value
    ]
    return ", ".join(parts)


def _batch_done(name: str, run_id: str, number: int, read: int, counts: Mapping[str, int]) -> None:
    """Log the batch's line; announce its dead letters and conflicts."""
    failed, conflicts = counts.get("failed", 0), counts.get("conflicts", 0)
    level = logging.WARNING if failed else logging.INFO
    log.log(level, "%s batch %d: %s", name, number, batch_line(read, counts))
    about = {"handoff": name, "run_id": run_id, "batch": number}
    if failed:
        announce(
            "dead-letters.created", run_resource(run_id), about | {"count": failed}, handoff=name
        )
    if conflicts:
        announce(
            "conflicts.found", run_resource(run_id), about | {"count": conflicts}, handoff=name
        )


def _announce_outcome(summary: RunSummary) -> None:
    """``handoff-hub.run.<status>`` (succeeded, completed_with_failures, failed, skipped...)."""
    payload = {
        "handoff": summary.handoff,
        "run_id": summary.run_id,
        "status": summary.status,
        "counts": summary.counts,
        "seconds": round(summary.seconds, 3),
        "error": redact(summary.error) if summary.error else None,
    }
    announce(
        f"run.{summary.status}", run_resource(summary.run_id), payload, handoff=summary.handoff
    )
