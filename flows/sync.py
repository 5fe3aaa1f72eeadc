"""sync as a Prefect flow: linked deals and projects kept in step, batch by batch."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State

from handoff_hub.flows._names import handoff_run_name
from handoff_hub.flows._run import run_handoff_flow
from handoff_hub.hub.handoffs.sync import HANDOFF

__all__ = ["sync"]


@flow(name=HANDOFF, flow_run_name=handoff_run_name, log_prints=False, validate_parameters=True)
def sync(config_path: str, batch_retry_delay_seconds: float = 10.0) -> State[dict[str, Any]]:
    """Let the synced fields of linked deals and projects flow the configured way.

    Args:
        config_path: The hub config file.
        batch_retry_delay_seconds: Pause before Prefect retries a failed batch.

    Ends Failed when records were dead-lettered, Cancelled (named Skipped) when
    another run holds the lease (``flows/_states.py``).
    """
    return run_handoff_flow(HANDOFF, config_path, batch_retry_delay_seconds)
