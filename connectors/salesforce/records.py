"""Record helpers of the Salesforce connector: payloads, results, dates.

Pure functions over the dicts the REST API sends and receives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from handoff_hub.connectors.salesforce.client import error_text
from handoff_hub.hub.connector import WriteResult
from handoff_hub.hub.errors import ConnectorError

__all__ = [
    "field_value",
    "is_record_id",
    "latest",
    "parse_modstamp",
    "typed",
    "write_result",
]

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)
_RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def is_record_id(value: str) -> bool:
    """True for a 15- or 18-character Salesforce id; nothing else can name a record."""
    return _RECORD_ID.fullmatch(value) is not None


def typed(object_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A collections payload record: ``attributes.type`` plus the fields."""
    fields = {k: v for k, v in record.items() if k != "attributes"}
    return {"attributes": {"type": object_name}, **fields}


def write_result(index: int, raw: Mapping[str, Any], created: bool | None) -> WriteResult:
    """One SaveResult / UpsertResult as a WriteResult; ``created=None`` reads the flag."""
    if raw.get("success") is True:
        made = raw.get("created") if created is None else created
        return WriteResult(
            index=index,
            ok=True,
            id=raw.get("id"),
            created=None if made is None else bool(made),
        )
    errors = raw.get("errors") or []
    text = "; ".join(error_text(e) for e in errors if isinstance(e, Mapping))
    return WriteResult(index=index, ok=False, error=text or "Salesforce gave no error detail")


def field_value(raw: Mapping[str, Any], field: str) -> Any:
    """A field of a record, matching the name case-insensitively as Salesforce does."""
    if field in raw:
        return raw[field]
    folded = field.casefold()
    return next((v for k, v in raw.items() if k.casefold() == folded), None)


def _utc(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def parse_modstamp(value: Any, what: str, system: str) -> dt.datetime:
    """A record's datetime (``2026-11-20T10:15:00.000+0000``) as aware UTC.

    Raises:
        ConnectorError: naming ``what`` (object, record id, field) when unreadable.
    """
    try:
        return _utc(str(value))
    except ValueError:
        raise ConnectorError(f"{what} is not a datetime: {value!r}", system=system) from None


def latest(*values: dt.datetime | None) -> dt.datetime | None:
    """The largest of the given datetimes, or None when all are None."""
    present = [v for v in values if v is not None]
    return max(present, default=None)
