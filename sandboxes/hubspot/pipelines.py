"""The sandbox portal's pipelines: HubSpot's default deal pipeline and a custom one.

Stage metadata is text, as the pipelines API returns it: a deal stage is
closed won when ``isClosed`` is ``"true"`` and ``probability`` ``"1.0"``. The
custom pipeline's stage ids are numbers and its won stage is not
``closedwon``, so nothing can get by with the default pipeline's ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DEAL_PIPELINES", "LEAD_PIPELINES", "PIPELINES", "PipelineDef", "StageDef"]

_STAMP = "2024-03-12T09:30:00.000Z"


@dataclass(frozen=True)
class StageDef:
    """A pipeline stage; ``probability`` and ``closed`` are its metadata."""

    id: str
    label: str
    probability: str
    closed: bool = False

    def as_api(self, order: int) -> dict[str, Any]:
        """The stage as the pipelines API returns it (metadata values are text)."""
        return {
            "label": self.label,
            "displayOrder": order,
            "metadata": {
                "isClosed": "true" if self.closed else "false",
                "probability": self.probability,
            },
            "id": self.id,
            "createdAt": _STAMP,
            "updatedAt": _STAMP,
            "archived": False,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }


@dataclass(frozen=True)
class PipelineDef:
    """A pipeline of one object type."""

    id: str
    label: str
    stages: tuple[StageDef, ...]

    def as_api(self, order: int) -> dict[str, Any]:
        """The pipeline as ``GET /crm/v3/pipelines/{type}`` returns it."""
        return {
            "label": self.label,
            "displayOrder": order,
            "id": self.id,
            "stages": [s.as_api(n) for n, s in enumerate(self.stages)],
            "createdAt": _STAMP,
            "updatedAt": _STAMP,
            "archived": False,
        }

    def stage(self, stage_id: str) -> StageDef | None:
        """The stage with this id, if it is in this pipeline."""
        return next((s for s in self.stages if s.id == stage_id), None)


DEAL_PIPELINES = (
    PipelineDef(
        "default",
        "Sales Pipeline",
        (
            StageDef("appointmentscheduled", "Appointment Scheduled", "0.2"),
            StageDef("qualifiedtobuy", "Qualified To Buy", "0.4"),
            StageDef("presentationscheduled", "Presentation Scheduled", "0.6"),
            StageDef("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
            StageDef("contractsent", "Contract Sent", "0.9"),
            StageDef("closedwon", "Closed Won", "1.0", closed=True),
            StageDef("closedlost", "Closed Lost", "0.0", closed=True),
        ),
    ),
    PipelineDef(
        "1467431",
        "Renewals",
        (
            StageDef("1982540", "Renewal due", "0.5"),
            StageDef("1982541", "Quote sent", "0.7"),
            StageDef("1982542", "Renewed", "1.0", closed=True),
            StageDef("1982543", "Churned", "0.0", closed=True),
        ),
    ),
)
LEAD_PIPELINES = (
    PipelineDef(
        "lead-pipeline-id",
        "Lead pipeline",
        (
            StageDef("new-stage-id", "New", "0.1"),
            StageDef("attempting-stage-id", "Attempting", "0.2"),
            StageDef("connected-stage-id", "Connected", "0.4"),
            StageDef("qualified-stage-id", "Qualified", "1.0", closed=True),
            StageDef("unqualified-stage-id", "Disqualified", "0.0", closed=True),
        ),
    ),
)
PIPELINES: dict[str, tuple[PipelineDef, ...]] = {"deals": DEAL_PIPELINES, "leads": LEAD_PIPELINES}
