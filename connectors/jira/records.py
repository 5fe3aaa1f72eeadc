"""Small pure helpers: JQL minutes, stamp labels, ADF.

JQL compares dates at minute precision in the *searching user's* time zone,
so a read from a cursor asks for ``updated >= "<cursor's minute, local>"``:
every issue of that minute comes back again (an overlap, never a gap).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from handoff_hub.connectors.jira import settings
from handoff_hub.hub.mapping.transforms import text_to_adf

__all__ = [
    "adf",
    "is_issue_ref",
    "jql_minute",
    "stamp_label",
]

_LABEL_UNSAFE = re.compile(settings.LABEL_FORBIDDEN)
_ISSUE_REF = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d+|\d+")


def is_issue_ref(value: str) -> bool:
    """True for an issue key (``DEL-12``) or a numeric issue id; nothing else names an issue."""
    return _ISSUE_REF.fullmatch(value) is not None


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
