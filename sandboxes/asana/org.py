"""The less convenient workspaces the Asana sandbox can play, applied to the seeded data.

The seed builds the demo's tidy workspace; an :class:`AsanaWorkspaceProfile`
switch then changes it the way real workspaces differ:

* ``padded_enum_options``: option names as people typed them (``" High"``,
  ``"Medium "``, ``"low"``, ``"RED"``). Asana keeps and answers them so.
* ``custom_fields_absent``: delivery projects 2-4 lack some fields (no custom
  field setting): their tasks and the project itself show no such field, and
  a write of it is refused as Asana refuses it. The first delivery project,
  the one the contract suite writes to, keeps every field.
* ``free_plan``: the task search answers 402, as on a non-premium workspace.
* ``search_lag_seconds``: a change shows in the task search only that long after it
  is made, as Asana's index trails writes by 10-60 s.
"""

from __future__ import annotations

from handoff_hub.sandboxes.asana.profile import AsanaWorkspaceProfile
from handoff_hub.sandboxes.asana.seed import (
    BUDGET_CURRENCY_FIELD,
    BUDGET_FIELD,
    CRM_ID_FIELD,
    CUSTOMER_FIELD,
    DELIVERY_PROJECTS,
    FEEDBACK_FIELD,
    HEALTH_FIELD,
    PRIORITY_FIELD,
    RISK_FIELD,
)
from handoff_hub.sandboxes.asana.store import AsanaStore

__all__ = ["ABSENT_FIELDS", "PADDED_NAMES", "play"]

PADDED_NAMES = {
    "Green": "Green ",
    "Amber": " amber",
    "Red": "RED",
    "High": " High",
    "Medium": "Medium ",
    "Low": "low",
    "Critical": " CRITICAL ",
    "Customer feedback": "Customer Feedback ",
    "New need": " new need",
    "Upsell": "UPSELL",
}
"""Seeded option name -> the name the padded workspace has."""

ABSENT_FIELDS = {
    DELIVERY_PROJECTS[1]: (FEEDBACK_FIELD, RISK_FIELD, PRIORITY_FIELD),
    DELIVERY_PROJECTS[2]: (BUDGET_FIELD, BUDGET_CURRENCY_FIELD, HEALTH_FIELD, CUSTOMER_FIELD),
    DELIVERY_PROJECTS[3]: (CRM_ID_FIELD,),
}
"""Project gid -> the custom fields it lacks when ``custom_fields_absent`` is on."""


def play(store: AsanaStore, profile: AsanaWorkspaceProfile) -> None:
    """Turn the seeded workspace into the one ``profile`` describes."""
    if profile.padded_enum_options:
        _pad_options(store)
    if profile.custom_fields_absent:
        for project, fields in ABSENT_FIELDS.items():
            _remove_fields(store, project, fields)
    if profile.free_plan:
        store.premium = False
    store.search_lag = profile.search_lag_seconds


def _pad_options(store: AsanaStore) -> None:
    for custom in store.fields.values():
        for option in custom.options:
            option.name = PADDED_NAMES.get(option.name, option.name)


def _remove_fields(store: AsanaStore, gid: str, fields: tuple[str, ...]) -> None:
    project = store.projects[gid]
    project.field_settings = [f for f in project.field_settings if f not in fields]
    project.absent_fields = set(fields)
    for field in fields:
        project.values.pop(field, None)
    pending = list(store.project_tasks(gid))
    while pending:
        task = pending.pop()
        pending += store.subtasks(task.gid)
        for field in fields:
            task.values.pop(field, None)
