"""Validation of the values a write sends to the Asana sandbox.

Each checker takes the raw JSON value and returns what the store keeps, or
raises :class:`WriteError` with Asana's status and message. Custom field
values are checked against the field's type (number, text, enum option gid)
and against the fields the object has: a task only takes the custom fields of
its projects ("Custom field with ID ... is not on given object").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from handoff_hub.sandboxes.asana.store import AsanaStore

__all__ = [
    "WriteError",
    "check_bool",
    "check_custom_fields",
    "check_date",
    "check_keys",
    "check_text",
    "check_user",
]


class WriteError(Exception):
    """A write Asana would refuse: ``status`` and Asana's message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def check_keys(data: Any, writable: Collection[str], read_only: Collection[str]) -> dict[str, Any]:
    """The ``data`` object, with every key one the resource takes."""
    if not isinstance(data, Mapping):
        raise WriteError(400, "data: Missing input")
    for key in data:
        if key in read_only:
            raise WriteError(400, f"{key}: Cannot write this property")
        if key not in writable:
            raise WriteError(400, f"{key}: Unknown property")
    return dict(data)


def check_text(value: Any, name: str, *, limit: int = 65536) -> str:
    """A string of at most ``limit`` characters."""
    if not isinstance(value, str):
        raise WriteError(400, f"{name}: Expected a string")
    if len(value) > limit:
        raise WriteError(400, f"{name}: Value is too long (at most {limit} characters)")
    return value


def check_bool(value: Any, name: str) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise WriteError(400, f"{name}: Expected a boolean")
    return value


def check_date(value: Any, name: str) -> str | None:
    """A ``YYYY-MM-DD`` date or null."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise WriteError(400, f"{name}: Invalid date: {value}")


def check_user(store: AsanaStore, value: Any, name: str) -> str | None:
    """A user reference (gid, e-mail or ``me``) as a user gid; null stays null."""
    if value is None:
        return None
    user = store.user(value) if isinstance(value, str) else None
    if user is None:
        raise WriteError(400, f"{name}: Not a recognized user: {value}")
    return user.gid


def check_custom_fields(
    store: AsanaStore, values: Any, allowed: Collection[str] | None
) -> dict[str, Any]:
    """``{field gid: value}`` checked against types and the fields the object has.

    ``allowed`` None means any workspace field (a project's own values).
    """
    if not isinstance(values, Mapping):
        raise WriteError(400, "custom_fields: Expected an object")
    checked: dict[str, Any] = {}
    for gid, value in values.items():
        custom = store.fields.get(str(gid))
        if custom is None:
            raise WriteError(400, f"custom_fields: Not a recognized ID: {gid}")
        if allowed is not None and custom.gid not in allowed:
            raise WriteError(400, f"Custom field with ID {custom.gid} is not on given object")
        checked[custom.gid] = _field_value(store, custom, value)
    return checked


def _field_value(store: AsanaStore, custom: Any, value: Any) -> Any:
    if value is None:
        return None
    if custom.subtype == "people":
        return _people_value(store, custom, value)
    if custom.subtype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WriteError(400, f"custom_fields: Number value expected for {custom.name}")
        return float(value)
    if custom.subtype == "enum":
        if custom.option(value) is None:
            raise WriteError(400, f"custom_fields: {value} is not an enum option of {custom.name}")
        return str(value)
    if custom.subtype == "date":
        return _date_value(custom, value)
    if not isinstance(value, str):
        raise WriteError(400, f"custom_fields: Text value expected for {custom.name}")
    return value


def _people_value(store: AsanaStore, custom: Any, value: Any) -> list[str]:
    """A people field takes a list of user gids (``[]`` clears it)."""
    gids = value if isinstance(value, list) else None
    if gids is None or not all(isinstance(g, str) for g in gids):
        raise WriteError(400, f"custom_fields: {custom.name} takes a list of user gids")
    unknown = [g for g in gids if g not in store.users]
    if unknown:
        raise WriteError(400, f"custom_fields: Not a recognized user: {unknown[0]}")
    return list(dict.fromkeys(gids))


def _date_value(custom: Any, value: Any) -> str:
    """A date field takes ``{"date": "YYYY-MM-DD"}`` (or ``date_time``); kept as the ISO date."""
    text = value.get("date") if isinstance(value, Mapping) else None
    try:
        return dt.date.fromisoformat(str(text)).isoformat()
    except ValueError:
        raise WriteError(
            400, f'custom_fields: {custom.name} takes {{"date": "YYYY-MM-DD"}}, not {value!r}'
        ) from None
