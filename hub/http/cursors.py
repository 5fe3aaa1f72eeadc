"""One reading and one writing of the ISO 8601 instants connectors keep as cursors.

A change cursor is the newest modified time a read has seen, stored as text
between runs. Every connector writes it the same way (UTC, milliseconds), so
that a cursor means one thing whichever product it came from. Products differ
only in whether a stored cursor without an offset is read as UTC or refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handoff_hub.hub.errors import ConnectorError

__all__ = ["cursor_text", "parse_cursor", "parse_timestamp"]


def cursor_text(value: dt.datetime) -> str:
    """The cursor form of an instant: ISO 8601 in UTC with milliseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def parse_cursor(text: str, system: str, *, naive_is_utc: bool = True) -> dt.datetime:
    """A stored cursor as an aware UTC datetime.

    Args:
        text: The cursor as stored.
        system: The hub's name for the system, for the error.
        naive_is_utc: Read a cursor without an offset as UTC; False refuses it
            (for products whose timestamps always carry one, a missing offset
            means the cursor was not written by the hub).

    Raises:
        ConnectorError: when the cursor is not an ISO 8601 datetime.
    """
    parsed = _iso(text)
    if parsed is not None and parsed.tzinfo is None and naive_is_utc:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed is None or parsed.tzinfo is None:
        kind = "datetime" if naive_is_utc else "datetime with an offset"
        raise ConnectorError(f"cursor {text!r} is not an ISO 8601 {kind}", system=system)
    return parsed.astimezone(dt.UTC)


def parse_timestamp(value: Any, where: str, system: str) -> dt.datetime:
    """A product's timestamp with an offset (``...+0100``, ``...Z``) as aware UTC.

    Raises:
        ConnectorError: naming ``where`` when the value is missing, unreadable
            or has no offset (an instant cannot be told from it).
    """
    parsed = _iso(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ConnectorError(f"{where}: unreadable timestamp {value!r}", system=system)
    return parsed.astimezone(dt.UTC)


def _iso(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
