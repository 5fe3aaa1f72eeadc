"""Prefect tasks shared by the flows: one task run per batch, never per record.

Prefect retries here cover a whole batch that failed after the HTTP layer's own
retries gave up (an outage, an expired credential fixed meanwhile). Re-running
a batch is safe: every handoff looks up its links and stamps before it writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE

from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.handoffs.runner import BatchHandoff

__all__ = ["process_batch"]


@task(
    name="process-batch",
    retries=2,
    retry_delay_seconds=[5, 30],
    cache_policy=NO_CACHE,
    persist_result=False,
    log_prints=False,
)
def process_batch(handoff: BatchHandoff, records: Sequence[RecordEnvelope]) -> Mapping[str, int]:
    """Plan and apply one batch of source records; return its counts."""
    return handoff.process(records).counts.as_dict()
