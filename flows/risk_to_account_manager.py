"""risk-to-account-manager as a Prefect flow: delivery trouble -> CRM tasks for the deal owner."""

from handoff_hub.flows._run import handoff_flow
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF

__all__ = ["risk_to_account_manager"]

risk_to_account_manager = handoff_flow(
    HANDOFF,
    "Give the deal owner one CRM task per open delivery risk or bad project health.",
    __name__,
)
