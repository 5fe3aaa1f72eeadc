"""Checks of won-to-project's template choice: its default and its ``template_rules:``.

Each rule names templates under ``templates:`` (one, or a set of distinct ones)
and tests fields the deal has, with comparisons the hub knows; every problem
is reported with the file and line of the rule's own setting.
"""

from __future__ import annotations

from typing import Any

from handoff_hub.hub.config.schema import nearest_hint
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument
from handoff_hub.hub.errors import Issue
from handoff_hub.hub.handoffs.conditions import condition_problem
from handoff_hub.hub.mapping.loader import unified_path_problem
from handoff_hub.hub.mapping.templating import template_names

__all__ = ["template_rule_issues"]


def template_rule_issues(
    doc: YamlDocument, at: NodePath, settings: dict[str, Any], templates: dict[str, Any]
) -> list[Issue]:
    """The template rules of won-to-project's section ``at``, each checked."""
    rules = settings.get("template_rules")
    if not isinstance(rules, list):
        rules = []
    if not rules and not settings.get("template"):
        return [doc.issue(at, "no template: set template:, template_rules:, or both")]
    issues: list[Issue] = []
    for index, rule in enumerate(rules):
        if isinstance(rule, dict):
            issues += _rule_issues(doc, (*at, "template_rules", index), rule, templates)
    return issues


def _per_value_issues(doc: YamlDocument, where: NodePath, rule: dict[str, Any]) -> list[Issue]:
    """A per-value rule's own checks: one ``template:``, and ``value_templates:`` only with it.

    Whether the field is a list in the CRM mapping is checked with the mappings
    (:mod:`hub.config.custom_fields`).
    """
    per_value = rule.get("per_value")
    if per_value is None:
        if rule.get("value_templates"):
            return [doc.issue((*where, "value_templates"), "value_templates needs per_value:")]
        return []
    if rule.get("templates") is not None:
        return [
            doc.issue(
                (*where, "templates"),
                "per_value makes one project per value from one template: name it with "
                "template: (a value's own with value_templates:)",
            )
        ]
    if problem := unified_path_problem("Opportunity", str(per_value)):
        return [doc.issue((*where, "per_value"), *problem)]
    return []


def _value_name_issues(
    doc: YamlDocument, where: NodePath, rule: dict[str, Any], templates: dict[str, Any]
) -> list[Issue]:
    """A per-value rule's templates name each project with ``{{ value }}``.

    Without it a deal's projects share one name (and Jira in project mode
    refuses a second project of the same name).
    """
    by_value = rule.get("value_templates")
    named = [((*where, "template"), rule.get("template"))]
    if isinstance(by_value, dict):
        named += [((*where, "value_templates", str(v)), key) for v, key in by_value.items()]
    issues: list[Issue] = []
    for place, key in named:
        template = templates.get(key) if isinstance(key, str) else None
        name = template.get("name") if isinstance(template, dict) else None
        found = template_names(name) if isinstance(name, str) else None
        if found is not None and "value" not in found.variables:
            issues.append(
                doc.issue(
                    place,
                    f"template {key!r} makes one project per value, but its name does not "
                    "use the value: the deal's projects would share one name",
                    'add {{ value }} to its name, e.g. "{{ opportunity.name }} - {{ value }}"',
                )
            )
    return issues


def _rule_issues(
    doc: YamlDocument, where: NodePath, rule: dict[str, Any], templates: dict[str, Any]
) -> list[Issue]:
    one, many = rule.get("template"), rule.get("templates")
    if (one is None) == (many is None):
        return [doc.issue(where, "a rule names either template: (one) or templates: (a set)")]
    issues = _per_value_issues(doc, where, rule)
    if rule.get("per_value") is not None:
        issues += _value_name_issues(doc, where, rule, templates)
    named = [((*where, "template"), one)] if one is not None else []
    by_value = rule.get("value_templates")
    if isinstance(by_value, dict):
        named += [((*where, "value_templates", str(v)), key) for v, key in by_value.items()]
    if isinstance(many, list):
        named += [((*where, "templates", i), key) for i, key in enumerate(many)]
        seen: set[Any] = set()
        for i, key in enumerate(many):
            if key in seen:
                issues.append(doc.issue((*where, "templates", i), f"{key!r} is twice in the set"))
            seen.add(key)
    for place, key in named:
        if isinstance(key, str) and key not in templates:
            issues.append(
                doc.issue(
                    place, f"no template {key!r} under templates:", nearest_hint(key, templates)
                )
            )
    when = rule.get("when")
    for path, spec in when.items() if isinstance(when, dict) else ():
        place = (*where, "when", path)
        if problem := unified_path_problem("Opportunity", str(path)):
            issues.append(doc.issue(place, *problem))
        elif reason := condition_problem(spec):
            issues.append(doc.issue(place, reason))
    return issues
