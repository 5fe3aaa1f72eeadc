"""What ``hub plan`` shows of a write it would make: the values, as people read them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from handoff_hub.hub.connector import NewProject
from handoff_hub.hub.handoffs.engine import Preview
from handoff_hub.hub.model import Money, Project, money_text

__all__ = ["changes_preview", "project_preview"]


def project_preview(project: Project, new: NewProject, *, pm: str, manager: str | None) -> Preview:
    """The delivery project a won deal would become in ``pm``.

    Args:
        project: The unified project, as built from the deal and its template.
        new: What the project tool would be sent (its fields by the PM mapping).
        pm: The project tool's system name.
        manager: The manager's e-mail address, if the deal or template gives one.
    """
    values = {
        "project": new.name,
        "template": _template_text(new),
        "budget": _money(project.budget),
        "manager": _manager_text(manager, new.manager_id, pm),
        "start": project.start.isoformat() if project.start else "none",
        "due": project.due.isoformat() if project.due else "none (no task has a due offset)",
    }
    if project.account is not None and project.account.name:
        values["account"] = project.account.name
    return Preview(pm, values, dict(new.fields))


def _money(money: Money | None) -> str:
    return money_text(money.amount, money.currency) if money else "none (the deal has no amount)"


def _template_text(new: NewProject) -> str:
    template = new.template
    text = f"{template.name} ({len(template.tasks)} task{'s' if len(template.tasks) != 1 else ''})"
    if template.product_template:
        text += f", from the product's template {template.product_template}"
    return text


def _manager_text(email: str | None, user_id: str | None, pm: str) -> str:
    if not email:
        return "none (the deal has no owner's e-mail)"
    if user_id:
        return f"{email} ({pm} user {user_id})"
    return f"{email} (no {pm} user has it: the project would have no manager)"


def changes_preview(systems: str, changes: Mapping[str, Mapping[str, Any]]) -> Preview:
    """Field updates on either side (``{"pm": {"due": ...}, "crm": {...}}``), as text."""
    values = {
        f"{side}: {field}": _text(value)
        for side, fields in changes.items()
        for field, value in fields.items()
    }
    return Preview(systems, values)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, Money):
        return money_text(value.amount, value.currency)
    if isinstance(value, Mapping) and "amount" in value:
        return money_text(value["amount"], value.get("currency"))
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return f"{value:,}"
    return str(value)
