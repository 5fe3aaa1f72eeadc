"""The workspace's custom fields: finding them by gid or name, encoding values.

Asana reads custom fields as an array of ``{gid, name, type, text_value,
number_value, enum_value, ...}`` and writes them as ``custom_fields: {gid:
value}`` where an enum value is the gid of one of its options. Gids differ per
workspace, so settings and mappings may name a field by its gid, its name
(``Budget``) or the connector's logical name (``budget``, ``crm_id``,
``health``, ``customer``, which the settings map onto gids or names). The
catalogue is read once per connector from ``GET /workspaces/{gid}/custom_fields``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.options import option_gid, option_key
from handoff_hub.connectors.asana.records import api_path, gid_of
from handoff_hub.hub.errors import RecordError

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.client import AsanaClient
    from handoff_hub.connectors.asana.config import AsanaConfig

__all__ = ["CustomField", "FieldCatalogue", "read_value"]

_NOT_ON_OBJECT = re.compile(settings.FIELD_NOT_ON_OBJECT)


@dataclass(frozen=True)
class CustomField:
    """One custom field of the workspace."""

    gid: str
    name: str
    subtype: str
    options: dict[str, str] = field(default_factory=dict)
    """Enum option name -> option gid."""


def read_value(custom_fields: Any, target: CustomField) -> Any:
    """The value ``target`` has in a record's ``custom_fields`` array (enum: option name)."""
    for entry in custom_fields if isinstance(custom_fields, list) else []:
        if not isinstance(entry, Mapping) or str(entry.get("gid")) != target.gid:
            continue
        if entry.get("enum_value") is not None:
            return (entry.get("enum_value") or {}).get("name")
        for key in ("text_value", "number_value", "display_value"):
            if entry.get(key) is not None:
                return entry[key]
        return None
    return None


class FieldCatalogue:
    """The workspace's custom fields, read on first use."""

    def __init__(self, client: AsanaClient, config: AsanaConfig) -> None:
        self.client = client
        self.config = config
        self._fields: list[CustomField] | None = None

    def fields(self) -> list[CustomField]:
        """Every custom field of the workspace (cached)."""
        if self._fields is None:
            path = api_path(settings.WORKSPACE_FIELDS_PATH, workspace=self.config.workspace_gid)
            params = {"opt_fields": ",".join(settings.CATALOGUE_FIELDS)}
            items = self.client.list_all(path, params, page_size=settings.PAGE_SIZE_MAX)
            self._fields = [_field(item) for item in items]
        return self._fields

    def find(self, ref: str) -> CustomField | None:
        """A field by logical name, gid or name (exact, then trimmed and ignoring case).

        Loosely, ``_`` stands for a space: a mapping's write path cannot hold one, so
        ``custom_fields.delivery_start`` names the field "Delivery start".
        """
        wanted = self.config.field_refs().get(ref, ref)
        fields = self.fields()
        exact = [f for f in fields if wanted in (f.gid, f.name)]
        loose = [f for f in fields if _loose(f.name) == _loose(wanted)]
        found = exact or loose
        return found[0] if found else None

    def require(self, ref: str) -> CustomField:
        """Like :meth:`find`, but a missing field is a refused record.

        Raises:
            RecordError: naming the reference and the fields the workspace has.
        """
        found = self.find(ref)
        if found is None:
            known = ", ".join(sorted(f.name for f in self.fields())) or "none"
            raise RecordError(
                f"custom field {ref!r} is not in workspace {self.config.workspace_gid}"
                f" (it has: {known})",
                system=self.client.system,
            )
        return found

    def not_on_object(self, message: str) -> CustomField | None:
        """The field an Asana error says the task's projects (or the project) lack."""
        found = _NOT_ON_OBJECT.search(message)
        if found is None:
            return None
        gid = found.group(1)
        known = next((f for f in self.fields() if f.gid == gid), None)
        return known or CustomField(gid, gid, "unknown")

    def absent_error(self, message: str, owner: str) -> str | None:
        """An admin's reading of Asana's "not on given object" refusal, or None if it is not one.

        Args:
            message: Asana's error text.
            owner: What lacks the field, as the admin sees it ("the task's project").
        """
        field = self.not_on_object(message)
        if field is None:
            return None
        return (
            f"custom field {field.name!r} ({field.gid}) is not on {owner} in Asana, which"
            " refused the whole write: add the field to the project (Customize > Fields)"
            f" and replay, or leave it out of the mapping ({message})"
        )

    def encode(self, target: CustomField, value: Any) -> Any:
        """A unified or display value as the value Asana takes for ``target``.

        Raises:
            RecordError: the value does not fit the field (not a number, unknown option).
        """
        if value is None or value == "":
            return None
        encoders: dict[str, Callable[[CustomField, Any], Any]] = {
            "number": _number,
            "text": _text,
            "enum": self._option,
            "multi_enum": self._options,
            "date": _date,
            "people": _people,
        }
        encoder = encoders.get(target.subtype, _as_is)
        try:
            return encoder(target, value)
        except (ValueError, TypeError, InvalidOperation) as exc:
            raise RecordError(
                f"custom field {target.name!r} ({target.subtype}): {exc}", system=self.client.system
            ) from None

    def _option(self, target: CustomField, value: Any) -> str:
        return option_gid(target.options, str(gid_of(value) or value))

    def _options(self, target: CustomField, value: Any) -> list[str]:
        items = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        return [self._option(target, v) for v in items]


def _loose(name: str) -> str:
    return option_key(name).replace("_", " ")


def _field(item: Mapping[str, Any]) -> CustomField:
    subtype = str(item.get("resource_subtype") or item.get("type") or "text")
    options = {
        str(o.get("name")): str(o.get("gid"))
        for o in item.get("enum_options") or []
        if isinstance(o, Mapping) and o.get("enabled", True) and o.get("gid")
    }
    return CustomField(str(item["gid"]), str(item.get("name") or ""), subtype, options)


def _number(_target: CustomField, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Mapping) and "amount" in value:  # a Money dict
        value = value["amount"]
    return float(Decimal(str(value)))


def _text(_target: CustomField, value: Any) -> str:
    if isinstance(value, Mapping | list):
        raise ValueError("expected text, got a structure")
    return str(value)


def _date(_target: CustomField, value: Any) -> dict[str, str]:
    return {"date": str(value.get("date") if isinstance(value, Mapping) else value)}


def _people(_target: CustomField, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    gids = [gid_of(v) for v in items]
    if any(g is None for g in gids):
        raise ValueError("people values are user gids")
    return [g for g in gids if g]


def _as_is(_target: CustomField, value: Any) -> Any:
    return value
