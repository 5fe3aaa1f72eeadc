"""sync as a Prefect flow: linked deals and projects kept in step, batch by batch."""

from __future__ import annotations

from typing import Any

from prefect import flow

from handoff_hub.flows._run import run_handoff_flow
from handoff_hub.hub.handoffs.sync import HANDOFF

__all__ = ["sync"]


@flow(name=HANDOFF, log_prints=False, validate_parameters=True)
def sync(config_path: str, batch_retry_delay_seconds: float = 10.0) -> dict[str, Any]:
    """Let the synced fields of linked deals and projects flow the configured way.

    Args:
        config_path: The hub config file.
        batch_retry_delay_seconds: Pause before Prefect retries a failed batch.
    """
    return run_handoff_flow(HANDOFF, config_path, batch_retry_delay_seconds)
