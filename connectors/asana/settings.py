"""Asana REST API 1.0 facts the connector reads, kept as data.

Sources: Asana's OpenAPI description (``tests/vendor-specs/asana/asana_oas.yaml``)
and developers.asana.com: "Pagination" (``limit`` 1-100, ``next_page.offset``
tokens that expire), "Batch requests" (at most 10 actions, results in action
order, each with its own ``status_code``), "Rate limits" (150 requests a minute
on free domains, 1,500 on paid ones, 429 + ``Retry-After``; a batch of n
actions counts as n), "Errors" (``{"errors": [{"message", "help", "phrase"}]}``)
and "OAuth" (token endpoint ``POST /-/oauth_token``).
"""

from __future__ import annotations

from typing import Final

API_ROOT: Final = "/api/1.0"
TOKEN_PATH: Final = "/-/oauth_token"  # noqa: S105 - a path, not a password
"""OAuth token endpoint on the same host as the API (``https://app.asana.com``)."""

BATCH_PATH: Final = "/batch"
USERS_PATH: Final = "/users"
ME_PATH: Final = "/users/me"
WORKSPACE_FIELDS_PATH: Final = "/workspaces/{workspace}/custom_fields"
TASK_SEARCH_PATH: Final = "/workspaces/{workspace}/tasks/search"
PROJECTS_PATH: Final = "/projects"
PROJECT_PATH: Final = "/projects/{project}"
PROJECT_TASKS_PATH: Final = "/projects/{project}/tasks"
TASKS_PATH: Final = "/tasks"
TASK_PATH: Final = "/tasks/{task}"
SUBTASKS_PATH: Final = "/tasks/{task}/subtasks"
STORIES_PATH: Final = "/tasks/{task}/stories"
TEMPLATE_PATH: Final = "/project_templates/{template}"
INSTANTIATE_PATH: Final = "/project_templates/{template}/instantiateProject"
JOB_PATH: Final = "/jobs/{job}"
"""Paths below :data:`API_ROOT`; batch actions name them as ``relative_path``."""

APP_TASK_URL: Final = "{app}/0/0/{task}"
"""A task's link; Asana resolves project ``0`` to the task's own project."""
APP_PROJECT_URL: Final = "{app}/0/{project}/list"

PAGE_SIZE_MAX: Final = 100
"""``limit`` Asana accepts (1-100); larger values are refused with 400."""
BATCH_SIZE: Final = 10
"""Actions per ``POST /batch``; each action counts against the rate limit."""
BATCH_ROUNDS: Final = 4
"""Times a batch action answered 429/503 (never run) is sent again."""

TASK_OBJECT: Final = "tasks"
PROJECT_OBJECT: Final = "projects"
OBJECT_ALIASES: Final[dict[str, str]] = {
    "task": TASK_OBJECT,
    "tasks": TASK_OBJECT,
    "project": PROJECT_OBJECT,
    "projects": PROJECT_OBJECT,
}

MODIFIED_FIELD: Final = "modified_at"
TASK_SCOPES: Final = ("project", "section", "assignee", "parent")
"""``where`` keys that choose which tasks Asana lists (the rest filter client-side)."""
# opt_fields stay within the lists the OpenAPI description publishes per endpoint
# (user e-mails are not among them for tasks and projects: find_users maps people).
DEFAULT_TASK_FIELDS: Final = (
    "name",
    "notes",
    "completed",
    "due_on",
    "assignee.name",
    "parent.name",
    "custom_fields",
    "modified_at",
    "created_at",
)
DEFAULT_PROJECT_FIELDS: Final = (
    "name",
    "notes",
    "completed",
    "archived",
    "due_on",
    "owner",
    "team.name",
    "custom_fields",
    "modified_at",
    "created_at",
    "permalink_url",
)
FIND_PROJECT_FIELDS: Final = ("name", "notes", "custom_fields", "created_from_template")
CATALOGUE_FIELDS: Final = (
    "name",
    "resource_subtype",
    "type",
    "enum_options",
    "precision",
    "is_global_to_workspace",
)

MODIFIED_SINCE_MARGIN_SECONDS: Final = 1.0
"""``modified_since`` is sent this much before the cursor: Asana documents the
parameter only as "modified since", so the margin makes the bound inclusive
whatever the comparison; the connector drops what is older than the cursor."""
CURSOR_LAG_SECONDS: Final = 30.0
"""A read's cursor never passes (start of the read - this): a task changed while
the read pages may have moved between pages and be missing from them."""

SEARCH_OVERLAP_SECONDS: Final = 60.0
"""Default of ``search_overlap_seconds``: Asana's search "can take between 10 and 60
seconds" to index a change ("longer during some production incidents")."""
LISTINGS_AT_ONCE: Final = 4
"""Default of ``listings_at_once``: enough to keep a paid domain's 25 requests/s busy
at ~150 ms a page; Asana allows 50 concurrent reads per token."""
LISTINGS_AT_ONCE_MAX: Final = 16

STAMP_LINE_PREFIX: Final = "Handoff Hub source: "
"""Line appended to a project's notes: the stamp's fallback where the CRM-id
custom field is missing (and what a person sees in Asana)."""
DEFAULT_FIELD_NAMES: Final[dict[str, str]] = {
    "budget": "Budget",
    "budget_currency": "Budget currency",
    "crm_id": "CRM ID",
    "health": "Health",
    "customer": "Customer",
}
"""Custom field names the connector looks for when no gid is configured."""

FIELD_NOT_ON_OBJECT: Final = r"Custom field with ID (\d+) is not on given object"
"""Asana's 400 message for a custom field value on a task whose projects (or a
project that) lack the field; it refuses the whole write and writes nothing."""

CREATE_ATTEMPTS: Final = 4
"""Tries of a project's creates; after a 5xx, a dropped connection or a timeout each retry
first looks at what exists (Asana's lists are read-your-writes consistent)."""
JOB_POLLS: Final = 30
"""``GET /jobs/{gid}`` polls before an instantiation counts as failed."""
JOB_POLL_SECONDS: Final = 1.0

RATE_LIMITS: Final[dict[str, dict[str, float]]] = {
    "free": {"requests": 147, "per_seconds": 60.0, "burst": 3},
    "paid": {"requests": 1470, "per_seconds": 60.0, "burst": 30},
}
"""Requests per minute by domain plan (Asana allows 150 and 1500): burst + a minute's refill
stays within one minute's quota, so the client is never refused, at 98 % of it."""
