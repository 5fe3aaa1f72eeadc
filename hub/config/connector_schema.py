"""The connectors' part of the hub-config schema: each one's ``settings:`` and webhooks.

A connector declares the model of its ``settings:`` (``settings_model``) and,
if its product sends webhooks, of its ``webhooks.<name>:`` section. The
hub-config JSON Schema carries both for every installed connector, so an editor
completes ``settings:`` once ``connector:`` is set and validation reports a
misspelt setting with file, line and the nearest name::

    systems.<name>:  allOf: [if connector == "jira" then settings: <JiraConfig>, ...]
    webhooks:        properties: {jira: <JiraWebhookConfig>, ...}

Nothing here names a connector: the models come from the registry (entry points),
so a third party's connector is in the schema of the hub it is installed in.
A system whose connector is not installed keeps an open ``settings:``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, PydanticUserError

__all__ = [
    "ConnectorModels",
    "add_connector_models",
    "in_schema",
    "installed_models",
]

_SYSTEM_DEF = "SystemConfig"
_WEBHOOKS_DEF = "WebhooksConfig"


@dataclass(frozen=True)
class ConnectorModels:
    """The config models one connector declares."""

    name: str
    settings: type[BaseModel] | None
    webhooks: type[BaseModel] | None


def installed_models(names: Iterable[str]) -> list[ConnectorModels]:
    """The models of the named registered connectors; one that cannot be loaded is left out.

    A connector that does not import is reported by the config checks, with its system.
    """
    from handoff_hub.hub.connector import settings_model, webhook_source
    from handoff_hub.hub.registry import connector_class  # lazy: loads the connectors

    found = []
    for name in sorted(names):
        try:
            cls = connector_class(name)
            source = webhook_source(cls)
            webhooks = source.webhook_model() if source is not None else None
            found.append(ConnectorModels(name, settings_model(cls), webhooks))
        except Exception:  # noqa: S112 - a third party's package that does not import
            continue
    return found


def add_connector_models(
    schema: dict[str, Any],
    connectors: Iterable[ConnectorModels],
    names: Iterable[str] | None = None,
) -> None:
    """Put each connector's settings and webhook models into the hub-config ``schema``.

    ``names``: the connectors ``connector:`` completes (default: those of ``connectors``).
    """
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    system, webhooks = defs[_SYSTEM_DEF], defs[_WEBHOOKS_DEF]
    connectors = list(connectors)
    cases = []
    for models in connectors:
        if models.settings is not None and (ref := _add_model(defs, models, "settings")):
            cases.append(_settings_case(models.name, ref))
        if models.webhooks is not None and (ref := _add_model(defs, models, "webhooks")):
            webhooks["properties"][models.name] = {"$ref": ref}
    if cases:
        system["allOf"] = cases
    named = list(names) if names is not None else [m.name for m in connectors]
    _name_connectors(system["properties"]["connector"], named)


def in_schema(schema: dict[str, Any], section: str) -> set[str]:
    """Connectors whose ``settings`` (or ``webhooks``) model ``schema`` carries."""
    suffix = f".{section}"
    return {key.removesuffix(suffix) for key in schema.get("$defs", {}) if key.endswith(suffix)}


def _add_model(defs: dict[str, Any], models: ConnectorModels, section: str) -> str | None:
    """Put a connector's model under ``$defs[<connector>.<section>]``; the reference to it.

    Its own definitions get the same prefix. ``None`` for a model JSON Schema cannot
    express: its section is then checked by the model alone.
    """
    key = f"{models.name}.{section}"
    model: type[BaseModel] = getattr(models, section)
    try:
        sub = model.model_json_schema(ref_template=f"#/$defs/{key}.{{model}}")
    except PydanticUserError:
        return None
    for name, definition in sub.pop("$defs", {}).items():
        defs[f"{key}.{name}"] = definition
    defs[key] = sub
    return f"#/$defs/{key}"


def _settings_case(connector: str, ref: str) -> dict[str, Any]:
    return {
        "if": {"properties": {"connector": {"const": connector}}, "required": ["connector"]},
        "then": {"properties": {"settings": {"$ref": ref}}},
    }


def _name_connectors(field: dict[str, Any], names: list[str]) -> None:
    """``connector:`` completes the installed names yet takes another registered one.

    An unknown name is reported by the config checks with the nearest one.
    """
    if not names:
        return
    field.pop("type", None)
    field["anyOf"] = [
        {"enum": names, "description": "An installed connector"},
        {"type": "string", "description": "Another connector registered by entry point"},
    ]
    field["examples"] = names
