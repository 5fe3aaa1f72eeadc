"""Reconcile on every pairing: each discrepancy kind seeded on purpose, --fix idempotent."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.cli.demo import CRMS, PMS
from handoff_hub.hub.connector import NewProject, ProjectTemplate
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK
from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK
from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.sync import HANDOFF as SYNC
from handoff_hub.hub.handoffs.sync import Sync
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.http.spill import SpillQueue
from handoff_hub.hub.mapping.engine import from_unified, to_unified
from handoff_hub.hub.model import Project
from handoff_hub.hub.reconcile import scan
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Discrepancy, Kind
from handoff_hub.hub.reconcile.scan import Reconciler
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link
from handoff_hub.sandboxes.kit import Sandbox

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _crm(rt: Runtime) -> Sandbox:
    return rt.sandboxes["crm"]  # type: ignore[attr-defined,no-any-return]


def _pm(rt: Runtime) -> Sandbox:
    return rt.sandboxes["pm"]  # type: ignore[attr-defined,no-any-return]


def _settings(rt: Runtime, name: str) -> Any:
    settings = getattr(rt.loaded.config.handoffs, name)
    assert settings is not None
    return settings


def _run_all(rt: Runtime) -> None:
    run_handoff(WON, WonToProject(rt, _settings(rt, "won_to_project")), rt.store)
    run_handoff(RISK, RiskToAccountManager(rt, _settings(rt, "risk_to_account_manager")), rt.store)
    run_handoff(FEEDBACK, FeedbackToLead(rt, _settings(rt, "feedback_to_lead")), rt.store)
    run_handoff(SYNC, Sync(rt, _settings(rt, "sync")), rt.store)


def _found(rt: Runtime, *, fix: bool = False) -> list[Discrepancy]:
    result, _ = reconcile(rt, fix=fix)
    try:
        return list(result.discrepancies())
    finally:
        result.spool.close()


def _of(found: list[Discrepancy], kind: Kind) -> list[Discrepancy]:
    return [d for d in found if d.kind is kind]


def _links(rt: Runtime) -> list[Link]:
    return rt.store.links(WON)


def _writes(rt: Runtime) -> list[Any]:
    return [call for sandbox in (_crm(rt), _pm(rt)) for call in sandbox.journal.writes()]


# seeding what a person might do in either product ---------------------------------------


def _delete_deal(rt: Runtime, deal: str) -> None:
    state = _crm(rt).state  # type: ignore[attr-defined]
    if _crm(rt).name == "salesforce":
        state.delete("Opportunity", deal)
    else:
        state.archive("deals", deal)


def _lose_deal(rt: Runtime, deal: str) -> None:
    state = _crm(rt).state  # type: ignore[attr-defined]
    if _crm(rt).name == "salesforce":
        state.modify_opportunity(deal, StageName="Closed Lost")
    else:
        state.modify_record("deals", deal, dealstage="closedlost")


def _rename_account(rt: Runtime, deal: str, name: str) -> None:
    state = _crm(rt).state  # type: ignore[attr-defined]
    if _crm(rt).name == "salesforce":
        account = state.get("Opportunity", deal)["AccountId"]
        state.modify_record("Account", account, Name=name)
    else:
        company = state.associations("deals", deal, "companies")[0]
        state.modify_record("companies", company, name=name)


def _delete_project(rt: Runtime, link: Link) -> None:
    state = _pm(rt).state  # type: ignore[attr-defined]
    if _pm(rt).name == "jira":
        state.delete(link.target_key)
    else:
        state.delete_project(link.target_id)


def _set_budget(rt: Runtime, link: Link, amount: float) -> None:
    state = _pm(rt).state  # type: ignore[attr-defined]
    if _pm(rt).name == "jira":
        state.modify(link.target_key, customfield_10050=amount)
    else:
        state.modify_project(link.target_id, fields={"Budget": amount})


def _set_budget_currency(rt: Runtime, link: Link, currency: str | None) -> None:
    state = _pm(rt).state  # type: ignore[attr-defined]
    if _pm(rt).name == "jira":
        state.modify(link.target_key, customfield_10053=currency)
    else:
        state.modify_project(link.target_id, fields={"Budget currency": currency})


def _set_deal_currency(rt: Runtime, deal: str, currency: str) -> None:
    state = _crm(rt).state  # type: ignore[attr-defined]
    if _crm(rt).name == "salesforce":
        state.modify_opportunity(deal, CurrencyIsoCode=currency)
    else:
        state.modify_record("deals", deal, deal_currency_code=currency)


def _won_deals_in(rt: Runtime, currency: str) -> None:
    """Every won deal in ``currency`` (before won-to-project reads them)."""
    before = _of(_found(rt), Kind.WON_WITHOUT_PROJECT)
    for row in before:
        assert row.crm_ref is not None
        _set_deal_currency(rt, row.crm_ref, currency)


def _duplicate_project(rt: Runtime, deal: str) -> None:
    fields = from_unified(rt.mapping("pm"), "Project", Project(name="Copy of the delivery"))
    rt.pm("pm").create_project(
        NewProject(f"crm:{deal}", "Copy of the delivery", fields, ProjectTemplate("copy"))
    )


def _delete_crm_record(rt: Runtime, entity: str, record_id: str) -> None:
    state = _crm(rt).state  # type: ignore[attr-defined]
    object_name = rt.mapping("crm").entities[entity].object
    if _crm(rt).name == "salesforce":
        state.delete(object_name, record_id)
    else:
        state.archive(object_name, record_id)


# the tests ------------------------------------------------------------------------------


def test_won_deals_without_projects_then_clean_after_the_handoffs(rt: Runtime) -> None:
    before = _of(_found(rt), Kind.WON_WITHOUT_PROJECT)
    assert len(before) >= 2 and all(d.fixable and d.crm_ref for d in before)
    _run_all(rt)
    after = _found(rt)
    assert _of(after, Kind.WON_WITHOUT_PROJECT) == []
    assert _of(after, Kind.FIELD_DRIFT) == []
    assert _of(after, Kind.RISK_WITHOUT_TASK) == []


def test_every_seeded_discrepancy_is_found_with_both_values(rt: Runtime) -> None:
    _run_all(rt)
    links = _links(rt)
    assert len(links) >= 5, "the seed must give five linked deals"
    gone, lost, renamed, drifted, deleted = links[:5]
    _delete_deal(rt, gone.source_id)
    _lose_deal(rt, lost.source_id)
    _rename_account(rt, renamed.source_id, "Renamed & Co <b>")
    _set_budget(rt, drifted, 1.0)
    _delete_project(rt, deleted)
    _duplicate_project(rt, drifted.source_id)
    risk = _pm(rt).state.add_risk(  # type: ignore[attr-defined]
        links[5].target_key if len(links) > 5 else drifted.target_key, "Vendor API unstable"
    )
    feedback = _pm(rt).state.add_feedback(  # type: ignore[attr-defined]
        drifted.target_key, "Customer wants a second site", "upsell"
    )

    found = _found(rt)

    [gone_row] = _of(found, Kind.PROJECT_DEAL_GONE)
    assert gone_row.crm_ref == gone.source_id and gone_row.pm_ref == gone.target_key
    assert not gone_row.fixable
    [lost_row] = _of(found, Kind.PROJECT_DEAL_NOT_WON)
    assert lost_row.crm_ref == lost.source_id and "no longer won" in str(lost_row.detail)
    [link_row] = _of(found, Kind.LINK_TO_DELETED)
    assert link_row.pm_ref == deleted.target_key and link_row.fixable
    [shared] = _of(found, Kind.MORE_PROJECTS)
    assert shared.crm_ref == drifted.source_id and drifted.target_key in str(shared.pm_ref)
    drift = {(d.crm_ref, d.field): d for d in _of(found, Kind.FIELD_DRIFT)}
    budget = drift[(drifted.source_id, "amount / budget")]
    assert str(budget.pm_value).endswith(" 1.00") and budget.crm_value != budget.pm_value
    account = drift[(renamed.source_id, "account.name")]
    assert account.crm_value == "Renamed & Co <b>" and account.pm_value != account.crm_value
    assert [d.pm_ref for d in _of(found, Kind.RISK_WITHOUT_TASK)] == [risk]
    assert feedback in {d.pm_ref for d in _of(found, Kind.FEEDBACK_WITHOUT_LEAD)}
    assert _of(found, Kind.WON_WITHOUT_PROJECT) == []


def test_links_are_read_once_whatever_was_deleted(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_all(rt)
    reads: list[str] = []
    link_ends, links_for, links_to = rt.store.link_ends, rt.store.links_for, rt.store.links_to

    def counted(real: Any, name: str) -> Any:
        def call(handoff: str, *args: Any, **kwargs: Any) -> Any:
            reads.append(f"{name} {handoff}")
            return real(handoff, *args, **kwargs)

        return call

    monkeypatch.setattr(rt.store, "link_ends", counted(link_ends, "ends"))
    monkeypatch.setattr(rt.store, "links_for", counted(links_for, "for"))
    monkeypatch.setattr(rt.store, "links_to", counted(links_to, "to"))
    assert _of(_found(rt), Kind.LINK_TO_DELETED) == []
    assert [r for r in reads if r.endswith(" won-to-project")] == ["ends won-to-project"]
    deleted = _links(rt)[0]
    _delete_project(rt, deleted)
    reads.clear()
    [row] = _of(_found(rt), Kind.LINK_TO_DELETED)
    assert row.pm_ref == deleted.target_key and row.crm_ref == deleted.source_id
    assert [r for r in reads if r.endswith(" won-to-project")] == ["ends won-to-project"]


def test_deleted_tasks_and_leads_are_found(rt: Runtime) -> None:
    _run_all(rt)
    project = _links(rt)[0].target_key
    risk = _pm(rt).state.add_risk(project, "Key engineer leaving")  # type: ignore[attr-defined]
    feedback = _pm(rt).state.add_feedback(project, "Wants SSO", "need")  # type: ignore[attr-defined]
    _run_all(rt)
    task = rt.store.links_for(RISK, "pm", [f"risk:{risk}"], target_system="crm")[f"risk:{risk}"]
    lead = rt.store.links_for(FEEDBACK, "pm", [feedback], target_system="crm")[feedback]
    assert _of(_found(rt), Kind.RISK_WITHOUT_TASK) == []
    _delete_crm_record(rt, "Note", task.target_id)
    _delete_crm_record(rt, "Lead", lead.target_id)

    found = _found(rt)

    [risk_row] = _of(found, Kind.RISK_WITHOUT_TASK)
    assert risk_row.pm_ref == risk and "deleted" in str(risk_row.detail)
    lead_rows = [d for d in _of(found, Kind.FEEDBACK_WITHOUT_LEAD) if d.pm_ref == feedback]
    assert len(lead_rows) == 1 and "deleted" in str(lead_rows[0].detail)


def test_fix_repairs_then_a_second_fix_writes_nothing(rt: Runtime) -> None:
    _run_all(rt)
    links = _links(rt)
    _set_budget(rt, links[0], 1.0)
    _rename_account(rt, links[1].source_id, "Renamed Holdings")
    _delete_project(rt, links[2])
    deleted_deal = links[2].source_id
    won_later = links[3].source_id
    rt.store.drop_link(links[3])
    _delete_project(rt, links[3])
    project = links[4].target_key
    risk = _pm(rt).state.add_risk(project, "Scope creep")  # type: ignore[attr-defined]

    result, _ = reconcile(rt, fix=True)
    fixes, remaining = result.fixes, list(result.discrepancies())
    result.spool.close()

    assert fixes.get("won-to-project: created") == 2, fixes
    assert fixes.get("drift: fields written", 0) >= 2, fixes
    assert fixes.get("risk-to-account-manager: created") == 1, fixes
    assert [d for d in remaining if d.fixable] == []
    relinked = {lk.source_id: lk for lk in _links(rt)}
    assert {deleted_deal, won_later} <= set(relinked)
    assert rt.store.links_for(RISK, "pm", [f"risk:{risk}"], target_system="crm")
    for sandbox in (_crm(rt), _pm(rt)):
        sandbox.journal.clear()  # type: ignore[attr-defined]

    second, _ = reconcile(rt, fix=True)
    assert second.fixes == {}
    second.spool.close()
    assert _writes(rt) == []


def test_an_eur_budget_changed_in_the_project_tool_is_drift_and_fix_repairs_it(
    rt: Runtime,
) -> None:
    _won_deals_in(rt, "EUR")
    _run_all(rt)
    link = _links(rt)[0]
    assert _budget(rt, link).currency == "EUR", "the project carries the deal's currency"
    _set_budget(rt, link, 1.0)

    drift = {(d.crm_ref, d.field): d for d in _of(_found(rt), Kind.FIELD_DRIFT)}
    budget = drift[(link.source_id, "amount / budget")]
    assert (budget.crm_value or "").startswith("EUR ") and budget.pm_value == "EUR 1.00"
    _found(rt, fix=True)
    assert _budget(rt, link).currency == "EUR" and _budget(rt, link).amount != 1
    assert _of(_found(rt), Kind.FIELD_DRIFT) == []


def test_a_budget_in_another_or_an_unknown_currency_is_drift_shown_with_currencies(
    rt: Runtime,
) -> None:
    _won_deals_in(rt, "EUR")
    _run_all(rt)
    other, unknown = _links(rt)[:2]
    _set_budget_currency(rt, other, "USD")
    _set_budget_currency(rt, unknown, None)

    drift = {(d.crm_ref, d.field): d for d in _of(_found(rt), Kind.FIELD_DRIFT)}

    moved = drift[(other.source_id, "amount / budget")]
    assert str(moved.crm_value).startswith("EUR ") and str(moved.pm_value).startswith("USD ")
    blank = drift[(unknown.source_id, "amount / budget")]
    assert str(blank.pm_value).endswith("(currency unknown)")
    _found(rt, fix=True)
    assert _budget(rt, other).currency == _budget(rt, unknown).currency == "EUR"


def _budget(rt: Runtime, link: Link) -> Any:
    mapping = rt.mapping("pm")
    spec = mapping.entities["Project"]
    [raw] = rt.connector("pm").read_by_ids(spec.object, [link.target_id], fields=spec.select)
    project = to_unified(mapping, "Project", raw.raw)
    assert isinstance(project, Project)
    return project.budget


def test_kpis_of_the_window(rt: Runtime) -> None:
    _run_all(rt)
    result, kpis = reconcile(rt, today=dt.date.today())
    result.spool.close()
    figures = kpis.as_dict()
    assert kpis.won_deals >= 1
    assert kpis.won_with_project == kpis.won_deals
    assert figures["share_with_project"] == 1.0
    assert figures["days_to_project_p50"] is not None
    assert figures["days_to_project_p50"] <= figures["days_to_project_p90"]
    assert kpis.projects == kpis.projects_on_time + kpis.projects_late
    assert kpis.feedback_leads == len(
        [lk for lk in rt.store.links(FEEDBACK) if lk.created_at is not None]
    )


def _hold_project(runtime: Runtime, link: Link) -> tuple[str | None, str | None]:
    """A Jira status the mapping does not know."""
    _pm(runtime).state.modify(link.target_key, status="On Hold")  # type: ignore[attr-defined]
    return None, link.target_key


def _surrogate_deal_name(runtime: Runtime, link: Link) -> tuple[str | None, str | None]:
    """A deal name with an unpaired surrogate (sent as a JSON escape), behind the API's back."""
    store = _crm(runtime).state.store  # type: ignore[attr-defined]
    with store.lock:
        store.lookup(link.source_id)[1].update({"Name": "cut \ud83d here"})
    return link.source_id, None


@pytest.mark.parametrize(
    ("breaks", "shows"),
    [
        (_hold_project, ["On Hold", "status"]),
        (_surrogate_deal_name, ["unpaired surrogate (U+D83D)", "name"]),
    ],
    ids=["project-status-not-mapped", "deal-name-no-product-can-hold"],
)
def test_a_record_the_mapping_cannot_read_is_reported_and_the_rest_goes_on(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    breaks: Callable[[Runtime, Link], tuple[str | None, str | None]],
    shows: list[str],
) -> None:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    try:
        _run_all(runtime)
        broken, *others = _links(runtime)
        crm_ref, pm_ref = breaks(runtime, broken)
        _set_budget(runtime, others[0], 2.0)

        found = _found(runtime)

        [unreadable] = _of(found, Kind.UNREADABLE)
        assert (unreadable.crm_ref, unreadable.pm_ref) == (crm_ref, pm_ref)
        assert not unreadable.fixable
        assert all(text in str(unreadable.detail) for text in shows), unreadable.detail
        assert [d.pm_ref for d in _of(found, Kind.FIELD_DRIFT)] == [others[0].target_key]
        # nothing else: an unreadable deal is not gone, an unreadable project's link not dead
        assert {d.kind for d in found} == {Kind.UNREADABLE, Kind.FIELD_DRIFT}
    finally:
        runtime.close()


@pytest.mark.parametrize("failing", ["crm", "pm"])
def test_a_failed_read_of_either_system_stops_the_reconcile_and_its_prefetching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The project tool is read while the deals pass runs; a failure on either side ends both."""
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    try:
        _run_all(runtime)
        connector = runtime.connector(failing)
        read = connector.read_changes

        def fails_after_a_page(*args: Any, **kwargs: Any) -> Iterator[Any]:
            yield from itertools.islice(read(*args, **kwargs), 1)
            raise ConnectionError(f"{failing} went away")

        monkeypatch.setattr(connector, "read_changes", fails_after_a_page)
        before = set(threading.enumerate())
        with pytest.raises(ConnectionError, match=f"{failing} went away"):
            reconcile(runtime, fix=False)
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        assert not [t for t in left if t.name == "hub-read-ahead"], left
    finally:
        runtime.close()


def test_project_pages_read_ahead_of_the_deals_wait_on_disk_and_find_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small pages and a slow CRM: the project tool's pages outrun the deals pass."""
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    try:
        _run_all(runtime)
        links = _links(runtime)
        _set_budget(runtime, links[0], 1.0)
        _delete_project(runtime, links[1])
        _duplicate_project(runtime, links[2].source_id)

        def found() -> list[tuple[Any, ...]]:
            result = Reconciler(runtime, page_size=2).run()
            try:
                return sorted(
                    (d.kind.value, d.crm_ref, d.pm_ref, d.field, d.crm_value, d.pm_value)
                    for d in result.discrepancies()
                )
            finally:
                result.spool.close()

        plain = found()
        crm = runtime.connector("crm")
        read = crm.read_changes

        def slow(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for page in read(*args, **kwargs):
                time.sleep(0.05)
                yield page

        spilled: list[Any] = []
        spill = SpillQueue._spill

        def counted(self: SpillQueue[Any], page: Any) -> None:
            spilled.append(page)
            spill(self, page)

        monkeypatch.setattr(crm, "read_changes", slow)
        monkeypatch.setattr(SpillQueue, "_spill", counted)
        monkeypatch.setattr(scan, "PAGES_AHEAD", 1)  # one page in memory, the rest on disk
        assert found() == plain
        assert len(spilled) > 1, "no project page waited for the deals pass"
        kinds = {row[0] for row in plain}
        assert {"field_drift", "link_to_deleted", "more_projects_than_rules"} <= kinds
    finally:
        runtime.close()
