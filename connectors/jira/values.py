"""Field values between the hub and Jira.

JQL field names, text-search escaping, matching found values, and turning a
record into ``IssueUpdateDetails``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from handoff_hub.connectors.jira.records import adf

__all__ = ["issue_update", "jql_name", "lucene_escape", "match_value"]


def jql_name(field: str) -> str:
    """``customfield_10050`` -> ``cf[10050]`` (JQL's spelling); other names unchanged."""
    number = field.removeprefix("customfield_")
    return f"cf[{number}]" if number != field and number.isdigit() else field


_LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
_LUCENE_WORDS = re.compile(r"(?<!\S)(AND|OR|NOT)(?!\S)")


def lucene_escape(value: str) -> str:
    """Escape Jira text-search operators so that ``~`` looks for the value as written.

    That is the special characters and the words ``AND``, ``OR`` and ``NOT``
    (``a NOT b`` would leave out the very issue holding it).
    """
    escaped = "".join("\\" + ch if ch in _LUCENE_SPECIAL else ch for ch in value)
    return _LUCENE_WORDS.sub(r"\\\1", escaped)


def match_value(
    issue: Mapping[str, Any], field: str, wanted: Sequence[str], found: dict[str, str]
) -> None:
    """Record in ``found`` each wanted value the issue's ``field`` holds (first issue wins)."""
    value = (issue.get("fields") or {}).get(field)
    candidates = value if isinstance(value, list) else [value]
    for candidate in map(_plain, candidates):
        for requested in wanted:
            if candidate is not None and _same(candidate, requested):
                found.setdefault(requested, str(issue["key"]))


def _plain(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for key in ("value", "key", "accountId", "name", "id"):
            if value.get(key) is not None:
                return str(value[key])
        return None
    return None if value is None else str(value)


def _same(actual: str, requested: str) -> bool:
    if actual == requested:
        return True
    try:
        return Decimal(actual) == Decimal(requested)
    except InvalidOperation:
        return False


def wire_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Issue fields as Jira v3 takes them: the one place plain text becomes ADF.

    The mapping decides which fields and values; this decides their wire form,
    so every write (an update, an epic, a template task) sends the same.
    """
    wired = dict(fields)
    if "description" in wired:
        wired["description"] = adf(wired["description"])
    return wired


def issue_update(record: Mapping[str, Any]) -> dict[str, Any]:
    """A field map (or a whole ``IssueUpdateDetails``) as ``IssueUpdateDetails``."""
    update = (
        dict(record)
        if {"fields", "update", "properties"} & set(record)
        else {"fields": dict(record)}
    )
    fields = update.get("fields")
    if isinstance(fields, Mapping):
        update["fields"] = wire_fields(fields)
    return update
