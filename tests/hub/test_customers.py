"""A customer may be a company or a department of one: both CRMs carry the parent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.customers import Customers, read_customers
from handoff_hub.hub.model import Account
from handoff_hub.hub.runtime import Runtime


@pytest.fixture(params=["salesforce", "hubspot"])
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(request.param, "jira", tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _tree() -> Customers:
    accounts = [
        Account(refs={"crm": "g"}, name="Group"),
        Account(refs={"crm": "f"}, name="Finance", parent="g"),
        Account(refs={"crm": "a"}, name="Accounts payable", parent="f"),
        Account(refs={"crm": "o"}, name="Operations", parent="g"),
        Account(refs={"crm": "x"}, name="Hidden parent", parent="not-readable"),
        Account(refs={"crm": "l1"}, name="Loop 1", parent="l2"),
        Account(refs={"crm": "l2"}, name="Loop 2", parent="l1"),
    ]
    return Customers.of(accounts, "crm")


def test_the_top_level_customer_is_found_through_every_level() -> None:
    tree = _tree()
    assert [tree.top(a) for a in ("g", "f", "a", "o")] == ["g", "g", "g", "g"]
    assert tree.departments("g") == ["a", "f", "o"]  # by name: Accounts payable, Finance, ...
    assert tree.departments("f") == ["a"] and tree.departments("o") == []


def test_an_unreadable_parent_or_a_loop_ends_the_walk() -> None:
    tree = _tree()
    assert tree.top("x") == "x"
    assert tree.top("l1") in {"l1", "l2"} and tree.departments("l1") == ["l2"]
    assert tree.name("missing") == "missing"


def test_both_crms_read_the_parent_of_a_department(rt: Runtime) -> None:
    tree = read_customers(rt.connector("crm"), rt.mapping("crm"), "crm")
    tops = [ref for ref, account in tree.accounts.items() if tree.departments(ref)]
    group = next(ref for ref in tops if len(tree.departments(ref)) >= 2)
    for department in tree.departments(group):
        assert tree.accounts[department].parent is not None
        assert tree.top(department) == group
    assert tree.accounts[group].parent is None
