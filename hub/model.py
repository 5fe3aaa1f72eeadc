"""Unified data model: one picture of customers, deals and delivery across products.

Every entity has a hub-internal ``key`` and the ``refs`` it has in each product
(``{"salesforce": "006...", "jira": "DEL-12"}``). Money is a Decimal with an ISO
currency; datetimes are timezone-aware UTC (naive values are rejected rather
than guessed).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic_core import to_jsonable_python

__all__ = [
    "ENTITY_TYPES",
    "Account",
    "Contact",
    "Document",
    "Entity",
    "Feedback",
    "FeedbackKind",
    "Health",
    "Lead",
    "Milestone",
    "Money",
    "Note",
    "Opportunity",
    "Project",
    "Risk",
    "Severity",
    "Stage",
    "Task",
    "TaskStatus",
    "User",
    "UtcDateTime",
    "at_path",
    "dump",
    "json_at",
    "money_text",
]


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone (naive datetimes are ambiguous)")
    return value.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]


class Money(BaseModel):
    """An amount in one currency; never a float.

    ``currency`` is None when the source does not say (a project tool's number
    field with no currency beside it): such an amount is shown and reported as
    of unknown currency, never taken for the org's usual one.
    """

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="ISO 4217 code; None when the source does not say",
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isalpha():
            raise ValueError(f"currency {value!r} is not an ISO 4217 code")
        return value.upper()

    def __str__(self) -> str:
        return money_text(self.amount, self.currency)


def money_text(amount: Decimal | float | str, currency: str | None) -> str:
    """An amount as people read it: ``EUR 480,500.00``; ``480,500.00 (currency unknown)``."""
    try:
        figure = f"{Decimal(str(amount)):,.2f}"
    except (ArithmeticError, ValueError):
        figure = str(amount)
    return f"{currency} {figure}" if currency else f"{figure} (currency unknown)"


class Stage(StrEnum):
    """Where a deal stands, normalised across CRMs."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Health(StrEnum):
    """Delivery health traffic light of a project."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class TaskStatus(StrEnum):
    """Lifecycle of a project, task or risk."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Severity(StrEnum):
    """How bad a delivery risk is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class FeedbackKind(StrEnum):
    """What a customer-feedback item asks for."""

    FEEDBACK = "feedback"
    NEED = "need"
    UPSELL = "upsell"


class Entity(BaseModel):
    """Base of every unified entity."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    kind: ClassVar[str] = "entity"

    key: str | None = Field(default=None, description="Stable hub-internal key")
    refs: dict[str, str] = Field(
        default_factory=dict, description="Id of this record in each system, by system name"
    )
    modified_at: UtcDateTime | None = None
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="The org's own fields, by name (``custom.<name>`` in a mapping), each "
        "of the type its mapping declares: text, a number, Money, a date, a bool, an enum "
        "value or a person's e-mail address",
    )

    @field_validator("custom")
    @classmethod
    def _custom_money(cls, value: dict[str, Any]) -> dict[str, Any]:
        """A money field's ``{amount, currency}`` (as the mapping reads it) becomes Money."""
        for name, item in value.items():
            if isinstance(item, Mapping) and set(item) == {"amount", "currency"}:
                value[name] = Money.model_validate(item)
        return value

    def ref(self, system: str) -> str | None:
        """Return this record's id in ``system``, if known."""
        return self.refs.get(system)


class User(Entity):
    """A person in either product, matched across products by e-mail."""

    kind: ClassVar[str] = "User"
    email: str | None = Field(default=None, description="Matches users across products")
    name: str | None = None
    active: bool = True


class Account(Entity):
    """A customer company."""

    kind: ClassVar[str] = "Account"
    name: str | None = Field(
        default=None,
        description="None when the record is known only by its id: the integration user "
        "cannot read it (sharing), though the deal names it",
    )
    parent: str | None = Field(default=None, description="Parent account ref (departments)")
    website: str | None = None
    industry: str | None = None
    owner: User | None = None


class Contact(Entity):
    """A person at a customer."""

    kind: ClassVar[str] = "Contact"
    first_name: str | None = None
    last_name: str
    email: str | None = None
    account: str | None = None


class Document(Entity):
    """A link to a file or page attached to a deal or project."""

    kind: ClassVar[str] = "Document"
    title: str
    url: str


class Opportunity(Entity):
    """A CRM deal; won ones become delivery projects."""

    kind: ClassVar[str] = "Opportunity"
    name: str
    stage: Stage = Stage.OPEN
    stage_label: str | None = Field(default=None, description="The product's own stage name")
    deal_type: str | None = Field(
        default=None, description="The deal's type (New Customer, Upgrade...), for template rules"
    )
    amount: Money | None = None
    close_date: dt.date | None = None
    owner: User | None = None
    account: Account | None = None
    documents: list[Document] = Field(default_factory=list)
    description: str | None = None
    project_ref: str | None = Field(default=None, description="PM project id written back")
    delivery_health: Health | None = Field(
        default=None, description="Health of the linked delivery project, written back"
    )
    delivery_status: TaskStatus | None = Field(
        default=None, description="Status of the linked delivery project (sync)"
    )
    delivery_due: dt.date | None = Field(
        default=None, description="Due date of the linked delivery project (sync)"
    )
    delivery_percent: int | None = Field(
        default=None, ge=0, le=100, description="Percent complete of the delivery project (sync)"
    )


class Project(Entity):
    """A delivery project (Jira project/epic, Asana project)."""

    kind: ClassVar[str] = "Project"
    name: str
    account: Account | None = None
    opportunity: str | None = Field(default=None, description="Source opportunity, 'system:id'")
    budget: Money | None = None
    start: dt.date | None = None
    due: dt.date | None = None
    status: TaskStatus = TaskStatus.OPEN
    health: Health = Health.GREEN
    manager: User | None = None
    template: str | None = None
    documents: list[Document] = Field(default_factory=list)
    description: str | None = None
    url: str | None = None
    percent_complete: int | None = Field(
        default=None, ge=0, le=100, description="Share of done tasks, computed by the hub"
    )


class Task(Entity):
    """A work item in a project; ``parent`` builds the work breakdown."""

    kind: ClassVar[str] = "Task"
    name: str
    project: str | None = None
    parent: str | None = Field(default=None, description="Parent task ref (work breakdown)")
    assignee: User | None = None
    due: dt.date | None = None
    status: TaskStatus = TaskStatus.OPEN
    description: str | None = None


class Milestone(Entity):
    """A dated checkpoint of a project."""

    kind: ClassVar[str] = "Milestone"
    name: str
    project: str | None = None
    due: dt.date | None = None
    status: TaskStatus = TaskStatus.OPEN
    completed_at: UtcDateTime | None = None


class Risk(Entity):
    """A delivery risk raised in the PM tool."""

    kind: ClassVar[str] = "Risk"
    title: str
    severity: Severity = Severity.MEDIUM
    status: TaskStatus = TaskStatus.OPEN
    project: str | None = None
    description: str | None = None


class Feedback(Entity):
    """Customer feedback, a new need or an upsell signal from delivery."""

    kind: ClassVar[str] = "Feedback"
    feedback_kind: FeedbackKind = FeedbackKind.FEEDBACK
    text: str
    project: str | None = None
    account: str | None = None
    reporter: User | None = None
    url: str | None = None


class Lead(Entity):
    """A CRM lead created from delivery feedback."""

    kind: ClassVar[str] = "Lead"
    last_name: str
    company: str
    first_name: str | None = None
    email: str | None = None
    description: str | None = None
    source: str | None = None
    account: str | None = None
    contact: User | None = Field(
        default=None,
        description="The person the lead came from (the feedback's reporter), for CRMs whose "
        "leads hang off a contact (HubSpot)",
    )


class Note(Entity):
    """A CRM task or note, e.g. telling an account manager about a risk."""

    kind: ClassVar[str] = "Note"
    subject: str
    body: str | None = None
    about: str | None = Field(default=None, description="Ref of the record the note is on")
    owner: User | None = None
    due: dt.date | None = None
    done: bool = False


ENTITY_TYPES: dict[str, type[Entity]] = {
    cls.kind: cls
    for cls in (
        Account,
        Contact,
        User,
        Opportunity,
        Project,
        Task,
        Milestone,
        Risk,
        Feedback,
        Lead,
        Note,
        Document,
    )
}


def entity_type(name: str) -> type[Entity]:
    """Return the entity class called ``name``; the error lists the valid names."""
    try:
        return ENTITY_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(ENTITY_TYPES))
        raise KeyError(f"unknown entity {name!r}; known: {known}") from None


def dump(entity: Entity) -> dict[str, Any]:
    """JSON-ready dict of an entity (Decimals as strings, dates ISO); no empty ``custom``."""
    data = entity.model_dump(mode="json", exclude_none=True)
    if not data.get("custom"):
        data.pop("custom", None)
    return data


def template_view(entity: Entity) -> dict[str, Any]:
    """What a template sees of an entity: every field, empty ones as None.

    Templates render with strict undefined values, so a field left out (as
    :func:`dump` leaves out empty ones) would fail ``{{ opportunity.amount }}``
    for a deal without an amount; present as None, it renders empty.
    """
    view = _money_as_text(entity.model_dump(mode="json"))
    view["custom"] = CustomView(view.get("custom") or {})
    return view


class CustomView(dict[str, Any]):
    """An entity's custom fields in a template: a field the record leaves empty reads None.

    ``hub validate`` refuses names no mapping declares, so a missing key here is an
    empty value, not a typo.
    """

    def __missing__(self, key: str) -> None:
        return None


class MoneyView(dict[str, Any]):
    """A money value in a template: ``{{ opportunity.amount }}`` reads ``EUR 480,500.00``.

    ``.amount`` and ``.currency`` still give the parts.
    """

    def __str__(self) -> str:
        return money_text(self.get("amount", ""), self.get("currency"))


def _money_as_text(data: dict[str, Any]) -> dict[str, Any]:
    for key, value in data.items():
        if type(value) is dict:
            if value.keys() == {"amount", "currency"}:
                data[key] = MoneyView(value)
            else:
                _money_as_text(value)
    return data


def blank_view(kind: type[Entity]) -> dict[str, Any]:
    """What a template sees of an entity that is not there: every field None."""
    return {**dict.fromkeys(kind.model_fields), "custom": CustomView()}


def at_path(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a dumped entity (``account.name``); None when absent."""
    current: Any = data
    for part in _path_parts(path):
        if type(current) is not dict and not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def json_at(entity: BaseModel, path: str) -> Any:
    """``at_path(dump(entity), path)`` without dumping the whole entity.

    Walks the attributes (and ``refs``-like dicts) of the dotted path and gives
    the value in the JSON form :func:`dump` gives it; one field costs a
    fraction of a microsecond where a dump costs several.
    """
    current: Any = entity
    for part in _path_parts(path):
        fields = _model_fields(type(current))
        if fields is not None:
            current = getattr(current, part) if part in fields else None
        elif isinstance(current, Mapping):
            current = current.get(part)
        else:
            return None
        if current is None:
            return None
    if type(current) in _JSON_SCALARS:
        return current
    if isinstance(current, Enum) and type(current.value) in _JSON_SCALARS:
        return current.value
    return to_jsonable_python(current, exclude_none=True)


_JSON_SCALARS = frozenset({str, int, float, bool})


_FIELDS_OF: dict[type, frozenset[str] | None] = {}


def _model_fields(cls: type) -> frozenset[str] | None:
    """The field names of a model class; None for anything else."""
    try:
        return _FIELDS_OF[cls]
    except KeyError:
        names = frozenset(cls.__pydantic_fields__) if issubclass(cls, BaseModel) else None
        return _FIELDS_OF.setdefault(cls, names)


@functools.lru_cache(maxsize=1024)
def _path_parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))
