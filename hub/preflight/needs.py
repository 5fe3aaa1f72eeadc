"""What the configured handoffs need of one system: its fields, templates and won stages."""

from __future__ import annotations

import re
from collections.abc import Iterator

from handoff_hub.hub.config.loading import LoadedConfig
from handoff_hub.hub.connector import FieldNeed, PreflightNeeds, ProjectTemplate
from handoff_hub.hub.handoffs.catalogue import HANDOFFS, handoff_entities
from handoff_hub.hub.handoffs.won_to_project import project_template
from handoff_hub.hub.mapping.org_fit import needed_fields
from handoff_hub.hub.mapping.spec import EntityMap, MappingSpec, is_simple_path

__all__ = ["enabled_handoffs", "system_needs"]

_NAMED = re.compile(r"\[\?\s*name\s*==\s*'([^']+)'\s*\]")


def enabled_handoffs(loaded: LoadedConfig, system: str) -> tuple[str, ...]:
    """The enabled handoffs in which ``system`` plays a part."""
    handoffs = loaded.config.handoffs
    names = []
    for name, kind in HANDOFFS.items():
        settings = getattr(handoffs, kind.config_key)
        if settings is None or not settings.enabled:
            continue
        if any(getattr(settings, role, None) == system for role in kind.entities):
            names.append(name)
    return tuple(names)


def system_needs(loaded: LoadedConfig, system: str) -> PreflightNeeds:
    """The fields, template and won filter the enabled handoffs use on ``system``."""
    config = loaded.config
    spec = loaded.mappings[system]
    used = handoff_entities(config, system)
    wanted = {(n.entity, n.field) for n in needed_fields(config, system)}
    won = config.handoffs.won_to_project
    if won is None or not won.enabled:
        won = None
    templates: dict[str, ProjectTemplate] = {}
    if won is not None and won.pm == system:
        keys = [won.template or "", *(k for rule in won.template_rules for k in rule.chosen())]
        templates = {
            k: project_template(config.templates[k], k) for k in keys if k in config.templates
        }
    won_filter = None
    if won is not None and won.crm == system and "Opportunity" in spec.entities:
        won_filter = spec.entities["Opportunity"].filters.get("won")
    return PreflightNeeds(
        system=system,
        handoffs=enabled_handoffs(loaded, system),
        fields=tuple(_merged(_field_needs(spec, used, wanted))),
        writes_projects=won is not None and won.pm == system,
        templates=tuple(templates.values()),
        won_filter=won_filter,
        enum_values=_enum_values(spec, used),
    )


def _field_needs(
    spec: MappingSpec, used: set[str], wanted: set[tuple[str, str]]
) -> Iterator[FieldNeed]:
    for entity in sorted(used & set(spec.entities)):
        emap = spec.entities[entity]
        if emap.stamp_field:
            yield FieldNeed(entity, emap.object, emap.stamp_field, True, "string", True)
        for unified, rule in emap.fields.items():
            needed = rule.required or (entity, unified) in wanted
            if _own(rule.path):
                yield FieldNeed(entity, emap.object, str(rule.path), rule.writes, rule.type, needed)
            if _own(rule.currency_path):
                yield FieldNeed(entity, emap.object, str(rule.currency_path), rule.writes, "string")
        for path in _extra_reads(emap):
            yield FieldNeed(entity, emap.object, path, False)


def _extra_reads(emap: EntityMap) -> list[str]:
    return [p for p in (*emap.also_read, *(emap.select or [])) if _own(p)]


def _own(path: str | None) -> bool:
    """A plain product field path (not an expression, not a ``_directive``)."""
    return bool(path) and is_simple_path(str(path)) and not str(path).startswith("_")


def _merged(needs: Iterator[FieldNeed]) -> list[FieldNeed]:
    """One need per object field: written if any rule writes it, needed if any needs it."""
    merged: dict[tuple[str, str], FieldNeed] = {}
    for need in needs:
        key = (need.object, need.path)
        if (old := merged.get(key)) is not None:
            need = FieldNeed(
                old.entity,
                old.object,
                old.path,
                old.write or need.write,
                old.type or need.type,
                old.needed or need.needed,
            )
        merged[key] = need
    return list(merged.values())


def _enum_values(spec: MappingSpec, used: set[str]) -> dict[str, tuple[str, ...]]:
    """Option names the mapping expects, by field: ``map`` keys and ``where`` lists.

    A field picked by name in an expression (``custom_fields[?name=='Health']...``)
    is keyed by that name; a ``where`` key as written (``custom_fields.Risk``).
    """
    found: dict[str, tuple[str, ...]] = {}
    for entity in sorted(used & set(spec.entities)):
        emap = spec.entities[entity]
        for key, value in (emap.where or {}).items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                found[key] = tuple(value)
        for rule in emap.fields.values():
            named = _NAMED.search(rule.path or "")
            if named and rule.map and ".enum_value" in (rule.path or ""):
                found[named.group(1)] = tuple(str(k) for k in rule.map)
    return found
