"""``hub check`` for Jira Cloud: the API user, permissions, project, fields, create screens.

Read-only calls only: ``GET /myself``, ``GET /mypermissions``, ``GET /project/{key}``,
``GET /field`` and the create metadata of the project's issue types
(``GET /issue/createmeta/{project}/issuetypes[/{id}]``). A written field that is
not on an issue type's create screen is refused by Jira when the run creates
the issue ("cannot be set. It is not on the appropriate screen, or unknown").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.connectors.jira.client import JiraClient
from handoff_hub.connectors.jira.config import JiraConfig
from handoff_hub.hub.connector import FieldNeed, PreflightNeeds
from handoff_hub.hub.preflight.findings import Findings, type_fits

__all__ = ["jira_preflight"]

_WON = "won-to-project"
_ALWAYS = ("BROWSE_PROJECTS",)
_FOR_WRITES = ("CREATE_ISSUES", "EDIT_ISSUES")
_OWN_WRITES = {"Project": ("summary", "labels"), "Task": ("summary", "parent", "labels")}
"""What the connector sets itself on an Epic and its tasks (the stamp is a label)."""


def jira_preflight(client: JiraClient, config: JiraConfig, needs: PreflightNeeds) -> Findings:
    """Every finding about the Jira site; an :class:`AuthError` when the token is refused."""
    found = Findings(needs.system)
    me = client.myself()
    who = me.get("emailAddress") or me.get("accountId") or "?"
    zone = me.get("timeZone") or "?"
    found.ok("credentials", f"signed in as {me.get('displayName', '?')} ({who}), time zone {zone}")
    project = _project(client, config, found)
    _permissions(client, config, needs, found, project=project)
    catalogue = {str(f.get("id")): f for f in client.fields()}
    _fields(needs.fields, catalogue, found)
    if project and needs.writes_projects and config.mode == "epic":
        _create_screens(client, config, needs, found)
    remaining = client.api.last_remaining
    found.headroom("X-RateLimit-Remaining", remaining, None)
    return found


def _project(client: JiraClient, config: JiraConfig, found: Findings) -> str | None:
    if config.mode != "epic":
        found.ok("project", f"mode: project (a Jira project per deal, {config.project_type_key})")
        return None
    body = client.get_project(config.project_key)
    if body is None:
        found.problem(
            "project", f"no project {config.project_key} (settings.project_key), or not browsable"
        )
        return None
    found.ok("project", f"{body.get('key')} ({body.get('name', '')}) exists")
    return str(body.get("key") or config.project_key)


def _permissions(
    client: JiraClient,
    config: JiraConfig,
    needs: PreflightNeeds,
    found: Findings,
    *,
    project: str | None,
) -> None:
    wanted = list(_ALWAYS)
    if project and (needs.writes_projects or any(n.write for n in needs.fields)):
        wanted += _FOR_WRITES
    if project and "feedback-to-lead" in needs.handoffs:
        wanted.append("ADD_COMMENTS")
    admin = needs.writes_projects and config.mode == "project"
    held = client.my_permissions([*wanted, "ADMINISTER"], project=project)
    lacking = [k for k in wanted if not held[k]]
    where = f" on {project}" if project else ""
    for key in lacking:
        found.problem("permissions", f"the API user lacks {key}{where}")
    if admin and not held["ADMINISTER"]:
        found.problem(
            "permissions",
            "the API user lacks the Administer Jira global permission (ADMINISTER), which "
            "mode: project needs to create a project per deal; grant it, or use mode: epic",
            _WON,
        )
    elif not lacking:
        extra = "" if held["ADMINISTER"] else " (not Administer Jira: mode: project would need it)"
        held_keys = ", ".join([*wanted, *(["ADMINISTER"] if admin else [])])
        found.ok("permissions", f"{held_keys}{where}{extra}")


def _issue_field(need: FieldNeed) -> str:
    """``fields.customfield_10052.value`` -> ``customfield_10052``."""
    return need.path.removeprefix("fields.").split(".", 1)[0]


def _fields(
    needs: Sequence[FieldNeed], catalogue: Mapping[str, Mapping[str, Any]], found: Findings
) -> None:
    missing: dict[FieldNeed, str] = {}
    for need in needs:
        name = _issue_field(need)
        field = catalogue.get(name)
        kind = str(((field or {}).get("schema") or {}).get("type") or "")
        if field is None:
            missing[_strict(need)] = f"the site has no field {name}"
        elif need.path.count(".") <= 1 and kind and not type_fits(need.type, kind):
            missing[_strict(need)] = f"{name} is a {kind} field; the mapping has {need.type}"
    found.fields(needs, missing)


def _strict(need: FieldNeed) -> FieldNeed:
    """A written field is needed: Jira refuses an issue write naming an unknown field."""
    if not need.write:
        return need
    return FieldNeed(need.entity, need.object, need.path, need.write, need.type, True)


def _create_screens(
    client: JiraClient, config: JiraConfig, needs: PreflightNeeds, found: Findings
) -> None:
    key = config.project_key
    types = {str(t.get("name")): str(t.get("id")) for t in client.create_meta_types(key)}
    screens = {"Project": config.epic_issue_type, "Task": config.task_issue_type}
    for entity, type_name in screens.items():
        if type_name not in types:
            found.problem(
                "create screen",
                f"{config.project_key} has no issue type {type_name!r} (have: "
                f"{', '.join(sorted(types))})",
                _WON,
            )
            continue
        metas = client.create_meta_fields(key, types[type_name])
        screen = {str(f.get("fieldId") or f.get("key")) for f in metas}
        mapped = {_issue_field(n) for n in needs.fields if n.entity == entity and n.write}
        written = sorted(mapped | set(_OWN_WRITES[entity]))
        absent = [f for f in written if f not in screen]
        for name in absent:
            found.problem(
                "create screen",
                f"issue.{name} (entity {entity}) is not on the create screen of {type_name} in "
                f"{config.project_key}: Jira refuses the create",
                _WON,
            )
        if not absent:
            detail = f"{type_name} in {key} takes all {len(written)} fields the hub sets"
            found.ok("create screen", detail, _WON)
