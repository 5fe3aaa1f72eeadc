"""Small pure helpers: Jira timestamps, cursors, JQL minutes, stamp labels, ADF.

JQL compares dates at minute precision in the *searching user's* time zone,
so a read from a cursor asks for ``updated >= "<cursor's minute, local>"``:
every issue of that minute comes back again (an overlap, never a gap).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from connectors.jira import settings
from hub.errors import ConnectorError
from hub.mapping.transforms import text_to_adf

__all__ = [
    "adf",
    "chunks",
    "cursor_text",
    "is_issue_ref",
    "jql_minute",
    "parse_cursor",
    "parse_jira_time",
    "stamp_label",
]

_LABEL_UNSAFE = re.compile(settings.LABEL_FORBIDDEN)
_ISSUE_REF = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+|\d+")


def is_issue_ref(value: str) -> bool:
    """True for an issue key (``DEL-12``) or a numeric issue id; nothing else names an issue."""
    return _ISSUE_REF.fullmatch(value) is not None


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Yield consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_jira_time(value: Any, where: str, system: str) -> dt.datetime:
    """A Jira timestamp (``2026-11-20T10:15:32.123+0100``) as an aware UTC datetime.

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
    return parse_jira_time(text, "cursor", system)


def cursor_text(value: dt.datetime) -> str:
    """The cursor form of an instant: ISO 8601 in UTC, milliseconds."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def jql_minute(instant: dt.datetime, zone: str) -> str:
    """``yyyy/MM/dd HH:mm`` in ``zone`` that no reading of can fall after ``instant``.

    The minute is floored (so the clause re-reads that minute). When the local
    time is ambiguous (the hour repeated at the end of daylight saving time)
    the text is moved back until even its later reading is not after
    ``instant``: an overlap is harmless, a gap would skip changes.
    """
    tz = ZoneInfo(zone)
    candidate = instant
    for _ in range(4):
        local = candidate.astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
        latest = max(local.replace(tzinfo=tz, fold=f).astimezone(dt.UTC) for f in (0, 1))
        if latest <= instant:
            return local.strftime(settings.JQL_DATE_FORMAT)
        candidate -= latest - instant
    return (instant - dt.timedelta(hours=3)).astimezone(tz).strftime(settings.JQL_DATE_FORMAT)


def stamp_label(source_id: str, prefix: str = settings.STAMP_LABEL_PREFIX) -> str:
    """The label stamped on everything created for ``source_id``: ``hh-src-crm-006dn00000abc``.

    Labels cannot hold white space, and Jira compares them without regard to
    case, so the id is lower-cased and every character other than a letter,
    digit, ``_``, ``.`` or ``-`` becomes ``-``. Distinct ids may share a label
    (Salesforce 15-character ids differ only in case); the ``handoff-hub``
    entity property holds the exact id and decides. Over 255 characters, the
    label ends in a hash of the id.
    """
    label = prefix + _LABEL_UNSAFE.sub("-", source_id.lower())
    if len(label) > settings.LABEL_MAX_LENGTH:
        digest = hashlib.sha256(source_id.encode()).hexdigest()[:10]
        label = label[: settings.LABEL_MAX_LENGTH - 11] + "-" + digest
    return label


def adf(value: Any) -> Any:
    """Plain text as an Atlassian Document Format document (ADF passes through)."""
    if value is None or isinstance(value, Mapping):
        return value
    return text_to_adf(str(value))
