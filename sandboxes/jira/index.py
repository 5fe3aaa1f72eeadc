"""Lookups of the Jira sandbox's issues by parent, project, type and label, kept in step.

:class:`IssueTable` is the store's ``issues`` dict: every way of putting an
issue in or taking it out (``[]=``, ``del``, ``pop``, ``update``, ...) also
files it in or out of its :class:`IssueIndex`, and an issue in the table tells
the index when its ``parent``, ``project``, type or labels change (see
``Issue.__setattr__``), however the change is made (the API's writes, the
test helpers, a benchmark's seeding); labels are replaced whole, never
changed in place (:class:`~handoff_hub.sandboxes.jira.data.Labels`). The
search narrows a query whose top-level AND holds ``parent``, ``project``,
``issuetype`` or ``labels`` ``= / IN`` to the issues the index names, then
evaluates the whole query on them, so an index can only make a search
cheaper, never change its answer. Jira's own search is indexed (a query for a
site's Epics does not read its every Sub-task); without these lookups the
sandbox's answer time would grow with the whole site.
"""

from __future__ import annotations

from collections.abc import Iterable

from handoff_hub.sandboxes.jira.data import Issue
from handoff_hub.sandboxes.kit.tables import IndexedTable, unfile

__all__ = ["IssueIndex", "IssueTable"]

_NONE: frozenset[int] = frozenset()


class IssueIndex:
    """Table keys of issues by parent id, and by project key, type name and label (lower case)."""

    def __init__(self) -> None:
        self._by_parent: dict[int, set[int]] = {}
        self._by_project: dict[str, set[int]] = {}
        self._by_type: dict[str, set[int]] = {}
        self._by_label: dict[str, set[int]] = {}

    def children(self, parent: int) -> frozenset[int] | set[int]:
        """Keys of the issues whose ``parent`` is ``parent`` (do not change the set)."""
        return self._by_parent.get(parent, _NONE)

    def in_project(self, project: str) -> frozenset[int] | set[int]:
        """Keys of the issues of ``project`` (lower-case key; do not change the set)."""
        return self._by_project.get(project.lower(), _NONE)

    def of_type(self, issue_type: str) -> frozenset[int] | set[int]:
        """Keys of the issues of type ``issue_type`` (lower-case name; do not change the set)."""
        return self._by_type.get(issue_type.lower(), _NONE)

    def labelled(self, label: str) -> frozenset[int] | set[int]:
        """Keys of the issues carrying ``label`` (lower case; do not change the set)."""
        return self._by_label.get(label.lower(), _NONE)

    def add(self, key: int, issue: Issue) -> None:
        """File ``issue`` (stored under ``key``)."""
        if issue.parent is not None:
            self._by_parent.setdefault(issue.parent, set()).add(key)
        self._by_project.setdefault(str(issue.project).lower(), set()).add(key)
        self._by_type.setdefault(str(issue.issuetype).lower(), set()).add(key)
        for label in {str(label).lower() for label in issue.labels}:
            self._by_label.setdefault(label, set()).add(key)

    def remove(self, key: int, issue: Issue) -> None:
        """Take ``issue`` (stored under ``key``) out."""
        if issue.parent is not None:
            unfile(self._by_parent, issue.parent, key)
        unfile(self._by_project, str(issue.project).lower(), key)
        unfile(self._by_type, str(issue.issuetype).lower(), key)
        for label in {str(label).lower() for label in issue.labels}:
            unfile(self._by_label, label, key)

    def clear(self) -> None:
        """Forget every issue."""
        self._by_parent.clear()
        self._by_project.clear()
        self._by_type.clear()
        self._by_label.clear()


class IssueTable(IndexedTable[int, Issue]):
    """Issues by id, filing each in :attr:`index` as it comes and goes."""

    def __init__(self) -> None:
        super().__init__()
        self.index = IssueIndex()

    def _file(self, key: int, issue: Issue) -> None:
        self.index.add(key, issue)

    def _unfile(self, key: int, issue: Issue) -> None:
        self.index.remove(key, issue)

    def _forget(self) -> None:
        self.index.clear()

    def lookup(self, keys: Iterable[int]) -> list[Issue]:
        """The issues under ``keys`` (those still stored)."""
        get = super().get
        return [issue for issue in map(get, keys) if issue is not None]
