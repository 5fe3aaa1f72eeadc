"""Reconcile: stream both systems and list every place they disagree.

One pass per stream, each page handled and let go:

0. won-to-project's links between the two systems are read from the store
   once, in order, into an on-disk index that answers every lookup below;
1. every deal (the CRM's Opportunity entity) goes into the index with
   its stamp and whether it is won, a won one with what comparing needs of
   it (its DealSide); once all are in, the index marks those won-to-project
   linked;
2. every project (read from the start, beside step 1; the pages that come
   before every deal is in wait on disk): its deal is found through the link,
   else through the stamp the hub put on it; a deal that is gone or no longer
   won is reported, and a won one (kept in the index by step 1) is compared
   field by field; percent complete, which needs the project's tasks, once
   every project is read, with one lean read of tasks per 100 compared
   projects (none when no pair compares it);
3. the index then answers what needs every record at once: won deals without
   a project, deals with more or fewer projects than their template rules
   give (one per slot: :mod:`hub.handoffs.template_choice`), links whose
   records are gone;
4. risk items and feedback items, when those handoffs are configured, are
   checked for their CRM task and lead.

Discrepancies go to a spool on disk and KPIs are summed, so memory stays flat
however big the systems are. Nothing is written anywhere.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from handoff_hub.hub.config.handoffs import (
    FeedbackToLeadConfig,
    RiskToAccountManagerConfig,
    SyncConfig,
)
from handoff_hub.hub.connector import ChangePage, Connector, PmConnector
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK_TO_LEAD
from handoff_hub.hub.handoffs.project_work import progress_of_projects
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK_TO_ACCOUNT_MANAGER
from handoff_hub.hub.handoffs.risk_to_account_manager import raises_alert
from handoff_hub.hub.handoffs.template_choice import VALUE_SLOT, TemplateChoice, slot_stamp
from handoff_hub.hub.handoffs.user_fields import KnownUsers
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.heap import frozen_heap
from handoff_hub.hub.http.concurrent import InOrder
from handoff_hub.hub.http.fanin import ReadAhead
from handoff_hub.hub.mapping.engine import map_records
from handoff_hub.hub.mapping.spec import EntityMap
from handoff_hub.hub.model import (
    Entity,
    Feedback,
    Opportunity,
    Project,
    Risk,
    Stage,
    TaskStatus,
)
from handoff_hub.hub.reconcile.drift import (
    COMPUTED,
    DealSide,
    FieldPair,
    computed_values,
    drift_pairs,
    pair_values,
    show,
)
from handoff_hub.hub.reconcile.index import DealRow, RecordIndex
from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import Discrepancy, Kind, ReconcileResult, Spool
from handoff_hub.hub.runtime import Runtime

__all__ = ["Reconciler"]

log = logging.getLogger("hub.reconcile")


@dataclass(frozen=True)
class _ProjectSeen:
    id: str
    key: str
    project: Project
    deal: str | None
    via_link: bool
    slot: str | None = None


@dataclass(frozen=True)
class _ProjectPage:
    """A page of the project tool as the projects pass needs it (it may wait on disk)."""

    size: int
    stamps: dict[str, str | None]
    projects: list[Project]
    unreadable: list[tuple[str, str]]
    """(record id, why) of each record the mapping could not read."""


UNREAD_BATCH = 2000
"""Deals one lookup by id asks for (Salesforce retrieves 2000 a call)."""
PROGRESS_BATCH = 100
"""Projects whose tasks one progress read asks for (Jira: a ``parent IN`` of 100 keys)."""

PAGES_AHEAD = 8
"""Pages a read ahead (the projects, risks, feedback) holds in memory; the rest wait in a
spill file, so the project tool's read never waits for the deals pass (its published limits
then hide the deals pass instead of adding to it)."""


class Reconciler:
    """Compares the CRM and the project tool of the hub config's won-to-project pair."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        today: dt.date | None = None,
        window_days: int = 90,
        page_size: int | None = None,
    ) -> None:
        """Set up a reconcile of the config's won-to-project pair.

        ``page_size``: records per read; None takes each connector's own, by
        default its API's largest (2000 Salesforce records a query batch, not
        200: a tenth of the calls).
        """
        self.rt = runtime
        handoffs = runtime.loaded.config.handoffs
        won = handoffs.won_to_project
        if won is None:
            raise ConfigError(
                [
                    Issue(
                        str(runtime.loaded.path),
                        None,
                        "handoffs.won_to_project",
                        "reconcile compares the pair won-to-project links; configure it",
                    )
                ]
            )
        self.crm_name, self.pm_name = won.crm, won.pm
        self.crm = runtime.connector(won.crm)
        self.pm = runtime.pm(won.pm)
        self.crm_map = runtime.mapping(won.crm)
        self.pm_map = runtime.mapping(won.pm)
        self.risk_cfg: RiskToAccountManagerConfig | None = self._same_pair(
            handoffs.risk_to_account_manager
        )
        self.feedback_cfg: FeedbackToLeadConfig | None = self._same_pair(handoffs.feedback_to_lead)
        self.sync_cfg: SyncConfig | None = self._same_pair(handoffs.sync)
        self.pairs = drift_pairs(self.crm_map, self.pm_map, self.sync_cfg)
        self.deal_where = bool(self.crm_map.entities["Opportunity"].where)
        """The deals are read through a ``where`` (a shard): a deal not read may exist."""
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.choice = TemplateChoice(won, lambda: self.today)
        self.slot_names = sorted(n for n in self.choice.slot_names() if n)
        self.value_mark = _value_mark(self.pm) if self.choice.has_per_value() else None
        self.kpis = KpiReport(self.today - dt.timedelta(days=window_days), self.today)
        self.page_size = page_size
        self.scanned: dict[str, int] = {}
        self._letters: dict[tuple[str, str], str] = {}
        self._people = KnownUsers(self.pm)
        self._budgeted: set[str] = set()
        """The window's deals whose budget the KPIs hold (once, however many projects)."""

    def _same_pair(self, settings: Any) -> Any:
        if settings is None or not settings.enabled:
            return None
        return settings if (settings.crm, settings.pm) == (self.crm_name, self.pm_name) else None

    # the whole pass --------------------------------------------------------------------

    def run(self) -> ReconcileResult:
        """Scan everything; the result's spool holds the discrepancies (close it when done)."""
        started_at, started = dt.datetime.now(dt.UTC), time.monotonic()
        spool, index = Spool(), RecordIndex()
        self._letters = {
            (d.handoff, str(d.record_id)): d.reason for d in self.rt.store.dead_letters()
        }
        try:
            with frozen_heap():
                self._scan(spool, index)
        except BaseException:
            spool.close()
            raise
        finally:
            index.close()
        return ReconcileResult(
            config=self.rt.loaded.path.name,
            crm=f"{self.crm_name} ({self.crm_map.system})",
            pm=f"{self.pm_name} ({self.pm_map.system})",
            started_at=started_at,
            seconds=time.monotonic() - started,
            spool=spool,
            scanned=dict(self.scanned),
        )

    def _scan(self, spool: Spool, index: RecordIndex) -> None:
        with ReadAhead(self._project_pages(), depth=PAGES_AHEAD) as projects:
            index.load_links(self.rt.store.link_ends(WON_TO_PROJECT, self.crm_name, self.pm_name))
            self._scan_deals(spool, index, between_pages=projects.check)
            index.deals_done()
            self._scan_projects(spool, index, projects.pages())
        index.projects_done()
        with (
            self._read_ahead("Risk", self.risk_cfg) as risks,
            self._read_ahead("Feedback", self.feedback_cfg) as feedback,
        ):
            self._scan_unread_deals(spool, index)
            with self._progress_reads(index) as progress:
                self._report_index(spool, index)  # while the first progress reads are out
                self._scan_links(spool, index)
                self._scan_progress(spool, index, progress)
            if risks is not None and self.risk_cfg is not None:
                self._scan_risks(spool, self.risk_cfg, index, risks.pages())
            if feedback is not None:
                self._scan_feedback(spool, feedback.pages())
        self._window_kpis(index)

    @contextmanager
    def _read_ahead(
        self, entity: str, settings: object | None
    ) -> Iterator[ReadAhead[ChangePage] | None]:
        """The project tool's ``entity`` read from now on, if its handoff is on (else None)."""
        if settings is None:
            yield None
            return
        with ReadAhead(
            self._pages(self.pm, self.pm_map.entities[entity]), depth=PAGES_AHEAD
        ) as read:
            yield read

    def _pages(
        self, connector: Connector, entity: EntityMap, extra: Sequence[str] = ()
    ) -> Iterator[ChangePage]:
        fields = list(dict.fromkeys([*entity.source_fields(), *extra]))
        return connector.read_changes(
            entity.object,
            since=None,
            fields=fields,
            where=entity.where or None,
            page_size=self.page_size,
        )

    def _count(self, name: str, n: int) -> None:
        self.scanned[name] = self.scanned.get(name, 0) + n

    # 1. deals ------------------------------------------------------------------------------

    def _scan_deals(
        self, spool: Spool, index: RecordIndex, *, between_pages: Callable[[], None]
    ) -> None:
        """Every deal into the index; ``between_pages`` runs after each page (and may raise)."""
        entity = self.crm_map.entities["Opportunity"]
        for page in self._pages(self.crm, entity):
            self._count("deals", len(page.records))
            unreadable: list[str] = []
            opps = self._unified(spool, "Opportunity", page, crm=True, unreadable=unreadable)
            index.add_unreadable_deals(unreadable)
            rows, slots = [], []
            for opp in opps:
                if not isinstance(opp, Opportunity):
                    continue
                deal_id = self._deal_id(opp)
                is_won = opp.stage is Stage.WON
                slots.append(self._slots(opp, deal_id, is_won))
                in_window = is_won and self._in_window(opp.close_date)
                if in_window and opp.amount is not None:
                    self.kpis.add_amount(opp.amount)
                rows.append(
                    (
                        deal_id,
                        self.pm.stamp_key(f"{self.crm_name}:{deal_id}"),
                        opp.name,
                        is_won,
                        opp.close_date,
                        in_window,
                        DealSide.of(opp, deal_id, self.pairs).to_json() if is_won else None,
                    )
                )
            index.add_deals(rows)
            index.add_slots(slots)
            between_pages()

    def _slots(
        self, opp: Opportunity, deal_id: str, won: bool
    ) -> tuple[str, list[str], dict[str, str]]:
        """The slots the rules give a won deal, and the stamp of every slot a rule names."""
        source_id = f"{self.crm_name}:{deal_id}"
        names = [*self.slot_names, *sorted(self.choice.value_slot_names(opp))]
        stamps = {n: self.pm.stamp_key(slot_stamp(source_id, n)) for n in names}
        expected = [s.name for s in self.choice.choose(opp)[0]] if won else []
        return deal_id, expected, stamps

    def _deal_id(self, opp: Opportunity) -> str:
        return opp.refs[self.crm_name]

    def _in_window(self, day: dt.date | None) -> bool:
        return day is not None and self.kpis.start <= day <= self.kpis.end

    def _unified(
        self,
        spool: Spool,
        entity_name: str,
        page: ChangePage,
        *,
        crm: bool,
        unreadable: list[str] | None = None,
    ) -> list[Entity]:
        """The page's records as entities; each one the mapping cannot read is reported.

        ``unreadable`` collects those records' ids, for passes that must still
        know the record exists (a deal that cannot be read is not gone).
        """
        items, failures = self._mapped(entity_name, page, crm=crm)
        self._report_unreadable(spool, entity_name, failures, crm=crm, ids=unreadable)
        return items

    def _mapped(
        self, entity_name: str, page: ChangePage, *, crm: bool
    ) -> tuple[list[Entity], list[tuple[str, str]]]:
        """The page's entities, and (record id, why) of each record the mapping could not read."""
        spec = self.crm_map if crm else self.pm_map
        items, failures = map_records(spec, entity_name, page.records)
        return items, [(record.id, str(error)) for record, error in failures]

    def _report_unreadable(
        self,
        spool: Spool,
        entity_name: str,
        failures: Iterable[tuple[str, str]],
        *,
        crm: bool,
        ids: list[str] | None = None,
    ) -> None:
        system = (self.crm_map if crm else self.pm_map).system
        for record_id, why in failures:
            if ids is not None:
                ids.append(record_id)
            spool.add(
                Discrepancy(
                    Kind.UNREADABLE,
                    f"{entity_name} {record_id}",
                    crm_ref=record_id if crm else None,
                    pm_ref=None if crm else record_id,
                    fix=f"correct the record in {system}, or the {system} mapping",
                    detail=why,
                )
            )

    # 2. projects ---------------------------------------------------------------------------

    def _project_pages(self) -> Iterator[_ProjectPage]:
        """The project tool's projects, mapped, a page at a time.

        Runs on the prefetching thread, so it touches neither the spool nor
        the index: what it could not read travels with the page. Tasks are
        read later, and only those of the projects compared with a won deal
        (:meth:`_scan_progress`).
        """
        entity = self.pm_map.entities["Project"]
        for page in self._pages(self.pm, entity, self.pm.project_stamp_fields):
            items, unreadable = self._mapped("Project", page, crm=False)
            projects = [p for p in items if isinstance(p, Project)]
            yield _ProjectPage(
                size=len(page.records),
                stamps={r.id: self.pm.project_stamp(r.raw) for r in page.records},
                projects=projects,
                unreadable=unreadable,
            )

    def _scan_projects(
        self, spool: Spool, index: RecordIndex, pages: Iterable[_ProjectPage]
    ) -> None:
        for page in pages:
            self._count("projects", page.size)
            unreadable: list[str] = []
            self._report_unreadable(spool, "Project", page.unreadable, crm=False, ids=unreadable)
            stamps, projects = page.stamps, page.projects
            seen = self._project_deals(projects, stamps, index)
            index.add_projects(
                [
                    *(
                        (
                            s.id,
                            s.key,
                            s.project.name,
                            stamps.get(s.key) or stamps.get(s.id),
                            s.deal,
                            s.slot,
                        )
                        for s in seen
                    ),
                    *((rid, rid, rid, None, None, None) for rid in unreadable),  # not readable
                ]
            )
            deals = index.deals([s.deal for s in seen if s.deal])
            won: list[_ProjectSeen] = []
            unread: list[tuple[str, str, str, bool]] = []
            for item in seen:
                if item.deal is None:
                    continue
                deal = deals.get(item.deal)
                if deal is None:
                    unread.append((item.deal, item.key, item.project.name, item.via_link))
                elif not deal.readable:
                    continue  # reported as unreadable by the deals pass
                elif not deal.won:
                    spool.add(
                        Discrepancy(
                            Kind.PROJECT_DEAL_NOT_WON,
                            item.project.name,
                            crm_ref=item.deal,
                            pm_ref=item.key,
                            detail=f"deal {deal.name!r} is no longer won",
                            fix="put the deal back to won if delivery goes on, else stop "
                            "and archive the project",
                        )
                    )
                elif item.via_link or not deal.linked:
                    won.append(item)  # a second, unlinked project is reported as a duplicate
            self._deals_not_read(spool, index, unread)
            self._compare(spool, won, deals, index)

    def _deals_not_read(
        self, spool: Spool, index: RecordIndex, unread: list[tuple[str, str, str, bool]]
    ) -> None:
        """Projects whose deal the deals pass did not read: gone, or (sharded) another shard's.

        Without a ``where`` on the deal the CRM was read whole, so the deal is
        gone. With one (a shard), the deal may only be outside it: those are
        looked up by id once every project is read (:meth:`_scan_unread_deals`).
        """
        if self.deal_where:
            index.add_unread_deals(unread)
            return
        for deal_id, key, name, via_link in unread:
            spool.add(_deal_gone(deal_id, key, name, via_link))

    def _scan_unread_deals(self, spool: Spool, index: RecordIndex) -> None:
        """A shard's projects whose deal it did not read: reported only if the deal is gone.

        A deal that exists outside the shard's ``where`` is another shard's (or
        moved there): its project is out of this reconcile's scope, counted as
        ``out_of_scope``, and the shard that reads the deal compares it.
        """
        for chunk in index.unread_deals(UNREAD_BATCH):
            existing = self._existing_deals([deal for deal, _, _, _ in chunk])
            for deal_id, key, name, via_link in chunk:
                if deal_id in existing:
                    self._count("out_of_scope", 1)
                else:
                    spool.add(_deal_gone(deal_id, key, name, via_link))

    def _existing_deals(self, ids: Sequence[str]) -> set[str]:
        """Which of these deals exist in the CRM, whatever the deals' ``where``."""
        entity = self.crm_map.entities["Opportunity"]
        fields = [entity.id_path, *entity.where]
        return self._existing(entity.object, ids, fields=fields)

    def _project_deals(
        self, projects: list[Project], stamps: Mapping[str, str | None], index: RecordIndex
    ) -> list[_ProjectSeen]:
        """Each project with the deal it belongs to: through its link, else its stamp."""
        links = index.links_to(p.refs[self.pm_name] for p in projects)
        by_stamp = index.slots_by_stamp(
            (
                stamp
                for p in projects
                if (stamp := stamps.get(p.refs[self.pm_name])) and p.refs[self.pm_name] not in links
            ),
            value_mark=self.value_mark,
        )
        seen = []
        linked_ids: list[str] = []
        for project in projects:
            key = project.refs[self.pm_name]
            linked = links.get(key, [])
            linked_ids.extend(deal for deal, _, _ in linked)
            stamp = stamps.get(key)
            if linked:
                deal_id, target_id, slot = linked[0]
                seen.append(_ProjectSeen(target_id, key, project, deal_id, True, slot))
            else:
                found = by_stamp.get(stamp.casefold()) if stamp else None
                deal, held = found if found else (None, None)
                seen.append(_ProjectSeen(key, key, project, deal, False, held))
        index.add_links_seen(linked_ids)
        return seen

    def _compare(
        self,
        spool: Spool,
        items: list[_ProjectSeen],
        rows: Mapping[str, DealRow],
        index: RecordIndex,
    ) -> None:
        """Field drift between each won deal and its project; KPIs of the window's projects.

        The deals are those step 1 read and kept in the index (same fields, same
        pass), not read from the CRM a second time. Pairs computed from the
        project's tasks (percent complete) are compared later, by
        :meth:`_scan_progress`: the projects are noted in the index.
        """
        if not items:
            return
        deals = {
            row.id: DealSide.from_json(row.record)
            for i in items
            if i.deal and (row := rows.get(i.deal)) is not None and row.record is not None
        }
        people = self.people(d.owner_email for d in deals.values())
        direct = [p for p in self.pairs if p.pm not in COMPUTED]
        later: list[tuple[str, str, str]] = []
        for item in items:
            deal = deals.get(item.deal or "")
            if deal is None:
                continue
            if self._in_window(deal.close_date):
                self._project_kpis(deal, item.project)
            if len(direct) < len(self.pairs):
                later.append((item.project.refs[self.pm_name], item.key, deal.id))
            for pair in direct:
                values = pair_values(
                    pair, deal, item.project, pm_system=self.pm_name, people=people, percent=None
                )
                if values is None or values[0] == values[1]:
                    continue
                spool.add(self._drift(pair, deal, item.key, values, item.project))
        index.add_progress(later)

    @contextmanager
    def _progress_reads(
        self, index: RecordIndex
    ) -> Iterator[Iterable[tuple[Sequence[tuple[str, str, str]], dict[str, int | None]]]]:
        """Percent complete of every project :meth:`_compare` noted, read from now on.

        Once every project page is read, so that the project tool's listing is
        not held open while its tasks are read (a search's page token may
        expire). One lean read of tasks per :data:`PROGRESS_BATCH` projects, up to
        the project tool's ``concurrency`` of them at a time, going out while
        this thread does the index's own checks and compares the answers
        already in. Nothing is read when no pair compares percent complete.
        """
        if not any(p.pm in COMPUTED for p in self.pairs):
            yield ()
            return
        workers = self.rt.loaded.config.systems[self.pm_name].concurrency
        with InOrder(self._percents_of, index.progress(PROGRESS_BATCH), workers=workers) as reads:
            yield reads

    def _scan_progress(
        self,
        spool: Spool,
        index: RecordIndex,
        progress: Iterable[tuple[Sequence[tuple[str, str, str]], dict[str, int | None]]],
    ) -> None:
        """The computed pairs (percent complete) of each project, as its progress comes in."""
        computed = [p for p in self.pairs if p.pm in COMPUTED]
        for chunk, percents in progress:
            self._compare_progress(spool, index, computed, chunk, percents)

    def _compare_progress(
        self,
        spool: Spool,
        index: RecordIndex,
        computed: Sequence[FieldPair],
        chunk: Sequence[tuple[str, str, str]],
        percents: Mapping[str, int | None],
    ) -> None:
        rows = index.deals(deal for _, _, deal in chunk)
        for project, key, deal_id in chunk:
            row = rows.get(deal_id)
            if row is None or row.record is None:
                continue
            deal = DealSide.from_json(row.record)
            for pair in computed:
                values = computed_values(pair, deal, percents.get(project))
                if values[0] != values[1]:
                    spool.add(self._drift(pair, deal, key, values))

    def _drift(
        self,
        pair: FieldPair,
        deal: DealSide,
        pm_ref: str,
        values: tuple[Any, Any],
        project: Project | None = None,
    ) -> Discrepancy:
        crm_value, pm_value = values
        if pair.crm == "owner":
            crm_value = deal.owner_email or crm_value
            manager = project.manager if project else None
            pm_value = (manager.email or manager.name or pm_value) if manager else None
        if pair.direction == "crm_to_pm":
            fix = f"write the deal's {pair.crm} onto the project's {pair.pm}"
        elif pair.direction == "pm_to_crm":
            fix = f"write the project's {pair.pm} onto the deal's {pair.crm}"
        else:
            conflict = self.sync_cfg.conflict if self.sync_cfg else "report"
            fix = f"run sync for this pair (two-way; conflicts: {conflict})"
        return Discrepancy(
            Kind.FIELD_DRIFT,
            deal.name,
            crm_ref=deal.id,
            pm_ref=pm_ref,
            field=pair.label,
            crm_value=show(crm_value),
            pm_value=show(pm_value),
            fix=fix,
            fixable=True,
            detail=f"{pair.by}: {pair.crm} -> {pair.pm} ({pair.direction})",
        )

    def people(self, owner_emails: Iterable[str | None]) -> dict[str, str]:
        """Deal owners' e-mail addresses (lower case) -> their user ids in the project tool.

        Each address is asked once per reconcile (a few hundred sales reps own
        100k deals; asking again on every page cost one user search per owner).
        """
        if not any(p.crm == "owner" for p in self.pairs):
            return {}
        return self._people.ids(owner_emails)

    def _percents_of(self, chunk: Sequence[tuple[str, str, str]]) -> dict[str, int | None]:
        return self._percents([project for project, _, _ in chunk])

    def _percents(self, projects: list[str]) -> dict[str, int | None]:
        """Percent complete of these projects: one lean read of their tasks.

        (:func:`~handoff_hub.hub.handoffs.project_work.progress_of_projects`).
        """
        if not projects:
            return {}
        return progress_of_projects(
            self.pm, self.pm_map, projects, where="handoffs.sync.fields (percent_complete)"
        )

    def _project_kpis(self, deal: DealSide, project: Project) -> None:
        kpis = self.kpis
        kpis.projects += 1
        kpis.project_deals += deal.id not in self._budgeted
        if project.status is TaskStatus.DONE:
            kpis.projects_done += 1
            kpis.projects_on_time += 1
        elif project.due is not None and project.due < self.today:
            kpis.projects_late += 1
        else:
            kpis.projects_on_time += 1
        if project.budget is not None and deal.id not in self._budgeted:
            kpis.add_budget(project.budget, deal.amount)
        self._budgeted.add(deal.id)

    # 3. what needs the whole index --------------------------------------------------------

    def _report_index(self, spool: Spool, index: RecordIndex) -> None:
        for deal_id, name in index.won_without_project():
            spool.add(
                self._unless_dead_lettered(
                    Discrepancy(
                        Kind.WON_WITHOUT_PROJECT,
                        name,
                        crm_ref=deal_id,
                        fix="create the project from the template (--fix runs won-to-project "
                        "for this deal)",
                        fixable=True,
                    ),
                    WON_TO_PROJECT,
                    deal_id,
                )
            )
        for deal_id, name, projects in index.extra_projects():
            spool.add(_more_projects(deal_id, name, projects))
        for deal_id, name, slots in index.missing_slots():
            spool.add(
                self._unless_dead_lettered(
                    Discrepancy(
                        Kind.FEWER_PROJECTS,
                        name,
                        crm_ref=deal_id,
                        detail="no project for " + ", ".join(_slot_name(s) for s in slots),
                        fix="create the missing project from its template (--fix runs "
                        "won-to-project for this deal)",
                        fixable=True,
                    ),
                    WON_TO_PROJECT,
                    deal_id,
                )
            )

    def _unless_dead_lettered(self, item: Discrepancy, handoff: str, record_id: str) -> Discrepancy:
        """A record the handoff dead-lettered needs its cause corrected, not another try."""
        reason = self._letters.get((handoff, record_id))
        if reason is None:
            return item
        return replace(
            item,
            fixable=False,
            detail=f"dead letter: {reason}",
            fix=f"correct what the dead letter says, then replay it ({handoff})",
        )

    def _scan_links(self, spool: Spool, index: RecordIndex) -> None:
        """Links whose project is gone (a won deal's gone project was not seen in step 2).

        A shard leaves out the links of deals that exist outside its ``where``:
        the shard that reads the deal reports them.
        """
        unseen = index.unseen_links()
        while chunk := list(itertools.islice(unseen, 500)):
            deals = index.deals(deal for deal, _, _ in chunk)
            unread = [deal for deal, _, _ in chunk if deal not in deals]
            elsewhere = self._existing_deals(unread) if self.deal_where else set()
            for deal_id, target_id, target_key in chunk:
                if deal_id in elsewhere:
                    self._count("out_of_scope", 1)
                    continue
                deal = deals.get(deal_id)
                spool.add(
                    self._gone_project(
                        deal_id,
                        target_key or target_id,
                        deal.name if deal else deal_id,
                        deal is not None and deal.won,
                    )
                )

    def _gone_project(self, deal_id: str, project: str, name: str, won: bool) -> Discrepancy:
        fix = (
            "forget the link and create the project again (--fix)"
            if won
            else "forget the link (--fix); the deal is gone or not won, so no project is made"
        )
        return Discrepancy(
            Kind.LINK_TO_DELETED,
            name,
            crm_ref=deal_id,
            pm_ref=project,
            detail=f"the project this link points at is gone from {self.pm_map.system}",
            fix=fix,
            fixable=True,
        )

    # 4. risks and feedback -----------------------------------------------------------------

    def _scan_risks(
        self,
        spool: Spool,
        config: RiskToAccountManagerConfig,
        index: RecordIndex,
        pages: Iterable[ChangePage],
    ) -> None:
        note_object = self.crm_map.entities["Note"].object
        for page in pages:
            self._count("risks", len(page.records))
            risks = [
                r
                for r in self._unified(spool, "Risk", page, crm=False)
                if isinstance(r, Risk) and raises_alert(r, config) and r.project
            ]
            linked = index.links_to(r.project for r in risks if r.project)  # any slot
            risks = [r for r in risks if linked.get(r.project or "")]
            tasks = self.rt.store.links_for(
                RISK_TO_ACCOUNT_MANAGER,
                self.pm_name,
                [f"risk:{r.refs[self.pm_name]}" for r in risks],
                target_system=self.crm_name,
            )
            open_links = [lk for lk in tasks.values() if lk.state == "open"]
            found = self._existing(note_object, [lk.target_id for lk in open_links])
            for risk in risks:
                link = tasks.get(f"risk:{risk.refs[self.pm_name]}")
                if link is not None and link.state == "open" and link.target_id in found:
                    continue
                if link is None or link.state != "open":
                    detail = "no task was created" if link is None else "its task was closed"
                else:
                    detail = f"task {link.target_id} was deleted from {self.crm_map.system}"
                risk_id = risk.refs[self.pm_name]
                spool.add(
                    self._unless_dead_lettered(
                        Discrepancy(
                            Kind.RISK_WITHOUT_TASK,
                            risk.title,
                            crm_ref=link.target_id if link else None,
                            pm_ref=risk_id,
                            detail=f"{risk.severity.value} risk in {risk.project}: {detail}",
                            fix="create the account manager's task (--fix runs "
                            "risk-to-account-manager for this risk)",
                            fixable=True,
                        ),
                        RISK_TO_ACCOUNT_MANAGER,
                        f"risk:{risk_id}",
                    )
                )

    def _scan_feedback(self, spool: Spool, pages: Iterable[ChangePage]) -> None:
        lead_object = self.crm_map.entities["Lead"].object
        for page in pages:
            self._count("feedback", len(page.records))
            items = [
                f
                for f in self._unified(spool, "Feedback", page, crm=False)
                if isinstance(f, Feedback)
            ]
            ids = [f.refs[self.pm_name] for f in items]
            leads = self.rt.store.links_for(
                FEEDBACK_TO_LEAD, self.pm_name, ids, target_system=self.crm_name
            )
            found = self._existing(lead_object, [lk.target_id for lk in leads.values()])
            for item in items:
                item_id = item.refs[self.pm_name]
                link = leads.get(item_id)
                if link is not None and link.state == "complete" and link.target_id in found:
                    continue
                if link is None:
                    detail = "no lead was created"
                elif link.target_id not in found:
                    detail = f"lead {link.target_id} was deleted from {self.crm_map.system}"
                else:
                    detail = "the lead exists; the comment on the item is missing"
                spool.add(
                    self._unless_dead_lettered(
                        Discrepancy(
                            Kind.FEEDBACK_WITHOUT_LEAD,
                            item.text[:120],
                            crm_ref=link.target_id if link else None,
                            pm_ref=item_id,
                            detail=f"{item.feedback_kind.value}: {detail}",
                            fix="create the lead (--fix runs feedback-to-lead for this item)",
                            fixable=True,
                        ),
                        FEEDBACK_TO_LEAD,
                        item_id,
                    )
                )

    def _existing(
        self, object_name: str, ids: Sequence[str], *, fields: Sequence[str] = ()
    ) -> set[str]:
        if not ids:
            return set()
        return {r.id for r in self.crm.read_by_ids(object_name, sorted(set(ids)), fields=fields)}

    # KPIs ----------------------------------------------------------------------------------

    def _window_kpis(self, index: RecordIndex) -> None:
        self.kpis.won_deals, self.kpis.won_with_project = index.window_counts()
        self.kpis.won_with_all_projects = index.window_complete()
        self.kpis.days_to_project = index.days_to_project()
        start = dt.datetime.combine(self.kpis.start, dt.time(), dt.UTC)
        end = dt.datetime.combine(self.kpis.end + dt.timedelta(days=1), dt.time(), dt.UTC)
        self.kpis.feedback_leads = sum(
            1
            for links in self.rt.store.iter_links(FEEDBACK_TO_LEAD)
            for lk in links
            if lk.created_at is not None and start <= lk.created_at < end
        )


def _value_mark(pm: PmConnector) -> str | None:
    """What the project tool's stamp of a per-value slot adds to its deal's (``-value-``)."""
    deal = pm.stamp_key("crm:0")
    valued = pm.stamp_key(slot_stamp("crm:0", VALUE_SLOT))
    return (valued[len(deal) :] or None) if valued.startswith(deal) else None


def _deal_gone(deal_id: str, key: str, name: str, via_link: bool) -> Discrepancy:
    return Discrepancy(
        Kind.PROJECT_DEAL_GONE,
        name,
        crm_ref=deal_id,
        pm_ref=key,
        detail="linked by the hub" if via_link else "stamped by the hub",
        fix="close or archive the project, or link it to the deal that replaced this one; "
        "the hub will not touch it",
    )


def _slot_name(slot: str) -> str:
    if slot.startswith(VALUE_SLOT):
        return f"the per-value slot {slot!r}"
    return f"template {slot!r}" if slot else "its one project"


def _more_projects(deal_id: str, name: str, projects: list[tuple[str, str, bool]]) -> Discrepancy:
    """A deal with two projects in one slot, or one in a slot its rules do not give."""
    by_slot: dict[str, list[str]] = {}
    for key, slot, _ in projects:
        by_slot.setdefault(slot, []).append(key)
    unexpected = sorted({slot for _, slot, odd in projects if odd})
    parts = [f"{len(keys)} for {_slot_name(s)}" for s, keys in by_slot.items() if len(keys) > 1]
    parts += [f"{_slot_name(s)}, which the rules do not give" for s in unexpected]
    return Discrepancy(
        Kind.MORE_PROJECTS,
        name,
        crm_ref=deal_id,
        pm_ref=", ".join(sorted(key for key, _, _ in projects)),
        detail=f"{len(projects)} projects: " + "; ".join(parts),
        fix="keep one project per template the rules give, move the work over and archive "
        "the others; the hub keeps the linked ones",
    )
