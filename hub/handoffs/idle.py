"""A run that finds nothing to process, recorded without starting its flow.

Most scheduled runs find no change, and starting Prefect for one costs seconds
(its import, an embedded server, flow run bookkeeping). :func:`run_if_idle`
does what a run does before its first batch, exactly as
:func:`~hub.handoffs.runner.run_handoff` does it: take the lease, store the
go-live bounds, read each stream from its checkpoint and move the checkpoint
past a page with nothing left to handle. When no page holds a record, it
records the run (succeeded, no counts) as the loop would have.

At the first page that holds a record it stops and returns None, having
written nothing but the checkpoints a run would have written before that page:
the caller then runs the flow, which reads that page again from the stored
checkpoint. The records are handled once, by the flow; the check costs the
reads up to that page (one read when the first stream has the work).
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from handoff_hub.hub.handoffs.runner import BatchHandoff, RunSummary, record_end, record_skipped
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.store.leases import DEFAULT_LEASE_SECONDS, Lease, LeaseHeld

__all__ = ["KeepsFirstBounds", "run_if_idle"]


@runtime_checkable
class KeepsFirstBounds(Protocol):
    """A handoff whose first reads start at a go-live bound a run stores before reading."""

    def keep_first_bounds(self) -> None:
        """Store each stream's go-live bound, as a run does before its first read."""
        ...


def run_if_idle(
    name: str,
    handoff: BatchHandoff,
    store: StateStore,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> RunSummary | None:
    """Record a run of ``handoff`` that has nothing to process; None when it has work.

    While another run holds the lease, this one is recorded as ``skipped``,
    as :func:`~hub.handoffs.runner.run_handoff` records it. A read that fails
    is recorded as a failed run (digests and alerts as for any run), then raised.
    """
    lease = store.lease(handoff.lease_name, seconds=lease_seconds)
    try:
        with store.holding(lease):
            return _settle(name, handoff, store, lease)
    except LeaseHeld as exc:
        return record_skipped(name, store, exc)


def _settle(name: str, handoff: BatchHandoff, store: StateStore, lease: Lease) -> RunSummary | None:
    started = time.monotonic()
    try:
        if isinstance(handoff, KeepsFirstBounds):
            handoff.keep_first_bounds()
        for page in handoff.pages():
            lease.renew()
            if page.records:
                return None
            handoff.advance(page)
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _record(name, handoff, store, lease, status, started, error=str(exc))
        raise
    return _record(name, handoff, store, lease, "succeeded", started)


def _record(
    name: str,
    handoff: BatchHandoff,
    store: StateStore,
    lease: Lease,
    status: str,
    started: float,
    *,
    error: str | None = None,
) -> RunSummary:
    run_id = store.start_run(name, holder=lease.holder)
    handoff.run_id = run_id
    summary = RunSummary(name, run_id, status, {}, time.monotonic() - started, error=error)
    record_end(handoff, store, summary)
    return summary
