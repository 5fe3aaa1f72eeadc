"""sync as a Prefect flow: linked deals and projects kept in step, batch by batch."""

from handoff_hub.flows._run import handoff_flow
from handoff_hub.hub.handoffs.sync import HANDOFF

__all__ = ["sync"]

sync = handoff_flow(
    HANDOFF, "Let the synced fields of linked deals and projects flow the configured way.", __name__
)
