"""The won deal behind a delivery project, through won-to-project's links."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.mapping.engine import map_records
from handoff_hub.hub.model import Opportunity
from handoff_hub.hub.runtime import Runtime

__all__ = ["LinkedDeals", "deals_of_projects"]


@dataclass(frozen=True)
class LinkedDeals:
    """Project key or id -> the deal it was made from, and why a linked deal is not there.

    A project whose deal cannot be used is linked all the same: what depends on
    it (a risk, a feedback item) must fail with ``problems[project]``, never be
    taken for a project no deal is linked to.
    """

    deals: dict[str, Opportunity] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def deals_of_projects(rt: Runtime, crm: str, pm: str, projects: Collection[str]) -> LinkedDeals:
    """The deals the projects were made from, read now from the CRM.

    Projects no deal is linked to are left out of both maps; a linked deal the
    CRM no longer has, or one the mapping cannot read, is in ``problems``.
    """
    wanted = {p for p in projects if p}
    deal_of: dict[str, str] = {}
    for link in rt.store.links(WON_TO_PROJECT):
        if link.source_system != crm or link.target_system != pm:
            continue
        for key in (link.target_key, link.target_id):
            if key in wanted:
                deal_of[key] = link.source_id
    if not deal_of:
        return LinkedDeals()
    spec = rt.mapping(crm)
    entity = spec.entities["Opportunity"]
    raws = rt.connector(crm).read_by_ids(
        entity.object, sorted(set(deal_of.values())), fields=entity.source_fields()
    )
    opps, failures = map_records(spec, "Opportunity", raws)
    by_id = {o.refs[crm]: o for o in opps if isinstance(o, Opportunity)}
    unreadable = {record.id: f"its deal cannot be read: {error}" for record, error in failures}
    found = LinkedDeals()
    for project, deal in deal_of.items():
        if deal in by_id:
            found.deals[project] = by_id[deal]
        else:
            found.problems[project] = unreadable.get(
                deal, f"its deal {deal} is no longer in the CRM (deleted, or not shared)"
            )
    return found
