"""Malformed vendor records go to the dead letters with their reason; the batch goes on.

For every CRM + PM pairing, records are broken behind the API's back (in the
sandbox's store, as a buggy integration or an old record would leave them,
since the sandboxes refuse such writes): a required field missing, a number
that is text, a picklist value the mapping does not know, a text far over any
product's limit. Each must be dead-lettered with a reason naming the field and
the value (shortened), the good records of the same page handled, the run
``completed_with_failures`` (not failed), and a rerun from scratch must neither
duplicate a project or lead nor a dead letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.cli.demo import CRMS, PMS
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK
from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead
from handoff_hub.hub.handoffs.runner import RunSummary, run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import MAX_TEXT_LENGTH, to_unified_many
from handoff_hub.hub.model import Opportunity, Stage
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import DeadLetterRow

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]
OVERSIZE = 100_000
assert OVERSIZE > MAX_TEXT_LENGTH


@dataclass(frozen=True)
class Break:
    """One way to break a record, and what its dead letter's reason must say."""

    label: str
    changes: dict[str, Any]
    names: tuple[str, str]
    """The unified field and the product path (or its start), as the reason gives them."""
    shows: str
    """Text of the value the reason must show (shortened), or of why it is missing."""


def _deal_breaks(crm: str) -> list[Break]:
    """Fields as the sandbox's store names them; HubSpot's mapping reads under properties."""
    if crm == "salesforce":
        name, amount, health, text, at = "Name", "Amount", "Delivery_Health__c", "Description", ""
    else:
        name, amount, health, text = "dealname", "amount", "delivery_health", "description"
        at = "properties."
    return [
        Break("no name", {name: None}, ("name", at + name), "a value is required"),
        Break(
            "amount in words",
            {amount: "twelve thousand"},
            ("amount", at + amount),
            "expected a number (value 'twelve thousand')",
        ),
        Break(
            "unknown picklist value",
            {health: "Purple" if crm == "salesforce" else "purple"},
            ("delivery_health", at + health),
            "not in the value map",
        ),
        Break(
            "oversize description",
            {text: "x" * OVERSIZE},
            ("description", at + text),
            f"text of {OVERSIZE:,} characters",
        ),
        Break(
            "unpaired surrogate",
            {text: "cut \ud83d here"},
            ("description", at + text),
            "unpaired surrogate (U+D83D)",
        ),
    ]


def _add_won_deal(rt: Runtime, crm: str, name: str, changes: dict[str, Any] | None = None) -> str:
    """A won deal made through the sandbox's checks, then changed in its store directly."""
    state: Any = rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    if crm == "salesforce":
        record_id: str = state.add_opportunity(name, stage="Closed Won")
        with state.store.lock:
            state.store.lookup(record_id)[1].update(changes or {})
    else:
        record_id = state.add_deal(name, stage=state.won_stage())
        with state.store.lock:
            state.store.tables["deals"][record_id].props.update(changes or {})
    return record_id


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str, Runtime]]:
    crm, pm = request.param
    rt = open_pair_runtime(crm, pm, tmp_path, monkeypatch)
    yield crm, pm, rt
    rt.close()


def _won_to_project(rt: Runtime) -> WonToProject:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    # One page: the good and the bad records are handled by the same batch.
    return WonToProject(rt, settings.model_copy(update={"batch_size": 500}))


def _readable_won_deals(rt: Runtime) -> set[str]:
    """Won deals the mapping reads, read the way an admin would check."""
    crm, spec = rt.connector("crm"), rt.mapping("crm")
    entity = spec.entities["Opportunity"]
    raws = [
        r.raw
        for page in crm.read_changes(entity.object, since=None, fields=entity.source_fields())
        for r in page.records
    ]
    opps, _ = to_unified_many(spec, "Opportunity", raws)
    return {o.refs["crm"] for o in opps if isinstance(o, Opportunity) and o.stage is Stage.WON}


def _check_letter(letter: DeadLetterRow, handoff: str, broken: Break) -> None:
    reason = letter.reason
    assert letter.handoff == handoff and letter.status == "open", letter
    assert reason.startswith("mapping: "), reason
    unified, product = broken.names
    assert f"{unified} <-> {product}" in reason, reason
    assert broken.shows in reason, reason
    assert len(reason) < 400, f"the value is not shortened: {len(reason)} characters"


def _finished(summary: RunSummary, rt: Runtime, handoff: str) -> None:
    assert summary.status == "completed_with_failures", summary
    assert summary.error is None
    assert rt.store.runs(handoff, limit=1)[0].status == "completed_with_failures"


def test_bad_deals_are_dead_lettered_and_the_rest_of_the_page_goes_on(
    pair: tuple[str, str, Runtime],
) -> None:
    crm, _, rt = pair
    good = _add_won_deal(rt, crm, "Good won deal among bad ones")
    breaks = _deal_breaks(crm)
    bad = {b.label: _add_won_deal(rt, crm, f"Deal with {b.label}", b.changes) for b in breaks}
    handoff = _won_to_project(rt)

    first = run_handoff(HANDOFF, handoff, rt.store)

    _finished(first, rt, HANDOFF)
    assert first.counts["failed"] == len(breaks), first.counts
    letters = {letter.record_id: letter for letter in rt.store.dead_letters()}
    assert set(letters) == set(bad.values())
    for broken in breaks:
        _check_letter(letters[bad[broken.label]], HANDOFF, broken)
    linked = {lk.source_id for lk in rt.store.links(HANDOFF)}
    assert good in linked and linked.isdisjoint(bad.values())
    assert linked == _readable_won_deals(rt), "every readable won deal has its project"
    assert first.counts["created"] == len(linked)
    pm = rt.pm("pm")
    assert pm.find_project(f"crm:{good}") is not None
    assert all(pm.find_project(f"crm:{record}") is None for record in bad.values())

    rt.store.set_cursor(handoff.cursor_name(), None)
    again = run_handoff(HANDOFF, _won_to_project(rt), rt.store)

    _finished(again, rt, HANDOFF)
    assert again.counts.get("created", 0) == 0 and again.counts["failed"] == len(breaks)
    assert {lk.source_id for lk in rt.store.links(HANDOFF)} == linked
    assert all(pm.find_project(f"crm:{record}") is None for record in bad.values())
    repeated = rt.store.dead_letters()
    assert sorted(r.record_id or "" for r in repeated) == sorted(bad.values())
    assert {r.attempts for r in repeated} == {2}


# feedback-to-lead ------------------------------------------------------------------------

UNKNOWN_KIND = {"jira": "praise", "asana": "Praise"}


def _strict_feedback_mapping(pm: str, folder: Path) -> Path:
    """The shipped PM mapping, but its Feedback kinds strict: no ``map_default``.

    The filter also takes one more kind than the map knows, as when an admin adds
    a kind to the filter and forgets the map: such items are read, and must fail.
    """
    shipped = Path(__file__).resolve().parents[2] / "mappings" / f"{pm}.yaml"
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    feedback = data["entities"]["Feedback"]
    kinds = feedback["fields"]["feedback_kind"]
    del kinds["map_default"]
    if pm == "jira":
        feedback["where"]["labels"].append(UNKNOWN_KIND[pm])
        kinds["path"] = "fields.labels[?@ == 'upsell' || @ == 'new-need' || @ == 'praise'] | [0]"
    else:
        feedback["where"]["custom_fields.Feedback"].append(UNKNOWN_KIND[pm])
    path = folder / f"{pm}-strict-feedback.yaml"
    strict = {"extends": str(shipped), "system": pm, "entities": {"Feedback": feedback}}
    path.write_text(yaml.safe_dump({"version": 1, **strict}, sort_keys=False), encoding="utf-8")
    return path


def _add_feedback(rt: Runtime, project: str, text: str, changes: dict[str, Any]) -> str:
    """A flagged upsell in a project, then changed behind the API's back."""
    state: Any = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    key: str = state.add_feedback(project, text, "upsell")
    if changes:
        state.modify(key, **changes)
    return key


def _add_unknown_kind(rt: Runtime, pm: str, project: str) -> str:
    state: Any = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    if pm == "jira":
        key: str = state.add_issue(
            "Customer praises the team", parent=project, labels=(UNKNOWN_KIND[pm],)
        )
        return key
    from handoff_hub.sandboxes.asana.data import EnumOption

    with state.store.lock:
        field = next(f for f in state.store.fields.values() if f.name == "Feedback")
        if not any(o.name == UNKNOWN_KIND[pm] for o in field.options):
            field.options.append(EnumOption(state.store.gid(), UNKNOWN_KIND[pm], "green"))
    key = state.add_feedback(project, "Customer praises the team", "feedback")
    state.modify(key, fields={"Feedback": UNKNOWN_KIND[pm]})
    return key


@pytest.mark.parametrize(("crm", "pm"), PAIRS, ids=[f"{c}+{p}" for c, p in PAIRS])
def test_bad_feedback_items_are_dead_lettered_and_the_rest_go_on(
    crm: str, pm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = _strict_feedback_mapping(pm, tmp_path)
    rt = open_pair_runtime(crm, pm, tmp_path, monkeypatch, mappings={"pm": strict})
    try:
        run_handoff(HANDOFF, _won_to_project(rt), rt.store)
        project = rt.store.links(HANDOFF)[0].target_key
        assert project is not None
        # An untitled item: Jira gives no summary, Asana an empty name.
        title, path = ("summary", "fields.summary") if pm == "jira" else ("name", "name")
        kind_path = "fields.labels[" if pm == "jira" else "custom_fields["
        good = _add_feedback(rt, project, "Customer wants the analytics add-on", {})
        untitled = Break(
            "no title", {title: None if pm == "jira" else ""}, ("text", path), "a value is required"
        )
        huge = Break(
            "oversize title", {title: "y" * OVERSIZE}, ("text", path), f"{OVERSIZE:,} characters"
        )
        breaks = {
            b.label: (_add_feedback(rt, project, f"soon: {b.label}", b.changes), b)
            for b in (untitled, huge)
        }
        breaks["unknown kind"] = (
            _add_unknown_kind(rt, pm, project),
            Break("unknown kind", {}, ("feedback_kind", kind_path), "not in the value map"),
        )
        settings = rt.loaded.config.handoffs.feedback_to_lead
        assert settings is not None
        handoff = FeedbackToLead(rt, settings.model_copy(update={"batch_size": 500}))

        first = run_handoff(FEEDBACK, handoff, rt.store)

        _finished(first, rt, FEEDBACK)
        letters = {row.record_id: row for row in rt.store.dead_letters(handoff=FEEDBACK)}
        assert first.counts["failed"] == len(letters), first.counts
        mine = {key for key, _ in breaks.values()}
        assert mine <= set(letters)
        # Seeded feedback outside any linked project has no account: HubSpot refuses its lead.
        assert all(letters[k].reason.startswith("create lead: ") for k in set(letters) - mine)
        for key, broken in breaks.values():
            _check_letter(letters[key], FEEDBACK, broken)
        assert f"value '{UNKNOWN_KIND[pm]}'" in letters[breaks["unknown kind"][0]].reason
        leads = {lk.source_id: lk.target_id for lk in rt.store.links(FEEDBACK)}
        assert good in leads and leads.keys().isdisjoint(letters)
        assert first.counts["created"] == len(leads)

        rt.store.set_cursor(handoff.cursor_name(), None)
        again = run_handoff(FEEDBACK, handoff, rt.store)

        _finished(again, rt, FEEDBACK)
        assert again.counts.get("created", 0) == 0
        assert {lk.source_id: lk.target_id for lk in rt.store.links(FEEDBACK)} == leads
        repeated = rt.store.dead_letters(handoff=FEEDBACK)
        assert len(repeated) == len(letters) and {r.attempts for r in repeated} == {2}
    finally:
        rt.close()
