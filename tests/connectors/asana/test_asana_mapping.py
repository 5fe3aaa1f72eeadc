"""mappings/asana.yaml against the connector and its sandbox: reads, and won-to-project's writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from asana_support import PROJECT, TEMPLATE

from handoff_hub.hub.connector import NewProject
from handoff_hub.hub.mapping.engine import from_unified, to_unified, to_unified_many
from handoff_hub.hub.mapping.loader import check_mapping, load_mapping
from handoff_hub.hub.model import (
    Account,
    Feedback,
    FeedbackKind,
    Health,
    Money,
    Project,
    Task,
    TaskStatus,
    User,
)

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "asana.yaml"


@pytest.fixture(scope="module")
def spec():
    return load_mapping(MAPPING).bind_name("pm")


def test_mapping_loads_cleanly():
    loaded, issues = check_mapping(MAPPING)
    assert issues == [] and loaded is not None
    assert set(loaded.entities) == {"Project", "Task", "Feedback", "Risk", "Milestone"}


def test_projects_read_through_the_mapping(connector, sandbox, spec):
    entity = spec.entities["Project"]
    pages = connector.read_changes(entity.object, since=None, fields=entity.source_fields())
    projects, failures = to_unified_many(spec, "Project", [r.raw for p in pages for r in p.records])
    assert failures == []
    project = next(p for p in projects if p.refs["pm"] == PROJECT)
    assert isinstance(project, Project)
    assert project.budget == Money(
        amount=Decimal(str(sandbox.state.value(PROJECT, "Budget"))), currency="USD"
    )
    assert project.account is not None
    assert project.account.name == sandbox.state.value(PROJECT, "Customer")
    assert project.health is Health(sandbox.state.value(PROJECT, "Health").lower())
    assert project.status is TaskStatus.OPEN
    owner = sandbox.state.project(PROJECT)["owner"]
    assert project.manager is not None and project.manager.refs == {"pm": owner["gid"]}
    assert project.manager.name == owner["name"]
    assert project.url == f"https://app.asana.com/0/{PROJECT}/{PROJECT}"


def test_tasks_read_through_the_mapping(connector, sandbox, spec):
    entity = spec.entities["Task"]
    parent = next(t for t in sandbox.state.tasks(PROJECT) if sandbox.state.subtasks(t))
    pages = connector.read_changes(
        entity.object, since=None, fields=entity.source_fields(), where={"parent": parent}
    )
    tasks, failures = to_unified_many(spec, "Task", [r.raw for p in pages for r in p.records])
    assert failures == [] and tasks
    assert all(isinstance(t, Task) and t.parent == parent for t in tasks)
    top = next(
        p
        for p in connector.read_changes(
            "tasks", since=None, fields=entity.source_fields(), where={"project": PROJECT}
        )
    )
    mapped = to_unified(spec, "Task", top.records[0].raw)
    assert isinstance(mapped, Task) and mapped.project == PROJECT


def test_won_to_project_fields_reach_asana(connector, sandbox, spec):
    manager = sandbox.state.users()["mei.chen@acme-delivery.example"]
    unified = Project(
        name="Initech Labs - Pilot",
        account=Account(name="Initech Labs"),
        budget=Money(amount=Decimal("98500.50"), currency="USD"),
        due=dt.date(2027, 3, 1),
        manager=User(email="mei.chen@acme-delivery.example", refs={"pm": manager}),
        description="Delivery project for the won deal Pilot.",
    )
    fields = from_unified(spec, "Project", unified)
    assert fields == {
        "name": "Initech Labs - Pilot",
        "notes": "Delivery project for the won deal Pilot.",
        "custom_fields": {"budget": 98500.5, "budget_currency": "USD", "customer": "Initech Labs"},
        "due_on": "2027-03-01",
        "owner": {"gid": manager},
    }
    handle = connector.create_project(
        NewProject(
            "salesforce:006Hb00000PILOTIA1", unified.name, fields, TEMPLATE, dt.date(2026, 12, 1)
        )
    )
    assert sandbox.state.value(handle.id, "Budget") == 98500.5
    assert sandbox.state.value(handle.id, "Customer") == "Initech Labs"
    assert sandbox.state.project(handle.id)["owner"]["gid"] == manager
    back = to_unified(spec, "Project", sandbox.state.project(handle.id))
    assert isinstance(back, Project) and back.budget == unified.budget


def test_a_project_without_an_account_clears_the_customer(spec):
    assert from_unified(spec, "Project", Project(name="Bare")) == {
        "name": "Bare",
        "custom_fields": {"customer": ""},
    }


def test_feedback_items_are_the_flagged_tasks(connector, sandbox, spec):
    entity = spec.entities["Feedback"]
    pages = connector.read_changes(
        entity.object, since=None, fields=entity.source_fields(), where=entity.where
    )
    items, failures = to_unified_many(spec, "Feedback", [r.raw for p in pages for r in p.records])
    assert failures == []
    kinds = {i.text: i.feedback_kind for i in items if isinstance(i, Feedback)}
    assert kinds == {
        "Customer asks for SSO with Okta": FeedbackKind.FEEDBACK,
        "Customer wants a second region": FeedbackKind.NEED,
        "Upsell: premium support tier": FeedbackKind.UPSELL,
    }
    first = next(i for i in items if isinstance(i, Feedback) and i.project == PROJECT)
    assert first.account == sandbox.state.value(PROJECT, "Customer")
    assert first.reporter is not None and first.reporter.refs["pm"]
    assert first.url and first.url.endswith(first.refs["pm"])
