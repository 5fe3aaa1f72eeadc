"""Digests of a run's notifications, and alerts on failed runs, dead letters, discrepancies."""

from __future__ import annotations

import datetime as dt

import pytest

from handoff_hub.hub.config.root import AlertsConfig
from handoff_hub.hub.digest import Digest, RunOutcome, alert_reconcile, alert_run, digest_message
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.notify import Delivery, Notifier
from handoff_hub.hub.runtime import Runtime

TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], str, str]]:
    """Every message a Notifier sends: its URLs, title and body."""
    messages: list[tuple[list[str], str, str]] = []

    def send(self: Notifier, title: str, body: str) -> Delivery:
        messages.append((list(self._urls), title, body))
        return Delivery(True, "test")

    monkeypatch.setattr(Notifier, "send", send)
    return messages


def _won_to_project(runtime: Runtime, **notify: object) -> WonToProject:
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    settings = settings.model_copy(update={"notify": settings.notify.model_copy(update=notify)})
    return WonToProject(runtime, settings, today=TODAY)


def test_each_record_is_told_on_its_own_by_default(runtime: Runtime, sent: list) -> None:
    summary = run_handoff(HANDOFF, _won_to_project(runtime), runtime.store)
    assert summary.counts["created"] >= 3
    assert len(sent) == summary.counts["notified"] == summary.counts["created"]


def test_a_digest_tells_the_run_once_with_its_first_items(runtime: Runtime, sent: list) -> None:
    handoff = _won_to_project(runtime, digest=True, digest_items=2)
    summary = run_handoff(HANDOFF, handoff, runtime.store)
    created = summary.counts["created"]
    assert created >= 3 and summary.counts["notified"] == created
    [(_urls, title, body)] = sent
    assert title == "won-to-project: done"
    assert f"created {created}" in body
    items = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(items) == 2 and all("http" in line for line in items), body
    assert f"... and {created - 2} more" in body
    assert "{'amount'" not in body


def test_a_run_with_nothing_to_tell_sends_no_digest(runtime: Runtime, sent: list) -> None:
    run_handoff(HANDOFF, _won_to_project(runtime), runtime.store)
    sent.clear()
    run_handoff(HANDOFF, _won_to_project(runtime, digest=True), runtime.store)
    assert sent == []


def test_digest_names_the_failures() -> None:
    digest = Digest([], 5)
    digest.add("Project DEL-1 for Acme", "https://jira/DEL-1")
    outcome = RunOutcome("won-to-project", "r1", "completed_with_failures", {"failed": 1})
    title, body = digest_message(digest, outcome, ["crm Opportunity 006X: no close date"])
    assert title == "won-to-project: 1 failed"
    assert "- Project DEL-1 for Acme https://jira/DEL-1" in body
    assert "Failed:\n- crm Opportunity 006X: no close date" in body


def test_an_alert_tells_of_dead_letters_and_failed_runs(runtime: Runtime, sent: list) -> None:
    alerts = AlertsConfig(urls=["json://alerts.example/hook"])
    store = runtime.store
    clean = store.start_run(HANDOFF)
    assert alert_run(alerts, RunOutcome(HANDOFF, clean, "succeeded", {"created": 2}), store) is None
    run = store.start_run(HANDOFF)
    store.dead_letter(
        run,
        handoff=HANDOFF,
        system="crm",
        object_name="Opportunity",
        record_id="006X",
        reason="no close date",
        payload={},
    )
    assert alert_run(alerts, RunOutcome(HANDOFF, run, "succeeded", {"failed": 1}), store)
    failed = RunOutcome(HANDOFF, store.start_run(HANDOFF), "failed", {}, "jira: 401")
    assert alert_run(alerts, failed, store)
    assert [urls for urls, _, _ in sent] == [["json://alerts.example/hook"]] * 2
    assert "crm Opportunity 006X: no close date" in sent[0][2]
    assert sent[1][1] == "Handoff Hub alert: won-to-project run failed"
    assert "Error: jira: 401" in sent[1][2]


def test_alerts_go_only_where_asked(runtime: Runtime, sent: list) -> None:
    failed = RunOutcome(HANDOFF, runtime.store.start_run(HANDOFF), "failed", {}, "boom")
    only_reconcile = AlertsConfig(urls=["json://a.example/h"], on=["discrepancies"])
    assert alert_run(only_reconcile, failed, runtime.store) is None
    assert alert_run(None, failed, runtime.store) is None
    assert alert_reconcile(only_reconcile, {"field_drift": 0}, "crm->pm") is None
    assert alert_reconcile(only_reconcile, {"field_drift": 2, "missing": 0}, "crm->pm")
    [(_, title, body)] = sent
    assert title == "Handoff Hub alert: reconcile crm->pm found 2 discrepancies"
    assert "- field drift: 2" in body and "missing" not in body


def test_default_messages_leave_out_what_a_record_lacks() -> None:
    """No ``export to Power BI ()`` for an account without a name, no ``()`` for no amount."""
    from handoff_hub.hub.handoffs import feedback_to_lead, risk_to_account_manager, won_to_project
    from handoff_hub.hub.mapping.transforms import render_template

    feedback = render_template(
        feedback_to_lead.NOTIFY_BODY,
        {"feedback": {"text": "export to Power BI"}, "account": {"name": None}, "lead_url": "u"},
    )
    assert feedback == "export to Power BI became lead u"
    risk = render_template(
        risk_to_account_manager.NOTIFY_BODY,
        {
            "subject": "Late",
            "opportunity": {"name": "Acme"},
            "owner": {"email": None},
            "task_url": "t",
        },
    )
    assert risk == "Late on Acme. t"
    won = render_template(
        won_to_project.NOTIFY_BODY,
        {
            "project": {"name": "P"},
            "opportunity": {"name": "D", "amount": None},
            "project_url": "x",
            "warning": None,
        },
    )
    assert won == "P was created from the won deal D. x"
