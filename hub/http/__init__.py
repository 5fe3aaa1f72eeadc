"""Shared HTTP toolkit: client, auth, retries, rate limits, paging, query escaping."""

from hub.http.auth import BasicToken, BearerToken, OAuth2Token
from hub.http.client import ApiClient, build_client
from hub.http.paging import NextUrlPaginator, PageRequest, Paginator, TokenPaginator
from hub.http.ratelimit import TokenBucket
from hub.http.redact import redact, register_secret
from hub.http.retry import Action, RetryPolicy, classify

__all__ = [
    "Action",
    "ApiClient",
    "BasicToken",
    "BearerToken",
    "NextUrlPaginator",
    "OAuth2Token",
    "PageRequest",
    "Paginator",
    "RetryPolicy",
    "TokenBucket",
    "TokenPaginator",
    "build_client",
    "classify",
    "redact",
    "register_secret",
]
