"""Shared HTTP toolkit: client, auth, retries, rate limits, paging, query escaping.

Beside them, the connector kit: one way to build a system's client
(:func:`api_client_for`), cut batches (:func:`chunks`), read and write change
cursors, and create with a look before any second try (:func:`create_then_verify`).
"""

from handoff_hub.hub.http.auth import BasicToken, BearerToken, OAuth2Token
from handoff_hub.hub.http.batches import chunks
from handoff_hub.hub.http.client import ApiClient, PageFetcher, build_client
from handoff_hub.hub.http.cursors import cursor_text, parse_cursor, parse_timestamp
from handoff_hub.hub.http.paging import (
    NextUrlPaginator,
    OffsetPaginator,
    PageRequest,
    Paginator,
    TokenPaginator,
)
from handoff_hub.hub.http.ratelimit import TokenBucket
from handoff_hub.hub.http.redact import redact, register_secret
from handoff_hub.hub.http.retry import Action, RetryPolicy, classify
from handoff_hub.hub.http.shared_ratelimit import SharedTokenBucket
from handoff_hub.hub.http.verify import create_then_verify, outcome_unknown, resume_then_verify
from handoff_hub.hub.http.wiring import (
    ProductWire,
    api_client_for,
    bucket_for,
    limiter_for,
    read_secrets,
    retry_policy_for,
)

__all__ = [
    "Action",
    "ApiClient",
    "BasicToken",
    "BearerToken",
    "NextUrlPaginator",
    "OAuth2Token",
    "OffsetPaginator",
    "PageFetcher",
    "PageRequest",
    "Paginator",
    "ProductWire",
    "RetryPolicy",
    "SharedTokenBucket",
    "TokenBucket",
    "TokenPaginator",
    "api_client_for",
    "bucket_for",
    "build_client",
    "chunks",
    "classify",
    "create_then_verify",
    "cursor_text",
    "limiter_for",
    "outcome_unknown",
    "parse_cursor",
    "parse_timestamp",
    "read_secrets",
    "redact",
    "register_secret",
    "resume_then_verify",
    "retry_policy_for",
]
