"""One reading and writing of cursors; products differ only in how a naive cursor is read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from handoff_hub.hub.errors import ConnectorError
from handoff_hub.hub.http import cursor_text, parse_cursor, parse_timestamp

UTC_NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def test_cursor_text_is_utc_with_milliseconds() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    instant = dt.datetime(2026, 11, 20, 13, 0, 0, 123456, tzinfo=paris)

    assert cursor_text(instant) == "2026-11-20T12:00:00.123+00:00"


@pytest.mark.parametrize("naive_is_utc", [True, False])
@pytest.mark.parametrize(
    "text",
    ["2026-11-20T12:00:00.000+00:00", "2026-11-20T12:00:00Z", "2026-11-20T13:00:00+0100"],
)
def test_a_cursor_with_an_offset_reads_as_utc(text: str, naive_is_utc: bool) -> None:
    parsed = parse_cursor(text, "crm", naive_is_utc=naive_is_utc)

    assert parsed == UTC_NOON and parsed.tzinfo == dt.UTC


def test_a_cursor_round_trips() -> None:
    assert parse_cursor(cursor_text(UTC_NOON), "crm") == UTC_NOON


def test_a_naive_cursor_is_utc_where_the_product_allows_it() -> None:
    assert parse_cursor("2026-11-20T12:00:00", "crm") == UTC_NOON


def test_a_naive_cursor_is_refused_where_the_product_always_sends_an_offset() -> None:
    with pytest.raises(ConnectorError, match="with an offset") as caught:
        parse_cursor("2026-11-20T12:00:00", "pm", naive_is_utc=False)

    assert caught.value.system == "pm"


@pytest.mark.parametrize("naive_is_utc", [True, False])
def test_a_cursor_that_is_no_datetime_is_refused(naive_is_utc: bool) -> None:
    with pytest.raises(ConnectorError, match="cursor 'last tuesday' is not an ISO 8601"):
        parse_cursor("last tuesday", "crm", naive_is_utc=naive_is_utc)


@pytest.mark.parametrize(
    "value", ["2026-11-20T13:00:00.000+0100", "2026-11-20T12:00:00.000Z", "2026-11-20T12:00:00Z"]
)
def test_a_timestamp_with_an_offset_reads_as_utc(value: str) -> None:
    assert parse_timestamp(value, "issue DEL-1 updated", "pm") == UTC_NOON


@pytest.mark.parametrize("value", [None, 17, "", "yesterday", "2026-11-20T12:00:00"])
def test_a_timestamp_missing_unreadable_or_naive_names_where_it_was(value: Any) -> None:
    with pytest.raises(ConnectorError, match="issue DEL-1 updated: unreadable timestamp"):
        parse_timestamp(value, "issue DEL-1 updated", "pm")
