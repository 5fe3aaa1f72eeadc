"""risk-to-account-manager as a Prefect flow: delivery trouble -> CRM tasks for the deal owner."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State

from handoff_hub.flows._names import handoff_run_name
from handoff_hub.flows._run import run_handoff_flow
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF

__all__ = ["risk_to_account_manager"]


@flow(name=HANDOFF, flow_run_name=handoff_run_name, log_prints=False, validate_parameters=True)
def risk_to_account_manager(
    config_path: str, batch_retry_delay_seconds: float = 10.0
) -> State[dict[str, Any]]:
    """Give the deal owner one CRM task per open delivery risk or bad project health.

    Args:
        config_path: The hub config file.
        batch_retry_delay_seconds: Pause before Prefect retries a failed batch.

    Ends Failed when records were dead-lettered, Cancelled (named Skipped) when
    another run holds the lease (``flows/_states.py``).
    """
    return run_handoff_flow(HANDOFF, config_path, batch_retry_delay_seconds)
