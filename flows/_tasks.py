"""Prefect tasks shared by the flows: one task run per batch, never per record.

Prefect retries here cover a whole batch that failed after the HTTP layer's own
retries gave up (an outage, an expired credential fixed meanwhile). Re-running
a batch is safe: every handoff looks up its links and stamps before it writes.
Each task run is named for its batch: ``batch 3 · 200 deals``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import task_run

from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.handoffs.runner import BatchHandoff

__all__ = ["batch_noun", "process_batch"]

_NOUNS = {
    "opportunity": "deals",
    "feedback": "feedback items",
    "risk": "risks",
    "project": "projects",
    "task": "tasks",
}


def batch_noun(handoff: BatchHandoff) -> str:
    """What a batch of ``handoff`` holds, in the plural: ``deals``, ``project records``..."""
    entity = str(getattr(getattr(handoff, "stream", None), "entity", "") or "")
    return _NOUNS.get(entity.lower(), f"{entity} records" if entity else "records")


def _batch_name() -> str:
    parameters = task_run.parameters
    return f"batch {parameters['number']} · {len(parameters['records'])} {parameters['noun']}"


@task(
    name="process-batch",
    task_run_name=_batch_name,
    retries=2,
    retry_delay_seconds=[5, 30],
    cache_policy=NO_CACHE,
    persist_result=False,
    log_prints=False,
)
def process_batch(
    handoff: BatchHandoff, records: Sequence[RecordEnvelope], number: int = 1, noun: str = "records"
) -> Mapping[str, int]:
    """Plan and apply batch ``number`` of source records; return its counts."""
    return handoff.process(records).counts.as_dict()
