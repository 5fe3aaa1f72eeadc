"""The Asana sandbox's route table: every emulated endpoint below ``/api/1.0``."""

from __future__ import annotations

from handoff_hub.sandboxes.asana.api import AsanaReads
from handoff_hub.sandboxes.asana.router import Router
from handoff_hub.sandboxes.asana.structure import StructureReads
from handoff_hub.sandboxes.asana.templates import TemplateJobs
from handoff_hub.sandboxes.asana.write import AsanaWrites

__all__ = ["build_router"]


def build_router(reads: AsanaReads, writes: AsanaWrites, jobs: TemplateJobs) -> Router:
    """The router of one sandbox (the batch endpoint is handled around it)."""
    router = Router()
    structure = StructureReads(reads)
    routes = (
        ("GET", "/users/me", reads.me),
        ("GET", "/users/{user}", reads.user),
        ("GET", "/users", reads.users),
        ("GET", "/workspaces", reads.workspaces),
        ("GET", "/workspaces/{workspace}", reads.workspace),
        ("GET", "/workspaces/{workspace}/users", reads.users),
        ("GET", "/workspaces/{workspace}/custom_fields", reads.custom_fields),
        ("GET", "/workspaces/{workspace}/typeahead", reads.typeahead),
        ("GET", "/workspaces/{workspace}/tasks/search", reads.search),
        ("GET", "/workspaces/{workspace}/projects", reads.projects),
        ("GET", "/workspaces/{workspace}/teams", structure.teams),
        ("GET", "/teams/{team}", structure.team),
        ("GET", "/teams/{team}/project_templates", reads.templates),
        ("GET", "/projects", reads.projects),
        ("POST", "/projects", writes.create_project),
        ("GET", "/teams/{team}/projects", reads.projects),
        ("GET", "/projects/{project}", reads.project),
        ("PUT", "/projects/{project}", writes.update_project),
        ("GET", "/projects/{project}/tasks", reads.project_tasks),
        ("GET", "/projects/{project}/sections", reads.sections),
        ("GET", "/projects/{project}/custom_field_settings", structure.field_settings),
        ("POST", "/projects/{project}/sections", writes.create_section),
        ("GET", "/tasks", reads.tasks),
        ("POST", "/tasks", writes.create_task),
        ("GET", "/tasks/{task}", reads.task),
        ("PUT", "/tasks/{task}", writes.update_task),
        ("DELETE", "/tasks/{task}", writes.delete_task),
        ("GET", "/tasks/{task}/subtasks", reads.subtasks),
        ("POST", "/tasks/{task}/subtasks", writes.create_subtask),
        ("GET", "/tasks/{task}/stories", reads.stories),
        ("POST", "/tasks/{task}/stories", writes.add_story),
        ("GET", "/project_templates", reads.templates),
        ("GET", "/project_templates/{template}", reads.template),
        ("POST", "/project_templates/{template}/instantiateProject", jobs.instantiate),
        ("GET", "/jobs/{job}", jobs.job),
    )
    for method, pattern, handler in routes:
        router.add(method, pattern, handler)
    return router
