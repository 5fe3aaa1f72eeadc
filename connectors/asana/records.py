"""Small pure helpers: Asana's wire timestamps, paths, the notes stamp.

Asana writes instants as ISO 8601 in UTC with milliseconds
(``2026-11-20T10:15:32.123Z``); they are read, and cursors kept, with
:mod:`handoff_hub.hub.http.cursors`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from handoff_hub.connectors.asana import settings

__all__ = [
    "api_path",
    "gid_of",
    "notes_with_stamp",
    "stamp_in_notes",
    "wire_time",
]


def api_path(pattern: str, /, **parts: str) -> str:
    """A path template with its gids URL-quoted (a gid never changes the path).

    Dots are quoted too: httpx would resolve a ``..`` part as a step up the path.
    """
    return pattern.format(
        **{k: quote(str(v), safe="").replace(".", "%2E") for k, v in parts.items()}
    )


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
