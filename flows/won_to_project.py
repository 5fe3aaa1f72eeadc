"""won-to-project as a Prefect flow: won deals -> delivery projects, batch by batch."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State

from handoff_hub.flows._names import handoff_run_name
from handoff_hub.flows._run import run_handoff_flow
from handoff_hub.hub.handoffs.won_to_project import HANDOFF

__all__ = ["won_to_project"]


@flow(name=HANDOFF, flow_run_name=handoff_run_name, log_prints=False, validate_parameters=True)
def won_to_project(
    config_path: str, batch_retry_delay_seconds: float = 10.0
) -> State[dict[str, Any]]:
    """Create one delivery project per won opportunity changed since the last run.

    Args:
        config_path: The hub config file.
        batch_retry_delay_seconds: Pause before Prefect retries a failed batch.

    Ends Failed when records were dead-lettered, Cancelled (named Skipped) when
    another run holds the lease (``flows/_states.py``).
    """
    return run_handoff_flow(HANDOFF, config_path, batch_retry_delay_seconds)
