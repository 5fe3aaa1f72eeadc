"""The reconcile's page spill: pages back in order, once, as they went in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from handoff_hub.hub.model import Money, Project, TaskStatus, User
from handoff_hub.hub.reconcile.spill import PageSpill


def _project(n: int) -> Project:
    return Project(
        refs={"pm": f"DEL-{n}"},
        name=f"Delivery {n} - Zürich 🚀",
        budget=Money(amount=Decimal("1234.50"), currency="EUR"),
        due=dt.date(2027, 3, 1),
        status=TaskStatus.DONE,
        manager=User(refs={"pm": "acc-1"}, name="Sam", email="sam@example.com"),
    )


def test_pages_come_back_equal_and_in_order() -> None:
    pages = [[_project(n), _project(n + 1)] for n in range(0, 10, 2)]
    with PageSpill[list[Project]]() as spill:
        for page in pages:
            spill.add(page)
        assert len(spill) == 5
        assert list(spill.take()) == pages


def test_take_empties_the_spill_which_then_takes_more() -> None:
    with PageSpill[str]() as spill:
        spill.add("a")
        spill.add("b")
        assert list(spill.take()) == ["a", "b"]
        assert len(spill) == 0
        assert list(spill.take()) == []
        spill.add("c")
        assert list(spill.take()) == ["c"]


def test_pages_are_read_back_one_at_a_time() -> None:
    with PageSpill[int]() as spill:
        for n in range(3):
            spill.add(n)
        taken = spill.take()
        assert next(taken) == 0
        assert next(taken) == 1
        assert list(taken) == [2]
