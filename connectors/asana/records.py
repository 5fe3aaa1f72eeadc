"""Small pure helpers: Asana timestamps, cursors, paths, the notes stamp.

Asana writes instants as ISO 8601 in UTC with milliseconds
(``2026-11-20T10:15:32.123Z``); cursors are stored in the same form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from connectors.asana import settings
from hub.errors import ConnectorError

__all__ = [
    "api_path",
    "chunks",
    "cursor_text",
    "gid_of",
    "notes_with_stamp",
    "parse_asana_time",
    "parse_cursor",
    "stamp_in_notes",
    "wire_time",
]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Yield consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def api_path(pattern: str, /, **parts: str) -> str:
    """A path template with its gids URL-quoted (a gid never changes the path).

    Dots are quoted too: httpx would resolve a ``..`` part as a step up the path.
    """
    return pattern.format(
        **{k: quote(str(v), safe="").replace(".", "%2E") for k, v in parts.items()}
    )


def parse_asana_time(value: Any, where: str, system: str) -> dt.datetime:
    """An Asana timestamp as an aware UTC datetime.

    Raises:
        ConnectorError: naming ``where`` when the value is missing or unreadable.
    """
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC)
    raise ConnectorError(f"{where}: unreadable timestamp {value!r}", system=system)


def parse_cursor(text: str, system: str) -> dt.datetime:
    """Read a stored cursor (ISO 8601 with an offset).

    Raises:
        ConnectorError: when the cursor is not an aware ISO 8601 timestamp.
    """
    return parse_asana_time(text, "cursor", system)


def cursor_text(value: dt.datetime) -> str:
    """The cursor form of an instant: ISO 8601 in UTC with milliseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def wire_time(value: dt.datetime) -> str:
    """An instant as Asana writes it (``2026-11-20T10:15:32.123Z``)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


def gid_of(value: Any) -> str | None:
    """The gid of ``{"gid": ...}`` or of a plain gid string; None otherwise."""
    if isinstance(value, Mapping):
        value = value.get("gid")
    return str(value) if isinstance(value, str | int) and str(value) else None


def stamp_in_notes(notes: Any) -> str | None:
    """The source id of the stamp line in a project's notes, if there is one."""
    if not isinstance(notes, str):
        return None
    for line in reversed(notes.splitlines()):
        if line.startswith(settings.STAMP_LINE_PREFIX):
            return line.removeprefix(settings.STAMP_LINE_PREFIX).strip() or None
    return None


def notes_with_stamp(notes: Any, source_id: str) -> str:
    """``notes`` ending in the stamp line of ``source_id`` (added once)."""
    text = notes if isinstance(notes, str) else ""
    if stamp_in_notes(text) == source_id:
        return text
    line = settings.STAMP_LINE_PREFIX + source_id
    return f"{text.rstrip()}\n\n{line}" if text.strip() else line
