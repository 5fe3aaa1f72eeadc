"""Pydantic models of a mapping file: the single source of ``mapping.schema.json``.

A mapping file tells, for one product, which product object each unified
entity is and how every unified field is read from and written to it::

    version: 1
    system: salesforce
    entities:
      Opportunity:
        object: Opportunity
        id_path: Id
        modified_path: SystemModstamp
        modified_field: SystemModstamp
        filters: {won: {IsWon: true}}
        fields:
          name: {path: Name}
          stage: {path: StageName, map: {Closed Won: won}, map_default: open, direction: read}
          amount: {path: Amount, type: money, currency_path: CurrencyIsoCode}
          account.ref: {path: AccountId, direction: read}

Keys of ``fields`` are dotted paths into the unified entity (``owner.email``);
the segment ``ref`` stands for a nested entity's id in this system
(``account.ref`` is ``account.refs[<system>]``). The record's own id is read
with ``id_path`` into ``refs[<system>]``. ``<system>`` is the key the system
has in the hub config (see :meth:`MappingSpec.bind_name`), else ``system``.

A file may ``extends: other.yaml`` and map only the entities it changes
(HubSpot leads as contacts: ``hubspot-contact-leads.yaml``); an entity it
maps replaces the base's whole. An entity's ``constants`` are product values
every full write sets (``properties.lifecyclestage: lead``).

An entity's ``write_root`` (Jira: ``fields``) is where its write payload
starts: reads see the whole record, :func:`~hub.mapping.engine.from_unified`
returns only what is under the root, the form the connector sends.

Semantic checks that JSON Schema cannot express (unified paths exist, JMESPath
and Jinja2 parse, transforms are registered, write targets are simple) live in
:mod:`handoff_hub.hub.mapping.loader`.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PrivateAttr, field_validator

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.field_reader import FieldReader, compile_field_reader
from handoff_hub.hub.model import ENTITY_TYPES

__all__ = [
    "CUSTOM_PREFIX",
    "CUSTOM_TYPES",
    "Direction",
    "EntityMap",
    "FieldRule",
    "FieldType",
    "FilterValue",
    "MappingSpec",
    "is_simple_path",
]

FieldType = Literal[
    "string",
    "integer",
    "number",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "money",
    "list",
    "enum",
    "user",
]
CUSTOM_TYPES: tuple[str, ...] = (
    "string",
    "number",
    "money",
    "date",
    "boolean",
    "enum",
    "user",
    "list",
)
"""The types a custom field (``custom.<name>``) may declare."""
CUSTOM_PREFIX = "custom."
Direction = Literal["read", "write", "both"]
FilterValue = str | int | bool | list[str] | None
MapValue = str | int | float | bool | None

_ENTITY_NAMES: list[JsonValue] = [*sorted(ENTITY_TYPES)]
_SIMPLE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def is_simple_path(path: str) -> bool:
    """True for a plain dotted path (``fields.assignee.accountId``), usable as a write target."""
    return bool(_SIMPLE_PATH.match(path))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRule(_Strict):
    """How one unified field is read from and written to the product.

    Read: ``path`` (or ``template``) -> ``transform`` (read side) -> ``map``
    (``map_default`` for unmapped values) -> ``type``; an empty source gives
    ``default`` (a unified value, used as is) or, if ``required``, an error.
    Write runs the other way: unified value (or ``template`` rendered with the
    entity; ``default`` when empty) -> the reversed ``map`` (the first product
    value listed wins) -> ``type`` as a JSON-safe product value -> ``transform``
    (write side) -> set at ``path``. A template works one way: alone it is read,
    with a ``path`` and ``direction: write`` it is written there.
    """

    path: str | None = Field(
        default=None,
        description="JMESPath read from the product record; with direction write/both "
        "also the dotted write target (plain a.b.c only)",
    )
    write_to: str | None = Field(
        default=None,
        description="Where the value is written when it is read from an expression (Asana's "
        "custom_fields[?name=='Region']): a plain dotted path, e.g. custom_fields.region",
    )
    template: str | None = Field(
        default=None,
        description="Jinja2 (sandboxed, strict) composing the value: on read it sees the "
        "product record, on write (direction: write, with path) the unified entity",
    )
    map: dict[str, MapValue] | None = Field(
        default=None, description="Product value -> unified value (e.g. Jira status names)"
    )
    map_default: MapValue = Field(
        default=None, description="Unified value for product values missing from map (read)"
    )
    type: FieldType | None = Field(
        default=None,
        description="Kind of value; a custom field (custom.<name>) must declare one of "
        "string, number, money, date, boolean, enum, user, list",
    )
    separator: str | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="list: the text between values where the product keeps several in one "
        "string (Salesforce multi-select picklists and HubSpot multiple checkboxes: ';'); "
        "read splits on it, write joins with it",
    )
    values: list[str] | None = Field(
        default=None,
        description="enum: the unified values the field may take (default: the map's values); "
        "a value outside them is refused with the record and field",
    )
    currency_path: str | None = Field(
        default=None,
        description=(
            "money: JMESPath of the ISO currency code in the record; written with the"
            " amount. An empty one reads as `currency`, else as of unknown currency"
        ),
    )
    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{3}$",
        description=(
            "money: the ISO currency code of a field that holds one currency (an amount"
            " in another is refused), or the fallback when currency_path is empty"
        ),
    )
    default: Any = Field(default=None, description="Value used when the source is empty")
    direction: Direction = Field(default="both", description="read, write or both")
    transform: str | None = Field(
        default=None, description="Name of a registered transform (e.g. adf, lower, iso_date)"
    )
    required: bool = Field(default=False, description="Reading fails when the value is missing")

    def enum_values(self) -> list[str] | None:
        """An enum's unified values: ``values``, else those its map reads to."""
        if self.type != "enum":
            return None
        if self.values is not None:
            return list(self.values)
        mapped = (self.map or {}).values()
        return list(dict.fromkeys(str(v) for v in (*mapped, self.map_default) if v is not None))

    @property
    def reads(self) -> bool:
        """True when the rule produces a unified value on read."""
        has_source = self.path is not None or self.template is not None
        return self.direction != "write" and (has_source or self.default is not None)

    @property
    def writes(self) -> bool:
        """True when the rule sets a product value on write."""
        return self.direction != "read" and self.target is not None

    @property
    def target(self) -> str | None:
        """Where the rule writes: ``write_to``, else ``path``."""
        return self.write_to or self.path


class EntityMap(_Strict):
    """Which product object one unified entity is, and its field rules."""

    object: str = Field(description="Product object, e.g. Opportunity, issue, deals")
    id_path: str = Field(default="Id", description="JMESPath of the record id")
    modified_path: str | None = Field(
        default=None, description="JMESPath of the modified date (e.g. SystemModstamp)"
    )
    modified_field: str | None = Field(
        default=None, description="Field the connector filters changes on (e.g. updated)"
    )
    select: list[str] | None = Field(
        default=None, description="Product fields to request; default: the simple read paths"
    )
    also_read: list[str] = Field(
        default_factory=list,
        description="Product fields to request besides the simple read paths, for rules whose "
        "path is an expression (Salesforce stage: IsWon, IsClosed)",
    )
    where: dict[str, FilterValue] = Field(
        default_factory=dict, description="Equality filters always handed to the connector"
    )
    filters: dict[str, dict[str, FilterValue]] = Field(
        default_factory=dict,
        description="Named equality filters a handoff may choose, e.g. won: {IsWon: true}",
    )
    scope_field: str | None = Field(
        default=None,
        description="Filter key that narrows reads to one project's records, given the "
        "project's id (Jira tasks: parent; Asana tasks: project)",
    )
    stamp_field: str | None = Field(
        default=None,
        description="Product field the hub stamps with the source record's id, so a record "
        "it created is found again after a crash (Salesforce: an external-id field)",
    )
    write_root: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="Where the write payload starts: write targets sit below this path and "
        "from_unified returns what is under it (Jira: fields); targets starting with '_' "
        "are connector directives beside it (HubSpot: _associate.deals)",
    )
    fields: dict[str, FieldRule] = Field(
        default_factory=dict, description="Unified field path -> rule"
    )
    constants: dict[str, MapValue] = Field(
        default_factory=dict,
        description="Product values every full write of this entity sets, by plain dotted "
        "write path (HubSpot contacts used as leads: properties.lifecyclestage: lead); "
        "updates of named fields leave them alone",
    )

    _origin: dict[str, tuple[str, int | None]] = PrivateAttr(default_factory=dict)

    def origin(self, field: str) -> tuple[str, int | None]:
        """The mapping file and line of ``field``'s rule (``("<mapping>", None)`` if not loaded)."""
        return self._origin.get(field, ("<mapping>", None))

    def source_fields(self) -> list[str]:
        """Product fields to request: ``select`` if given, else every simple read path.

        Returns:
            Names such as ``Owner.Email``, in rule order, without duplicates.
        """
        if self.select is not None:
            return list(self.select)
        paths = [self.id_path, self.modified_path, *self.also_read]
        for rule in self.fields.values():
            if rule.reads:
                paths += [rule.path if rule.template is None else None, rule.currency_path]
        return list(dict.fromkeys(p for p in paths if p and is_simple_path(p)))

    @cached_property
    def read_rules(
        self,
    ) -> tuple[tuple[str, FieldRule, FieldReader, tuple[str, ...] | None], ...]:
        """The rules that read, worked out once: (unified field, rule, its reader, where).

        ``where`` is the unified field's path split at the dots; None for a ``ref``
        field, whose place depends on the system name it is read for.
        """
        return tuple(
            (
                name,
                rule,
                compile_field_reader(rule),
                None if name == "ref" or name.endswith(".ref") else tuple(name.split(".")),
            )
            for name, rule in self.fields.items()
            if rule.reads
        )

    def custom_rules(self) -> dict[str, FieldRule]:
        """The rules of the org's own fields, by custom field name (``region``)."""
        return {
            name.removeprefix(CUSTOM_PREFIX): rule
            for name, rule in self.fields.items()
            if name.startswith(CUSTOM_PREFIX)
        }

    def write_rules(self) -> dict[str, FieldRule]:
        """The rules that write, by unified field."""
        return {name: rule for name, rule in self.fields.items() if rule.writes}


class MappingSpec(_Strict):
    """A whole mapping file: one product's objects mapped onto the unified model."""

    version: Literal[1] = Field(default=1, description="Mapping format version")
    extends: str | None = Field(
        default=None,
        description="Mapping file this one builds on, relative to this file: its entities "
        "are kept unless this file maps the same entity, which then replaces it whole",
    )
    system: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Product, e.g. salesforce, hubspot, jira"
    )
    description: str | None = None
    entities: dict[str, EntityMap] = Field(
        json_schema_extra={"propertyNames": {"enum": _ENTITY_NAMES}},
        description="Unified entity name -> its product object and field rules",
    )

    _name: str = PrivateAttr(default="")

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: dict[str, EntityMap]) -> dict[str, EntityMap]:
        unknown = sorted(set(value) - set(ENTITY_TYPES))
        if unknown:
            known = ", ".join(sorted(ENTITY_TYPES))
            raise ValueError(f"unknown entity {', '.join(unknown)}; known: {known}")
        return value

    @property
    def ref_key(self) -> str:
        """Key of ``Entity.refs`` ids of this mapping go under: the bound system name."""
        return self._name or self.system

    def bind_name(self, name: str) -> MappingSpec:
        """A copy of this spec whose ids go under ``refs[name]`` (the hub-config system key)."""
        bound = self.model_copy()
        bound._name = name
        return bound

    def entity(self, name: str) -> EntityMap:
        """The map of one unified entity.

        Raises:
            MappingError: The mapping has no such entity (the message lists those it has).
        """
        try:
            return self.entities[name]
        except KeyError:
            known = ", ".join(sorted(self.entities)) or "none"
            raise MappingError(
                f"the {self.system} mapping has no entity {name!r}; it maps: {known}"
            ) from None
