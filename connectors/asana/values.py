"""Records from the hub into the request bodies Asana takes.

The mapping's write side produces plain nested dicts. Two shapes are
translated here so that a mapping can stay readable:

* ``custom_fields: {<ref>: value}`` where ``<ref>`` is a field gid, its name or
  a logical name (``budget``, ``crm_id``, ``health``, ``customer``) becomes
  ``custom_fields: {<gid>: <encoded value>}`` (an enum option by name becomes
  its option gid);
* a reference written as ``{"gid": "123"}`` (``owner.gid``, ``assignee.gid``,
  ``parent.gid``: the same path the mapping reads) becomes ``"123"``, and a
  list of them a list of gids (``projects``, ``followers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.errors import RecordError

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.fields import FieldCatalogue

__all__ = ["asana_payload"]


def asana_payload(record: Mapping[str, Any], catalogue: FieldCatalogue) -> dict[str, Any]:
    """The ``data`` of a create or update request for ``record``.

    Raises:
        RecordError: a custom field is unknown or a value does not fit it.
    """
    payload: dict[str, Any] = {}
    for key, value in record.items():
        if key == "custom_fields":
            payload[key] = _custom_fields(value, catalogue)
        else:
            payload[key] = _flatten(value)
    return payload


def _custom_fields(values: Any, catalogue: FieldCatalogue) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise RecordError(
            "custom_fields must be an object of field (gid, name or logical name) -> value",
            system=catalogue.client.system,
        )
    encoded: dict[str, Any] = {}
    for ref, value in values.items():
        target = catalogue.require(str(ref))
        encoded[target.gid] = catalogue.encode(target, value)
    return encoded


def _flatten(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"gid"}:
        return None if value["gid"] is None else str(value["gid"])
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, Mapping) and set(v) == {"gid"} for v in value)
    ):
        return [str(v["gid"]) for v in value]
    return value
