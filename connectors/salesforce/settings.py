"""Salesforce REST API facts the connector reads, kept as data.

Sources: REST API Developer Guide (query, sObject Collections, Query Options
header, Limit Info header), OAuth 2.0 client credentials / JWT bearer /
refresh token flows, and the vendor files in ``tests/vendor-specs/salesforce``.
"""

from __future__ import annotations

from typing import Final

API_VERSION: Final = "61.0"

AUTH_FLOWS: Final = ("client_credentials", "jwt_bearer", "refresh_token")
AUTH_FLOW_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "client_credentials": ("client_id", "client_secret"),
    "jwt_bearer": ("client_id", "private_key"),
    "refresh_token": ("client_id", "refresh_token"),
}
OPTIONAL_FLOW_SECRETS: Final[dict[str, tuple[str, ...]]] = {
    "refresh_token": ("client_secret",),
}
GRANT_TYPES: Final[dict[str, str]] = {
    "client_credentials": "client_credentials",
    "jwt_bearer": "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "refresh_token": "refresh_token",
}
JWT_ALGORITHM: Final = "RS256"
JWT_LIFETIME_SECONDS: Final = 180
JWT_AUDIENCES: Final = ("https://login.salesforce.com", "https://test.salesforce.com")
"""Valid ``aud`` values (production, sandbox); a My Domain URL is not one of them."""
SANDBOX_HOST_MARKERS: Final = ("test.salesforce.com", ".sandbox.my.salesforce.com")

TOKEN_PATH: Final = "/services/oauth2/token"  # noqa: S105 - a path, not a password
VERSIONS_PATH: Final = "/services/data"
DATA_ROOT: Final = "/services/data/v{version}"
QUERY_PATH: Final = DATA_ROOT + "/query"
COLLECTIONS_PATH: Final = DATA_ROOT + "/composite/sobjects"
COLLECTION_PATH: Final = COLLECTIONS_PATH + "/{sobject}"
UPSERT_PATH: Final = COLLECTION_PATH + "/{field}"
DESCRIBE_PATH: Final = DATA_ROOT + "/sobjects/{sobject}/describe"
LIMITS_PATH: Final = DATA_ROOT + "/limits"
SOAP_PATH: Final = "/services/Soap/u/{version}"
"""Partner SOAP endpoint; only ``getUserInfo`` is called there (connectors/salesforce/soap.py)."""

COLLECTION_BATCH_SIZE: Final = 200
"""Records per sObject Collections create / update / upsert call."""
RETRIEVE_BATCH_SIZE: Final = 2000
"""Ids per sObject Collections retrieve sent as a POST body (GET fits ~800 in a URL)."""
QUERY_BATCH_SIZE_MIN: Final = 200
QUERY_BATCH_SIZE_MAX: Final = 2000
"""Bounds of ``Sforce-Query-Options: batchSize=N`` (default and maximum 2000)."""
IN_CLAUSE_CHUNK: Final = 200
"""Values per ``IN (...)`` list, which keeps a query far below the 100,000-character limit."""

QUERY_OPTIONS_HEADER: Final = "Sforce-Query-Options"
LIMIT_INFO_HEADER: Final = "Sforce-Limit-Info"
REQUEST_LIMIT_ERROR: Final = "REQUEST_LIMIT_EXCEEDED"

DEFAULT_MODIFIED_FIELD: Final = "SystemModstamp"
DEFAULT_EXTERNAL_ID_FIELD: Final = "Handoff_Hub_Id__c"
USER_OBJECT: Final = "User"
USER_EMAIL_FIELD: Final = "Email"
USER_ACTIVE_FIELD: Final = "IsActive"
ORG_OBJECT: Final = "Organization"
STAGE_OBJECT: Final = "OpportunityStage"
DEAL_OBJECT: Final = "Opportunity"
CURRENCY_FIELD: Final = "CurrencyIsoCode"
DAILY_REQUESTS: Final = "DailyApiRequests"
ORG_CURRENCY_FIELD: Final = "DefaultCurrencyIsoCode"
"""The corporate currency; the field exists only in multi-currency orgs."""
SOAP_ORG_CURRENCY: Final = "orgDefaultCurrencyIsoCode"
"""getUserInfo's currency of a single-currency org (absent when multi-currency is on)."""
COMPOUND_FIELD_TYPES: Final = frozenset({"address", "location"})
"""Field types left out of a default SELECT (their parts are selectable instead)."""

DEFAULT_RATE_LIMIT: Final[dict[str, float]] = {"requests": 20, "per_seconds": 1.0, "burst": 25}
"""No per-second limit is published; this keeps well under 25 concurrent long requests."""

RECORD_URL: Final = "{base}/lightning/r/{object}/{id}/view"
MY_DOMAIN_SUFFIX: Final = ".my.salesforce.com"
LIGHTNING_SUFFIX: Final = ".lightning.force.com"
