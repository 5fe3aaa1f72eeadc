"""The contract every connector implements, and the values that cross it.

A connector speaks one product's REST API and nothing else: it knows paths,
payloads, paging and batch sizes; it knows nothing of handoffs, links or the
store. The engine drives it through :class:`Connector` (every product) and
:class:`PmConnector` (project tools). Records cross as raw product dicts in a
:class:`RecordEnvelope`; the mapping engine turns them into unified entities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from handoff_hub.hub.errors import RECORD_ERRORS, ConfigError, HubError, Issue, TransientError

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.systems import SystemConfig
    from handoff_hub.hub.config.webhooks import ProductWebhookConfig
    from handoff_hub.hub.webhooks.source import WebhookContext, WebhookReceiver

__all__ = [
    "PROJECT_ERRORS",
    "Capability",
    "ChangePage",
    "CheckResult",
    "CheckStatus",
    "Connector",
    "CreatesProjects",
    "DescribesAhead",
    "FieldNeed",
    "FilterValue",
    "KeepsFacts",
    "KnowsOrgSchema",
    "ListsOwners",
    "NewProject",
    "PmConnector",
    "Preflight",
    "PreflightNeeds",
    "ProjectHandle",
    "ProjectOutcome",
    "ProjectTemplate",
    "RecordEnvelope",
    "RecordFilter",
    "TemplateTask",
    "WebhookSource",
    "WriteResult",
    "create_projects",
    "preflight_of",
    "record_filter",
    "settings_model",
    "webhook_source",
]

FilterValue = str | int | bool | list[str] | None
PROJECT_ERRORS: tuple[type[HubError], ...] = (*RECORD_ERRORS, TransientError)
"""What fails one project of a batch create alone: a refusal, or an answer that was lost."""


class Capability(StrEnum):
    """What a connector can do; the engine checks before it asks."""

    READ_CHANGES = "read_changes"
    READ_BY_IDS = "read_by_ids"
    SEARCH_EXTERNAL_ID = "search_external_id"
    BATCH_CREATE = "batch_create"
    BATCH_UPDATE = "batch_update"
    UPSERT = "upsert"
    DESCRIBE = "describe"
    FIND_USERS = "find_users"
    PROJECT_FROM_TEMPLATE = "project_from_template"
    COMMENT = "comment"


CRM_CAPABILITIES = frozenset(
    {
        Capability.READ_CHANGES,
        Capability.READ_BY_IDS,
        Capability.SEARCH_EXTERNAL_ID,
        Capability.BATCH_CREATE,
        Capability.BATCH_UPDATE,
        Capability.UPSERT,
        Capability.DESCRIBE,
        Capability.FIND_USERS,
    }
)
"""What a full CRM connector does (Salesforce, HubSpot)."""

PM_CAPABILITIES = (CRM_CAPABILITIES - {Capability.UPSERT}) | {
    Capability.PROJECT_FROM_TEMPLATE,
    Capability.COMMENT,
}
"""What a full project-tool connector does (Jira, Asana): no upsert, but projects and comments."""


@dataclass(frozen=True)
class RecordEnvelope:
    """One product record, untouched, with where it came from."""

    system: str
    object: str
    id: str
    raw: Mapping[str, Any]
    modified_at: dt.datetime | None = None


@dataclass(frozen=True)
class ChangePage:
    """One page of changed records.

    ``cursor`` is the position to store once every record of this page has been
    handled (the largest modified-date seen so far); reading again from it may
    return records already seen, never skip one. ``total`` is the size of the
    whole result when the product tells it (progress bars), else None.
    """

    records: list[RecordEnvelope]
    cursor: str | None
    total: int | None = None


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one record in a batch write, in input order.

    ``unsure`` marks a failed result whose record the product may have written
    all the same: the answer did not say which input a created record belongs
    to (HubSpot batch results come in any order). The caller looks the record
    up by its stamp before writing it again, never assumes either way.
    """

    index: int
    ok: bool
    id: str | None = None
    created: bool | None = None
    error: str | None = None
    unsure: bool = False


@dataclass(frozen=True)
class TemplateTask:
    """One work-breakdown item of a project template."""

    name: str
    description: str | None = None
    parent: str | None = None
    due_offset_days: int | None = None


@dataclass(frozen=True)
class ProjectTemplate:
    """A delivery project template as the hub config defines it.

    ``product_template`` names the product's own template where it has one
    (Asana project template gid); ``tasks`` is the work breakdown the hub
    creates itself where the product has none (Jira).
    """

    name: str
    tasks: tuple[TemplateTask, ...] = ()
    product_template: str | None = None

    def ancestors(self) -> dict[str, tuple[str, ...]]:
        """Each task's parents, nearest first: the tree a connector lays out level by level.

        Raises:
            ConfigError: on a duplicate task name, an unknown parent or a parent cycle.
        """
        by_name: dict[str, TemplateTask] = {}
        for task in self.tasks:
            if task.name in by_name:
                raise self._error(f"task name {task.name!r} is used twice")
            by_name[task.name] = task
        return {task.name: self._chain(task, by_name) for task in self.tasks}

    def _chain(self, task: TemplateTask, by_name: Mapping[str, TemplateTask]) -> tuple[str, ...]:
        chain: list[str] = []
        current = task
        while current.parent is not None:
            parent = by_name.get(current.parent)
            if parent is None:
                raise self._error(f"task {task.name!r} names unknown parent {current.parent!r}")
            if parent.name == task.name or parent.name in chain:
                raise self._error(f"task {task.name!r} is its own ancestor")
            chain.append(parent.name)
            current = parent
        return tuple(chain)

    def _error(self, message: str) -> ConfigError:
        return ConfigError([Issue("<config>", None, f"templates.{self.name}.tasks", message)])


@dataclass(frozen=True)
class NewProject:
    """What the engine asks a PM connector to create.

    ``source_id`` (``"salesforce:006..."``) is stamped on everything created so
    that a later run finds it even if the hub crashed before recording it.
    ``fields`` are product fields produced by the PM mapping.
    """

    source_id: str
    name: str
    fields: Mapping[str, Any]
    template: ProjectTemplate
    start: dt.date | None = None
    manager_id: str | None = None


@dataclass(frozen=True)
class ProjectHandle:
    """A delivery project that exists in the PM product."""

    id: str
    key: str
    url: str
    created: bool = False
    task_ids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ProjectOutcome:
    """What became of one project of a batch create: its handle, or why it has none.

    ``error`` is a record error (the project alone is dead-lettered) or a
    :class:`~hub.errors.TransientError` (the project may exist: the caller looks
    for its stamp before creating it again).
    """

    handle: ProjectHandle | None = None
    error: HubError | None = None


@runtime_checkable
class Connector(Protocol):
    """Read and write one product's records."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]

    @classmethod
    def from_config(
        cls, system: SystemConfig, *, transport: httpx.BaseTransport | None = None
    ) -> Connector:
        """Build a connector from its hub-config section."""
        ...

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

        ``seen`` holds the ids of records the caller already handled at the
        ``since`` instant; a connector may leave them out where re-reading them
        costs calls (HubSpot enriches each record it reads). The caller drops
        them either way.
        """
        ...

    def read_by_ids(
        self, object_name: str, ids: Sequence[str], *, fields: Sequence[str] = ()
    ) -> list[RecordEnvelope]:
        """Return the records with these ids; missing ones are left out."""
        ...

    def find_by_external_id(
        self, object_name: str, external_field: str, values: Sequence[str]
    ) -> dict[str, str]:
        """Map each found external-id value to the record id carrying it."""
        ...

    def create(self, object_name: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Create records in the product's batch endpoint; one result per record."""
        ...

    def update(
        self, object_name: str, records: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult]:
        """Update ``(id, fields)`` pairs in batches; one result per pair."""
        ...

    def find_users(self, emails: Sequence[str]) -> dict[str, str]:
        """Map e-mail addresses to this product's user ids (unknown ones left out)."""
        ...

    def record_url(self, object_name: str, record_id: str) -> str:
        """Link a person can open to see the record."""
        ...

    def close(self) -> None:
        """Release the HTTP client."""
        ...


@runtime_checkable
class PmConnector(Connector, Protocol):
    """A project tool: creates delivery projects and comments."""

    def find_project(self, source_id: str) -> ProjectHandle | None:
        """Find the project stamped with ``source_id``, if one exists."""
        ...

    def find_projects(self, source_ids: Sequence[str]) -> dict[str, ProjectHandle]:
        """The project stamped with each of ``source_ids`` that has one, by source id.

        A batch's lookups in a few reads: planning a page of won deals must not
        cost a search per deal.
        """
        ...

    def create_project(self, project: NewProject) -> ProjectHandle:
        """Create the project (or epic) and its template's work breakdown."""
        ...

    def complete_project(self, handle: ProjectHandle, project: NewProject) -> ProjectHandle:
        """Create any template task still missing (after a crash mid-create)."""
        ...

    def add_comment(self, object_name: str, record_id: str, text: str) -> str:
        """Comment on a record; return the comment id."""
        ...

    def comment_texts(self, object_name: str, record_id: str) -> list[str]:
        """The plain text of the record's comments, oldest first.

        The engine reads them before commenting again after a crash: a comment
        that already went out is not posted twice.
        """
        ...

    project_stamp_fields: tuple[str, ...]
    """Product fields a project read must include for :meth:`project_stamp`."""

    def project_stamp(self, raw: Mapping[str, Any]) -> str | None:
        """The stamp a raw project record carries, in :meth:`stamp_key`'s form; None if unstamped.

        Reconciliation joins deals and projects on it without one call per project.
        """
        ...

    def stamp_key(self, source_id: str) -> str:
        """How a project stamped with ``source_id`` shows its stamp to :meth:`project_stamp`."""
        ...


@runtime_checkable
class CreatesProjects(Protocol):
    """Optional: a project tool that creates a batch's projects together.

    Each product's bulk endpoints take the records of many projects in one
    call (Jira's bulk create 50 issues, Asana's ``/batch`` 10 actions), so a
    batch of won deals costs a few calls per level of its work breakdown
    rather than a few calls per deal.
    """

    def create_projects(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Create every project and its work breakdown; one outcome per project, in order.

        A project the product refuses, or whose answer was lost, has its error
        in its outcome; the others are created all the same.

        Raises:
            ConfigError: a template is inconsistent (checked before any write).
            HubError: a failure of the whole batch (auth, an exhausted rate limit).
        """
        ...


def create_projects(pm: PmConnector, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
    """The projects created together where ``pm`` can, else one after another.

    One after another, a record error or an unsure answer is the project's
    outcome, as a batch create reports it; any other failure stops the batch.
    """
    if isinstance(pm, CreatesProjects):
        return pm.create_projects(projects)
    outcomes: list[ProjectOutcome] = []
    for project in projects:
        try:
            outcomes.append(ProjectOutcome(pm.create_project(project)))
        except PROJECT_ERRORS as exc:
            outcomes.append(ProjectOutcome(error=exc))
    return outcomes


@runtime_checkable
class KnowsOrgSchema(Protocol):
    """Optional: a connector that learns which fields its org has, and its currency.

    Real orgs differ from the shipped mappings: multi-currency is off by default
    in Salesforce (no ``CurrencyIsoCode``), an admin may not have created a
    custom field. The hub asks before it reads or writes, so it can leave out
    optional fields the org lacks and stop, naming the object and field, when
    a required one is missing.
    """

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """The fields (or relationship paths like ``Owner.Email``) the org's object lacks.

        The object's description is read once and kept for the connector's life.
        """
        ...

    def default_currency(self) -> str | None:
        """The org's corporate currency (ISO 4217), for amounts that carry none; None if unknown."""
        ...


@runtime_checkable
class DescribesAhead(Protocol):
    """Optional, beside :class:`KnowsOrgSchema`: learn several objects' fields at once.

    Fitting a mapping asks about one object after another; a connector that
    fetches each object's description on first use would wait one round trip
    per object (Salesforce's describes are large and slow to build). The hub
    names every mapped object first, so the connector can fetch them
    together. Nothing fails here: a description that could not be fetched
    raises its failure when it is asked for, where it always did.
    """

    def describe_ahead(self, object_names: Sequence[str], *, currency: bool) -> None:
        """Fetch these objects' descriptions now (``currency``: what the currency needs too)."""
        ...


@runtime_checkable
class RecordFilter(Protocol):
    """Optional, on the connector class: whether a record read by id fits an entity's ``where``.

    A scheduled read asks the product for an entity's records (``where``
    becomes the product's query); a webhook only names a record. A connector
    that knows what its ``where`` keys mean says so here, and the hub checks the
    record before handing it to a handoff; for one that does not, its records
    are left to the scheduled run rather than guessed at.
    """

    @staticmethod
    def read_scope(
        settings: Mapping[str, Any], where: Mapping[str, FilterValue]
    ) -> Mapping[str, FilterValue]:
        """``where`` plus the scope the connector adds to every read of its own accord."""
        ...

    @staticmethod
    def where_fields(where: Mapping[str, FilterValue]) -> list[str]:
        """The fields a read by id must ask for so that ``where`` can be checked."""
        ...

    @staticmethod
    def where_value(raw: Mapping[str, Any], key: str) -> Any:
        """The record's value for the ``where`` key ``key``."""
        ...


@runtime_checkable
class WebhookSource(Protocol):
    """Optional, on the connector class: its product's webhooks, received by ``hub serve``.

    The admin configures them under ``webhooks.<connector name>:``, a section
    checked against :meth:`webhook_model` (with the file's lines) like a
    system's ``settings:``. ``hub serve`` builds one receiver from it with
    :meth:`webhook_receiver` and routes ``/webhooks/<connector name>`` (or
    ``/webhooks/<connector name>/<name>`` per name the receiver lists) to it:
    the receiver checks each delivery and says what changed
    (:mod:`handoff_hub.hub.webhooks.source`); the hub reads bodies, remembers deliveries
    against replays, answers and dispatches the changes.
    """

    @staticmethod
    def webhook_model() -> type[ProductWebhookConfig]:
        """The model of the ``webhooks.<connector name>:`` section."""
        ...

    @staticmethod
    def webhook_receiver(section: Any, context: WebhookContext) -> WebhookReceiver | None:
        """The receiver of ``section`` (a :meth:`webhook_model`); None when ``context`` has issues.

        ``context`` holds the system the deliveries are about and the config's
        folder; problems (an unset secret's variable...) are recorded on it with
        the setting they concern, so the admin sees every one at once.
        """
        ...


class CheckStatus(StrEnum):
    """How one pre-flight check came out."""

    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    """One pre-flight finding about one system (and the handoff it concerns, if one)."""

    system: str
    check: str
    status: CheckStatus
    detail: str
    handoff: str | None = None


@dataclass(frozen=True)
class FieldNeed:
    """A product field a configured handoff reads or writes through the mapping.

    ``path`` is the product field as the mapping names it (``Delivery_Project__c``,
    ``fields.customfield_10050``, ``custom_fields.budget``); ``type`` the mapping
    rule's type (``string``, ``money``, ``date``...; None when untyped).
    ``needed``: a run fails without it (a required rule, a stamp, a field a
    handoff writes or compares); otherwise the hub leaves the rule out.
    """

    entity: str
    object: str
    path: str
    write: bool
    type: str | None = None
    needed: bool = False


@dataclass(frozen=True)
class PreflightNeeds:
    """What the configured handoffs ask of one system, for its connector to check live.

    ``writes_projects``: a project tool that won-to-project creates projects in;
    ``templates`` the project templates it may use (its default and its rules').
    ``won_filter`` is the mapping's ``won`` filter where this system is the CRM
    of won-to-project.
    ``enum_values`` maps a product field to the option names the mapping or
    its filters expect it to offer.
    """

    system: str
    handoffs: tuple[str, ...]
    fields: tuple[FieldNeed, ...] = ()
    writes_projects: bool = False
    templates: tuple[ProjectTemplate, ...] = ()
    won_filter: Mapping[str, Any] | None = None
    enum_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@runtime_checkable
class Preflight(Protocol):
    """Optional: a connector that checks, read-only, what the configured handoffs need of its org.

    ``hub check`` calls it: credentials and token scopes, the API user's
    permissions, the fields in ``needs`` (present, of a compatible type,
    writable where written), stages, templates, currency mode and rate-limit
    headroom. Each finding is one :class:`CheckResult`; a rejected credential
    is raised as :class:`~hub.errors.AuthError`, which the hub reports as the
    system's one failure.
    """

    def preflight(self, needs: PreflightNeeds) -> list[CheckResult]:
        """Every finding about this system, problems and all-clears alike."""
        ...


@runtime_checkable
class ListsOwners(Protocol):
    """Optional: a CRM that lists the e-mail addresses of its record owners.

    ``hub check`` looks them up in the project tool (``find_users``) and counts
    those it cannot match, whose projects would get no manager.
    """

    def owner_emails(self) -> list[str]:
        """The addresses of the active users who own deals, lower-cased."""
        ...


@runtime_checkable
class KeepsFacts(Protocol):
    """Optional: facts about the product a connector looked up and may keep across runs.

    A fact that rarely changes but costs a call to learn (Jira's API-user time
    zone) is handed to the state store when a run ends and back to the next
    run's connector, which decides whether it is still fresh enough to trust.
    """

    def facts(self) -> dict[str, str]:
        """What this connector learned worth keeping (empty: nothing)."""
        ...

    def recall(self, facts: Mapping[str, str]) -> None:
        """Take back what an earlier run learned."""
        ...


def preflight_of(connector: Connector) -> Preflight | None:
    """The connector as a :class:`Preflight`, if it offers one."""
    return connector if isinstance(connector, Preflight) else None


def webhook_source(cls: type[Connector]) -> type[WebhookSource] | None:
    """The connector class as a :class:`WebhookSource`, if it is one."""
    return cls if issubclass(cls, WebhookSource) else None


def record_filter(cls: type[Connector]) -> type[RecordFilter] | None:
    """The connector class as a :class:`RecordFilter`, if it is one."""
    return cls if issubclass(cls, RecordFilter) else None


def settings_model(cls: type[Connector]) -> type[BaseModel] | None:
    """The pydantic model of the connector's ``settings:``, where the class declares one.

    A connector declares it as ``settings_model: ClassVar[type[BaseModel]]``;
    the config checks validate ``systems.<name>.settings`` against it, with
    the file's line numbers, before anything runs.
    """
    model = getattr(cls, "settings_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None
