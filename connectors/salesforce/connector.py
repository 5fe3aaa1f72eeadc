"""Salesforce connector: implements :class:`hub.connector.Connector`.

Reads go through SOQL (built only by :mod:`handoff_hub.hub.http.query`) and sObject
Collections retrieve, selecting only fields the org has (:mod:`.org`); writes
through sObject Collections create, update and upsert-by-external-id. A
record in a response without an ``Id``, or with an unreadable modified date,
stops the read with a :class:`ConnectorError` that names the record: the
page's cursor is never stored, so nothing is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from handoff_hub.connectors.salesforce import settings
from handoff_hub.connectors.salesforce.client import (
    SalesforceAuth,
    SalesforceClient,
    describe_error,
    observe_limits,
    token_request_factory,
)
from handoff_hub.connectors.salesforce.config import (
    SalesforceConfig,
    SalesforceSecrets,
    load_config,
    resolve_secrets,
)
from handoff_hub.connectors.salesforce.org import OrgFacts
from handoff_hub.connectors.salesforce.preflight import owner_emails, salesforce_preflight
from handoff_hub.connectors.salesforce.records import (
    field_value,
    is_record_id,
    latest,
    parse_modstamp,
    typed,
    write_result,
)
from handoff_hub.hub.connector import (
    CRM_CAPABILITIES,
    Capability,
    ChangePage,
    CheckResult,
    FilterValue,
    PreflightNeeds,
    RecordEnvelope,
    WriteResult,
)
from handoff_hub.hub.errors import ConnectorError
from handoff_hub.hub.http import (
    ProductWire,
    api_client_for,
    build_client,
    chunks,
    cursor_text,
    parse_cursor,
)
from handoff_hub.hub.http.query import Condition, soql

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.systems import SystemConfig
    from handoff_hub.hub.http import RetryPolicy

__all__ = ["SalesforceConnector"]

WIRE = ProductWire(settings.DEFAULT_RATE_LIMIT, describe_error, observe_limits)


class SalesforceConnector:
    """Read and write Salesforce records through the REST API."""

    name: ClassVar[str] = "salesforce"
    settings_model: ClassVar[type[SalesforceConfig]] = SalesforceConfig
    """The model of ``systems.<name>.settings`` (checked by ``hub validate``)."""
    capabilities: ClassVar[frozenset[Capability]] = CRM_CAPABILITIES

    def __init__(
        self,
        client: SalesforceClient,
        config: SalesforceConfig,
        *,
        system: str,
        base_url: str,
        auth: SalesforceAuth | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.org = OrgFacts(client, lambda: auth.session_id if auth else None)

    @classmethod
    def from_config(
        cls,
        system: SystemConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> SalesforceConnector:
        """Build the connector from its ``systems.<name>`` section (see :class:`Connector`)."""
        config = load_config(system)
        secrets = resolve_secrets(system, config)
        http = build_client(system.base_url, transport=transport, timeout=system.timeout_seconds)
        auth = _auth(system, config, secrets, http)
        http.auth = auth
        hint = _auth_hint(system.name, config)
        api = api_client_for(system, http, WIRE, credentials_hint=hint, retry=retry)
        client = SalesforceClient(api, api_version=config.api_version)
        return cls(client, config, system=system.name, base_url=system.base_url, auth=auth)

    def read_changes(
        self,
        object_name: str,
        *,
        since: str | None,
        fields: Sequence[str] = (),
        where: Mapping[str, FilterValue] | None = None,
        page_size: int | None = None,
        seen: Collection[str] = (),
    ) -> Iterator[ChangePage]:
        """Yield pages of records modified at or after ``since``, oldest first.

        Args:
            object_name: sObject API name, e.g. ``Opportunity``.
            since: ISO 8601 cursor from an earlier page, or None for everything.
            fields: Fields to read (relationship paths allowed); default: all simple fields.
            where: Equality filters ANDed to the query, e.g. ``{"IsWon": True}``.
            page_size: Records per page, clamped to Salesforce's 200..2000.
            seen: Ids already handled at ``since``; re-reading them costs no calls here.

        Yields:
            One ChangePage per query batch; its cursor is the largest modified date so far.
        """
        since_at = parse_cursor(since, self.system) if since else None
        query = self._changes_query(object_name, since_at, fields, where)
        newest = since_at
        for number, body in enumerate(self.client.query(query, batch_size=self._batch(page_size))):
            records = [
                self._envelope(object_name, raw, f"page {number + 1}, record {i + 1}")
                for i, raw in enumerate(body["records"])
            ]
            newest = latest(newest, *(r.modified_at for r in records))
            yield ChangePage(records=records, cursor=cursor_text(newest) if newest else since)

    def _changes_query(
        self,
        object_name: str,
        since_at: dt.datetime | None,
        fields: Sequence[str],
        where: Mapping[str, FilterValue] | None,
    ) -> str:
        modified = self.config.modified_field
        conditions = [
            Condition(k, "IN", list(v)) if isinstance(v, list) else Condition(k, "=", v)
            for k, v in (where or {}).items()
        ]
        if since_at is not None:
            conditions.insert(0, Condition(modified, ">=", since_at))
        return soql(
            self._select(object_name, fields),
            object_name,
            where=conditions,
            order_by=[f"{modified} ASC", "Id ASC"],
        )

    def read_by_ids(
        self, object_name: str, ids: Sequence[str], *, fields: Sequence[str] = ()
    ) -> list[RecordEnvelope]:
        """Return the records with these ids; missing ones are left out.

        Plain fields use sObject Collections retrieve (2000 ids per call);
        relationship paths (``Owner.Email``), which retrieve cannot read, use
        SOQL ``Id IN (...)`` in chunks instead. A value that is not an id at
        all is missing too (SOQL would refuse the whole chunk for it).
        """
        wanted = [i for i in dict.fromkeys(ids) if is_record_id(i)]
        if not wanted:
            return []
        selected = self._select(object_name, fields)
        if any("." in f for f in selected):
            found: Iterable[Any] = (
                raw
                for batch in chunks(wanted, settings.IN_CLAUSE_CHUNK)
                for raw in self._query_records(
                    soql(selected, object_name, where=[Condition("Id", "IN", list(batch))])
                )
            )
        else:
            found = self.client.retrieve(object_name, wanted, selected)
        return [
            self._envelope(object_name, raw, f"retrieved record {i + 1}", stamped=False)
            for i, raw in enumerate(found)
            if raw is not None
        ]

    def find_by_external_id(
        self, object_name: str, external_field: str, values: Sequence[str]
    ) -> dict[str, str]:
        """Map each found external-id value to the Id of the record carrying it."""
        return self._lookup(object_name, external_field, values)

    def find_users(self, emails: Sequence[str]) -> dict[str, str]:
        """Map e-mail addresses to active Salesforce User ids (unknown ones left out)."""
        active = [Condition(settings.USER_ACTIVE_FIELD, "=", True)]
        return self._lookup(settings.USER_OBJECT, settings.USER_EMAIL_FIELD, emails, active)

    def _lookup(
        self,
        object_name: str,
        field: str,
        values: Sequence[str],
        extra: Sequence[Condition] = (),
    ) -> dict[str, str]:
        """Match values case-insensitively (as SOQL does); keys keep the caller's spelling."""
        unique = list(dict.fromkeys(values))
        spellings: dict[str, list[str]] = {}
        for value in unique:
            spellings.setdefault(value.casefold(), []).append(value)
        found: dict[str, str] = {}
        for batch in chunks(unique, settings.IN_CLAUSE_CHUNK):
            where = [Condition(field, "IN", list(batch)), *extra]
            for raw in self._query_records(soql(["Id", field], object_name, where=where)):
                record_id = raw.get("Id")
                for requested in spellings.get(str(field_value(raw, field)).casefold(), []):
                    if isinstance(record_id, str):
                        found.setdefault(requested, record_id)
        return found

    def _query_records(self, query: str) -> Iterator[Mapping[str, Any]]:
        for body in self.client.query(query, batch_size=settings.QUERY_BATCH_SIZE_MAX):
            yield from body["records"]

    def create(self, object_name: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Create records, 200 per call; one result per record, in input order."""
        payload = [typed(object_name, r) for r in records]
        return [write_result(i, r, True) for i, r in enumerate(self.client.create(payload))]

    def update(
        self, object_name: str, records: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult]:
        """Update ``(id, fields)`` pairs, 200 per call; one result per pair, in order."""
        payload = [{**typed(object_name, f), "Id": record_id} for record_id, f in records]
        return [write_result(i, r, False) for i, r in enumerate(self.client.update(payload))]

    def upsert(
        self, object_name: str, external_field: str, records: Sequence[Mapping[str, Any]]
    ) -> list[WriteResult]:
        """Create or update by external id, 200 per call; ``created`` says which happened.

        Args:
            object_name: sObject API name.
            external_field: An External ID field; every record must carry its value.
            records: Field maps, without ``Id``.
        """
        payload = [typed(object_name, r) for r in records]
        results = self.client.upsert(object_name, external_field, payload)
        return [write_result(i, r, None) for i, r in enumerate(results)]

    def describe(self, object_name: str) -> Mapping[str, Any]:
        """The sObject's describe result (cached for the connector's lifetime)."""
        return self.org.describe(object_name)

    def describe_ahead(self, object_names: Sequence[str], *, currency: bool) -> None:
        """Describe the mapped objects together before the mapping is fitted to the org."""
        self.org.describe_ahead(object_names, currency=currency)

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """The fields (or relationship paths like ``Owner.Email``) the object lacks."""
        return self.org.missing(object_name, fields)

    def default_currency(self) -> str | None:
        """The org's corporate currency, for amounts without a ``CurrencyIsoCode``."""
        return self.org.default_currency()

    def preflight(self, needs: PreflightNeeds) -> list[CheckResult]:
        """``hub check``: sign-in, API allocation, currency mode, fields and won stages."""
        return salesforce_preflight(self.client, self.org, needs).results

    def owner_emails(self) -> list[str]:
        """The active users' e-mail addresses (who may own a deal), lower-cased."""
        return owner_emails(self.client)

    def record_url(self, object_name: str, record_id: str) -> str:
        """Lightning Experience link to the record."""
        instance = (self.auth.instance_url if self.auth else None) or self.base_url
        return settings.RECORD_URL.format(
            base=_lightning_base(instance),
            object=quote(object_name, safe=""),
            id=quote(record_id, safe=""),
        )

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()

    def _select(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """Id, the modified field and the asked fields the org has (default: every simple one)."""
        chosen = (
            self.org.present(object_name, fields)
            if fields
            else [
                str(f["name"])
                for f in self.describe(object_name)["fields"]
                if f.get("type") not in settings.COMPOUND_FIELD_TYPES
            ]
        )
        unique: dict[str, str] = {}
        for name in ["Id", self.config.modified_field, *chosen]:
            unique.setdefault(name.casefold(), name)
        return list(unique.values())

    def _batch(self, page_size: int | None) -> int:
        size = page_size or self.config.query_batch_size
        return min(settings.QUERY_BATCH_SIZE_MAX, max(settings.QUERY_BATCH_SIZE_MIN, size))

    def _envelope(
        self, object_name: str, raw: Any, where: str, *, stamped: bool = True
    ) -> RecordEnvelope:
        """Wrap one record; ``stamped`` records must carry a readable modified date."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("Id"), str) or not raw["Id"]:
            shown = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
            raise ConnectorError(
                f"{object_name} {where} has no Id (fields present: {shown})", system=self.system
            )
        field = self.config.modified_field
        value = field_value(raw, field)
        modified_at = None
        if stamped or value is not None:
            modified_at = parse_modstamp(value, f"{object_name} {raw['Id']} {field}", self.system)
        return RecordEnvelope(
            system=self.system, object=object_name, id=raw["Id"], raw=raw, modified_at=modified_at
        )


def _auth(
    system: SystemConfig,
    config: SalesforceConfig,
    secrets: SalesforceSecrets,
    http: httpx.Client,
) -> SalesforceAuth:
    def move_to(instance_url: str) -> None:
        http.base_url = instance_url

    login = (config.login_url or system.base_url).rstrip("/")
    return SalesforceAuth(
        token_request_factory(config, secrets, login),
        system=system.name,
        setting_hint=_auth_hint(system.name, config),
        on_instance=move_to,
    )


def _auth_hint(system: str, config: SalesforceConfig) -> str:
    """Which settings an admin checks when Salesforce refuses the credentials."""
    names = " and ".join(settings.AUTH_FLOW_SECRETS[config.auth_flow])
    return f"systems.{system}.credentials ({names}) for auth_flow {config.auth_flow}"


def _lightning_base(instance_url: str) -> str:
    """``https://acme.my.salesforce.com`` -> ``https://acme.lightning.force.com``."""
    url = instance_url.rstrip("/")
    if url.endswith(settings.MY_DOMAIN_SUFFIX):
        return url[: -len(settings.MY_DOMAIN_SUFFIX)] + settings.LIGHTNING_SUFFIX
    return url
