"""The reconcile's on-disk index: links read once, looked up by either end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from hub.reconcile.index import RecordIndex

MADE = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def index() -> Iterator[RecordIndex]:
    opened = RecordIndex()
    opened.load_links(
        [
            [("D1", "101", "DEL-1", MADE), ("D2", "102", "DEL-2", None)],
            [("D3", "103", None, MADE), ("D4", "101", "DEL-1", MADE)],
        ]
    )
    yield opened
    opened.close()


def test_linked_deals_say_when_each_link_was_made(index: RecordIndex) -> None:
    assert index.linked_deals(["D1", "D2", "D9"]) == {"D1": MADE.timestamp(), "D2": None}


def test_links_to_a_project_by_its_id_or_its_key_in_link_order(index: RecordIndex) -> None:
    found = index.links_to(["DEL-1", "103", "DEL-9"])
    assert found == {"DEL-1": [("D1", "101"), ("D4", "101")], "103": [("D3", "103")]}
    assert index.links_to(["101"]) == {"101": [("D1", "101"), ("D4", "101")]}


def test_unseen_links_leave_out_matched_links_and_seen_projects(index: RecordIndex) -> None:
    assert [row[0] for row in index.unseen_links()] == ["D1", "D2", "D3", "D4"]
    index.add_links_seen(["D1"])
    index.add_projects([("102", "DEL-2", "Project two", None, None)])  # seen by its id and key
    index.add_projects([("103", "103", "Project three", None, None)])
    assert list(index.unseen_links()) == [("D4", "101", "DEL-1")]


def test_days_to_project_count_from_the_close_date_at_midnight_utc() -> None:
    from hub.reconcile.scan import _days_between

    made = dt.datetime(2026, 10, 3, 12, 0, tzinfo=dt.UTC).timestamp()
    assert _days_between(dt.date(2026, 10, 1), made) == 2.5
    assert _days_between(dt.date(2026, 10, 5), made) == 0.0  # linked before it closed
    assert _days_between(None, made) is None
    assert _days_between(dt.date(2026, 10, 1), None) is None
