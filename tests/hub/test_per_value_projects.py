"""One project per value of a list field: per_value template rules (issue 20, part 4)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.config.handoffs import WonToProjectConfig
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.connector import NewProject, ProjectOutcome
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.template_choice import Slot, TemplateChoice, slot_stamp, value_slot
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import (
    RecordMappingError,
    from_unified,
    map_records,
    to_unified,
)
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Opportunity
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Kind
from handoff_hub.hub.runtime import Runtime

TODAY = dt.date(2026, 11, 22)
SITE = {
    "name": "{{ opportunity.name }} - {{ value }}",
    "tasks": [{"name": "Site survey", "due_offset_days": 5}],
}
RULE = {"per_value": "custom.delivery_sites", "template": "site-rollout"}


def _choice(**rule: Any) -> TemplateChoice:
    config = WonToProjectConfig.model_validate(
        {"crm": "crm", "pm": "pm", "template": "standard", "template_rules": [rule]}
    )
    return TemplateChoice(config)


def _deal(sites: Any) -> Opportunity:
    return Opportunity(name="Deal", custom={"delivery_sites": sites} if sites else {})


# the rule ---------------------------------------------------------------------------------


def test_each_value_is_a_slot_of_its_own_and_the_first_is_primary() -> None:
    choice = _choice(**RULE, value_templates={"São Paulo": "latam"})
    slots, reason = choice.choose(_deal(["Berlin", " berlin ", "São Paulo", "New York"]))
    assert reason is None
    assert slots == (
        Slot("value:berlin", "site-rollout", True, "Berlin"),
        Slot("value:são-paulo", "latam", False, "São Paulo"),
        Slot("value:new-york", "site-rollout", False, "New York"),
    )
    assert choice.value_slot_names(_deal(["Lyon"])) == {"value:lyon"}
    assert choice.template_keys() == ["site-rollout", "latam", "standard"]
    assert value_slot("  ") == "" and value_slot("A/B  c") == "value:a-b-c"
    long_one, other = "Northern Europe " * 10 + "A", "Northern Europe " * 10 + "B"
    assert len(value_slot(long_one)) == 64 and value_slot(long_one) != value_slot(other)
    assert value_slot(long_one).startswith("value:northern-europe-northern")


def test_a_deal_with_no_values_falls_through_to_the_next_rule_or_the_default() -> None:
    choice = _choice(**RULE, when={"deal_type": "New Customer"})
    assert choice.choose(_deal([])) == ((Slot("", "standard"),), None)
    none = _choice(**RULE)
    none.default = ()
    slots, reason = none.choose(_deal(None))
    assert slots == () and "per_value: custom.delivery_sites is empty" in str(reason)


# validation ---------------------------------------------------------------------------------


@pytest.fixture
def sf_jira(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch, edit=_per_site)
    yield runtime
    runtime.close()


def _per_site(data: dict[str, Any]) -> None:
    data["templates"]["site-rollout"] = SITE
    data["handoffs"]["won_to_project"]["template_rules"] = [dict(RULE)]


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        ({"per_value": "custom.region", "template": "site-rollout"}, "per_value", "is enum"),
        ({"per_value": "custom.delivery_site", "template": "site-rollout"}, "per_value", "no cust"),
        ({"per_value": "name", "template": "site-rollout"}, "per_value", "list-typed custom"),
        ({"per_value": "custom.delivery_sites", "templates": ["site-rollout"]}, "templates", "one"),
        ({**RULE, "value_templates": {"Berlin": "nope"}}, "value_templates.Berlin", "no template"),
        ({"template": "site-rollout", "value_templates": {"a": "b"}}, "value_templates", "needs"),
        (
            {"per_value": "custom.delivery_sites", "template": "standard-delivery"},
            "[0].template",
            "would share one name",
        ),
    ],
)
def test_validate_names_the_line_of_a_bad_per_value_rule(
    sf_jira: Runtime, rule: dict[str, Any], field: str, message: str
) -> None:
    path = sf_jira.loaded.path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["handoffs"]["won_to_project"]["template_rules"] = [rule]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    found = [i for i in caught.value.issues if ".template_rules" in i.field]
    assert any(i.line and field in i.field and message in i.message for i in found), found


# end to end, on Salesforce -> Jira and HubSpot -> Asana ---------------------------------------

PAIRS = [("salesforce", "jira"), ("hubspot", "asana")]


@pytest.fixture(params=PAIRS, ids="+".join)
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    crm, pm = request.param
    runtime = open_pair_runtime(crm, pm, tmp_path, monkeypatch, edit=_per_site)
    yield runtime
    runtime.close()


def _handoff(rt: Runtime) -> WonToProject:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return WonToProject(rt, settings, today=TODAY)


def _run(rt: Runtime, handoff: WonToProject | None = None, **kw: Any) -> Any:
    return run_handoff(HANDOFF, handoff or _handoff(rt), rt.store, **kw)


def _counts(rt: Runtime, handoff: WonToProject | None = None) -> Counter[str]:
    return Counter(_run(rt, handoff).counts)


def _won(rt: Runtime) -> dict[str, Opportunity]:
    spec = rt.mapping("crm")
    entity = spec.entities["Opportunity"]
    pages = rt.connector("crm").read_changes(
        entity.object, since=None, fields=entity.source_fields()
    )
    opps, _ = map_records(spec, "Opportunity", [r for p in pages for r in p.records])
    return {o.refs["crm"]: o for o in opps if isinstance(o, Opportunity) and o.stage.value == "won"}


def _sites(opp: Opportunity) -> list[str]:
    return list(opp.custom.get("delivery_sites") or [])


def _two_sites(rt: Runtime) -> tuple[str, Opportunity]:
    return next((d, o) for d, o in _won(rt).items() if len(_sites(o)) == 2)


def _slots(rt: Runtime) -> Counter[tuple[str, str]]:
    return Counter((lk.source_id, lk.slot) for lk in rt.store.links(HANDOFF))


def _set_sites(rt: Runtime, deal: str, sites: list[str]) -> None:
    """The deal's sites changed in the CRM, written as each product keeps them."""
    spec = rt.mapping("crm")
    fields = from_unified(
        spec, "Opportunity", {"custom": {"delivery_sites": sites}}, only=["custom.delivery_sites"]
    )
    entity = spec.entities["Opportunity"]
    [result] = rt.connector("crm").update(entity.object, [(deal, fields)])
    assert result.ok, result.error


def _crash_after(handoff: WonToProject, stamp: str) -> None:
    """The batch create makes the projects up to the one stamped ``stamp``; then it dies."""
    create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def crash(projects: Sequence[NewProject]) -> Any:
        upto = [p.source_id for p in projects].index(stamp)
        create(projects[: upto + 1])
        raise KeyboardInterrupt

    handoff.pm.create_projects = crash  # type: ignore[attr-defined]


def test_a_deal_with_two_sites_makes_two_named_projects_and_a_rerun_none(pair: Runtime) -> None:
    made: list[NewProject] = []
    handoff = _handoff(pair)
    create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def spy(projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        made.extend(projects)
        return create(projects)  # type: ignore[no-any-return]

    handoff.pm.create_projects = spy  # type: ignore[attr-defined]
    won = _won(pair)
    deal, opp = _two_sites(pair)
    counts = _counts(pair, handoff)
    expected = {(d, value_slot(s)) for d, o in won.items() for s in _sites(o)}
    expected |= {(d, "") for d, o in won.items() if not _sites(o)}
    assert counts["created"] == len(expected) and not counts["failed"]
    assert set(_slots(pair)) == expected and set(_slots(pair).values()) == {1}
    mine = sorted(p.name for p in made if p.source_id.startswith(f"crm:{deal}#"))
    assert mine == sorted(f"{opp.name} - {site}" for site in _sites(opp))
    stamps = [slot_stamp(f"crm:{deal}", value_slot(s)) for s in _sites(opp)]
    found = pair.pm("pm").find_projects(stamps)
    assert set(found) == set(stamps) and len({h.id for h in found.values()}) == 2
    again = _counts(pair)
    assert not again["created"] and not again["recovered"]


def test_a_crash_between_the_two_creates_reruns_into_exactly_two(pair: Runtime) -> None:
    deal, opp = _two_sites(pair)
    handoff = _handoff(pair)
    # the process dies between the deal's two creates
    _crash_after(handoff, slot_stamp(f"crm:{deal}", value_slot(_sites(opp)[0])))
    with pytest.raises(KeyboardInterrupt):
        _run(pair, handoff)
    del handoff.pm.create_projects  # type: ignore[attr-defined]
    counts = _counts(pair)
    assert counts["recovered"] >= 1
    slots = _slots(pair)
    assert [slots[(deal, value_slot(s))] for s in _sites(opp)] == [1, 1]
    stamps = [slot_stamp(f"crm:{deal}", value_slot(s)) for s in _sites(opp)]
    assert len(pair.pm("pm").find_projects(stamps)) == 2


def test_a_value_added_makes_a_third_and_a_value_removed_is_reported_not_deleted(
    pair: Runtime,
) -> None:
    deal, opp = _two_sites(pair)
    _run(pair)
    first, second = _sites(opp)
    _set_sites(pair, deal, [first, second, "Singapore"])
    counts = _counts(pair)
    assert counts["created"] == 1
    held = {slot for d, slot in _slots(pair) if d == deal}
    assert held == {value_slot(first), value_slot(second), "value:singapore"}

    _set_sites(pair, deal, [first, "Singapore"])
    assert not _counts(pair)["created"]
    result, _ = reconcile(pair, today=dt.date(2030, 1, 1), window_days=7300)
    try:
        found = list(result.discrepancies())
    finally:
        result.spool.close()
    [more] = [d for d in found if d.kind is Kind.MORE_PROJECTS]
    assert more.crm_ref == deal and value_slot(second) in str(more.detail)
    assert not more.fixable
    assert [d for d in found if d.kind is Kind.FEWER_PROJECTS] == []
    stamp = slot_stamp(f"crm:{deal}", value_slot(second))
    assert stamp in pair.pm("pm").find_projects([stamp])  # never deleted


def test_plan_shows_one_row_per_value(pair: Runtime) -> None:
    deal, opp = _two_sites(pair)
    summary = _run(pair, dry_run=True)
    rows = [d for d in summary.decisions if d.source_id == deal]
    assert sorted(r.label for r in rows) == sorted(
        f"{opp.name} ({value_slot(s)})" for s in _sites(opp)
    )
    assert {r.verdict.value for r in rows} == {"create"}
    assert pair.store.links(HANDOFF) == []


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "salesforce-jira-per-site.yaml"


def test_the_example_makes_a_project_per_site_and_singapore_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch, example=EXAMPLE)
    try:
        deal, opp = _two_sites(rt)
        _set_sites(rt, deal, [*_sites(opp), "Singapore"])
        handoff = _handoff(rt)
        create = handoff.pm.create_projects  # type: ignore[attr-defined]
        made: dict[str, str] = {}

        def spy(projects: Sequence[NewProject]) -> list[ProjectOutcome]:
            made.update((p.source_id, p.template.name) for p in projects)
            return create(projects)  # type: ignore[no-any-return]

        handoff.pm.create_projects = spy  # type: ignore[attr-defined]
        _run(rt, handoff)
        mine = {s.split("#")[1]: t for s, t in made.items() if s.startswith(f"crm:{deal}#")}
        assert mine == {
            **{value_slot(s): "site-rollout" for s in _sites(opp)},
            "value:singapore": "site-rollout-apac",
        }
        bare = {d for d, o in _won(rt).items() if not _sites(o)}
        assert bare and all(made[f"crm:{d}"] == "standard-delivery" for d in bare)
    finally:
        rt.close()


# the list type of a mapping ------------------------------------------------------------------


def test_a_multi_value_text_reads_as_a_list_each_value_mapped_and_writes_back_joined() -> None:
    spec = MappingSpec.model_validate(
        {
            "system": "crm",
            "entities": {
                "Opportunity": {
                    "object": "deals",
                    "id_path": "id",
                    "fields": {
                        "name": {"path": "name"},
                        "custom.sites": {
                            "path": "sites",
                            "type": "list",
                            "separator": ";",
                            "map": {"berlin": "Berlin", "lyon": "Lyon"},
                        },
                    },
                }
            },
        }
    )
    opp = to_unified(spec, "Opportunity", {"id": "1", "name": "D", "sites": "lyon; berlin;;lyon"})
    assert opp.custom == {"sites": ["Lyon", "Berlin"]}
    blank = to_unified(spec, "Opportunity", {"id": "2", "name": "D", "sites": ""})
    assert "sites" not in blank.custom
    assert from_unified(spec, "Opportunity", opp, only=["custom.sites"]) == {"sites": "lyon;berlin"}
    with pytest.raises(RecordMappingError, match="not in the value map"):
        to_unified(spec, "Opportunity", {"id": "3", "name": "D", "sites": "berlin;paris"})


def test_the_deal_keeps_the_first_values_project_when_a_value_added_sorts_first(
    pair: Runtime,
) -> None:
    deal, opp = _two_sites(pair)
    _run(pair)
    links = {lk.slot: lk for lk in pair.store.links(HANDOFF) if lk.source_id == deal}
    first = links[value_slot(_sites(opp)[0])]
    held = _won(pair)[deal].project_ref
    assert held in (first.target_key, first.target_id)
    _set_sites(pair, deal, ["Singapore", *_sites(opp)])
    assert _counts(pair)["created"] == 1
    assert _won(pair)[deal].project_ref == held


def test_reconcile_reports_an_unlinked_project_of_a_removed_value_found_by_its_stamp(
    pair: Runtime,
) -> None:
    deal, opp = _two_sites(pair)
    first, second = _sites(opp)
    handoff = _handoff(pair)
    _crash_after(handoff, slot_stamp(f"crm:{deal}", value_slot(first)))  # made, never linked
    with pytest.raises(KeyboardInterrupt):
        _run(pair, handoff)
    del handoff.pm.create_projects  # type: ignore[attr-defined]
    _set_sites(pair, deal, [second])  # the first site is dropped before the next run
    _run(pair)
    assert (deal, value_slot(first)) not in _slots(pair)
    result, _ = reconcile(pair, today=dt.date(2030, 1, 1), window_days=7300)
    try:
        found = [d for d in result.discrepancies() if d.kind is Kind.MORE_PROJECTS]
    finally:
        result.spool.close()
    [more] = [d for d in found if d.crm_ref == deal]
    assert value_slot(first) in str(more.detail) and "do not give" in str(more.detail)
