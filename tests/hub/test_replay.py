"""Replaying dead letters through the normal engine, against in-process sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK
from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead
from handoff_hub.hub.handoffs.replay import REPLAY_RUN, ReplayError, replay_dead_letters
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK
from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import DeadLetterRow
from handoff_hub.sandboxes.kit import Sandbox


def _won(rt: Runtime) -> dict[str, int]:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return run_handoff(WON, WonToProject(rt, settings), rt.store).counts


def _broken_won_deal(rt: Runtime, sf: Sandbox) -> tuple[str, DeadLetterRow]:
    """A won deal whose Amount the mapping cannot read, dead-lettered by a run."""
    bad: str = sf.state.add_opportunity("Broken deal", stage="Closed Won")  # type: ignore[attr-defined]
    with sf.store.lock:  # type: ignore[attr-defined]
        sf.store.lookup(bad)[1]["Amount"] = "n/a"  # type: ignore[attr-defined]
    assert _won(rt)["failed"] == 1
    [letter] = rt.store.dead_letters()
    assert (letter.handoff, letter.system, letter.object, letter.record_id) == (
        WON,
        "crm",
        "Opportunity",
        bad,
    )
    return bad, letter


def _fix_quietly(sf: Sandbox, record_id: str, **fields: object) -> None:
    """Correct a record without bumping its modified date: only a fresh read by id sees it."""
    with sf.store.lock:  # type: ignore[attr-defined]
        sf.store.lookup(record_id)[1].update(fields)  # type: ignore[attr-defined]


def test_a_fixed_deal_replays_into_its_project_once(runtime: Runtime, sf_sandbox: Sandbox) -> None:
    bad, letter = _broken_won_deal(runtime, sf_sandbox)
    _fix_quietly(sf_sandbox, bad, Amount=1200.0)
    assert letter.payload["Amount"] == "n/a", "the stored payload is stale"

    counts = replay_dead_letters(runtime, [letter])

    assert counts["replayed"] == 1 and counts[f"{WON}: created"] == 1, counts
    assert counts.get("failed", 0) == 0 and counts.get("gone", 0) == 0
    replayed = runtime.store.dead_letter_by_id(letter.id)
    assert replayed is not None and replayed.status == "replayed"
    [link] = [lk for lk in runtime.store.links(WON) if lk.source_id == bad]
    found = runtime.pm("pm").find_project(f"crm:{bad}")
    assert found is not None and found.id == link.target_id
    [run] = runtime.store.runs(REPLAY_RUN)
    assert run.status == "succeeded" and run.counts["replayed"] == 1
    actions = {(e.action, e.outcome) for e in runtime.store.audit_events(run_id=run.id)}
    assert ("create_project", "ok") in actions and ("write_back", "ok") in actions

    again = replay_dead_letters(runtime, [replayed])
    assert again == {"not_open": 1}
    assert replay_dead_letters(runtime, runtime.store.dead_letters()) == {}
    assert len(runtime.store.runs(REPLAY_RUN)) == 1
    assert len([lk for lk in runtime.store.links(WON) if lk.source_id == bad]) == 1


def test_a_record_still_broken_stays_open_with_one_more_attempt(
    runtime: Runtime, sf_sandbox: Sandbox
) -> None:
    bad, letter = _broken_won_deal(runtime, sf_sandbox)

    counts = replay_dead_letters(runtime, [letter])

    assert counts["failed"] == 1 and counts.get("replayed", 0) == 0, counts
    after = runtime.store.dead_letter_by_id(letter.id)
    assert after is not None and after.status == "open" and after.attempts == 2
    [run] = runtime.store.runs(REPLAY_RUN)
    assert run.status == "completed_with_failures" and after.run_id == run.id
    assert not [lk for lk in runtime.store.links(WON) if lk.source_id == bad]


def test_a_deleted_record_stays_open_as_gone(runtime: Runtime, sf_sandbox: Sandbox) -> None:
    bad, letter = _broken_won_deal(runtime, sf_sandbox)
    sf_sandbox.state.delete("Opportunity", bad)  # type: ignore[attr-defined]

    counts = replay_dead_letters(runtime, [letter])
    assert counts == {"gone": 1}
    twice = replay_dead_letters(runtime, runtime.store.dead_letters())
    assert twice == {"gone": 1}

    [after] = runtime.store.dead_letters()
    assert after.id == letter.id and after.attempts == 1
    assert after.reason.startswith(letter.reason)
    assert after.reason.count("no longer in crm") == 1


def test_a_letter_without_a_record_id_cannot_be_replayed(runtime: Runtime) -> None:
    runtime.store.dead_letter(
        None,
        handoff=WON,
        system="crm",
        object_name="Opportunity",
        record_id="?",
        reason="mapping: no Id",
        payload={},
    )
    counts = replay_dead_letters(runtime, runtime.store.dead_letters())
    assert counts == {"unreplayable": 1}
    [letter] = runtime.store.dead_letters()
    assert "no record id" in letter.reason


def test_an_unknown_or_disabled_handoff_is_a_clear_error_before_any_write(
    runtime: Runtime, sf_sandbox: Sandbox
) -> None:
    bad, letter = _broken_won_deal(runtime, sf_sandbox)
    _fix_quietly(sf_sandbox, bad, Amount=1200.0)
    runtime.store.dead_letter(
        None,
        handoff="sync",
        system="crm",
        object_name="Opportunity",
        record_id=bad,
        reason="?",
        payload={},
    )
    letters = runtime.store.dead_letters()
    with pytest.raises(ReplayError, match="'sync', which cannot be replayed"):
        replay_dead_letters(runtime, letters)

    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    settings.enabled = False
    with pytest.raises(ReplayError, match=f"{letter.id} are from 'won-to-project', which is not"):
        replay_dead_letters(runtime, [letter])
    assert runtime.store.runs(REPLAY_RUN) == []
    assert [r.status for r in runtime.store.dead_letters(status=None)] == ["open", "open"]


@pytest.fixture
def sf_jira(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    rt = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    yield rt
    rt.close()


@pytest.fixture
def hubspot_jira(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    rt = open_pair_runtime("hubspot", "jira", tmp_path, monkeypatch)
    yield rt
    rt.close()


def test_risk_and_health_letters_replay_once_fixed(sf_jira: Runtime) -> None:
    rt = sf_jira
    sf = rt.sandboxes["crm"]  # type: ignore[attr-defined]
    jira = rt.sandboxes["pm"]  # type: ignore[attr-defined]
    settings = rt.loaded.config.handoffs.risk_to_account_manager
    assert settings is not None

    def run() -> dict[str, int]:
        return run_handoff(RISK, RiskToAccountManager(rt, settings), rt.store).counts

    _won(rt)
    run()
    first, second = rt.store.links(WON)[:2]
    # A health value the mapping does not know; an account owner the CRM refuses.
    jira.state.set_health(first.target_key, "purple")
    account = sf.state.get("Opportunity", second.source_id)["AccountId"]
    owner = sf.state.get("Account", account)["OwnerId"]
    _fix_quietly(sf, account, OwnerId="005000000000000AAA")
    risk = jira.state.add_risk(second.target_key, "Vendor API not ready", "critical")
    assert run()["failed"] >= 2
    letters = {(r.object, r.record_id): r for r in rt.store.dead_letters()}
    assert ("Project", first.target_key) in letters, letters
    assert ("Risk", f"risk:{risk}") in letters, letters
    assert "FIELD_INTEGRITY_EXCEPTION" in letters["Risk", f"risk:{risk}"].reason

    jira.state.set_health(first.target_key, "red")
    _fix_quietly(sf, account, OwnerId=owner)
    counts = replay_dead_letters(rt, list(letters.values()))

    assert counts["replayed"] == len(letters) and counts.get("failed", 0) == 0, counts
    assert counts[f"{RISK}: created"] >= 2, counts
    assert rt.store.dead_letters() == []
    tasks = {lk.source_id: lk for lk in rt.store.links(RISK)}
    assert tasks[f"risk:{risk}"].state == "open"
    assert tasks[f"health:{first.target_key}"].state == "open"
    found = rt.connector("crm").read_by_ids("Task", [tasks[f"risk:{risk}"].target_id])
    assert len(found) == 1
    assert run().get("created", 0) == 0, "the replay's work is not done twice"


def test_feedback_letter_replays_once_the_item_is_corrected_in_the_product(
    hubspot_jira: Runtime,
) -> None:
    rt = hubspot_jira
    jira = rt.sandboxes["pm"]  # type: ignore[attr-defined]
    settings = rt.loaded.config.handoffs.feedback_to_lead
    assert settings is not None
    _won(rt)
    linked = [lk.target_key for lk in rt.store.links(WON)]
    # A summary broken behind the API's back: text no product can store.
    item = jira.state.add_feedback(linked[0], "Customer wants single sign-on \ud83d", "need")
    run_handoff(FEEDBACK, FeedbackToLead(rt, settings), rt.store)
    [letter] = [r for r in rt.store.dead_letters() if r.record_id == item]
    assert letter.object == "Feedback" and "unpaired surrogate" in letter.reason
    others = len(rt.store.dead_letters()) - 1

    jira.state.modify(item, summary="Customer wants single sign-on")
    counts = replay_dead_letters(rt, [letter])

    assert counts["replayed"] == 1 and counts[f"{FEEDBACK}: created"] == 1, counts
    after = rt.store.dead_letter_by_id(letter.id)
    assert after is not None and after.status == "replayed"
    [lead] = [lk for lk in rt.store.links(FEEDBACK) if lk.source_id == item]
    assert lead.state == "complete"
    assert len(rt.store.dead_letters()) == others, "only the letter asked for is replayed"
