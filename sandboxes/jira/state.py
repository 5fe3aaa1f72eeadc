"""Test helpers over a Jira sandbox's data (``JiraSandbox.state``).

They read and change the store directly, as a person in Jira's UI would
(outside the REST API the connector uses), and take the store's lock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handoff_hub.sandboxes.jira.data import Issue
from handoff_hub.sandboxes.jira.render import ALL_FIELDS, issue_json
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import Endpoint

__all__ = ["JiraState"]

_PRIORITY = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}

_SITE = Endpoint("http://jira.sandbox")


class JiraState:
    """Look at and change the sandbox's issues without going through the API."""

    def __init__(self, store: JiraStore) -> None:
        self.store = store

    def _issue(self, key: str) -> Issue:
        issue = self.store.issue(key)
        if issue is None:
            raise KeyError(f"no issue {key!r}")
        return issue

    def count(self, *, project: str | None = None, issuetype: str | None = None) -> int:
        """Number of issues, optionally of one project and/or issue type."""
        with self.store.lock:
            return sum(
                1
                for i in self.store.issues.values()
                if (project is None or i.project == project)
                and (issuetype is None or i.issuetype.lower() == issuetype.lower())
            )

    def keys(self, *, project: str | None = None, issuetype: str | None = None) -> list[str]:
        """Issue keys in creation order, optionally filtered."""
        with self.store.lock:
            return [
                i.key
                for i in sorted(self.store.issues.values(), key=lambda i: i.id)
                if (project is None or i.project == project)
                and (issuetype is None or i.issuetype.lower() == issuetype.lower())
            ]

    def epics(self, *, project: str | None = None) -> list[str]:
        """Keys of every Epic."""
        return self.keys(project=project, issuetype="Epic")

    def by_label(self, label: str) -> list[str]:
        """Keys of the issues carrying ``label`` (exactly)."""
        with self.store.lock:
            return [
                i.key
                for i in sorted(self.store.issues.values(), key=lambda i: i.id)
                if label in i.labels
            ]

    def children(self, key: str) -> list[str]:
        """Keys of the issues whose parent is ``key``."""
        with self.store.lock:
            return [
                c.key for c in sorted(self.store.children(self._issue(key)), key=lambda i: i.id)
            ]

    def get(self, key: str) -> dict[str, Any]:
        """The issue as ``GET /issue/{key}`` renders it, with its properties."""
        with self.store.lock:
            issue = self._issue(key)
            return issue_json(
                self.store, issue, _SITE, list(ALL_FIELDS), properties=list(issue.properties)
            )

    def property(self, key: str, name: str) -> Any:
        """An entity property's value, or None."""
        with self.store.lock:
            return self._issue(key).properties.get(name)

    def comments(self, key: str) -> list[dict[str, Any]]:
        """The stored comments of an issue (ADF bodies)."""
        with self.store.lock:
            return [dict(c) for c in self._issue(key).comments]

    def add_issue(
        self,
        summary: str,
        *,
        project: str = "DEL",
        issuetype: str = "Task",
        parent: str | None = None,
        labels: tuple[str, ...] = (),
        **custom: Any,
    ) -> str:
        """Create an issue as a user would (e.g. feedback under an Epic); return its key."""
        with self.store.lock:
            found = self.store.project(project)
            kind = self.store.issue_type(issuetype)
            if found is None or kind is None:
                raise KeyError(f"no project {project!r} or issue type {issuetype!r}")
            issue = self.store.add_issue(
                found,
                kind,
                summary,
                labels=list(labels),
                parent=self._issue(parent).id if parent else None,
                custom=dict(custom),
            )
            return issue.key

    # delivery events (tests and the demo) ---------------------------------------

    def add_feedback(self, project: str, text: str, kind: str = "feedback") -> str:
        """Flag customer feedback, a ``need`` or an ``upsell`` under an Epic; return its key."""
        label = {"feedback": "customer-feedback", "need": "new-need", "upsell": "upsell"}[kind]
        return self.add_issue(text, parent=project, labels=(label,))

    def add_risk(self, project: str, title: str, severity: str = "high") -> str:
        """Raise a risk (label ``risk``, priority from severity) under an Epic; return its key."""
        key = self.add_issue(title, parent=project, labels=("risk",))
        self.modify(key, priority=_PRIORITY[severity])
        return key

    def add_milestone(self, project: str, name: str, due: dt.date) -> str:
        """A milestone (label ``milestone``) under an Epic, due on ``due``; return its key."""
        key = self.add_issue(name, parent=project, labels=("milestone",))
        self.modify(key, duedate=due)
        return key

    def resolve(self, key: str) -> None:
        """Close an issue (a risk that has been dealt with)."""
        self.modify(key, status="Done")

    def set_health(self, project: str, health: str) -> None:
        """Set an Epic's Health field (green, amber, red)."""
        self.modify(project, customfield_10052={"value": health.capitalize()})

    def set_budget(self, project: str, amount: float) -> None:
        """Change an Epic's Budget as its manager would."""
        self.modify(project, customfield_10050=amount)

    def budget_currency(self, project: str) -> str | None:
        """The currency an Epic's budget is in (its Budget currency field)."""
        with self.store.lock:
            currency = self._issue(project).custom.get("customfield_10053")
        return str(currency) if currency else None

    def modify(self, key: str, **changes: Any) -> None:
        """Change fields as a user would, then bump ``updated``.

        Args:
            key: Issue key.
            **changes: ``summary=``, ``status=``, ``labels=``, ``customfield_10051=``, ...
        """
        with self.store.lock:
            issue = self._issue(key)
            for name, value in changes.items():
                if name.startswith("customfield_"):
                    issue.custom[name] = value
                elif hasattr(issue, name) and name not in {"id", "key", "project"}:
                    setattr(issue, name, value)
                else:
                    raise KeyError(f"cannot change {name!r}")
            self.store.touch(issue)

    def delete(self, key: str) -> None:
        """Delete an issue (and its sub-tasks), as deleting it in Jira would."""
        with self.store.lock:
            issue = self._issue(key)
            for child in self.store.children(issue):
                self.store.issues.pop(child.id, None)
            self.store.issues.pop(issue.id, None)

    def projects(self) -> list[str]:
        """Keys of every project."""
        with self.store.lock:
            return sorted(self.store.projects)

    def user_ids(self) -> dict[str, str]:
        """E-mail -> account id of every active user (hidden e-mails included)."""
        with self.store.lock:
            return {
                u.email: u.account_id for u in self.store.users.values() if u.email and u.active
            }
