"""Loading a hub config with its mappings: every problem of every file at once."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from handoff_hub.hub.config.checks import (
    alerts_issues,
    connector_settings_issues,
    credential_env_issues,
    dict_entries,
    handoff_issues,
    system_issues,
    template_issues,
    webhook_section_issues,
)
from handoff_hub.hub.config.connector_schema import in_schema
from handoff_hub.hub.config.custom_fields import custom_field_issues
from handoff_hub.hub.config.root import HubConfig
from handoff_hub.hub.config.schema import (
    hub_config_schema,
    pydantic_issues,
    validate_document,
)
from handoff_hub.hub.config.values import (
    store_issues,
    system_url_issues,
)
from handoff_hub.hub.config.yamlio import NodePath, YamlDocument, load_yaml
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.mapping.loader import check_mapping
from handoff_hub.hub.mapping.spec import MappingSpec

__all__ = [
    "LoadedConfig",
    "load_config",
    "resolve_store_url",
]


# Unified entities each handoff needs in the mapping of each of its systems.
_SQLITE_URL = re.compile(r"^(sqlite(?:\+\w+)?):///([^?]*)(\?.*)?$")


_SECRET_KEYS = ("secret", "token", "password")


@dataclass(frozen=True)
class LoadedConfig:
    """A validated hub config with its mappings, bound to the system names."""

    config: HubConfig
    path: Path
    mappings: dict[str, MappingSpec]
    base_dir: Path
    warnings: tuple[Issue, ...] = ()
    """Problems of the environment, not the file, when loaded with ``warn_env``."""


def load_config(
    path: str | Path,
    *,
    known_connectors: Collection[str] | None = None,
    check_env: bool = True,
    warn_env: bool = False,
) -> LoadedConfig:
    """Load a hub config and every mapping file it names, checking everything first.

    Order: YAML (with lines) -> JSON Schema -> pydantic; each ``mapping:`` file
    (relative to the config) the same way plus its semantic checks; then the
    cross-checks (handoff keys, connector names, templates, environment).

    Args:
        path: The hub config YAML.
        known_connectors: Registered connector names; ``None`` skips that check.
        check_env: Also require every credential's environment variable to be set.
        warn_env: With ``check_env``, an unset variable is a warning (in the result's
            or the error's ``warnings``), not an error: a pull-request check lints a
            config without the production secrets.

    Returns:
        The config, its path, the mappings by system name and the config's folder.

    Raises:
        ConfigError: Listing every problem of every file at once.
    """
    doc = load_yaml(path)
    if (wrong_file := _not_a_hub_config(doc)) is not None:
        raise ConfigError([wrong_file])
    base_dir = Path(path).resolve().parent
    raw: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    schema = hub_config_schema(known_connectors or (), models_of=_named_connectors(raw))
    invalid = validate_document(
        doc.data,
        schema,
        file=doc.file,
        lines=doc.lines,
        conceal=_secret_hint,
    )
    mappings, issues = _load_mappings(doc, raw, base_dir, known_connectors)
    issues += system_issues(doc, raw, known_connectors)
    env = credential_env_issues(doc, raw) if check_env else []
    warnings = tuple(env) if warn_env else ()
    issues += [] if warn_env else env
    issues += handoff_issues(doc, raw, mappings, check_env=check_env)
    issues += alerts_issues(doc, raw, check_env=check_env)
    issues += template_issues(doc, raw)
    issues += custom_field_issues(doc, raw, mappings)
    issues += system_url_issues(doc, raw) + store_issues(doc, raw)
    issues += connector_settings_issues(doc, raw, known_connectors, in_schema(schema, "settings"))
    issues += webhook_section_issues(doc, raw, known_connectors, in_schema(schema, "webhooks"))
    config = None if invalid else _parse(doc, issues)
    issues = [*doc.issues, *invalid, *issues]
    issues = sorted(dict.fromkeys(issues), key=lambda i: (i.file != doc.file, i.file, i.line or 0))
    if issues or config is None:
        raise ConfigError(issues, warnings)
    for name, system in config.systems.items():
        system.bind_name(name, doc)
    config.store.url = resolve_store_url(config.store.url, base_dir)
    return LoadedConfig(config, Path(path).resolve(), mappings, base_dir, warnings)


def _named_connectors(raw: dict[str, Any]) -> set[str]:
    """The connectors a config names: its systems' ``connector:`` and its ``webhooks:`` keys."""
    systems = raw.get("systems")
    named = {
        system.get("connector")
        for system in (systems.values() if isinstance(systems, dict) else ())
        if isinstance(system, dict)
    }
    webhooks = raw.get("webhooks")
    named |= set(webhooks) if isinstance(webhooks, dict) else set()
    return {str(name) for name in named if isinstance(name, str)}


def resolve_store_url(url: str, base_dir: Path) -> str:
    """A relative SQLite path made relative to ``base_dir``; other URLs unchanged."""
    match = _SQLITE_URL.match(url)
    if match is None:
        return url
    scheme, database, query = match.group(1), match.group(2), match.group(3) or ""
    if not database or database.startswith((":memory:", "file:")) or Path(database).is_absolute():
        return url
    return f"{scheme}:///{(base_dir / database).as_posix()}{query}"


def _not_a_hub_config(doc: YamlDocument) -> Issue | None:
    """One issue for an empty file or a mapping file, instead of one per key it has."""
    if doc.data is None:
        return Issue(
            doc.file,
            1,
            "(document)",
            "the file is empty",
            "a hub config starts with version: 1 and systems:",
        )
    if isinstance(doc.data, dict) and "entities" in doc.data and "systems" not in doc.data:
        return Issue(
            doc.file,
            doc.line(("entities",)),
            "(document)",
            "this is a mapping file, not a hub config",
            "give the hub config whose systems.<name>.mapping names it",
        )
    return None


def _parse(doc: YamlDocument, issues: list[Issue]) -> HubConfig | None:
    try:
        return HubConfig.model_validate(doc.data)
    except ValidationError as exc:
        issues += pydantic_issues(exc, file=doc.file, lines=doc.lines)
        return None


def _secret_hint(path: NodePath) -> str | None:
    """What to say instead of the value of a secret's reference: it may be the secret, pasted."""
    if any(str(p) == "credentials" or str(p).endswith(_SECRET_KEYS) for p in path):
        return "a secret is named by where it is kept, e.g. {env: VAR}; the value is not shown"
    return None


def _load_mappings(
    doc: YamlDocument, raw: dict[str, Any], base_dir: Path, known: Collection[str] | None
) -> tuple[dict[str, MappingSpec], list[Issue]]:
    mappings: dict[str, MappingSpec] = {}
    issues: list[Issue] = []
    loaded: dict[Path, MappingSpec | None] = {}
    for name, system in dict_entries(raw.get("systems")).items():
        if not isinstance(mapping := system.get("mapping"), str):
            continue
        where: NodePath = ("systems", name, "mapping")
        file = (base_dir / mapping).resolve()
        if not file.is_file():
            issues.append(
                doc.issue(
                    where,
                    f"mapping file {mapping!r} not found",
                    f"looked for {file}; paths are relative to the config file",
                )
            )
            continue
        if file not in loaded:
            loaded[file], found = check_mapping(file)
            issues += found
        if (spec := loaded[file]) is None:
            continue
        connector = system.get("connector", spec.system)
        # An unknown connector is reported once, as such, not again as a mismatch.
        if spec.system != connector and (known is None or connector in known):
            issues.append(
                doc.issue(
                    where,
                    f"mapping is for {spec.system!r} but the connector is {system['connector']!r}",
                )
            )
        mappings[name] = spec.bind_name(name)
    return mappings, issues
