"""What a hub config must hold beyond its schema: systems, handoffs, references, templates.

The checks run even on a document that failed the schema, taking what fits, so
an admin sees every problem in one pass.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from typing import Any

from handoff_hub.hub.config.schema import (
    did_you_mean,
    nearest_hint,
)
from handoff_hub.hub.config.template_rules import template_rule_issues
from handoff_hub.hub.config.templates import (
    TEMPLATE_CONTEXTS,
    handoff_template_issues,
    template_text_issues,
)
from handoff_hub.hub.config.values import (
    notify_url_issues,
    schedule_issues,
    settings_issues,
)
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument
from handoff_hub.hub.errors import Issue
from handoff_hub.hub.handoffs.catalogue import by_config_key
from handoff_hub.hub.handoffs.conditions import condition_problem
from handoff_hub.hub.mapping.loader import unified_path_problem
from handoff_hub.hub.mapping.spec import MappingSpec

__all__ = [
    "connector_settings_issues",
    "credential_env_issues",
    "dict_entries",
    "handoff_issues",
    "system_issues",
    "template_issues",
    "webhook_section_issues",
]


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_HINTED_TASKS = 1000


def dict_entries(value: Any) -> dict[str, dict[str, Any]]:
    """The entries of ``value`` that are mappings (the schema may have failed: take what fits)."""
    items = value.items() if isinstance(value, dict) else ()
    return {str(k): v for k, v in items if isinstance(v, dict)}


def system_issues(
    doc: YamlDocument, raw: dict[str, Any], known: Collection[str] | None
) -> list[Issue]:
    """Each system: a connector that is registered (with the nearest name when not)."""
    issues: list[Issue] = []
    for name, system in dict_entries(raw.get("systems")).items():
        connector = system.get("connector")
        if known is not None and isinstance(connector, str) and connector not in known:
            issues.append(
                doc.issue(
                    ("systems", name, "connector"),
                    f"unknown connector {connector!r}; known connectors: "
                    f"{', '.join(sorted(known)) or 'none installed'}",
                    did_you_mean(connector, known),
                )
            )
    return issues


def credential_env_issues(doc: YamlDocument, raw: dict[str, Any]) -> list[Issue]:
    """Each credential named by an environment variable that is not set here."""
    issues: list[Issue] = []
    for name, system in dict_entries(raw.get("systems")).items():
        for setting, ref in dict_entries(system.get("credentials")).items():
            env = ref.get("env")
            if isinstance(env, str) and _ENV_NAME.match(env) and not os.environ.get(env):
                issues.append(
                    doc.issue(
                        ("systems", name, "credentials", setting),
                        f"environment variable {env} is not set",
                        f"export {env}=... before running the hub",
                    )
                )
    return issues


def connector_settings_issues(
    doc: YamlDocument,
    raw: dict[str, Any],
    known: Collection[str] | None,
    in_schema: Collection[str] = (),
) -> list[Issue]:
    """Each system's ``settings`` against its connector's ``settings_model``, where declared.

    The connector class is found through the registry (only with ``known``, the
    registered names): the hub never imports a connector package by name. For a
    connector in ``in_schema`` (whose settings the hub-config schema checked) only
    what the model's own validators find is added.
    """
    if known is None:
        return []
    from handoff_hub.hub.connector import settings_model
    from handoff_hub.hub.registry import connector_class  # lazy: loads the connector's package

    issues: list[Issue] = []
    for name, system in dict_entries(raw.get("systems")).items():
        connector, settings = system.get("connector"), system.get("settings", {})
        if not isinstance(connector, str) or connector not in known:
            continue
        try:
            model = settings_model(connector_class(connector))
        except Exception as exc:  # a third party's package that does not import
            where = ("systems", name, "connector")
            issues.append(doc.issue(where, f"connector {connector!r} cannot be loaded: {exc}"))
            continue
        if model is not None and isinstance(settings, dict):
            at: NodePath = ("systems", name, "settings")
            issues += settings_issues(
                doc, at, settings, model, beyond_schema=connector in in_schema
            )
    return issues


def webhook_section_issues(
    doc: YamlDocument,
    raw: dict[str, Any],
    known: Collection[str] | None,
    in_schema: Collection[str] = (),
) -> list[Issue]:
    """Each ``webhooks.<connector>:`` section against that connector's ``webhook_model``.

    Like :func:`connector_settings_issues`, only with ``known``: a key that is
    neither one of the section's own settings nor a registered connector
    receiving webhooks is reported, with the nearest name.
    """
    section = raw.get("webhooks")
    if known is None or not isinstance(section, dict):
        return []
    from handoff_hub.hub.config.webhooks import WebhooksConfig
    from handoff_hub.hub.connector import webhook_source
    from handoff_hub.hub.registry import connector_class  # lazy: loads the connector's package

    issues: list[Issue] = []
    for key, value in section.items():
        name = str(key)
        if name in WebhooksConfig.model_fields:
            continue
        at: NodePath = ("webhooks", name)
        if name not in known:
            hint = did_you_mean(name, [*WebhooksConfig.model_fields, *known])
            issues.append(doc.issue(at, f"neither a setting nor a connector: {name!r}", hint))
            continue
        try:
            source = webhook_source(connector_class(name))
        except Exception as exc:  # a third party's package that does not import
            issues.append(doc.issue(at, f"connector {name!r} cannot be loaded: {exc}"))
            continue
        if source is None:
            issues.append(doc.issue(at, f"connector {name!r} receives no webhooks"))
        elif isinstance(value, dict):
            model = source.webhook_model()
            issues += settings_issues(doc, at, value, model, beyond_schema=name in in_schema)
    return issues


def handoff_issues(
    doc: YamlDocument, raw: dict[str, Any], mappings: dict[str, MappingSpec], *, check_env: bool
) -> list[Issue]:
    """Each handoff: its systems, the entities and fields it needs in their mappings."""
    issues: list[Issue] = []
    for handoff, settings in dict_entries(raw.get("handoffs")).items():
        at: NodePath = ("handoffs", handoff)
        issues += _reference_issues(doc, at, settings, raw, mappings)
        issues += schedule_issues(doc, at, settings)
        issues += handoff_template_issues(doc, at, settings)
        notify = settings.get("notify")
        if isinstance(notify, dict):
            issues += notify_url_issues(
                doc, (*at, "notify"), notify.get("urls"), check_env=check_env
            )
        if handoff == "sync":
            issues += _sync_field_issues(doc, at, settings)
        issues += _only_issues(doc, at, handoff, settings.get("only"))
        if handoff == "won_to_project":
            issues += template_rule_issues(doc, at, settings, dict_entries(raw.get("templates")))
        issues += _manager_issues(doc, (*at, "manager"), settings.get("manager"))
    return issues


def _manager_issues(doc: YamlDocument, at: NodePath, manager: Any) -> list[Issue]:
    """The manager's field and each rule's conditions name fields of the deal."""
    if not isinstance(manager, dict):
        return []
    issues: list[Issue] = []
    field = manager.get("field")
    if isinstance(field, str) and (problem := unified_path_problem("Opportunity", field)):
        issues.append(doc.issue((*at, "field"), *problem))
    rules = manager.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        when = rule.get("when") if isinstance(rule, dict) else None
        for path, spec in (when if isinstance(when, dict) else {}).items():
            where = (*at, "rules", index, "when", path)
            if problem := unified_path_problem("Opportunity", str(path)):
                issues.append(doc.issue(where, *problem))
            elif reason := condition_problem(spec):
                issues.append(doc.issue(where, reason))
    return issues


def alerts_issues(doc: YamlDocument, raw: dict[str, Any], *, check_env: bool) -> list[Issue]:
    """The ``alerts:`` section's URLs, checked as the handoffs' notification URLs are."""
    alerts = raw.get("alerts")
    if not isinstance(alerts, dict):
        return []
    return notify_url_issues(doc, ("alerts",), alerts.get("urls"), check_env=check_env)


def _only_issues(doc: YamlDocument, at: NodePath, handoff: str, only: Any) -> list[Issue]:
    """Each ``only:`` condition names a field of what the handoff reads, and a known test."""
    kind = by_config_key(handoff)
    if kind is None or not isinstance(only, dict):
        return []
    entity = kind.source[1]
    issues: list[Issue] = []
    for path, spec in only.items():
        where = (*at, "only", path)
        if problem := unified_path_problem(entity, str(path)):
            issues.append(doc.issue(where, *problem))
        elif reason := condition_problem(spec):
            issues.append(doc.issue(where, reason))
    return issues


def _sync_field_issues(doc: YamlDocument, at: NodePath, settings: dict[str, Any]) -> list[Issue]:
    fields = settings.get("fields")
    issues: list[Issue] = []
    for index, rule in enumerate(fields if isinstance(fields, list) else []):
        for role, entity in (("crm", "Opportunity"), ("pm", "Project")):
            path = rule.get(role) if isinstance(rule, dict) else None
            if isinstance(path, str) and (problem := unified_path_problem(entity, path)):
                issues.append(doc.issue((*at, "fields", index, role), *problem))
    return issues


def _reference_issues(
    doc: YamlDocument,
    at: NodePath,
    settings: dict[str, Any],
    raw: dict[str, Any],
    mappings: dict[str, MappingSpec],
) -> list[Issue]:
    issues: list[Issue] = []
    for role, section in (("crm", "systems"), ("pm", "systems"), ("template", "templates")):
        key, known = settings.get(role), dict_entries(raw.get(section))
        if isinstance(key, str) and key not in known:
            issues.append(
                doc.issue(
                    (*at, role),
                    f"no {role if section == 'templates' else 'system'} {key!r} under {section}:",
                    nearest_hint(key, known),
                )
            )
        elif isinstance(key, str) and key in mappings and section == "systems":
            write_back = settings.get("write_back", True) is True
            issues += _entity_issues(doc, (*at, role), at[-1], role, mappings[key], write_back)
    return issues


def _entity_issues(
    doc: YamlDocument, at: NodePath, handoff: Any, role: str, spec: MappingSpec, write_back: bool
) -> list[Issue]:
    kind = by_config_key(str(handoff))
    needed = kind.entities.get(role, ()) if kind is not None else ()
    issues = [
        doc.issue(at, f"{handoff} needs entity {entity!r} in the {spec.system} mapping")
        for entity in needed
        if entity not in spec.entities
    ]
    opportunity = spec.entities.get("Opportunity")
    if (
        (handoff, role) == ("won_to_project", "crm")
        and write_back
        and opportunity is not None
        and "project_ref" not in opportunity.write_rules()
    ):
        issues.append(
            doc.issue(
                at,
                "write_back needs a project_ref rule that writes, in the "
                f"{spec.system} mapping (Opportunity)",
                "or set write_back: false",
            )
        )
    return issues


def template_issues(doc: YamlDocument, raw: dict[str, Any]) -> list[Issue]:
    """Each project template: its name template and its tasks."""
    issues: list[Issue] = []
    context = TEMPLATE_CONTEXTS["templates", "name"]
    for key, template in dict_entries(raw.get("templates")).items():
        if isinstance(name := template.get("name"), str):
            issues += template_text_issues(doc, ("templates", key, "name"), name, context)
        if isinstance(tasks := template.get("tasks"), list):
            issues += _task_issues(doc, ("templates", key, "tasks"), tasks)
    return issues


def _task_issues(doc: YamlDocument, at: NodePath, tasks: list[Any]) -> list[Issue]:
    tasks = [t if isinstance(t, dict) else {} for t in tasks]
    names = {n for t in tasks if isinstance(n := t.get("name"), str)}
    seen: set[str] = set()
    issues: list[Issue] = []
    for index, task in enumerate(tasks):
        if isinstance(name := task.get("name"), str) and name in seen:
            issues.append(doc.issue((*at, index, "name"), f"task {name!r} is listed twice"))
        if isinstance(name, str):
            seen.add(name)
        if isinstance(parent := task.get("parent"), str) and parent not in names:
            # A hint compares the name with every task: only for templates of a sane size.
            hint = nearest_hint(parent, names) if len(names) <= _MAX_HINTED_TASKS else None
            issues.append(
                doc.issue(
                    (*at, index, "parent"), f"no task named {parent!r} in this template", hint
                )
            )
    return issues
