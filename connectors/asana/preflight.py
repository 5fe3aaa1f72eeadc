"""``hub check`` for Asana: the user and workspace, team, template, custom fields, options.

Read-only: ``GET /users/me`` (the workspaces the token's user belongs to),
``GET /teams/{gid}``, ``GET /project_templates/{gid}``, the workspace's custom
fields (type and enum options), and ``GET /projects/{gid}/custom_field_settings``
of the team's projects: a project without one of the fields the hub writes
refuses the write ("Custom field with ID ... is not on given object").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.client import AsanaClient
from handoff_hub.connectors.asana.config import AsanaConfig
from handoff_hub.connectors.asana.fields import CustomField, FieldCatalogue
from handoff_hub.connectors.asana.options import option_key
from handoff_hub.connectors.asana.records import api_path, gid_of
from handoff_hub.hub.connector import PreflightNeeds
from handoff_hub.hub.preflight.findings import Findings

__all__ = ["asana_preflight"]

_WON = "won-to-project"
_SUBTYPES = {
    "budget": "number",
    "budget_currency": "text",
    "crm_id": "text",
    "health": "enum",
    "customer": "text",
}
"""The kind each field the settings name must be."""
_WRITTEN = ("budget", "budget_currency", "crm_id", "customer")
PROJECT_SAMPLE = 50
"""Team projects whose custom field settings are read (one call each)."""


def asana_preflight(
    client: AsanaClient, config: AsanaConfig, catalogue: FieldCatalogue, needs: PreflightNeeds
) -> Findings:
    """Every finding about the workspace; an :class:`AuthError` when the token is refused."""
    found = Findings(needs.system)
    me = client.get(settings.ME_PATH, fields=("name", "email", "workspaces.name"))
    _membership(me, config, found)
    if config.team_gid:
        _team(client, config, found)
    for template in needs.templates:
        if template.product_template:
            _template(client, template.product_template, found)
    fields = _custom_fields(catalogue, found)
    _options(catalogue, needs.enum_values, found)
    if config.team_gid and needs.writes_projects:
        _project_settings(client, config, [f for k, f in fields.items() if k in _WRITTEN], found)
    found.headroom("Retry-After on 429 only", client.api.last_remaining, None)
    return found


def _membership(me: Mapping[str, Any], config: AsanaConfig, found: Findings) -> None:
    who = f"{me.get('name', '?')} ({me.get('email') or me.get('gid', '?')})"
    found.ok("credentials", f"signed in as {who}")
    spaces = {gid_of(w): str(w.get("name")) for w in me.get("workspaces") or []}
    if config.workspace_gid in spaces:
        found.ok("workspace", f"member of {spaces[config.workspace_gid]} ({config.workspace_gid})")
    else:
        known = ", ".join(f"{n} ({g})" for g, n in spaces.items()) or "none"
        found.problem(
            "workspace",
            f"the user is no member of workspace {config.workspace_gid} "
            f"(settings.workspace_gid); member of: {known}",
        )


def _team(client: AsanaClient, config: AsanaConfig, found: Findings) -> None:
    team = client.get(f"/teams/{config.team_gid}", fields=("name",), allow_missing=True)
    if team is None:
        found.problem("team", f"no team {config.team_gid} (settings.team_gid), or not visible")
    else:
        found.ok("team", f"{team.get('name', '?')} ({config.team_gid})")


def _template(client: AsanaClient, gid: str, found: Findings) -> None:
    path = api_path(settings.TEMPLATE_PATH, template=gid)
    template = client.get(path, fields=("name",), allow_missing=True)
    if template is None:
        found.problem("template", f"no project template {gid} (templates.*.product_template)", _WON)
    else:
        found.ok("template", f"{template.get('name', '?')} ({gid})", _WON)


def _custom_fields(catalogue: FieldCatalogue, found: Findings) -> dict[str, CustomField]:
    present: dict[str, CustomField] = {}
    refs = catalogue.config.field_refs()
    for logical, kind in _SUBTYPES.items():
        field = catalogue.find(logical)
        setting = f"settings.{logical}_field"
        if field is None:
            found.problem(
                "fields", f"custom field {refs[logical]!r} ({setting}) is not in the workspace"
            )
        elif field.subtype != kind:
            found.problem(
                "fields", f"custom field {field.name} ({setting}) is {field.subtype}, not {kind}"
            )
        else:
            present[logical] = field
    if len(present) == len(_SUBTYPES):
        found.ok("fields", f"all {len(present)} custom fields of the settings exist and fit")
    return present


def _options(
    catalogue: FieldCatalogue, expected: Mapping[str, Sequence[str]], found: Findings
) -> None:
    """Enum options the mapping names: missing ones, and ones typed differently."""
    seen: set[str] = set()
    for ref, names in expected.items():
        field = catalogue.find(ref.removeprefix("custom_fields."))
        if field is None:
            found.problem("options", f"no enum custom field {ref!r}, which the mapping reads")
            continue
        if field.gid in seen:
            continue
        seen.add(field.gid)
        exact = set(field.options)
        loose = {option_key(o): o for o in field.options}
        absent = [n for n in names if n not in exact and option_key(n) not in loose]
        typed = [
            f"{loose[option_key(n)]!r} for {n!r}"
            for n in names
            if n not in exact and option_key(n) in loose
        ]
        if absent:
            found.problem("options", f"{field.name} has no option {', '.join(absent)}")
        if typed:
            found.warn(
                "options",
                f"{field.name} options typed differently from the mapping: {', '.join(typed)} "
                "(the hub matches them trimmed and ignoring case)",
            )
        if not absent and not typed:
            found.ok("options", f"{field.name}: {', '.join(names)}")


def _project_settings(
    client: AsanaClient, config: AsanaConfig, fields: Sequence[CustomField], found: Findings
) -> None:
    params = {"archived": "false", "opt_fields": "name"}
    path = f"/teams/{config.team_gid}/projects"
    projects = client.list_all(path, params, page_size=PROJECT_SAMPLE)
    sample = projects[:PROJECT_SAMPLE]
    lacking: dict[str, list[str]] = {}
    for project in sample:
        path = f"/projects/{gid_of(project)}/custom_field_settings"
        settings_ = client.list_all(path, {"opt_fields": "custom_field"}, page_size=100)
        held = {gid_of(s.get("custom_field")) for s in settings_}
        missing = [f.name for f in fields if f.gid not in held]
        if missing:
            lacking[str(project.get("name") or gid_of(project))] = missing
    if not lacking:
        found.ok("projects", f"{len(sample)} team project(s) carry every written field", _WON)
        return
    first, missing = next(iter(lacking.items()))
    found.warn(
        "projects",
        f"{len(lacking)} of {len(sample)} team projects lack custom fields the hub writes "
        f"(their writes are refused), e.g. {first!r} lacks {', '.join(missing)}; add the "
        "fields to those projects",
        _WON,
    )
