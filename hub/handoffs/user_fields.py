"""Custom ``user`` fields on their way out: e-mail addresses become the product's user ids.

Inside the hub a user field holds a person by e-mail; each product wants its
own id for one (Jira an accountId, Asana a user gid, Salesforce a User Id,
HubSpot an owner id). :class:`UserIds` asks the connector's user look-up
(``find_users``) for the addresses a write needs, each address once for the
handoff's life (:class:`KnownUsers`), and gives
:func:`~hub.mapping.engine.from_unified` the ids.
An address the product has no user for leaves the field unset and is
reported (:meth:`UserIds.unmatched`): never a wrong user, never silence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from handoff_hub.hub.connector import Connector
    from handoff_hub.hub.mapping.spec import MappingSpec

__all__ = ["KnownUsers", "UnmatchedUser", "UserIds"]


class KnownUsers:
    """E-mail address -> one product's user id, each address asked once in this object's life.

    A run meets the same people (sales reps, delivery managers) on every page
    and batch, and a product's user search costs a call per address (Jira,
    Asana), so every address is looked up once, found or not, and kept. Made
    per handoff or reconcile run, so a user added to the product is found by
    the next run.
    """

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self._known: dict[str, str | None] = {}

    def ids(self, emails: Iterable[str | None]) -> dict[str, str]:
        """The user id of each address the product has a user for, keyed in lower case."""
        wanted: dict[str, str] = {}
        for email in emails:
            if email and email.strip():
                wanted.setdefault(email.strip().lower(), email.strip())
        asked = sorted(e for key, e in wanted.items() if key not in self._known)
        if asked:
            found = {k.lower(): v for k, v in self.connector.find_users(asked).items()}
            self._known.update({e.lower(): found.get(e.lower()) for e in asked})
        return {key: user for key in wanted if (user := self._known.get(key)) is not None}


@dataclass(frozen=True)
class UnmatchedUser:
    """A user field whose address has no user in the product: left unset."""

    field: str
    email: str

    def warning(self, system: str) -> str:
        """What the run summary, the audit and the log say of it."""
        return f"{self.field}: {system} has no user with the e-mail {self.email}; left unset"


class UserIds:
    """E-mail -> user id in one product, for the user fields one entity's mapping writes."""

    def __init__(
        self,
        connector: Connector,
        spec: MappingSpec,
        entity: str,
        *,
        known: KnownUsers | None = None,
    ) -> None:
        """``known``: the run's look-ups of this product's users, if it keeps them already."""
        emap = spec.entities.get(entity)
        rules = emap.write_rules() if emap is not None else {}
        self.fields = [name for name, rule in rules.items() if rule.type == "user"]
        self.known = known or KnownUsers(connector)

    def people(self, records: Iterable[BaseModel | Mapping[str, Any]]) -> dict[str, str]:
        """The ids of every address the records' user fields hold (one look-up for new ones)."""
        return self.known.ids(e for record in records for e in self._emails(record).values())

    def unmatched(
        self, record: BaseModel | Mapping[str, Any], people: Mapping[str, str]
    ) -> list[UnmatchedUser]:
        """The record's user fields whose address ``people`` has no id for."""
        return [
            UnmatchedUser(name, email)
            for name, email in self._emails(record).items()
            if email not in people
        ]

    def _emails(self, record: BaseModel | Mapping[str, Any]) -> dict[str, str]:
        if not self.fields:
            return {}
        data = record.model_dump() if isinstance(record, BaseModel) else record
        found = {name: _at(data, name) for name in self.fields}
        return {name: str(v).strip().lower() for name, v in found.items() if v}


def _at(data: Mapping[str, Any], path: str) -> Any:
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current
