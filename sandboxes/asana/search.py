"""The workspace task search of the Asana sandbox (``GET /workspaces/{gid}/tasks/search``).

Emulated filters: ``text``, ``projects.any``, ``sections.any``, ``teams.any`` (tasks in
a project of one of the teams), ``completed``, ``is_subtask``,
``modified_at.after``/``.before``, ``created_at.after``/``.before`` and custom
fields (``custom_fields.{gid}.value``, ``.is_set``, ``.contains``). Results
are sorted by ``sort_by`` (default ``modified_at``, newest first) and cut at
``limit`` (default 20, at most 100); search has no offset paging. A change
shows only ``search_lag_seconds`` after it is made (the profile's), as
Asana's index trails writes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from handoff_hub.sandboxes.asana.data import Task
from handoff_hub.sandboxes.asana.store import AsanaStore

__all__ = ["search_tasks"]

_FIELD_PARAM = re.compile(r"^custom_fields\.(\d+)\.(value|is_set|contains)$")
_SORTS: dict[str, Callable[[Task], Any]] = {
    "modified_at": lambda t: t.modified_at,
    "created_at": lambda t: t.created_at,
    "due_date": lambda t: t.due_on or "",
    "completed_at": lambda t: t.completed_at or dt.datetime.min.replace(tzinfo=dt.UTC),
}


def search_tasks(store: AsanaStore, workspace: str, params: Mapping[str, str]) -> list[Task]:
    """The tasks a search finds, sorted and cut at ``limit``.

    Raises:
        ValueError: with Asana's message for a bad parameter.
    """
    limit = int(params.get("limit") or 20)
    if not 1 <= limit <= 100:
        raise ValueError("limit: Must be between 1 and 100")
    tests = _tests(store, params)
    found = [
        t
        for t in store.tasks.values()
        if t.workspace == workspace and store.searchable(t) and all(f(t) for f in tests)
    ]
    sort_by = params.get("sort_by", "modified_at")
    if sort_by not in _SORTS:
        raise ValueError(f"sort_by: Not one of {', '.join(_SORTS)}")
    ascending = params.get("sort_ascending") == "true"
    found.sort(key=lambda t: (_SORTS[sort_by](t), t.gid), reverse=not ascending)
    return found[:limit]


def _tests(store: AsanaStore, params: Mapping[str, str]) -> list[Callable[[Task], bool]]:
    tests: list[Callable[[Task], bool]] = []
    if params.get("text"):
        text = params["text"].lower()
        tests.append(lambda t: text in t.name.lower() or text in t.notes.lower())
    if params.get("projects.any"):
        wanted = set(params["projects.any"].split(","))
        tests.append(lambda t: bool(wanted & set(t.projects)))
    if params.get("sections.any"):
        sections = set(params["sections.any"].split(","))
        tests.append(lambda t: bool(sections & set(t.sections.values())))
    if params.get("teams.any"):
        teams = set(params["teams.any"].split(","))
        tests.append(lambda t: any(store.projects[p].team in teams for p in t.projects))
    for name, flag in (("completed", "completed"), ("is_subtask", "parent")):
        if name in params:
            tests.append(_flag_test(flag, params[name] == "true"))
    for name, attribute in (("modified_at", "modified_at"), ("created_at", "created_at")):
        tests += _time_tests(params, name, attribute)
    for key, value in params.items():
        match = _FIELD_PARAM.match(key)
        if match:
            tests.append(_field_test(store, match.group(1), match.group(2), value))
    return tests


def _time_tests(
    params: Mapping[str, str], name: str, attribute: str
) -> list[Callable[[Task], bool]]:
    tests: list[Callable[[Task], bool]] = []
    for suffix, after in ((".after", True), (".before", False)):
        text = params.get(name + suffix)
        if not text:
            continue
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name}{suffix}: Invalid date-time: {text}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        tests.append(_time_test(attribute, moment, after=after))
    return tests


def _flag_test(attribute: str, expected: bool) -> Callable[[Task], bool]:
    return lambda task: bool(getattr(task, attribute)) == expected


def _time_test(attribute: str, moment: dt.datetime, *, after: bool) -> Callable[[Task], bool]:
    def test(task: Task) -> bool:
        value: dt.datetime = getattr(task, attribute)
        return value > moment if after else value < moment

    return test


def _field_test(store: AsanaStore, gid: str, operator: str, text: str) -> Callable[[Task], bool]:
    custom = store.fields.get(gid)
    if custom is None:
        raise ValueError(f"custom_fields.{gid}: Unknown object: {gid}")

    def test(task: Task) -> bool:
        value = task.values.get(gid)
        if operator == "is_set":
            return (value is not None) == (text == "true")
        if value is None:
            return False
        if operator == "contains":
            return text.lower() in str(value).lower()
        if custom.subtype == "number":
            try:
                return float(value) == float(text)
            except ValueError:
                return False
        return str(value) == text

    return test
