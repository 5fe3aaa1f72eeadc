"""The won deal behind a delivery project, through won-to-project's links."""

from __future__ import annotations

from collections.abc import Collection

from hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from hub.mapping.engine import to_unified_many
from hub.model import Opportunity
from hub.runtime import Runtime

__all__ = ["deals_of_projects"]


def deals_of_projects(
    rt: Runtime, crm: str, pm: str, projects: Collection[str]
) -> dict[str, Opportunity]:
    """Project key or id -> the deal it was made from, read now from the CRM.

    Projects no deal is linked to, and deals the CRM no longer has, are left out.
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
        return {}
    spec = rt.mapping(crm)
    entity = spec.entities["Opportunity"]
    raws = rt.connector(crm).read_by_ids(
        entity.object, sorted(set(deal_of.values())), fields=entity.source_fields()
    )
    opps, _ = to_unified_many(spec, "Opportunity", [r.raw for r in raws])
    by_id = {o.refs[crm]: o for o in opps if isinstance(o, Opportunity)}
    return {p: by_id[d] for p, d in deal_of.items() if d in by_id}
