"""feedback-to-lead as a Prefect flow: flagged delivery items -> CRM leads, batch by batch."""

from handoff_hub.flows._run import handoff_flow
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF

__all__ = ["feedback_to_lead"]

feedback_to_lead = handoff_flow(
    HANDOFF,
    "Turn customer feedback, needs and upsells flagged in the PM tool into CRM leads.",
    __name__,
)
