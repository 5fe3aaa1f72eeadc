"""The Jira sandbox's in-memory site: users, projects, issues, and their lookups.

Every method expects the caller to hold :attr:`JiraStore.lock` when it mixes
reads and writes; the request handlers do. ``issues`` is an
:class:`~sandboxes.jira.index.IssueTable`, which keeps the lookups
of issues by parent and by project in step with it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from handoff_hub.sandboxes.jira.data import (
    FIELDS,
    ISSUE_TYPES,
    STATUSES,
    FieldDef,
    Issue,
    IssueType,
    Project,
    Status,
    User,
)
from handoff_hub.sandboxes.jira.index import IssueTable

__all__ = ["JiraStore"]


class JiraStore:
    """One Jira Cloud site in memory."""

    def __init__(self, *, me: User, clock: Callable[[], dt.datetime]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.me = me
        self.users: dict[str, User] = {me.account_id: me}
        self.projects: dict[str, Project] = {}
        self.issues = IssueTable()
        self._keys: dict[str, int] = {}
        self._next_issue = 10001
        self._next_project = 10000
        self._next_comment = 10000
        self._numbers: dict[str, int] = {}
        self._last_write = dt.datetime.min.replace(tzinfo=dt.UTC)

    def next_number(self, kind: str) -> int:
        """The next id of a kind of object (``remotelink``), from 10000."""
        self._numbers[kind] = self._numbers.get(kind, 9999) + 1
        return self._numbers[kind]

    # time --------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The current time, strictly after the previous write (millisecond steps)."""
        now = self.clock().astimezone(dt.UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_write:
            now = self._last_write + dt.timedelta(milliseconds=1)
        self._last_write = now
        return now

    def touch(self, issue: Issue) -> None:
        """Bump ``updated``, as every write to an issue does."""
        issue.updated = self.now()

    # catalogues ----------------------------------------------------------------

    @staticmethod
    def field(name: str) -> FieldDef | None:
        """A field by id (``customfield_10050``), JQL clause name (``cf[10050]``) or name."""
        lowered = name.lower()
        for candidate in FIELDS:
            if lowered in {
                candidate.id.lower(),
                candidate.name.lower(),
                *(c.lower() for c in candidate.clause_names),
            }:
                return candidate
        return None

    @staticmethod
    def issue_type(ref: Any) -> IssueType | None:
        """An issue type by name (case-insensitive) or id."""
        text = str(ref).lower()
        return next((t for t in ISSUE_TYPES if text in {t.id, t.name.lower()}), None)

    @staticmethod
    def status(ref: Any) -> Status | None:
        """A status by name (case-insensitive) or id."""
        text = str(ref).lower()
        return next((s for s in STATUSES if text in {s.id, s.name.lower()}), None)

    # users ---------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        """Register an account."""
        self.users[user.account_id] = user

    def user(self, ref: Any) -> User | None:
        """A user by account id, or by e-mail address (case-insensitive)."""
        if not isinstance(ref, str):
            return None
        found = self.users.get(ref)
        if found is not None:
            return found
        lowered = ref.lower()
        return next((u for u in self.users.values() if (u.email or "").lower() == lowered), None)

    # projects ------------------------------------------------------------------

    def add_project(self, key: str, name: str, lead: str, **extra: Any) -> Project:
        """Create a project with the next id."""
        project = Project(self._next_project, key, name, lead, **extra)
        self._next_project += 1
        self.projects[key] = project
        return project

    def project(self, ref: Any) -> Project | None:
        """A project by key or name (case-insensitive) or id."""
        text = str(ref).lower()
        return next(
            (
                p
                for p in self.projects.values()
                if text in {p.key.lower(), p.name.lower(), str(p.id)}
            ),
            None,
        )

    # issues --------------------------------------------------------------------

    def add_issue(
        self,
        project: Project,
        issue_type: IssueType,
        summary: str,
        *,
        created: dt.datetime | None = None,
        **values: Any,
    ) -> Issue:
        """Create an issue with the project's next key; ``created`` defaults to now."""
        project.counter += 1
        when = created or self.now()
        issue = Issue(
            id=self._next_issue,
            key=f"{project.key}-{project.counter}",
            project=project.key,
            issuetype=issue_type.name,
            status=values.pop("status", "To Do"),
            summary=summary,
            created=when,
            updated=values.pop("updated", when),
            reporter=self.me.account_id,
            **values,
        )
        self._next_issue += 1
        self.issues[issue.id] = issue
        self._keys[issue.key.upper()] = issue.id
        return issue

    def issue(self, ref: Any) -> Issue | None:
        """An issue by key (case-insensitive) or numeric id."""
        text = str(ref).strip()
        if text.isdigit():
            return self.issues.get(int(text))
        found = self._keys.get(text.upper())
        return None if found is None else self.issues.get(found)

    def children(self, issue: Issue) -> list[Issue]:
        """Issues whose parent is ``issue``, by id."""
        return self.issues.lookup(sorted(self.issues.index.children(issue.id)))

    def add_comment(self, issue: Issue, body: dict[str, Any]) -> dict[str, Any]:
        """Store a comment by the API user and bump the issue."""
        when = self.now()
        comment = {
            "id": str(self._next_comment),
            "author": self.me.account_id,
            "body": body,
            "created": when,
            "updated": when,
        }
        self._next_comment += 1
        issue.comments.append(comment)
        issue.updated = when
        return comment
