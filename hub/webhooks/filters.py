"""Does a record read by id belong to an entity? Its mapping's ``where``, checked here.

A scheduled run asks the product for the records of an entity (``where``
becomes JQL or a listing filter); a webhook only names a record, and reading
it by id returns it whatever it is. So before a record is handed to
feedback-to-lead or risk-to-account-manager, the entity's ``where`` is
checked on the record. What a key means is the connector's knowledge: a
connector class that can tell is a :class:`~hub.connector.RecordFilter`
(Jira and Asana are);
equality is compared here, without regard to case, a list matching when one
element does. For a connector that cannot tell, the answer is None ("cannot
tell"): its records are left to the scheduled run rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.hub.connector import FilterValue, RecordFilter, record_filter
from handoff_hub.hub.errors import RegistryError
from handoff_hub.hub.registry import connector_class

__all__ = ["effective_where", "filter_fields", "record_matches"]


def _checks(connector: str) -> type[RecordFilter] | None:
    try:
        return record_filter(connector_class(connector))
    except RegistryError:
        return None


def effective_where(
    connector: str, settings: Mapping[str, Any], where: Mapping[str, FilterValue]
) -> dict[str, FilterValue]:
    """``where`` plus the scope the connector adds to every read of its own accord."""
    checks = _checks(connector)
    return dict(checks.read_scope(settings, where)) if checks else dict(where)


def filter_fields(connector: str, where: Mapping[str, FilterValue]) -> list[str]:
    """The fields a read by id must ask for so that :func:`record_matches` can check ``where``."""
    checks = _checks(connector)
    return list(checks.where_fields(where)) if checks else list(where)


def record_matches(
    connector: str, raw: Mapping[str, Any], where: Mapping[str, FilterValue]
) -> bool | None:
    """True when ``raw`` passes every filter of ``where``; None when the connector cannot tell."""
    if not where:
        return True
    checks = _checks(connector)
    if checks is None:
        return None
    return all(_holds(checks.where_value(raw, key), wanted) for key, wanted in where.items())


def _holds(value: Any, wanted: FilterValue) -> bool:
    if wanted is None:
        return value in (None, "", [])
    values: Sequence[Any] = value if isinstance(value, list) else [value]
    options = wanted if isinstance(wanted, list) else [wanted]
    return any(_same(v, w) for v in values for w in options)


def _same(value: Any, wanted: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool) or isinstance(wanted, bool):
        return str(value).lower() == str(wanted).lower()
    return str(value).casefold() == str(wanted).casefold()
