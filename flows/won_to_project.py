"""won-to-project as a Prefect flow: won deals -> delivery projects, batch by batch."""

from handoff_hub.flows._run import handoff_flow
from handoff_hub.hub.handoffs.won_to_project import HANDOFF

__all__ = ["won_to_project"]

won_to_project = handoff_flow(
    HANDOFF, "Create one delivery project per won opportunity changed since the last run.", __name__
)
