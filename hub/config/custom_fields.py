"""Checks of the org's own fields (``custom.<name>``) across a hub config and its mappings.

A custom field is declared where a mapping maps it, with its type. A handoff
joining a deal and a project carries a field of the same name from one to the
other, so both mappings must agree on its type (and the project's enum must
hold every value of the deal's); a filter, a synced pair or a template naming
a custom field no mapping declares would fail every record at run time.
Each problem names the file and line to change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from handoff_hub.hub.config.schema import nearest_hint
from handoff_hub.hub.config.templates import TEMPLATE_CONTEXTS
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument
from handoff_hub.hub.errors import Issue
from handoff_hub.hub.handoffs.catalogue import by_config_key
from handoff_hub.hub.mapping.spec import CUSTOM_PREFIX, EntityMap, FieldRule, MappingSpec
from handoff_hub.hub.mapping.templating import custom_lookups
from handoff_hub.hub.model import Entity

__all__ = ["custom_field_issues", "declared_custom_fields"]

Declared = Mapping[str, frozenset[str]]
"""Unified entity -> the custom field names some mapping declares on it."""

JOINED = ("Opportunity", "Project")
"""The entities a deal-to-project handoff joins: same-named custom fields travel between."""


def custom_field_issues(
    doc: YamlDocument, raw: dict[str, Any], mappings: Mapping[str, MappingSpec]
) -> list[Issue]:
    """Every custom-field problem of the config: types across mappings, unknown names."""
    issues: list[Issue] = []
    handoffs = raw.get("handoffs")
    for handoff, settings in handoffs.items() if isinstance(handoffs, dict) else ():
        if not isinstance(settings, dict):
            continue
        at: NodePath = ("handoffs", str(handoff))
        issues += _joined_issues(settings, mappings)
        issues += _only_issues(doc, at, str(handoff), settings, mappings)
        if handoff == "sync":
            issues += _sync_issues(doc, at, settings, mappings)
        if handoff == "won_to_project":
            issues += _per_value_issues(doc, at, settings, mappings)
    declared = declared_custom_fields(mappings)
    for where, text in _template_texts(raw):
        issues += _template_issues(doc, where, text, declared)
    return issues


def declared_custom_fields(mappings: Mapping[str, MappingSpec]) -> Declared:
    """The custom field names each entity has in any of ``mappings``."""
    found: dict[str, set[str]] = {}
    for spec in mappings.values():
        for entity, emap in spec.entities.items():
            found.setdefault(entity, set()).update(_names(emap))
    return {entity: frozenset(names) for entity, names in found.items()}


def _names(emap: EntityMap) -> set[str]:
    return {name.split(".")[0] for name in emap.custom_rules()}


def _rules(spec: MappingSpec | None, entity: str) -> dict[str, FieldRule] | None:
    emap = spec.entities.get(entity) if spec is not None else None
    return None if emap is None else emap.custom_rules()


# Across the two mappings a handoff joins --------------------------------------------


def _joined_issues(settings: dict[str, Any], mappings: Mapping[str, MappingSpec]) -> list[Issue]:
    crm, pm = mappings.get(str(settings.get("crm"))), mappings.get(str(settings.get("pm")))
    deal, project = _rules(crm, JOINED[0]), _rules(pm, JOINED[1])
    if crm is None or pm is None or deal is None or project is None:
        return []
    issues: list[Issue] = []
    for name in sorted(deal.keys() & project.keys()):
        issues += _pair_issues(name, (crm, deal[name]), (pm, project[name]))
    return issues


def _pair_issues(
    name: str, crm: tuple[MappingSpec, FieldRule], pm: tuple[MappingSpec, FieldRule]
) -> list[Issue]:
    (crm_spec, deal), (pm_spec, project) = crm, pm
    field = f"custom.{name}"
    file, line = pm_spec.entities[JOINED[1]].origin(field)
    crm_file, crm_line = crm_spec.entities[JOINED[0]].origin(field)
    there = f"{crm_file}:{crm_line}" if crm_line else crm_file
    where = f"entities.{JOINED[1]}.fields.{field}"
    if deal.type != project.type:
        message = (
            f"{field} is {project.type} in the {pm_spec.system} mapping but {deal.type} in "
            f"the {crm_spec.system} mapping ({there}): the deal's value cannot become the "
            "project's"
        )
        return [Issue(file, line, where, message, f"declare it type: {deal.type} in both")]
    wanted, held = deal.enum_values() or [], project.enum_values() or []
    missing = [v for v in wanted if v not in held]
    if deal.type == "enum" and project.writes and missing:
        message = (
            f"{field}: the {crm_spec.system} mapping ({there}) reads {', '.join(missing)}, "
            f"which the {pm_spec.system} mapping cannot write"
        )
        return [Issue(file, line, where, message, "map a product value to each")]
    return []


# Filters and synced pairs naming a custom field ---------------------------------------


def _only_issues(
    doc: YamlDocument,
    at: NodePath,
    handoff: str,
    settings: dict[str, Any],
    mappings: Mapping[str, MappingSpec],
) -> list[Issue]:
    kind, only = by_config_key(handoff), settings.get("only")
    if kind is None or not isinstance(only, dict):
        return []
    role, entity = kind.source
    system = str(settings.get(role))
    known = _rules(mappings.get(system), entity)
    return [
        issue
        for path in only
        if (issue := _unknown(doc, (*at, "only", path), str(path), known, system, entity))
    ]


def _sync_issues(
    doc: YamlDocument, at: NodePath, settings: dict[str, Any], mappings: Mapping[str, MappingSpec]
) -> list[Issue]:
    fields = settings.get("fields")
    issues: list[Issue] = []
    for index, rule in enumerate(fields if isinstance(fields, list) else []):
        for role, entity in (("crm", JOINED[0]), ("pm", JOINED[1])):
            path = rule.get(role) if isinstance(rule, dict) else None
            system = str(settings.get(role))
            known = _rules(mappings.get(system), entity)
            where = (*at, "fields", index, role)
            if isinstance(path, str) and (
                issue := _unknown(doc, where, path, known, system, entity)
            ):
                issues.append(issue)
    return issues


def _per_value_issues(
    doc: YamlDocument, at: NodePath, settings: dict[str, Any], mappings: Mapping[str, MappingSpec]
) -> list[Issue]:
    """Each template rule's ``per_value:`` names a custom field the CRM maps as a list."""
    rules = settings.get("template_rules")
    system = str(settings.get("crm"))
    known = _rules(mappings.get(system), JOINED[0])
    issues: list[Issue] = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        path = rule.get("per_value") if isinstance(rule, dict) else None
        if not isinstance(path, str) or known is None:
            continue
        where = (*at, "template_rules", index, "per_value")
        if not path.startswith(CUSTOM_PREFIX):
            issues.append(
                doc.issue(where, f"per_value takes a list-typed custom field, not {path!r}")
            )
        elif issue := _unknown(doc, where, path, known, system, JOINED[0]):
            issues.append(issue)
        elif (held := _type_of(known, path)) != "list":
            issues.append(
                doc.issue(
                    where,
                    f"{path} is {held} in the {system} mapping; per_value needs a list of "
                    "values (a multi-select picklist or multiple checkboxes)",
                    "declare it type: list, with separator: ';' where the product sends one text",
                )
            )
    return issues


def _type_of(known: dict[str, FieldRule], path: str) -> str | None:
    rule = known.get(path.removeprefix(CUSTOM_PREFIX))
    return rule.type if rule is not None else None


def _unknown(
    doc: YamlDocument,
    where: NodePath,
    path: str,
    known: dict[str, FieldRule] | None,
    system: str,
    entity: str,
) -> Issue | None:
    if known is None or not path.startswith("custom."):
        return None
    name = path.split(".")[1]
    names = {n.split(".")[0] for n in known}
    if name in names:
        return None
    return doc.issue(
        where,
        f"no custom field {name!r} on {entity} in the {system} mapping",
        nearest_hint(name, names) or "it declares no custom fields",
    )


# Templates ---------------------------------------------------------------------------


def _template_texts(raw: dict[str, Any]) -> Iterator[tuple[NodePath, str]]:
    """Every text under handoffs: and templates: that reads a custom field."""
    for section in ("handoffs", "templates"):
        yield from _texts((section,), raw.get(section))


def _texts(at: NodePath, value: Any) -> Iterator[tuple[NodePath, str]]:
    if isinstance(value, str) and ".custom" in value:
        yield at, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts((*at, str(key)), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts((*at, index), item)


def _variable_entities() -> dict[str, set[str]]:
    """Template variable -> the entities it stands for in some template context."""
    found: dict[str, set[str]] = {}
    for context in TEMPLATE_CONTEXTS.values():
        for name, view in context.items():
            if isinstance(view, type) and issubclass(view, BaseModel) and issubclass(view, Entity):
                found.setdefault(name, set()).add(view.kind)
    return found


def _template_issues(
    doc: YamlDocument, where: NodePath, text: str, declared: Declared
) -> list[Issue]:
    entities = _variable_entities()
    issues: list[Issue] = []
    for variable, name, line in custom_lookups(text):
        kinds = entities.get(variable, set())
        names = set().union(*(declared.get(k, frozenset()) for k in kinds)) if kinds else set()
        if not kinds or name in names:
            continue
        listed = ", ".join(sorted(names)) or "none"
        issues.append(
            doc.issue(
                where,
                f"{variable}.custom.{name}: no mapping declares a custom field {name!r} on "
                f"{'/'.join(sorted(kinds))} (template line {line}; declared: {listed})",
                nearest_hint(name, names),
            )
        )
    return issues
