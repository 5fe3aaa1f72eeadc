"""HubSpot connector: implements :class:`hub.connector.Connector`.

Reads changed records through the CRM search API (oldest first, keyset
paging on the modified date and, within one date, on the record id),
records by id or by the hub's unique stamp property through batch read, and
writes through batch create, update and upsert, 100 per call, isolating
records HubSpot refuses. Deals and
companies come back enriched with ``_stage``, ``_owner`` and ``_company``
(see :mod:`handoff_hub.connectors.hubspot.enrich`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from handoff_hub.connectors.hubspot import settings, webhooks
from handoff_hub.connectors.hubspot.changes import SearchPage, SearchPlan, search_changes
from handoff_hub.connectors.hubspot.client import HubSpotClient
from handoff_hub.connectors.hubspot.config import HubSpotConfig, load_config, resolve_secrets
from handoff_hub.connectors.hubspot.enrich import Lookups
from handoff_hub.connectors.hubspot.lead_contacts import Directory, contact_needs, resolve_contacts
from handoff_hub.connectors.hubspot.portal import Portal
from handoff_hub.connectors.hubspot.preflight import hubspot_preflight, owner_emails
from handoff_hub.connectors.hubspot.records import (
    association_inputs,
    latest,
    modified_property,
    owner_properties,
    parse_stamp,
    property_name,
    property_names,
    search_filter,
    wanted_links,
    write_properties,
)
from handoff_hub.connectors.hubspot.wiring import build_api, search_budget
from handoff_hub.connectors.hubspot.writes import Input, MatchRules, Send, write_batches
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
from handoff_hub.hub.errors import ConnectorError, HubError, QueryBuildError
from handoff_hub.hub.http import (
    BearerToken,
    OAuth2Token,
    RetryPolicy,
    TokenBucket,
    chunks,
    cursor_text,
    parse_cursor,
)
from handoff_hub.hub.http.concurrent import fetch_missing, read_ahead
from handoff_hub.hub.http.query import search_text

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.systems import SystemConfig

__all__ = ["HubSpotConnector"]


class HubSpotConnector:
    """Read and write HubSpot CRM records through the v3 objects and v4 associations APIs."""

    # Its webhooks, received by ``hub serve`` (:mod:`handoff_hub.connectors.hubspot.webhooks`).
    webhook_model = staticmethod(webhooks.webhook_model)
    webhook_receiver = staticmethod(webhooks.receiver)

    name: ClassVar[str] = "hubspot"
    settings_model: ClassVar[type[HubSpotConfig]] = HubSpotConfig
    """The model of ``systems.<name>.settings`` (checked by ``hub validate``)."""
    capabilities: ClassVar[frozenset[Capability]] = CRM_CAPABILITIES

    def __init__(
        self,
        client: HubSpotClient,
        config: HubSpotConfig,
        *,
        system: str,
        auth: OAuth2Token | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.system = system
        self.auth = auth
        self.lookups = Lookups(client)
        self.portal = Portal(client, config)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._properties: dict[str, list[Mapping[str, Any]]] = {}
        self._not_described: dict[str, HubError] = {}
        """Why a property list read ahead failed: raised when it is asked for."""

    @classmethod
    def from_config(
        cls,
        system: SystemConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        limiter: TokenBucket | None = None,
        search_limiter: TokenBucket | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> HubSpotConnector:
        """Build the connector from its hub-config section.

        Args:
            system: The ``systems.<name>`` section (settings, credentials, limits).
            transport: An httpx transport, e.g. a sandbox's in-process one.
            retry: Retry policy; default: ``system.max_retries`` retries with backoff.
            limiter: Request budget; default: ``system.rate_limit`` or HubSpot's limits.
            search_limiter: Search budget; default: ``search_requests_per_second``.
            clock: The current time, which cursors stay ``search_lag_seconds`` behind.

        Raises:
            ConfigError: every invalid setting or missing credential, at once.
        """
        config = load_config(system)
        secrets = resolve_secrets(system, config)
        api, auth = build_api(
            system, config, secrets, transport=transport, retry=retry, limiter=limiter
        )
        client = HubSpotClient(api, search_limiter=search_limiter or search_budget(config, system))
        return cls(client, config, system=system.name, auth=auth, clock=clock)

    # reading ---------------------------------------------------------------

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
            object_name: CRM object type, e.g. ``deals``.
            since: ISO 8601 cursor from an earlier page, or None for everything.
            fields: Properties to read (``dealname`` or ``properties.dealname``),
                default: every property of the object (properties API);
                ``_stage``/``_owner``/``_company`` paths are always provided for deals.
            where: Filters ANDed to the search: a value is EQ, a list IN, None
                NOT_HAS_PROPERTY; on deals ``{"won": True}`` means a won stage.
            page_size: Records per page, clamped to 1..200.
            seen: Ids already handled at ``since``: left out, and so not enriched.

        Yields:
            One ChangePage per search page; its cursor is the largest modified date
            so far, held ``search_lag_seconds`` behind now for not yet indexed writes.
            Pages are enriched together, up to an associations batch (1000 records)
            at a time, so a read makes one associations call per five searches;
            a group is handed on once the next group's associations are read, so
            that companies are read in full batches of 100.
        """
        since_at = parse_cursor(since, self.system) if since else None
        plan = SearchPlan(
            object_name=object_name,
            modified=modified_property(object_name),
            properties=self._read_properties(object_name, fields),
            filters=self._filters(object_name, where or {}),
            limit=min(settings.SEARCH_PAGE_MAX, max(1, page_size or self.config.page_size)),
            window=self.config.search_window,
        )
        newest = since_at
        stamp = functools.partial(self._stamp, object_name)
        pages = read_ahead(
            search_changes(self.client, plan, since_at, stamp, seen=seen),
            enabled=self.client.api.concurrency > 1,
            depth=max(1, settings.ASSOCIATIONS_BATCH_SIZE // plan.limit),
        )
        for group, enriched in self._enriched_groups(object_name, pages):
            envelopes = iter(enriched)
            for page in group:
                records = [next(envelopes) for _ in page.records]
                newest = latest(newest, *(r.modified_at for r in records))
                yield ChangePage(
                    records=records, cursor=self._cursor(since_at, newest), total=page.total
                )

    def _enriched_groups(
        self, object_name: str, pages: Iterable[SearchPage]
    ) -> Iterator[tuple[list[SearchPage], list[RecordEnvelope]]]:
        """Groups of pages (one associations call each) with their records enriched.

        Companies are read 100 at a time; a group's last, partial batch is
        filled with the next group's companies, so a group is handed on once
        the next one's associations are known: a read makes about one
        companies call per 100 companies, not one more per group.
        """
        companies: dict[str, dict[str, Any]] = {}
        groups = _groups(pages, settings.ASSOCIATIONS_BATCH_SIZE)
        if object_name not in settings.COMPANY_ENRICHED:
            for group in groups:
                found = [r for p in group for r in p.records]
                yield group, self._envelopes(object_name, found, companies)
            return
        held: tuple[list[SearchPage], list[Mapping[str, Any]], dict[str, str]] | None = None
        for group in groups:
            found = [r for p in group for r in p.records]
            ids = [str(r.get("id")) for r in found]
            primary = self.lookups.primary_companies(object_name, ids) if ids else {}
            if held is not None:
                self._read_companies(held[2], primary, companies)
                yield held[0], self._envelopes(object_name, held[1], companies, held[2])
            held = (group, found, primary)
        if held is not None:
            self.lookups.fetch_companies(held[2].values(), companies)
            yield held[0], self._envelopes(object_name, held[1], companies, held[2])

    def _read_companies(
        self, now: Mapping[str, str], next_: Mapping[str, str], known: dict[str, dict[str, Any]]
    ) -> None:
        """Read the companies ``now`` needs, the last batch filled up from ``next_``'s."""
        due = [c for c in dict.fromkeys(now.values()) if c not in known]
        room = -len(due) % settings.BATCH_SIZE
        taken = set(due)
        extra = [c for c in dict.fromkeys(next_.values()) if c not in known and c not in taken]
        self.lookups.fetch_companies([*due, *extra[:room]], known)

    def _cursor(self, since: dt.datetime | None, newest: dt.datetime | None) -> str | None:
        if newest is None:
            return None
        settled = self._clock() - dt.timedelta(seconds=self.config.search_lag_seconds)
        held = min(newest, settled)
        return cursor_text(max(held, since) if since is not None else held)

    def _filters(self, object_name: str, where: Mapping[str, FilterValue]) -> list[dict[str, Any]]:
        filters = []
        for key, value in where.items():
            if object_name == settings.DEALS and key == settings.WON_FILTER:
                won = self.lookups.stage_ids("won")
                operator = "IN" if value else "NOT_IN"
                filters.append({"propertyName": "dealstage", "operator": operator, "values": won})
                continue
            name = property_name(key)
            if name is None:
                raise QueryBuildError(f"{key!r} is not a property {object_name} can be searched by")
            filters.append(search_filter(name, value))
        if len(filters) + 2 > settings.SEARCH_MAX_FILTERS:
            raise QueryBuildError(
                f"{len(filters)} filters on {object_name}; a search takes"
                f" {settings.SEARCH_MAX_FILTERS - 2} besides the modified date and the record id"
            )
        return filters

    def _read_properties(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """Properties to ask for: those of ``fields``, else every one the object has.

        Owner properties read through their owner are noted for the enrichment.
        """
        if through_owner := owner_properties(fields):
            self.lookups.owner_properties.setdefault(object_name, set()).update(through_owner)
        asked = property_names(fields) or [str(p.get("name")) for p in self.describe(object_name)]
        extra = settings.ENRICHED_PROPERTIES.get(object_name, ())
        return property_names(asked, modified_property(object_name), *extra)

    def read_by_ids(
        self, object_name: str, ids: Sequence[str], *, fields: Sequence[str] = ()
    ) -> list[RecordEnvelope]:
        """Return the records with these ids (batch read, 100 per call); missing ones left out."""
        wanted = list(dict.fromkeys(search_text(str(i)) for i in ids))
        if not wanted:
            return []
        found = self.client.batch_read(
            object_name, wanted, self._read_properties(object_name, fields)
        )
        return self._envelopes(object_name, found)

    def find_by_external_id(
        self, object_name: str, external_field: str, values: Sequence[str]
    ) -> dict[str, str]:
        """Map each found stamp to the id of the record carrying it.

        A unique property (``hasUniqueValue``) is read with batch read and
        ``idProperty``; any other property through search (``IN``, 100 values
        per call).
        """
        name = property_name(external_field) or external_field
        wanted = list(dict.fromkeys(search_text(str(v)) for v in values))
        if not wanted:
            return {}
        if self._is_unique(object_name, name):
            found = self.client.batch_read(object_name, wanted, [name], id_property=name)
        else:
            found = self._search_values(object_name, name, wanted)
        by_value: dict[str, str] = {}
        for raw in found:
            value = (raw.get("properties") or {}).get(name)
            if value is not None and raw.get("id") is not None:
                by_value.setdefault(str(value), str(raw["id"]))
        return {v: by_value[v] for v in wanted if v in by_value}

    def _search_values(
        self, object_name: str, name: str, values: Sequence[str]
    ) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for batch in chunks(values, settings.BATCH_SIZE):
            plan = SearchPlan(
                object_name=object_name,
                modified=modified_property(object_name),
                properties=[name],
                filters=[search_filter(name, list(batch))],
                limit=settings.SEARCH_PAGE_MAX,
                window=self.config.search_window,
            )
            stamp = functools.partial(self._stamp, object_name)
            for page in search_changes(self.client, plan, None, stamp):
                found.extend(page.records)
        return found

    def find_users(self, emails: Sequence[str]) -> dict[str, str]:
        """Map e-mail addresses to owner ids (case-insensitive; unknown ones left out)."""
        by_email = {
            str(o.get("email")).casefold(): str(o.get("id"))
            for o in self.lookups.owners().values()
            if o.get("email")
        }
        return {e: by_email[e.casefold()] for e in emails if e.casefold() in by_email}

    # writing ---------------------------------------------------------------

    def create(self, object_name: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Create records, 100 per call; one result per record, in input order.

        A record may name records to be associated with at creation:
        ``_associate: {"contacts": ["123"]}`` and ``_company: {"id": "456"}``
        (the shape reads give). HubSpot refuses a lead without a contact: a
        lead naming none gets one (:mod:`handoff_hub.connectors.hubspot.lead_contacts`),
        from ``_contact: {email, name}``, its company or the configured fallback.
        """
        wanted = [wanted_links(r) for r in records]
        refused: dict[int, WriteResult] = {}
        if object_name == settings.LEADS:
            refused = self._attach_contacts(records, wanted)
        inputs = []
        for index, (record, links) in enumerate(zip(records, wanted, strict=True)):
            if index in refused:
                continue
            body: dict[str, Any] = {"properties": write_properties(record)}
            if links:
                body["associations"] = association_inputs(object_name, links)
            inputs.append(Input(index, body))
        written = write_batches(
            self._sender(object_name, "create"),
            inputs,
            self._rules(created=True),
            concurrency=self.client.api.concurrency,
        )
        merged = {r.index: r for r in written} | refused
        return [merged[i] for i in range(len(records))]

    def _attach_contacts(
        self, records: Sequence[Mapping[str, Any]], wanted: list[dict[str, list[str]]]
    ) -> dict[int, WriteResult]:
        """Give each lead naming no contact one; the leads left without one, failed."""
        needs = contact_needs(records, wanted, self.config.id_property)
        if not any(needs):
            return {}
        directory = Directory(
            by_email=self._contacts_by_email,
            by_stamp=functools.partial(
                self.find_by_external_id, settings.CONTACTS, self.config.id_property
            ),
            company_contacts=functools.partial(
                self.associated_ids, settings.COMPANIES, to_object=settings.CONTACTS
            ),
            create=functools.partial(self.create, settings.CONTACTS),
        )
        refused: dict[int, WriteResult] = {}
        for index, contact in resolve_contacts(needs, directory, self.config).items():
            if isinstance(contact, WriteResult):
                refused[index] = contact
            else:
                wanted[index][settings.CONTACTS] = [contact]
        return refused

    def _contacts_by_email(self, emails: Sequence[str]) -> dict[str, str]:
        """Lower-cased e-mail -> contact id (batch read by ``idProperty=email``)."""
        found = self.client.batch_read(
            settings.CONTACTS, emails, [settings.CONTACT_EMAIL], id_property=settings.CONTACT_EMAIL
        )
        by_email: dict[str, str] = {}
        for raw in found:
            email = (raw.get("properties") or {}).get(settings.CONTACT_EMAIL)
            if email and raw.get("id") is not None:
                by_email.setdefault(str(email).casefold(), str(raw["id"]))
        return by_email

    def update(
        self, object_name: str, records: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult]:
        """Update ``(id, properties)`` pairs, 100 per call; one result per pair, in order."""
        inputs = [
            Input(i, {"id": str(record_id), "properties": write_properties(values)}, str(record_id))
            for i, (record_id, values) in enumerate(records)
        ]
        return write_batches(
            self._sender(object_name, "update"),
            inputs,
            self._rules(created=False),
            concurrency=self.client.api.concurrency,
        )

    def upsert(
        self, object_name: str, external_field: str, records: Sequence[Mapping[str, Any]]
    ) -> list[WriteResult]:
        """Create or update by a unique property, 100 per call; ``created`` says which.

        Args:
            object_name: CRM object type.
            external_field: A unique property (``handoff_hub_id``); every record carries it.
            records: Property maps.
        """
        name = property_name(external_field) or external_field
        inputs: list[Input] = []
        refused: dict[int, WriteResult] = {}
        for index, record in enumerate(records):
            properties = write_properties(record)
            key = properties.get(name)
            if not key:
                refused[index] = WriteResult(
                    index=index, ok=False, error=f"the record has no {name} value to upsert by"
                )
                continue
            body = {"idProperty": name, "id": key, "properties": properties}
            inputs.append(Input(index, body, key))
        written = write_batches(
            self._sender(object_name, "upsert"),
            inputs,
            self._rules(created=None, key_property=name),
            concurrency=self.client.api.concurrency,
        )
        merged = {r.index: r for r in written} | refused
        return [merged[i] for i in range(len(records))]

    def _rules(self, *, created: bool | None, key_property: str | None = None) -> MatchRules:
        return MatchRules(created, key_property, stamp_property=self.config.id_property)

    def _sender(self, object_name: str, action: str) -> Send:
        return functools.partial(self.client.batch_write, object_name, action)

    def associate(self, from_object: str, from_id: str, to_object: str, to_id: str) -> None:
        """Associate two records with the default (unlabeled) association type."""
        self.client.associate_default(from_object, from_id, to_object, to_id)

    def associated_ids(
        self, from_object: str, ids: Sequence[str], to_object: str
    ) -> dict[str, list[str]]:
        """Ids of the ``to_object`` records each record is associated with (one call per 1000)."""
        links = self.client.associations(from_object, to_object, list(dict.fromkeys(ids)))
        return {k: [str(t.get("toObjectId")) for t in v] for k, v in links.items()}

    # describing ------------------------------------------------------------

    def describe(self, object_name: str) -> list[Mapping[str, Any]]:
        """The object's property definitions (cached for the connector's lifetime)."""
        if (failure := self._not_described.pop(object_name, None)) is not None:
            raise failure
        if object_name not in self._properties:
            self._properties[object_name] = self.client.properties(object_name)
        return self._properties[object_name]

    def describe_ahead(self, object_names: Sequence[str], *, currency: bool) -> None:
        """Read the mapped objects' properties together before the mapping is fitted.

        The currency (the account's details) stays asked when first needed.
        """
        objects = [name for name in object_names if name != settings.OWNERS_OBJECT]
        self._not_described |= fetch_missing(
            self._properties, objects, self.client.properties, workers=self.client.api.concurrency
        )

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """The fields (``properties.x`` or ``x``) whose property the object lacks.

        Owners are no CRM object: their fields are the owners API's own, always there.
        """
        if object_name == settings.OWNERS_OBJECT:
            return []
        known = {str(p.get("name")) for p in self.describe(object_name)}
        return [f for f in fields if (name := property_name(f)) is not None and name not in known]

    def default_currency(self) -> str | None:
        """The account's company currency (``companyCurrency`` of the account details)."""
        return self.portal.currency()

    def _is_unique(self, object_name: str, name: str) -> bool:
        return any(
            p.get("name") == name and p.get("hasUniqueValue") is True
            for p in self.describe(object_name)
        )

    def preflight(self, needs: PreflightNeeds) -> list[CheckResult]:
        """``hub check``: scopes, properties, won stages, owners and the daily allowance."""
        auth = self.client.api.http.auth
        token = auth.secret().get_secret_value() if isinstance(auth, BearerToken) else None
        found = hubspot_preflight(self.client, needs, token=token, describe=self.describe)
        return found.results

    def owner_emails(self) -> list[str]:
        """The active owners' e-mail addresses, lower-cased."""
        return owner_emails(self.client)

    def record_url(self, object_name: str, record_id: str) -> str:
        """Link to the record in HubSpot (portal id from settings or account info)."""
        return self.portal.record_url(object_name, record_id)

    def portal_id(self) -> int:
        """The HubSpot account id: the setting, else ``/account-info/v3/details`` (read once)."""
        return self.portal.portal_id()

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()

    # records ---------------------------------------------------------------

    def _stamp(self, object_name: str, raw: Mapping[str, Any]) -> dt.datetime:
        """A record's modified date; a record without id or date stops the read by name."""
        if not isinstance(raw, Mapping) or not str(raw.get("id") or ""):
            shown = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
            raise ConnectorError(
                f"a {object_name} record has no id (keys present: {shown})", system=self.system
            )
        prop = modified_property(object_name)
        value = (raw.get("properties") or {}).get(prop) or raw.get("updatedAt")
        return parse_stamp(value, f"{object_name} {raw['id']} {prop}", self.system)

    def _envelopes(
        self,
        object_name: str,
        found: Sequence[Mapping[str, Any]],
        companies: dict[str, dict[str, Any]] | None = None,
        primary: Mapping[str, str] | None = None,
    ) -> list[RecordEnvelope]:
        stamps = [self._stamp(object_name, raw) for raw in found]
        return [
            RecordEnvelope(
                system=self.system,
                object=object_name,
                id=str(raw["id"]),
                raw=raw,
                modified_at=stamp,
            )
            for raw, stamp in zip(
                self.lookups.enrich(object_name, found, companies, primary), stamps, strict=True
            )
        ]


def _groups(pages: Iterable[SearchPage], most: int) -> Iterator[list[SearchPage]]:
    """Consecutive pages, as many at a time as hold at most ``most`` records together."""
    group: list[SearchPage] = []
    held = 0
    for page in pages:
        if group and held + len(page.records) > most:
            yield group
            group, held = [], 0
        group.append(page)
        held += len(page.records)
    if group:
        yield group
