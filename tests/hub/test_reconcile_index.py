"""The reconcile's on-disk index: links read once, looked up by either end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from handoff_hub.hub.reconcile.index import RecordIndex

MADE = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def index() -> Iterator[RecordIndex]:
    opened = RecordIndex()
    opened.load_links(
        [
            [("D1", "101", "DEL-1", MADE, ""), ("D2", "102", "DEL-2", None, "")],
            [("D3", "103", None, MADE, ""), ("D4", "101", "DEL-1", MADE, "")],
        ]
    )
    yield opened
    opened.close()


def _deal(deal_id: str, *, won: bool = True, closed: dt.date | None = None) -> tuple[Any, ...]:
    return (deal_id, f"stamp-{deal_id}", f"Deal {deal_id}", won, closed, closed is not None, None)


def test_won_deals_with_a_link_are_linked_once_every_deal_is_in(index: RecordIndex) -> None:
    index.add_deals([_deal("D1"), _deal("D2"), _deal("D3", won=False), _deal("D9")])
    index.deals_done()
    found = index.deals(["D1", "D2", "D3", "D9"])
    assert {d for d, row in found.items() if row.linked} == {"D1", "D2"}  # D3 is not won
    assert [deal for deal, _ in index.won_without_project()] == ["D9"]


def test_links_to_a_project_by_its_id_or_its_key_in_link_order(index: RecordIndex) -> None:
    found = index.links_to(["DEL-1", "103", "DEL-9"])
    assert found == {
        "DEL-1": [("D1", "101", ""), ("D4", "101", "")],
        "103": [("D3", "103", "")],
    }
    assert index.links_to(["101"]) == {"101": [("D1", "101", ""), ("D4", "101", "")]}


def test_unseen_links_leave_out_matched_links_and_seen_projects(index: RecordIndex) -> None:
    assert [row[0] for row in index.unseen_links()] == ["D1", "D2", "D3", "D4"]
    index.add_links_seen(["D1"])
    index.add_projects(
        [("102", "DEL-2", "Project two", None, None, None)]
    )  # seen by its id and key
    index.add_projects([("103", "103", "Project three", None, None, None)])
    assert list(index.unseen_links()) == [("D4", "101", "DEL-1")]


def test_days_to_project_count_from_the_close_date_at_midnight_utc() -> None:
    made = dt.datetime(2026, 10, 3, 12, 0, tzinfo=dt.UTC)
    index = RecordIndex()
    try:
        index.load_links(
            [
                [
                    ("D1", "1", "P-1", made, ""),
                    ("D2", "2", "P-2", made, ""),
                    ("D3", "3", "P-3", None, ""),
                ],
                [("D1", "9", "P-9", made + dt.timedelta(days=30), "")],  # a later, second link
                [("D4", "4", "P-4", made, ""), ("D5", "5", "P-5", made, "")],
            ]
        )
        index.add_deals(
            [
                _deal("D1", closed=dt.date(2026, 10, 1)),
                _deal("D2", closed=dt.date(2026, 10, 5)),  # linked before it closed
                _deal("D3", closed=dt.date(2026, 10, 1)),  # the link has no time
                _deal("D4"),  # no close date: outside every window
                _deal("D5", won=False, closed=dt.date(2026, 10, 1)),
            ]
        )
        index.deals_done()
        assert index.days_to_project() == [0.0, 2.5]
    finally:
        index.close()


def test_a_stamp_no_product_can_hold_is_stored_and_matches_no_deal(index: RecordIndex) -> None:
    index.add_deals([_deal("D1")])
    index.add_projects([("P1", "P-1", "Project", "stamp-\ud83d", None, None)])
    assert index.deals_by_stamp(["stamp-\ud83d", "STAMP-D1"]) == {"stamp-d1": "D1"}


def test_an_unreadable_deal_is_there_but_neither_won_nor_linked(index: RecordIndex) -> None:
    index.add_unreadable_deals(["D1"])
    index.deals_done()
    [row] = index.deals(["D1"]).values()
    assert not row.readable and not row.won and not row.linked
    assert list(index.won_without_project()) == []
