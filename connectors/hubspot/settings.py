"""HubSpot API facts the connector reads, kept as data.

Sources: HubSpot's public developer documentation (CRM objects v3, search,
batch, properties, pipelines, owners, associations v4, account info, OAuth
v1 token endpoint, API usage guidelines and rate-limit headers).
"""

from __future__ import annotations

from typing import Final

AUTH_FLOWS: Final = ("private_app", "oauth")
AUTH_FLOW_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "private_app": ("access_token",),
    "oauth": ("client_id", "client_secret", "refresh_token"),
}

TOKEN_PATH: Final = "/oauth/v1/token"  # noqa: S105 - a path, not a password
ACCOUNT_DETAILS_PATH: Final = "/account-info/v3/details"
OBJECTS_PATH: Final = "/crm/v3/objects/{object}"
SEARCH_PATH: Final = OBJECTS_PATH + "/search"
BATCH_PATH: Final = OBJECTS_PATH + "/batch/{action}"
PROPERTIES_PATH: Final = "/crm/v3/properties/{object}"
PIPELINES_PATH: Final = "/crm/v3/pipelines/{object}"
OWNERS_PATH: Final = "/crm/v3/owners"
TOKEN_INFO_PATH: Final = "/oauth/v2/private-apps/get/access-token-info"  # noqa: S105 - a path
DAILY_USAGE_PATH: Final = "/account-info/v3/api-usage/daily/private-apps"
OWNERS_OBJECT: Final = "owners"
"""The mapping's name for HubSpot users: read from the owners API, which has no properties."""
ASSOCIATIONS_BATCH_READ_PATH: Final = "/crm/v4/associations/{from_object}/{to_object}/batch/read"
ASSOCIATE_DEFAULT_PATH: Final = (
    "/crm/v4/objects/{from_object}/{from_id}/associations/default/{to_object}/{to_id}"
)

NEXT_PAGE_PATH: Final = "paging.next.after"
"""Where list and search answers carry the next page's ``after`` cursor."""

BATCH_SIZE: Final = 100
"""Inputs per batch read / create / update / upsert call."""
ASSOCIATIONS_BATCH_SIZE: Final = 1000
"""Inputs per associations v4 batch read."""
SEARCH_PAGE_MAX: Final = 200
"""Largest ``limit`` the search endpoint accepts."""
SEARCH_WINDOW: Final = 10_000
"""A search cannot page past this many results (after + limit)."""
SEARCH_MAX_FILTERS: Final = 10
"""Filters per filter group (25 in all, 5 groups)."""
OWNERS_PAGE_MAX: Final = 500
DEFAULT_PAGE_SIZE: Final = SEARCH_PAGE_MAX
"""Search is limited to a few calls a second: each call brings the most it may."""

DEFAULT_MODIFIED_PROPERTY: Final = "hs_lastmodifieddate"
MODIFIED_PROPERTY: Final[dict[str, str]] = {"contacts": "lastmodifieddate"}
"""Contacts keep their last-modified date in ``lastmodifieddate``; the rest in the default."""
DEFAULT_ID_PROPERTY: Final = "handoff_hub_id"
OWNER_PROPERTY: Final = "hubspot_owner_id"
OWNERS_KEY: Final = "_owners"
"""Where a record gets the owner each "HubSpot user" property names: ``_owners.<property>``."""
RECORD_KEYS: Final = frozenset({"id", "properties", "createdAt", "updatedAt", "archived"})
"""Top-level keys of a CRM object; any other field name is a property."""

DEALS: Final = "deals"
COMPANIES: Final = "companies"
CONTACTS: Final = "contacts"
LEADS: Final = "leads"
STAGE_PROPERTIES: Final = ("dealstage", "pipeline")
COMPANY_PROPERTIES: Final = ("name", "domain", "hs_parent_company_id")
WON_FILTER: Final = "won"
"""``where={"won": True}`` on deals: dealstage in the won stages of every pipeline."""

ENRICHED_PROPERTIES: Final[dict[str, tuple[str, ...]]] = {
    DEALS: (*STAGE_PROPERTIES, OWNER_PROPERTY),
    COMPANIES: (OWNER_PROPERTY,),
}
"""Properties the connector always asks for, so it can add ``_stage``/``_owner``/``_company``."""

COMPANY_ENRICHED: Final = frozenset({DEALS, LEADS, CONTACTS})
"""Objects whose records get ``_company``: their primary (else first) associated company."""
PRIMARY_COMPANY_TYPE_ID: Final = 5
"""Association type id of deal -> primary company (HubSpot-defined)."""
PRIMARY_LABEL: Final = "Primary"

CONTACT_DIRECTIVE: Final = "_contact"
"""Key of a lead write naming the person it came from: ``{email, name}``."""
CONTACT_EMAIL: Final = "email"
"""Contacts are looked up by e-mail (``idProperty=email``), case-insensitively."""
LEAD_NAME: Final = "hs_lead_name"
LIFECYCLE_LEAD: Final = "lead"
LEAD_CONTACT_FALLBACKS: Final = ("company_contact", "lifecycle_lead")
"""What a lead hangs from when nothing else offers a contact (config ``lead_contact_fallback``)."""
UNKNOWN_COMPANY: Final = "Unknown customer"

DEFAULT_ASSOCIATION_TYPES: Final[dict[tuple[str, str], int]] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("notes", "contacts"): 202,
    ("notes", "companies"): 190,
    ("notes", "deals"): 214,
    ("tasks", "contacts"): 204,
    ("tasks", "companies"): 192,
    ("tasks", "deals"): 216,
    ("leads", "contacts"): 578,
    ("leads", "companies"): 610,
}
"""HubSpot-defined (unlabeled) association type ids used when creating with associations."""

OBJECT_TYPE_IDS: Final[dict[str, str]] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tickets": "0-5",
    "tasks": "0-27",
    "notes": "0-46",
    "leads": "0-136",
}
"""Object type ids, used in record URLs."""
RECORD_URL: Final = "{app}/contacts/{portal}/record/{type_id}/{id}"
DEFAULT_APP_URL: Final = "https://app.hubspot.com"

DEFAULT_RATE_LIMIT: Final[dict[str, float]] = {"requests": 35, "per_seconds": 2.0, "burst": 1}
"""Paid-tier private apps: 19 a second, 190 per 10 s. At 17.5/s with a burst of 1 the client
sends at most 18 in any one-second window, so a second is never used up by its own requests
(which would make it wait for the next, see ``client.observe_limits``), and 176 in ten."""
DEFAULT_SEARCH_RATE: Final = 4.75
"""Search requests per second: 95 % of HubSpot's published 5 per account, evenly spaced.
HubSpot counts searches in a fixed one-second window that starts at a request, so at
exactly 5/s any search that reaches it a little late (latency jitter) lets the sixth of its
window in early, and that one is refused; the 5 % absorbs 50 ms of jitter. A refusal that
comes all the same (more jitter, another client of the account) is waited out by
hub/http's retry (``Retry-After``, else its backoff); see docs/performance.md, figure 2."""
DEFAULT_SEARCH_LAG_SECONDS: Final = 5.0
"""Search is indexed shortly after a write; cursors stay this far behind the clock."""

RATE_HEADERS: Final[dict[str, str]] = {
    "max": "X-HubSpot-RateLimit-Max",
    "remaining": "X-HubSpot-RateLimit-Remaining",
    "interval_ms": "X-HubSpot-RateLimit-Interval-Milliseconds",
    "daily": "X-HubSpot-RateLimit-Daily",
    "daily_remaining": "X-HubSpot-RateLimit-Daily-Remaining",
    "secondly": "X-HubSpot-RateLimit-Secondly",
    "secondly_remaining": "X-HubSpot-RateLimit-Secondly-Remaining",
}
LOW_REMAINING: Final = 2
"""At or below this many requests left in the ten-second window, the client slows down."""
