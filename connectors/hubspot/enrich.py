"""What the connector adds to raw records: ``_stage``, ``_owner``, ``_owners`` and ``_company``.

The mapping reads a deal's outcome, owner and company with plain JMESPath
(``_stage.outcome``, ``_owner.email``, ``_company.name``), so the connector
resolves them a batch of records at a time: pipelines and owners are read
once per connector and cached; companies take one associations call per
batch and one batch read of the companies this read has not fetched yet
(kept for one read only, so a renamed company shows at the next read),
never a call per record. Won and lost come from each stage's
metadata in the pipelines API, never from stage names. An org's own "HubSpot
user" properties hold owner ids too: a read that asks for one through its
owner (``_owners.delivery_lead.email``) gets ``_owners: {delivery_lead: owner}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.hubspot import settings

if TYPE_CHECKING:
    from handoff_hub.connectors.hubspot.client import HubSpotClient

__all__ = ["Lookups", "StageInfo", "outcome"]


@dataclass(frozen=True)
class StageInfo:
    """One deal stage and the pipeline it belongs to."""

    id: str
    label: str
    pipeline: str
    pipeline_label: str
    outcome: str

    def as_raw(self) -> dict[str, str]:
        """The ``_stage`` value added to a deal."""
        return {
            "id": self.id,
            "label": self.label,
            "pipeline": self.pipeline,
            "pipeline_label": self.pipeline_label,
            "outcome": self.outcome,
        }


def outcome(metadata: Mapping[str, Any]) -> str:
    """``won`` / ``lost`` / ``open`` from a stage's ``isClosed`` and ``probability``.

    A closed stage with probability 1.0 is won, any other closed stage lost.
    """
    if str(metadata.get("isClosed", "")).lower() != "true":
        return "open"
    try:
        probability = float(str(metadata.get("probability", "")))
    except ValueError:
        return "lost"
    return "won" if probability == 1.0 else "lost"


class Lookups:
    """Cached pipelines and owners of one portal, and the per-page enrichment."""

    def __init__(self, client: HubSpotClient) -> None:
        self.client = client
        self._stages: dict[tuple[str, str], StageInfo] | None = None
        self._owners: dict[str, Mapping[str, Any]] | None = None
        self._archived: dict[str, Mapping[str, Any]] | None = None
        self.owner_properties: dict[str, set[str]] = {}
        """Object -> owner properties a read asked for through their owner (``_owners.<name>``)."""

    def stages(self) -> dict[tuple[str, str], StageInfo]:
        """(pipeline id, stage id) -> stage, from the deal pipelines (read once)."""
        if self._stages is None:
            stages: dict[tuple[str, str], StageInfo] = {}
            for pipeline in self.client.pipelines(settings.DEALS):
                for stage in pipeline.get("stages") or []:
                    info = StageInfo(
                        id=str(stage.get("id")),
                        label=str(stage.get("label", "")),
                        pipeline=str(pipeline.get("id")),
                        pipeline_label=str(pipeline.get("label", "")),
                        outcome=outcome(stage.get("metadata") or {}),
                    )
                    stages[(info.pipeline, info.id)] = info
            self._stages = stages
        return self._stages

    def stage_ids(self, wanted: str) -> list[str]:
        """Ids of every deal stage with outcome ``wanted``, across all pipelines."""
        return sorted({s.id for s in self.stages().values() if s.outcome == wanted})

    def stage(self, pipeline: str | None, stage_id: str | None) -> StageInfo | None:
        """The stage of a deal (stage ids are unique in a portal; the pipeline disambiguates)."""
        if not stage_id:
            return None
        stages = self.stages()
        if pipeline and (pipeline, stage_id) in stages:
            return stages[(pipeline, stage_id)]
        return next((s for s in stages.values() if s.id == stage_id), None)

    def owners(self) -> dict[str, Mapping[str, Any]]:
        """Active owner id -> owner (read once)."""
        if self._owners is None:
            self._owners = {str(o.get("id")): o for o in self.client.owners()}
        return self._owners

    def archived_owners(self) -> dict[str, Mapping[str, Any]]:
        """Deactivated owner id -> owner (read once, when a record names one)."""
        if self._archived is None:
            self._archived = {str(o.get("id")): o for o in self.client.owners(archived=True)}
        return self._archived

    def owner(self, owner_id: Any) -> dict[str, Any] | None:
        """The ``_owner`` value for an owner id, or None.

        A record keeps its owner when the user is deactivated; such an owner is
        only listed with ``archived=true``, read once the first time one is met.
        """
        if owner_id in (None, ""):
            return None
        found = self.owners().get(str(owner_id)) or self.archived_owners().get(str(owner_id))
        if found is None:
            return None
        names = [found.get("firstName"), found.get("lastName")]
        return {
            "id": str(found.get("id")),
            "email": found.get("email") or None,
            "firstName": found.get("firstName"),
            "lastName": found.get("lastName"),
            "name": " ".join(str(n) for n in names if n) or None,
            "archived": bool(found.get("archived")),
        }

    def enrich(
        self,
        object_name: str,
        records: Sequence[Mapping[str, Any]],
        companies: dict[str, dict[str, Any]] | None = None,
        primary: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Copies of ``records`` with ``_owner``, ``_stage`` and ``_company`` where they apply.

        ``companies`` (id -> ``_company``) holds the companies one read has
        already fetched; it is filled with those fetched now. ``primary``
        (record id -> company id) is the records' associations when the
        caller has read them (:meth:`primary_companies`); else they are read.
        """
        out = [dict(r) for r in records]
        if not out:
            return out
        if object_name in settings.ENRICHED_PROPERTIES:
            for record in out:
                properties = record.get("properties") or {}
                record["_owner"] = self.owner(properties.get(settings.OWNER_PROPERTY))
        if names := sorted(self.owner_properties.get(object_name, ())):
            for record in out:
                properties = record.get("properties") or {}
                record[settings.OWNERS_KEY] = {n: self.owner(properties.get(n)) for n in names}
        if object_name == settings.DEALS:
            for record in out:
                properties = record.get("properties") or {}
                stage = self.stage(properties.get("pipeline"), properties.get("dealstage"))
                record["_stage"] = stage.as_raw() if stage else None
        if object_name in settings.COMPANY_ENRICHED:
            known = {} if companies is None else companies
            if primary is None:
                primary = self.primary_companies(object_name, [str(r.get("id")) for r in out])
                self.fetch_companies(primary.values(), known)
            for record in out:
                company = known.get(primary.get(str(record.get("id")), ""))
                record["_company"] = dict(company) if company is not None else None
        return out

    def primary_companies(self, object_name: str, ids: Sequence[str]) -> dict[str, str]:
        """Record id -> its primary company's id (one associations call per 1000 ids)."""
        links = self.client.associations(object_name, settings.COMPANIES, ids)
        return {record: pick for record, to in links.items() if (pick := _primary(to)) is not None}

    def fetch_companies(self, ids: Iterable[str], known: dict[str, dict[str, Any]]) -> None:
        """Read the companies of ``ids`` not in ``known`` (100 per call) into it."""
        missing = [c for c in dict.fromkeys(ids) if c not in known]
        if not missing:
            return
        for company in self.client.batch_read(
            settings.COMPANIES, missing, settings.COMPANY_PROPERTIES
        ):
            properties = company.get("properties") or {}
            company_id = str(company.get("id"))
            known[company_id] = {
                "id": company_id,
                "name": properties.get("name"),
                "domain": properties.get("domain"),
                "parent": properties.get("hs_parent_company_id") or None,
            }


def _primary(targets: Sequence[Mapping[str, Any]]) -> str | None:
    """The primary company among a deal's associations, else the first one."""
    if not targets:
        return None
    for target in targets:
        for kind in target.get("associationTypes") or []:
            if kind.get("typeId") == settings.PRIMARY_COMPANY_TYPE_ID or (
                kind.get("label") == settings.PRIMARY_LABEL
            ):
                return str(target.get("toObjectId"))
    return str(targets[0].get("toObjectId"))
