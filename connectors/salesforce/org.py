"""What the connector learns about its org: objects' fields and the corporate currency.

Real orgs differ from the shipped mappings: multi-currency is off by default
(no ``CurrencyIsoCode`` anywhere), an admin may not have created a custom
field, field-level security may hide one. Selecting any such field fails the
whole query with ``INVALID_FIELD``, so reads select only fields the org's
describe lists. Each object is described once, when first needed; a
connector lives one run, which is as long as a describe is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from handoff_hub.connectors.salesforce import settings
from handoff_hub.connectors.salesforce.client import SalesforceClient
from handoff_hub.connectors.salesforce.records import field_value
from handoff_hub.hub.errors import ConnectorError, HubError, RateLimitedError, TransientError
from handoff_hub.hub.http.concurrent import fetch_missing
from handoff_hub.hub.http.query import soql

__all__ = ["OrgFacts"]

log = logging.getLogger("hub.salesforce")
_UNKNOWN = object()


class OrgFacts:
    """Describes of the org's objects, kept for the connector's life, and its currency."""

    def __init__(self, client: SalesforceClient, session_id: Callable[[], str | None]) -> None:
        self.client = client
        self._session_id = session_id
        self._describes: dict[str, Mapping[str, Any]] = {}
        self._not_described: dict[str, HubError] = {}
        """Why a describe read ahead failed: raised when it is asked for."""
        self._left_out: set[tuple[str, str]] = set()
        self._currency: object = _UNKNOWN

    def describe(self, object_name: str) -> Mapping[str, Any]:
        """The sObject's describe result, fetched once."""
        if (failure := self._not_described.pop(object_name, None)) is not None:
            raise failure
        if object_name not in self._describes:
            self._describes[object_name] = self.client.describe(object_name)
        return self._describes[object_name]

    def describe_ahead(self, object_names: Iterable[str], *, currency: bool) -> None:
        """Describe these objects now, the connector's ``concurrency`` at a time.

        ``currency``: the corporate currency will be asked, so ``Organization``
        is described too (:meth:`default_currency` looks for its currency field).
        """
        names = [*object_names, *([settings.ORG_OBJECT] if currency else [])]
        self._not_described |= fetch_missing(
            self._describes, names, self.client.describe, workers=self.client.api.concurrency
        )

    def missing(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """The fields (or relationship paths like ``Owner.Email``) the object lacks."""
        return [f for f in fields if not self.has(object_name, f)]

    def has(self, object_name: str, path: str) -> bool:
        """True when the org's object has the field, or every hop of the relationship path."""
        head, _, rest = path.partition(".")
        described = self.describe(object_name)["fields"]
        if not rest:
            return any(str(f.get("name", "")).casefold() == head.casefold() for f in described)
        targets = [
            t
            for f in described
            if str(f.get("relationshipName") or "").casefold() == head.casefold()
            for t in f.get("referenceTo") or []
        ]
        return any(self.has(t, rest) for t in targets)

    def present(self, object_name: str, fields: Iterable[str]) -> list[str]:
        """``fields`` without those the org lacks; each one left out is logged once."""
        kept = []
        for name in fields:
            if self.has(object_name, name):
                kept.append(name)
            elif (object_name, name) not in self._left_out:
                self._left_out.add((object_name, name))
                log.info(
                    "%s: the org's %s has no %s; not read", self.client.system, object_name, name
                )
        return kept

    def default_currency(self) -> str | None:
        """The corporate currency (ISO 4217), asked once; None when the org does not say.

        ``Organization.DefaultCurrencyIsoCode`` where the org has it (multi-currency
        orgs), else SOAP ``getUserInfo``'s ``orgDefaultCurrencyIsoCode``.

        Raises:
            TransientError: the org could not be asked (nothing is remembered).
            RateLimitedError: the same.
        """
        if self._currency is _UNKNOWN:
            self._currency = self._ask_currency()
        return self._currency if isinstance(self._currency, str) else None

    def _ask_currency(self) -> str | None:
        try:
            return self._org_field_currency() or self._soap_currency()
        except (TransientError, RateLimitedError):
            raise
        except ConnectorError as exc:
            log.warning("%s: the org's currency is unknown: %s", self.client.system, exc)
            return None

    def _org_field_currency(self) -> str | None:
        field = settings.ORG_CURRENCY_FIELD
        if self.missing(settings.ORG_OBJECT, [field]):
            return None
        query = soql([field], settings.ORG_OBJECT, limit=1)
        for body in self.client.query(query, batch_size=settings.QUERY_BATCH_SIZE_MIN):
            for raw in body["records"]:
                value = field_value(raw, field)
                if isinstance(value, str) and value:
                    return value
        return None

    def _soap_currency(self) -> str | None:
        session = self._session_id()
        if session is None:
            return None
        value = self.client.user_info(session).get(settings.SOAP_ORG_CURRENCY)
        return value or None
