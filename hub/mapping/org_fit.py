"""A mapping fitted to the org it runs against: fields the org lacks left out, or refused.

The shipped mappings name fields not every org has: ``CurrencyIsoCode`` exists
only where multi-currency is on (off is Salesforce's default), and the
``Delivery_*`` custom fields only where an admin created them. Selecting a
field the org lacks fails the whole query, so before a run reads or writes,
the hub asks the connector (:class:`~hub.connector.KnowsOrgSchema`) which of
the mapping's fields are absent and fits the mapping:

- an optional rule on an absent field is left out: reads see no value, writes
  leave the field alone;
- a money rule whose currency field is absent takes the org's corporate
  currency (and a blank per-record currency falls back to it, not to the
  mapping's fixed code, wherever the org tells it);
- a required rule, a stamp field, or a field a configured handoff writes or
  compares is a :class:`~hub.errors.ConfigError` naming the object and field,
  raised before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from handoff_hub.hub.config.root import HubConfig
from handoff_hub.hub.config.yamlio import load_yaml
from handoff_hub.hub.connector import DescribesAhead, KnowsOrgSchema
from handoff_hub.hub.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    Issue,
    RateLimitedError,
    TransientError,
)
from handoff_hub.hub.mapping.spec import EntityMap, FieldRule, MappingSpec, is_simple_path

__all__ = ["Need", "OrgFit", "fit_to_org", "needed_fields"]

log = logging.getLogger("hub.mapping")


@dataclass(frozen=True)
class Need:
    """A unified field a configured handoff cannot do without, and why."""

    entity: str
    field: str
    why: str
    hint: str


@dataclass
class OrgFit:
    """The fitted mapping, what was left out (by entity: field -> object field), and problems."""

    spec: MappingSpec
    left_out: dict[str, dict[str, str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def needed_fields(config: HubConfig, system: str) -> list[Need]:
    """The unified fields the configured handoffs write or compare on ``system``."""
    handoffs = config.handoffs
    needs: list[Need] = []
    won = handoffs.won_to_project
    if won is not None and won.enabled and won.crm == system and won.write_back:
        needs.append(
            Need(
                "Opportunity",
                "project_ref",
                "won-to-project writes the project's key back onto the deal (write_back)",
                "create the field, or set handoffs.won_to_project.write_back: false",
            )
        )
    risk = handoffs.risk_to_account_manager
    if risk is not None and risk.enabled and risk.crm == system and risk.write_health:
        needs.append(
            Need(
                "Opportunity",
                "delivery_health",
                "risk-to-account-manager writes the project's health onto the deal (write_health)",
                "create the field, or set handoffs.risk_to_account_manager.write_health: false",
            )
        )
    sync = handoffs.sync
    if sync is not None and sync.enabled:
        for rule in sync.fields:
            for role, entity, name in (
                ("crm", "Opportunity", rule.crm),
                ("pm", "Project", rule.pm),
            ):
                if getattr(sync, role) == system:
                    needs.append(
                        Need(
                            entity,
                            name,
                            f"sync keeps {rule.crm} and {rule.pm} in step",
                            "create the field, or take the pair out of handoffs.sync.fields",
                        )
                    )
    return needs


def fit_to_org(
    spec: MappingSpec,
    org: KnowsOrgSchema,
    *,
    file: str,
    needs: list[Need] | None = None,
    used: Collection[str] | None = None,
) -> OrgFit:
    """``spec`` with the rules on fields the org lacks left out, or the issues that forbid it.

    Args:
        spec: The loaded mapping of one system.
        org: That system's connector.
        file: The mapping file, named in issues.
        needs: Fields the configured handoffs need (:func:`needed_fields`).
        used: Entities the configured handoffs use: only their required fields
            and stamps are checked (None: every entity's).
    """
    fit = OrgFit(spec)
    if isinstance(org, DescribesAhead):
        org.describe_ahead(
            [e.object for e in spec.entities.values() if any(_org_paths(e))],
            currency=any(_money_rules(e) for e in spec.entities.values()),
        )
    entities: dict[str, EntityMap] = {}
    currency: list[str | None] = []
    for name, emap in spec.entities.items():
        absent = _absent(org, emap, name)
        if not absent and not _money_rules(emap):
            entities[name] = emap
            continue
        if not currency and _money_rules(emap):
            currency.append(_org_currency(org))
        checked = used is None or name in used
        org_currency = currency[0] if currency else None
        entities[name] = _fit_entity(fit, name, emap, absent, org_currency, file, checked=checked)
    wanted = {(n.entity, n.field): n for n in needs or ()}
    for (entity, unified), need in wanted.items():
        if unified in fit.left_out.get(entity, {}):
            where = f"{spec.entities[entity].object}.{fit.left_out[entity][unified]}"
            fit.issues.append(
                Issue(
                    file,
                    None,
                    f"entities.{entity}.fields.{unified}",
                    f"the {spec.ref_key} org has no field {where}, and {need.why}",
                    need.hint,
                )
            )
    fit.spec = spec.model_copy(update={"entities": entities})
    if fit.issues:
        fit.issues = _with_lines(fit.issues, file)
    return fit


def _with_lines(issues: list[Issue], file: str) -> list[Issue]:
    """The issues with the line of the rule they name, where the file has it."""
    if not Path(file).is_file():
        return issues
    try:
        document = load_yaml(file)
    except ConfigError:
        return issues
    placed = [
        replace(issue, line=document.line(tuple(issue.field.split(".", 3)))) for issue in issues
    ]
    return sorted(placed, key=lambda i: i.line or 0)


def _absent(org: KnowsOrgSchema, emap: EntityMap, entity: str) -> set[str]:
    asked = list(dict.fromkeys(_org_paths(emap)))
    if not asked:
        return set()
    try:
        return set(org.missing_fields(emap.object, asked))
    except (TransientError, RateLimitedError):
        raise
    except AuthError as exc:
        if exc.status != 403:  # credentials refused: nothing else would work either
            raise
        log.warning(
            "cannot describe %s (%s), not shared with the user: %s", emap.object, entity, exc
        )
        return set()
    except ConnectorError as exc:
        log.warning(
            "could not learn which %s fields the org has (%s): %s", emap.object, entity, exc
        )
        return set()


def _org_paths(emap: EntityMap) -> Iterator[str]:
    """Every product field the entity map names (not directives such as ``_company``)."""
    paths = [emap.stamp_field, *emap.also_read, *(emap.select or [])]
    for rule in emap.fields.values():
        paths += [rule.path, rule.write_to, rule.currency_path]
    for path in paths:
        if path and is_simple_path(path) and not path.startswith("_"):
            yield path


def _money_rules(emap: EntityMap) -> list[FieldRule]:
    return [r for r in emap.fields.values() if r.type == "money" and r.currency_path]


def _org_currency(org: KnowsOrgSchema) -> str | None:
    try:
        return org.default_currency()
    except (TransientError, RateLimitedError, AuthError):
        raise
    except ConnectorError as exc:
        log.warning("could not read the org's corporate currency: %s", exc)
        return None


def _fit_entity(
    fit: OrgFit,
    name: str,
    emap: EntityMap,
    absent: set[str],
    currency: str | None,
    file: str,
    *,
    checked: bool,
) -> EntityMap:
    at = f"entities.{name}"
    org = fit.spec.ref_key
    if checked and emap.stamp_field in absent:
        fit.issues.append(
            Issue(
                file,
                None,
                f"{at}.stamp_field",
                f"the {org} org has no field {emap.object}.{emap.stamp_field}, where the hub "
                "stamps what it creates so that a rerun never creates it twice",
                "create it (a unique External ID text field) and give the integration user "
                "access to it",
            )
        )
    rules: dict[str, FieldRule] = {}
    for unified, rule in emap.fields.items():
        fitted = _fit_rule(rule, absent, currency)
        if fitted is not None:
            rules[unified] = fitted
            continue
        fit.left_out.setdefault(name, {})[unified] = str(rule.path)
        if checked and rule.required:
            fit.issues.append(
                Issue(
                    file,
                    None,
                    f"{at}.fields.{unified}",
                    f"the {org} org has no field {emap.object}.{rule.path}, which the mapping "
                    "requires",
                    "create the field, or map another one",
                )
            )
    if fit.left_out.get(name):
        log.info(
            "%s: the %s org lacks %s; left out of the mapping",
            emap.object,
            org,
            ", ".join(sorted(set(fit.left_out[name].values()))),
        )
    data = emap.model_dump()
    data["fields"] = {k: r.model_dump() for k, r in rules.items()}
    data["also_read"] = [p for p in emap.also_read if p not in absent]
    if emap.select is not None:
        data["select"] = [p for p in emap.select if p not in absent]
    return EntityMap.model_validate(data)


def _fit_rule(rule: FieldRule, absent: set[str], currency: str | None) -> FieldRule | None:
    if (rule.path is not None and rule.path in absent) or (rule.write_to or "") in absent:
        return None
    if rule.type != "money" or not rule.currency_path:
        return rule
    update: dict[str, str | None] = {}
    if rule.currency_path in absent:
        update["currency_path"] = None
    if currency:
        update["currency"] = currency
    return rule.model_copy(update=update) if update else rule
