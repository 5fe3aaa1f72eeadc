"""json_at reads one field of an entity as dump would give it, without dumping it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from handoff_hub.hub.model import (
    Account,
    Health,
    Money,
    Opportunity,
    Project,
    Stage,
    TaskStatus,
    User,
    at_path,
    dump,
    json_at,
)

OPP = Opportunity(
    name=" Rollout ",
    refs={"salesforce": "006A"},
    stage=Stage.WON,
    amount=Money(amount=Decimal("1200.50"), currency="eur"),
    close_date=dt.date(2026, 10, 1),
    owner=User(name="Ann", email="ann@example.com", refs={"salesforce": "005A"}),
    account=Account(name="Acme", refs={"salesforce": "001A"}),
    delivery_health=Health.AMBER,
    modified_at=dt.datetime(2026, 10, 2, 9, 30, tzinfo=dt.UTC),
)
PROJECT = Project(
    name="DEL",
    refs={"jira": "DEL-1"},
    status=TaskStatus.IN_PROGRESS,
    due=dt.date(2027, 3, 1),
    manager=User(name="Bo", refs={"jira": "acc-1"}),
    percent_complete=40,
)


def _paths(data: Any, prefix: str = "") -> list[str]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, f"{prefix}.{key}" if prefix else key)
    return found


@pytest.mark.parametrize(
    ("entity", "some_paths"),
    [
        (OPP, {"amount.amount", "owner.refs.salesforce", "modified_at", "stage", "documents"}),
        (PROJECT, {"manager.refs.jira", "status", "due", "percent_complete", "health"}),
    ],
    ids=["opportunity", "project"],
)
def test_every_dumped_path_reads_the_same(
    entity: Opportunity | Project, some_paths: set[str]
) -> None:
    dumped = dump(entity)
    paths = _paths(dumped)
    assert some_paths <= set(paths)
    for path in paths:
        assert json_at(entity, path) == at_path(dumped, path), path


@pytest.mark.parametrize(
    "path", ["description", "account.name.more", "nope", "copy", "model_fields", "refs.asana"]
)
def test_absent_paths_and_model_attributes_read_none(path: str) -> None:
    assert json_at(OPP, path) is None
    assert at_path(dump(OPP), path) is None
