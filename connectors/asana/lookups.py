"""Finding records and users by value: custom-field stamps, e-mail addresses.

Tasks carrying a custom field value are found with the workspace task search
(``GET /workspaces/{gid}/tasks/search?custom_fields.{field}.value=...``), one
query per value, oldest first, each hit compared exactly. That endpoint is
for premium workspaces only (others get 402) and its index trails writes by
10-60 s; without premium the connector lists the tasks of the configured
project (or of every team project) instead. Projects are always found by
listing the team's projects, which reads its own writes (see project_ops).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.fields import CustomField, read_value
from handoff_hub.connectors.asana.options import option_gid, option_key
from handoff_hub.connectors.asana.records import api_path, stamp_in_notes
from handoff_hub.hub.errors import RecordError
from handoff_hub.hub.http.query import search_text

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.client import AsanaClient
    from handoff_hub.connectors.asana.config import AsanaConfig
    from handoff_hub.connectors.asana.fields import FieldCatalogue

__all__ = ["Lookups", "same_value"]

_PAYMENT_REQUIRED = 402


def same_value(actual: Any, wanted: str) -> bool:
    """Exact text, or the same number (``4242`` matches ``4242.0``)."""
    if actual is None:
        return False
    if str(actual) == wanted:
        return True
    try:
        return Decimal(str(actual)) == Decimal(wanted)
    except InvalidOperation:
        return False


class Lookups:
    """Searches that map values to record gids."""

    def __init__(self, client: AsanaClient, config: AsanaConfig, catalogue: FieldCatalogue) -> None:
        self.client = client
        self.config = config
        self.catalogue = catalogue

    def team_projects(self, fields: Sequence[str]) -> list[Mapping[str, Any]]:
        """Every project of the team (of the workspace without a team), archived ones too."""
        params: dict[str, Any] = {
            "workspace": self.config.workspace_gid,
            "opt_fields": ",".join(dict.fromkeys([*fields, "created_at"])),
        }
        if self.config.team_gid:
            params["team"] = self.config.team_gid
        projects = self.client.list_all(
            settings.PROJECTS_PATH, params, page_size=settings.PAGE_SIZE_MAX
        )
        return sorted(projects, key=lambda p: (str(p.get("created_at") or ""), str(p["gid"])))

    def projects_by_field(self, field: str, values: Sequence[str]) -> dict[str, str]:
        """Value -> gid of the oldest team project holding it (the CRM id also in notes)."""
        target = self.catalogue.require(field)
        stamp_field = self.catalogue.find("crm_id")
        found: dict[str, str] = {}
        for project in self.team_projects(("custom_fields", "notes")):
            held = [read_value(project.get("custom_fields"), target)]
            if stamp_field is not None and stamp_field.gid == target.gid:
                held.append(stamp_in_notes(project.get("notes")))
            for value in values:
                if any(same_value(h, value) for h in held):
                    found.setdefault(value, str(project["gid"]))
        return found

    def tasks_by_field(self, field: str, values: Sequence[str]) -> dict[str, str]:
        """Value -> gid of the oldest task holding it in custom field ``field``."""
        target = self.catalogue.require(field)
        try:
            return self._search(target, values)
        except RecordError as exc:
            if exc.status != _PAYMENT_REQUIRED:
                raise
        return self._scan(target, values)

    def _search(self, target: CustomField, values: Sequence[str]) -> dict[str, str]:
        path = api_path(settings.TASK_SEARCH_PATH, workspace=self.config.workspace_gid)
        found: dict[str, str] = {}
        for value in values:
            params = {
                f"custom_fields.{target.gid}.value": search_text(_search_value(target, value)),
                "opt_fields": "custom_fields,created_at",
                "sort_by": "created_at",
                "sort_ascending": "true",
                "limit": settings.PAGE_SIZE_MAX,
            }
            hits = self.client.call("GET", path, params=params) or []
            for task in hits if isinstance(hits, list) else []:
                if _holds(target, read_value(task.get("custom_fields"), target), value):
                    found.setdefault(value, str(task["gid"]))
        return found

    def _scan(self, target: CustomField, values: Sequence[str]) -> dict[str, str]:
        projects = (
            [self.config.project_gid]
            if self.config.project_gid
            else [str(p["gid"]) for p in self.team_projects(())]
        )
        tasks: list[Mapping[str, Any]] = []
        for project in projects:
            params = {"project": project, "opt_fields": "custom_fields,created_at"}
            tasks += self.client.list_all(
                settings.TASKS_PATH, params, page_size=settings.PAGE_SIZE_MAX
            )
        tasks.sort(key=lambda t: (str(t.get("created_at") or ""), str(t["gid"])))
        found: dict[str, str] = {}
        for task in tasks:
            held = read_value(task.get("custom_fields"), target)
            for value in values:
                if _holds(target, held, value):
                    found.setdefault(value, str(task["gid"]))
        return found

    def users(self, emails: Sequence[str]) -> dict[str, str]:
        """E-mail -> user gid of the workspace's users (case-insensitive; unknown left out)."""
        params = {"workspace": self.config.workspace_gid, "opt_fields": "email,name"}
        people = self.client.list_all(settings.USERS_PATH, params, page_size=self.config.page_size)
        by_email = {str(u.get("email")).casefold(): str(u["gid"]) for u in people if u.get("email")}
        return {
            e: by_email[e.casefold()] for e in dict.fromkeys(emails) if e.casefold() in by_email
        }


def _holds(target: CustomField, held: Any, wanted: str) -> bool:
    """``held`` is ``wanted``: an enum by its option (name as typed, or gid), else same_value."""
    if target.subtype == "enum" and held is not None:
        return option_key(held) == option_key(wanted) or target.options.get(held) == wanted
    return same_value(held, wanted)


def _search_value(target: CustomField, value: str) -> str:
    """Enum fields are searched by option gid; others by the value itself."""
    if target.subtype == "enum":
        try:
            return option_gid(target.options, value)
        except ValueError:
            return value
    return value
