"""``hub plan``: summary first, the values each write would carry, --json, --limit; no writes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.console import console
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.connector import NewProject, ProjectTemplate, TemplateTask
from handoff_hub.hub.handoffs.preview import project_preview
from handoff_hub.hub.model import Money, Project
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

runner = CliRunner()
PAIRS = [("salesforce", "jira"), ("hubspot", "asana")]
MONEY = re.compile(r"^[A-Z]{3} \d{1,3}(,\d{3})*\.\d{2}$")


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as their content, whatever COLUMNS the tests run under."""
    monkeypatch.setattr(console, "width", 240)


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, list[Any]]]:
    """A sandboxed pair with won deals and no project yet, and the hub config for it."""
    crm, pm = request.param
    running: dict[str, RunningSandbox] = {
        crm: serve_in_thread(make_sandbox(crm, seed=3, records=30)),
        pm: serve_in_thread(make_sandbox(pm, seed=3, records=5)),
    }
    targets = {name: (run.url, run.sandbox) for name, run in running.items()}
    prefix = f"HUB_PLANCLI_{crm}_{pm}".upper()
    config = write_sandbox_config(example_for(crm, pm), tmp_path, targets, env_prefix=prefix)
    try:
        yield config, [run.sandbox for run in running.values()]
    finally:
        for run in running.values():
            run.stop()


def _plan(config: Path, *options: str) -> str:
    result = runner.invoke(app, ["plan", "-c", str(config), *options])
    assert result.exit_code == 0, result.output
    return result.output


def _store_rows(config: Path) -> dict[str, int]:
    from sqlalchemy import inspect, text

    store = StateStore(f"sqlite:///{config.parent / 'state.db'}")
    try:
        with store.engine.connect() as conn:
            return {
                table: conn.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
                for table in inspect(conn).get_table_names()
            }
    finally:
        store.close()


def test_the_table_shows_the_summary_first_then_each_write_with_its_values(
    world: tuple[Path, list[Any]],
) -> None:
    config, sandboxes = world
    for sandbox in sandboxes:
        sandbox.journal.clear()

    output = _plan(config, "won-to-project")

    lines = output.splitlines()
    summary = re.fullmatch(r"plan: won-to-project: (\d+) create", lines[0])
    assert summary is not None, output
    assert lines[1].startswith("  first run: reads every record")
    assert "won-to-project, record by record" in lines[2]
    assert output.count("template: standard-delivery (8 tasks)") == int(summary.group(1))
    budgets = re.findall(r"budget: ([A-Z]{3} [\d,]+\.\d{2})", output)
    assert len(budgets) == int(summary.group(1))
    assert re.search(r"manager: \S+@\S+ \(", output)
    assert re.search(r"start: \d{4}-\d{2}-\d{2}", output)
    assert [c for sandbox in sandboxes for c in sandbox.journal.writes()] == []


def test_json_gives_each_record_its_values_and_the_product_fields(
    world: tuple[Path, list[Any]],
) -> None:
    config, sandboxes = world
    before = _store_rows(config)
    assert "links" in before and "runs" in before
    for sandbox in sandboxes:
        sandbox.journal.clear()

    plan = json.loads(_plan(config, "won-to-project", "--json"))

    (won,) = plan["handoffs"]
    assert won["handoff"] == "won-to-project" and won["summary"]["create"] >= 2
    assert len(won["records"]) == won["summary"]["create"] and won["not_shown"] == 0
    for record in won["records"]:
        values = record["writes"]["values"]
        assert record["action"] == "create"
        assert MONEY.match(values["budget"]), values["budget"]
        start, due = (dt.date.fromisoformat(values[k]) for k in ("start", "due"))
        assert (due - start).days == 90  # the template's last task is due 90 days in
        assert values["template"] == "standard-delivery (8 tasks)"
        amount = Decimal(values["budget"][4:].replace(",", ""))
        sent = json.dumps(record["writes"]["fields"])
        assert values["budget"][:3] in sent and str(float(amount)) in sent
    assert [c for sandbox in sandboxes for c in sandbox.journal.writes()] == []
    assert _store_rows(config) == before


def test_limit_shows_n_records_and_counts_all(world: tuple[Path, list[Any]]) -> None:
    config, _ = world

    plan = json.loads(_plan(config, "won-to-project", "--json", "--limit", "1"))
    table = _plan(config, "won-to-project", "--limit", "1")

    (won,) = plan["handoffs"]
    assert len(won["records"]) == 1
    assert won["not_shown"] == won["summary"]["create"] - 1 >= 1
    assert f"... and {won['not_shown']} more (--limit)" in table
    assert table.count("template: standard-delivery") == 1


def test_a_handoff_with_nothing_to_list_has_no_table(world: tuple[Path, list[Any]]) -> None:
    config, _ = world

    output = _plan(config)

    assert "plan: feedback-to-lead: nothing to do" in output
    assert "feedback-to-lead, record by record" not in output
    assert "won-to-project, record by record" in output


def _new(template: ProjectTemplate, manager_id: str | None) -> NewProject:
    return NewProject("crm:1", "Acme - Rollout", {}, template, manager_id=manager_id)


def test_a_preview_says_what_is_missing_rather_than_leaving_it_blank() -> None:
    template = ProjectTemplate("small", (TemplateTask("Kick-off"),))
    bare = Project(name="Acme - Rollout", start=dt.date(2027, 1, 4))
    costed = bare.model_copy(update={"budget": Money(amount=Decimal("1200.5"), currency="EUR")})

    empty = project_preview(bare, _new(template, None), pm="pm", manager=None).values
    unmatched = project_preview(costed, _new(template, None), pm="pm", manager="a@x.example")
    matched = project_preview(costed, _new(template, "u-1"), pm="pm", manager="a@x.example")

    assert empty["budget"] == "none (the deal has no amount)"
    assert empty["manager"] == "none (the deal has no owner's e-mail)"
    assert empty["due"] == "none (no task has a due offset)"
    assert empty["template"] == "small (1 task)"
    assert unmatched.values["budget"] == "EUR 1,200.50"
    assert unmatched.values["manager"] == (
        "a@x.example (no pm user has it: the project would have no manager)"
    )
    assert matched.values["manager"] == "a@x.example (pm user u-1)"


def test_a_sync_update_shows_the_values_it_would_write_on_each_side(
    world: tuple[Path, list[Any]],
) -> None:
    config, sandboxes = world
    assert runner.invoke(app, ["reconcile", "-c", str(config), "--fix"]).exit_code == 0
    store = StateStore(f"sqlite:///{config.parent / 'state.db'}")
    (link, *_) = store.links("won-to-project")
    store.close()
    _move_due_date(sandboxes[1], link.target_id)
    for sandbox in sandboxes:
        sandbox.journal.clear()

    plan = json.loads(_plan(config, "sync", "--json"))

    (update,) = [r for r in plan["handoffs"][0]["records"] if r["action"] == "update"]
    assert update["record"] == link.source_id
    assert update["why"] == "delivery_due -> CRM"
    assert update["writes"]["values"] == {"crm: delivery_due": "2031-06-30"}
    assert [c for sandbox in sandboxes for c in sandbox.journal.writes()] == []


def _move_due_date(pm_sandbox: Any, project: str) -> None:
    """A project manager moves the project's due date in the project tool."""
    state = pm_sandbox.state
    if hasattr(state, "modify_project"):
        state.modify_project(project, due_on="2031-06-30")
    else:
        state.modify(project, duedate=dt.date(2031, 6, 30))


def test_changes_are_shown_as_people_read_them() -> None:
    from handoff_hub.hub.handoffs.preview import changes_preview

    preview = changes_preview(
        "crm, pm",
        {
            "pm": {"due": dt.date(2027, 3, 1), "manager.ref": None},
            "crm": {
                "delivery_percent": Decimal("42.5"),
                "budget": {"amount": 9, "currency": "EUR"},
            },
        },
    )

    assert preview.values == {
        "pm: due": "2027-03-01",
        "pm: manager.ref": "(blank)",
        "crm: delivery_percent": "42.5",
        "crm: budget": "EUR 9.00",
    }
