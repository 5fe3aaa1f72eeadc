"""Templates chosen by rules on the deal, and one deal to several projects (issue 20, part 4)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.account_view import account_view
from handoff_hub.hub.config.handoffs import (
    SyncFieldConfig,
    TemplateRuleConfig,
    WonToProjectConfig,
)
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.connector import NewProject, ProjectOutcome, ProjectTemplate
from handoff_hub.hub.errors import ConfigError, RecordError
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.sync import HANDOFF as SYNC
from handoff_hub.hub.handoffs.sync import Sync
from handoff_hub.hub.handoffs.template_choice import Slot, TemplateChoice, slot_stamp
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import from_unified, map_records
from handoff_hub.hub.model import Money, Opportunity, Project
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Discrepancy, Kind
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link

TODAY = dt.date(2026, 11, 22)
SET = ["standard-delivery", "training"]
TRAINING = {
    "name": "{{ opportunity.name }} - training",
    "starts": "close_date",
    "start_offset_days": 14,
    "tasks": [
        {"name": "Training plan", "due_offset_days": 5},
        {"name": "Admin training", "due_offset_days": 20},
    ],
}


def _config(**update: Any) -> WonToProjectConfig:
    return WonToProjectConfig.model_validate({"crm": "crm", "pm": "pm", **update})


def _deal(**fields: Any) -> Opportunity:
    return Opportunity(name="Deal", **fields)


# the rules -------------------------------------------------------------------------------


def test_the_first_rule_that_matches_wins_else_the_default() -> None:
    choice = TemplateChoice(
        _config(
            template="standard",
            template_rules=[
                {"when": {"deal_type": "New Customer"}, "templates": ["impl", "training"]},
                {"when": {"amount.amount": {">=": 100000}}, "template": "enterprise"},
            ],
        )
    )
    big_new = _deal(deal_type="new customer", amount=Money(amount=Decimal(500000)))
    assert choice.choose(big_new) == (
        (Slot("impl", "impl", primary=True), Slot("training", "training", primary=False)),
        None,
    )
    big = _deal(deal_type="Upgrade", amount=Money(amount=Decimal(500000)))
    assert choice.choose(big) == ((Slot("", "enterprise"),), None)
    assert choice.choose(_deal(deal_type="Upgrade")) == ((Slot("", "standard"),), None)
    assert choice.slot_names() == {"impl", "training", ""}


def test_a_deal_no_rule_matches_without_a_default_is_skipped_with_each_rules_reason() -> None:
    choice = TemplateChoice(
        _config(template_rules=[{"when": {"deal_type": "New Customer"}, "template": "impl"}])
    )
    slots, reason = choice.choose(_deal(deal_type="Renewal"))
    assert slots == ()
    assert reason is not None
    assert "template_rules[0].when: deal_type eq New Customer (it is Renewal)" in reason


# validation ------------------------------------------------------------------------------


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch, edit=_with_set)
    yield runtime
    runtime.close()


def _with_set(data: dict[str, Any]) -> None:
    data["templates"]["training"] = TRAINING
    data["handoffs"]["won_to_project"]["template_rules"] = [{"when": {}, "templates": SET}]


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        (
            {"templates": ["standard-delivery", "trainig"]},
            "[0].templates[1]",
            "no template 'trainig'",
        ),
        ({"template": "nope"}, "[0].template", "no template 'nope'"),
        ({"when": {"product_lne": "Platform"}, "template": "training"}, "product_lne", "no field"),
        (
            {"when": {"amount.amount": {"gte": 1}}, "template": "training"},
            "when",
            "unknown comparison gte",
        ),
        ({"template": "training", "templates": ["training"]}, "[0]", "either template"),
        ({"templates": ["training", "training"]}, "[0].templates[1]", "twice"),
    ],
)
def test_validate_names_the_line_of_a_bad_rule(
    rt: Runtime, rule: dict[str, Any], field: str, message: str
) -> None:
    path = rt.loaded.path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["handoffs"]["won_to_project"]["template_rules"] = [rule]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [issue] = [i for i in caught.value.issues if ".template_rules" in i.field]
    assert issue.line is not None and field in issue.field and message in issue.message


def test_validate_wants_a_template_or_rules(rt: Runtime) -> None:
    path = rt.loaded.path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = data["handoffs"]["won_to_project"]
    del section["template"], section["template_rules"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any("no template" in i.message and i.line for i in caught.value.issues)


# one deal, several projects, on each PM product ---------------------------------------


PAIRS = [
    ("salesforce", "jira", "epic"),
    ("salesforce", "jira", "project"),
    ("hubspot", "asana", ""),
]


@pytest.fixture(params=PAIRS, ids=lambda p: "+".join(x for x in p if x))
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    crm, pm, mode = request.param

    def edit(data: dict[str, Any]) -> None:
        _with_set(data)
        if mode:
            data["systems"]["pm"]["settings"]["mode"] = mode

    runtime = open_pair_runtime(crm, pm, tmp_path, monkeypatch, edit=edit)
    yield runtime
    runtime.close()


def _handoff(rt: Runtime) -> WonToProject:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return WonToProject(rt, settings, today=TODAY)


def _run(rt: Runtime, handoff: WonToProject | None = None) -> Counter[str]:
    return Counter(run_handoff(HANDOFF, handoff or _handoff(rt), rt.store).counts)


def _won(rt: Runtime) -> dict[str, Opportunity]:
    spec = rt.mapping("crm")
    entity = spec.entities["Opportunity"]
    pages = rt.connector("crm").read_changes(
        entity.object, since=None, fields=entity.source_fields()
    )
    opps, _ = map_records(spec, "Opportunity", [r for p in pages for r in p.records])
    return {o.refs["crm"]: o for o in opps if isinstance(o, Opportunity) and o.stage.value == "won"}


def _stamps(rt: Runtime, deals: list[str]) -> dict[str, str]:
    """Stamp -> project id of every slot of these deals that has a project."""
    wanted = [slot_stamp(f"crm:{d}", slot) for d in deals for slot in ["", *SET]]
    return {stamp: handle.id for stamp, handle in rt.pm("pm").find_projects(wanted).items()}


def test_a_set_makes_one_project_per_template_each_stamped_and_linked(pair: Runtime) -> None:
    made: list[NewProject] = []
    handoff = _handoff(pair)
    create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def spy(projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        made.extend(projects)
        return create(projects)  # type: ignore[no-any-return]

    handoff.pm.create_projects = spy  # type: ignore[attr-defined]
    won = _won(pair)
    counts = _run(pair, handoff)
    assert counts["created"] == 2 * len(won) and not counts["failed"]
    links = pair.store.links(HANDOFF)
    assert Counter(lk.source_id for lk in links) == dict.fromkeys(won, 2)
    assert {lk.slot for lk in links} == set(SET)
    stamps = _stamps(pair, list(won))
    assert set(stamps) == {slot_stamp(f"crm:{d}", s) for d in won for s in SET}
    assert len(set(stamps.values())) == 2 * len(won)  # two projects, not one with both
    for project in made:
        deal = won[project.source_id.split("#")[0].removeprefix("crm:")]
        training = project.source_id.endswith("#training")
        assert project.template.name == ("training" if training else "standard-delivery")
        assert {t.name for t in project.template.tasks} & {"Training plan"} == (
            {"Training plan"} if training else set()
        )
        start = (deal.close_date or TODAY) + dt.timedelta(days=14) if training else TODAY
        assert project.start == start
        assert "Delivery project for the won deal" in str(project.fields)
    written = {lk.source_id: lk.target_key for lk in links if lk.slot == SET[0]}
    assert _project_refs(pair, list(won)) == written
    assert not _run(pair)["created"]


def _project_refs(rt: Runtime, deals: list[str]) -> dict[str, str | None]:
    spec = rt.mapping("crm")
    entity = spec.entities["Opportunity"]
    raws = rt.connector("crm").read_by_ids(entity.object, deals, fields=entity.source_fields())
    opps, _ = map_records(spec, "Opportunity", raws)
    return {o.refs["crm"]: o.project_ref for o in opps if isinstance(o, Opportunity)}


class Crash(BaseException):
    """Stands in for the process dying: nothing catches it."""


def test_a_crash_between_the_two_creates_then_a_rerun_makes_exactly_one_of_each(
    pair: Runtime,
) -> None:
    handoff = _handoff(pair)
    create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def first_then_crash(projects: Sequence[NewProject]) -> Any:
        create(projects[:1])
        raise Crash("killed between the deal's two creates")

    handoff.pm.create_projects = first_then_crash  # type: ignore[attr-defined]
    with pytest.raises(Crash):
        _run(pair, handoff)
    del handoff.pm.create_projects  # type: ignore[attr-defined]
    assert pair.store.links(HANDOFF) == []
    won = _won(pair)
    counts = _run(pair)
    assert counts["recovered"] == 1 and counts["created"] == 2 * len(won) - 1
    stamps = _stamps(pair, list(won))
    assert len(stamps) == len(set(stamps.values())) == 2 * len(won)
    assert len(pair.store.links(HANDOFF)) == 2 * len(won)


def _found(rt: Runtime, *, fix: bool = False) -> tuple[list[Discrepancy], Any]:
    result, kpis = reconcile(rt, fix=fix, today=dt.date(2030, 1, 1), window_days=7300)
    try:
        return list(result.discrepancies()), kpis
    finally:
        result.spool.close()


def _of(found: list[Discrepancy], kind: Kind) -> list[Discrepancy]:
    return [d for d in found if d.kind is kind]


def _delete_project(rt: Runtime, link: Link) -> None:
    state = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    if rt.sandboxes["pm"].name == "jira":  # type: ignore[attr-defined]
        state.delete(link.target_key)
    else:
        state.delete_project(link.target_id)


def test_reconcile_reports_a_missing_second_project_and_an_extra_one(pair: Runtime) -> None:
    _run(pair)
    found, kpis = _found(pair)
    assert _of(found, Kind.MORE_PROJECTS) == _of(found, Kind.FEWER_PROJECTS) == []
    assert kpis.projects_per_deal == 2.0
    assert kpis.won_with_all_projects == kpis.won_with_project == kpis.won_deals > 0
    links = sorted(pair.store.links(HANDOFF), key=lambda lk: (lk.source_id, lk.slot))
    training = next(lk for lk in links if lk.slot == "training")
    _delete_project(pair, training)
    pair.store.drop_link(training)
    other = next(lk for lk in links if lk.source_id != training.source_id)
    _old_single_project(pair, other.source_id)

    found, kpis = _found(pair)
    [fewer] = _of(found, Kind.FEWER_PROJECTS)
    assert fewer.crm_ref == training.source_id and "'training'" in str(fewer.detail)
    assert fewer.fixable
    [more] = _of(found, Kind.MORE_PROJECTS)
    assert more.crm_ref == other.source_id and "1 for its one project" not in str(more.detail)
    assert "which the rules do not give" in str(more.detail) and not more.fixable
    assert kpis.won_with_all_projects == kpis.won_deals - 1

    found, _ = _found(pair, fix=True)
    assert _of(found, Kind.FEWER_PROJECTS) == []
    assert len(_stamps(pair, [training.source_id])) == 2


def _old_single_project(rt: Runtime, deal: str) -> None:
    """A project in a slot the rules do not give: the deal's single project of before."""
    fields = from_unified(rt.mapping("pm"), "Project", Project(name="Old delivery"))
    rt.pm("pm").create_project(
        NewProject(f"crm:{deal}", "Old delivery", fields, ProjectTemplate("old"))
    )


def test_sync_brings_a_deal_change_to_each_of_its_projects(pair: Runtime) -> None:
    _run(pair)
    links = pair.store.links(HANDOFF)
    deal = links[0].source_id
    state = pair.sandboxes["crm"].state  # type: ignore[attr-defined]
    if pair.sandboxes["crm"].name == "salesforce":  # type: ignore[attr-defined]
        state.modify_record("Opportunity", deal, Delivery_Due__c="2027-03-01")
    else:
        state.modify_record("deals", deal, delivery_due="2027-03-01")
    settings = pair.loaded.config.handoffs.sync
    assert settings is not None
    due = SyncFieldConfig(crm="delivery_due", pm="due", direction="crm_to_pm")
    run_handoff(SYNC, Sync(pair, settings.model_copy(update={"fields": [due]})), pair.store)
    mine = [lk for lk in links if lk.source_id == deal]
    spec = pair.mapping("pm")
    entity = spec.entities["Project"]
    raws = pair.pm("pm").read_by_ids(
        entity.object, [lk.target_key or lk.target_id for lk in mine], fields=entity.source_fields()
    )
    projects, _ = map_records(spec, "Project", raws)
    assert [p.due for p in projects if isinstance(p, Project)] == [dt.date(2027, 3, 1)] * 2


def test_only_the_sets_first_project_writes_onto_the_deal(pair: Runtime) -> None:
    _run(pair)
    settings = pair.loaded.config.handoffs.sync
    assert settings is not None
    due = SyncFieldConfig(crm="delivery_due", pm="due", direction="both")
    run_handoff(SYNC, Sync(pair, settings.model_copy(update={"fields": [due]})), pair.store)
    links = pair.store.links(HANDOFF)
    spec = pair.mapping("pm")
    entity = spec.entities["Project"]
    raws = pair.pm("pm").read_by_ids(
        entity.object,
        [lk.target_key or lk.target_id for lk in links],
        fields=entity.source_fields(),
    )
    projects, _ = map_records(spec, "Project", raws)
    dues = {p.refs["pm"]: p.due for p in projects if isinstance(p, Project)}
    opps = _won(pair)
    for link in links:
        project_due = dues[link.target_key or link.target_id]
        if link.slot == "training":
            assert project_due != opps[link.source_id].delivery_due  # kept its own
        else:
            assert project_due == opps[link.source_id].delivery_due


def test_the_account_view_shows_every_project_of_a_deal_once(pair: Runtime) -> None:
    _run(pair)
    link = next(lk for lk in pair.store.links(HANDOFF) if lk.slot == "training")
    risk = pair.sandboxes["pm"].state.add_risk(  # type: ignore[attr-defined]
        link.target_key, "Trainers not booked", "critical"
    )
    deal = _won(pair)[link.source_id]
    assert deal.account is not None
    view = account_view(pair, deal.account.refs["crm"])
    [mine] = [d for d in view.deals if d.opportunity.refs["crm"] == link.source_id]
    assert mine.link is not None and mine.link.slot == "standard-delivery"
    [training] = mine.more
    assert training.project is not None and training.link == link
    assert [r.refs["pm"] for r in training.risks] == [risk] and mine.risks == []
    data = view.as_dict()
    assert len(data["deals"]) == len({d.opportunity.refs["crm"] for d in view.deals})
    [shown] = [d for d in data["deals"] if d["opportunity"]["name"] == deal.name][:1]
    assert [m["slot"] for m in shown["more_projects"]] == ["training"]


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "salesforce-jira-template-sets.yaml"


def test_a_crash_after_the_whole_bulk_create_reruns_into_one_project_per_slot(
    pair: Runtime,
) -> None:
    handoff = _handoff(pair)
    create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def all_then_crash(projects: Sequence[NewProject]) -> Any:
        create(projects)
        raise Crash("killed after the bulk create, before any link")

    handoff.pm.create_projects = all_then_crash  # type: ignore[attr-defined]
    with pytest.raises(Crash):
        _run(pair, handoff)
    del handoff.pm.create_projects  # type: ignore[attr-defined]
    assert pair.store.links(HANDOFF) == []
    won = _won(pair)
    counts = _run(pair)
    assert counts["recovered"] == 2 * len(won) and not counts["created"]
    stamps = _stamps(pair, list(won))
    assert len(stamps) == len(set(stamps.values())) == 2 * len(won)
    assert len(pair.store.links(HANDOFF)) == 2 * len(won)


def test_the_examples_rules_give_new_customers_two_projects_and_big_upgrades_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch, example=EXAMPLE)
    try:
        handoff = _handoff(rt)
        create = handoff.pm.create_projects  # type: ignore[attr-defined]
        made: dict[str, list[str]] = {}

        def spy(projects: Sequence[NewProject]) -> list[ProjectOutcome]:
            for project in projects:
                deal = project.source_id.split("#")[0].removeprefix("crm:")
                made.setdefault(deal, []).append(project.template.name)
            return create(projects)  # type: ignore[no-any-return]

        handoff.pm.create_projects = spy  # type: ignore[attr-defined]
        won = _won(rt)
        _run(rt, handoff)
        for deal_id, opp in won.items():
            big = opp.amount is not None and opp.amount.amount >= 100000
            if opp.deal_type == "New Customer":
                expected = ["implementation", "training"]
            else:
                expected = ["upgrade" if big else "standard-delivery"]
            assert made[deal_id] == expected
        assert {len(m) for m in made.values()} == {1, 2}  # the seed has both kinds
    finally:
        rt.close()


def test_a_refused_second_project_stays_a_dead_letter_until_it_is_made(pair: Runtime) -> None:
    handoff = _handoff(pair)
    create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def refuse_training(projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        kept = [p for p in projects if not p.source_id.endswith("#training")]
        made = iter(create(kept))
        refused = RecordError("the training board is archived", system="pm")
        return [
            ProjectOutcome(error=refused) if p.source_id.endswith("#training") else next(made)
            for p in projects
        ]

    handoff.pm.create_projects = refuse_training  # type: ignore[attr-defined]
    won = _won(pair)
    counts = _run(pair, handoff)
    del handoff.pm.create_projects  # type: ignore[attr-defined]
    assert counts["created"] == counts["failed"] == len(won)
    letters = [d for d in pair.store.dead_letters() if d.status == "open"]
    assert {d.record_id for d in letters} == set(won)
    assert all(d.reason.startswith("create project (training): ") for d in letters)
    assert _run(pair)["created"] == len(won)
    assert [d for d in pair.store.dead_letters() if d.status == "open"] == []


def test_a_deal_no_rule_matches_is_a_skip_with_its_reason_in_the_run_summary(
    rt: Runtime,
) -> None:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    rule = TemplateRuleConfig(when={"deal_type": "New Customer"}, template="training")
    only_new = settings.model_copy(update={"template": None, "template_rules": [rule]})
    won = _won(rt)
    others = [d for d, o in won.items() if o.deal_type != "New Customer"]
    assert others and len(others) < len(won)
    summary = run_handoff(HANDOFF, WonToProject(rt, only_new, today=TODAY), rt.store)
    assert summary.counts["no_template"] == len(others)
    assert summary.counts["created"] == len(won) - len(others)
    skipped = {d.source_id: d.reason for d in summary.decisions if d.verdict.value == "skip"}
    assert set(skipped) == set(others)
    assert all("template_rules[0].when: deal_type eq New Customer" in r for r in skipped.values())
    assert {lk.source_id for lk in rt.store.links(HANDOFF)} == set(won) - set(others)
