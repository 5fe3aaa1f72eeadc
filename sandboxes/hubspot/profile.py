"""What differs from one real org to another, for the sandbox to play (sandboxes.kit.profile)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from handoff_hub.sandboxes.kit.profile import OrgProfile

__all__ = ["HubSpotPortalProfile"]


class HubSpotPortalProfile(OrgProfile):
    """The switches of the hubspot sandbox's org; the defaults are the demo's org."""

    product: ClassVar[str] = "hubspot"

    shuffled_batches: bool = Field(
        default=False,
        description="Batch results come in an order of HubSpot's own, unrelated to the inputs' "
        "(real portals: any order; the default answers a create in reverse, the rest in order)",
    )
    no_trace_ids: bool = Field(
        default=False,
        description="Batch results carry no objectWriteTraceId although the inputs sent one, as "
        "real answers often do (errors still name the trace ids they concern)",
    )
    partial_batches: bool = Field(
        default=False,
        description="A batch create, update or upsert with invalid inputs writes the valid ones "
        "and answers 207 with one error per refused input (HubSpot's multi-status error "
        "handling); off, one invalid input refuses the whole batch with 400",
    )
    blank_as_empty_string: bool = Field(
        default=False,
        description='A cleared property is sent back as "" instead of null (real portals do so '
        "for values cleared in the app or by an import)",
    )
    archived_owners: bool = Field(
        default=False,
        description="Some owners are deactivated users: absent from GET /crm/v3/owners, listed "
        "with ?archived=true, and they still own deals and companies",
    )
    shared_modified_times: bool = Field(
        default=False,
        description="The seeded records of each object share one hs_lastmodifieddate, as a bulk "
        "import leaves them (more than the search window when the portal has that many)",
    )
    leads_require_contact: bool = Field(
        default=True,
        description="A lead created without an association to a contact is refused, as every "
        "HubSpot portal does; off only for scripts that want a laxer sandbox",
    )
