"""Jira Cloud platform REST API v3 facts the connector reads, kept as data.

Sources: the Jira Cloud platform REST API v3 reference (``swagger-v3.v3.json`` in
``tests/vendor-specs/jira``), "Basic auth for REST APIs", "Rate limiting" and
"Build an app that respects rate limits" on developer.atlassian.com, and the
JQL reference (date literals are read in the searching user's time zone).
"""

from __future__ import annotations

from typing import Final

API_ROOT: Final = "/rest/api/3"
SEARCH_PATH: Final = API_ROOT + "/search/jql"
"""Enhanced JQL search; pages with ``nextPageToken`` / ``isLast`` (``/search`` is deprecated)."""
ISSUE_PATH: Final = API_ROOT + "/issue"
ISSUE_BULK_PATH: Final = API_ROOT + "/issue/bulk"
ISSUE_BULK_FETCH_PATH: Final = API_ROOT + "/issue/bulkfetch"
BULK_FETCH_SIZE: Final = 100
"""Issues per ``POST /issue/bulkfetch`` (read from the database, not the search index)."""
ISSUE_KEY_PATH: Final = API_ROOT + "/issue/{key}"
ISSUE_PROPERTY_PATH: Final = API_ROOT + "/issue/{key}/properties/{property}"
ISSUE_COMMENT_PATH: Final = API_ROOT + "/issue/{key}/comment"
COMMENT_PAGE_SIZE: Final = 100
USER_SEARCH_PATH: Final = API_ROOT + "/user/search"
MYSELF_PATH: Final = API_ROOT + "/myself"
TIME_ZONE_TRUST_SECONDS: Final = 24 * 3600.0
"""How long a time zone read from ``/myself`` is kept across runs (a user rarely
changes it; a changed one is read again within this)."""
FIELD_PATH: Final = API_ROOT + "/field"
PROJECT_PATH: Final = API_ROOT + "/project"
PROJECT_KEY_PATH: Final = API_ROOT + "/project/{key}"
MY_PERMISSIONS_PATH: Final = API_ROOT + "/mypermissions"
CREATE_META_TYPES_PATH: Final = API_ROOT + "/issue/createmeta/{key}/issuetypes"
CREATE_META_FIELDS_PATH: Final = API_ROOT + "/issue/createmeta/{key}/issuetypes/{type}"
BROWSE_URL: Final = "{base}/browse/{key}"

BULK_CREATE_SIZE: Final = 50
"""Issues per ``POST /issue/bulk``. There is no general synchronous bulk *edit*:
``PUT /issue/{key}`` edits one issue (the async ``/bulk/issues/fields`` API is
a background task with its own limits, not a write the engine can wait on)."""
SEARCH_PAGE_SIZE: Final = 100
"""``maxResults`` when fields are requested (Jira returns fewer if asked for more)."""
SEARCH_PAGE_SIZE_MAX: Final = 5000
"""``maxResults`` Jira honours when only ``id``/``key`` are requested."""
IDS_PER_QUERY: Final = 100
"""Keys per ``key IN (...)`` clause, which keeps a JQL string well under its size limit."""
USER_SEARCH_PAGE: Final = 10
CREATE_META_PAGE: Final = 50

ISSUE_OBJECT: Final = "issue"
OBJECT_ALIASES: Final[dict[str, str]] = {"issue": ISSUE_OBJECT, "issues": ISSUE_OBJECT}

DEFAULT_READ_FIELDS: Final = ("*navigable",)
MODIFIED_FIELD: Final = "updated"
CREATED_FIELD: Final = "created"
SYSTEM_KEYS: Final = frozenset({"id", "key", "self", "expand"})
"""Top-level issue keys that are not fields (a mapping may read them)."""
LABEL_FIELD: Final = "label"
"""``find_by_external_id`` field name meaning "the hub's stamp label"."""
TEXT_FIELD_TYPES: Final = frozenset(
    {
        "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
        "com.atlassian.jira.plugin.system.customfieldtypes:textarea",
    }
)
"""Custom field types JQL searches with ``~`` only (``=`` is refused)."""

CREATE_ATTEMPTS: Final = 4
"""Tries of a project's creates; after a 5xx, a dropped connection or a timeout each retry
first looks at what exists (:func:`hub.http.create_then_verify`)."""
VERIFY_DELAY_SECONDS: Final = 1.0
"""Pause before that look, so that Jira's search index has caught up with the write."""

PROPERTY_KEY: Final = "handoff-hub"
"""Issue entity property holding the hub's stamp: ``{"source": ..., ...}``."""
STAMP_LABEL_PREFIX: Final = "hh-src-"
LABEL_MAX_LENGTH: Final = 255
LABEL_FORBIDDEN: Final = r"[^a-z0-9_.\-]"
"""Characters a stamp label replaces with ``-`` (Jira labels cannot contain white space)."""
SUMMARY_MAX_LENGTH: Final = 255

EPIC_ISSUE_TYPE: Final = "Epic"
TASK_ISSUE_TYPE: Final = "Task"
SUBTASK_ISSUE_TYPE: Final = "Subtask"
"""Team-managed projects call it ``Subtask``; company-managed ones ``Sub-task``."""

PROJECT_TYPE_KEY: Final = "software"
PROJECT_TEMPLATE_KEY: Final = "com.pyxis.greenhopper.jira:gh-simplified-agility-kanban"
PROJECT_KEY_PREFIX: Final = "HH"
PROJECT_KEY_PATTERN: Final = r"^[A-Z][A-Z0-9]{1,9}$"
PROJECT_NAME_MAX_LENGTH: Final = 80

JQL_DATE_FORMAT: Final = "%Y/%m/%d %H:%M"
"""JQL date literal; Jira reads it in the searching user's time zone (``/myself``)."""
CURSOR_LAG_SECONDS: Final = 60.0
"""A read's cursor never passes (start of the read - this): Jira's search index
lags writes, and an issue changed during paging may be missing from the pages."""

RATE_LIMIT_HEADERS: Final[dict[str, str]] = {
    "limit": "X-RateLimit-Limit",
    "remaining": "X-RateLimit-Remaining",
    "reset": "X-RateLimit-Reset",
    "near_limit": "X-RateLimit-NearLimit",
    "reason": "RateLimit-Reason",
}
"""``X-RateLimit-Reset`` is an ISO 8601 instant (``yyyy-MM-ddTHH:mmZ``), not seconds;
``Retry-After`` (seconds, on 429 and some 503s) is honoured by :mod:`handoff_hub.hub.http.retry`."""
DEFAULT_RATE_LIMIT: Final[dict[str, float]] = {"requests": 19, "per_seconds": 2.0, "burst": 1}
"""API-token traffic is held to per-second burst limits Atlassian does not publish; ten a
second is the figure commonly cited. At 9.5/s with a burst of 1, at most 10 go in any one
second; the
``X-RateLimit-*`` headers Jira sends slow the client further when it gets close."""

FIND_LABELS: Final = 50
"""Stamp labels per ``labels IN (...)`` search when finding many Epics (a JQL of ~2 KB)."""
