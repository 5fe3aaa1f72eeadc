"""The HTTP stack of a HubSpot system: auth object, rate limiters, API client.

A private app sends its static token (:class:`~hub.http.BearerToken`); an
OAuth app fetches access tokens with its refresh token and refreshes once on
a 401 (:class:`~hub.http.OAuth2Token`). Requests share one budget under
HubSpot's per-second and ten-second limits, which the ``X-HubSpot-RateLimit``
headers of every answer tighten; searches have a second, lower budget.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from handoff_hub.connectors.hubspot import settings
from handoff_hub.connectors.hubspot.client import (
    describe_error,
    observe_limits,
    token_request_factory,
)
from handoff_hub.connectors.hubspot.config import HubSpotConfig, HubSpotSecrets, auth_hint
from handoff_hub.hub.http import (
    BearerToken,
    OAuth2Token,
    ProductWire,
    TokenBucket,
    api_client_for,
    bucket_for,
    build_client,
)

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.systems import SystemConfig
    from handoff_hub.hub.http import ApiClient, RetryPolicy

__all__ = ["build_api", "search_budget"]


def build_api(
    system: SystemConfig,
    config: HubSpotConfig,
    secrets: HubSpotSecrets,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
    limiter: TokenBucket | None = None,
) -> tuple[ApiClient, OAuth2Token | None]:
    """The system's ApiClient, and its OAuth token object when auth_flow is oauth."""
    hint = auth_hint(system.name, config)
    auth = _auth(system, config, secrets, hint)
    http = build_client(
        system.base_url, auth=auth, transport=transport, timeout=system.timeout_seconds
    )
    observe = functools.partial(observe_limits, system=system.name)
    wire = ProductWire(settings.DEFAULT_RATE_LIMIT, describe_error, observe)
    api = api_client_for(system, http, wire, credentials_hint=hint, retry=retry, limiter=limiter)
    return api, auth if isinstance(auth, OAuth2Token) else None


def search_budget(config: HubSpotConfig, system: SystemConfig) -> TokenBucket:
    """Evenly spaced searches, ``search_requests_per_second`` at most, no burst.

    Shared with the hub's other processes when the system's rate budget is.
    """
    per_seconds = 1 / config.search_requests_per_second
    return bucket_for(system, "search", requests=1, per_seconds=per_seconds, burst=1)


def _auth(
    system: SystemConfig, config: HubSpotConfig, secrets: HubSpotSecrets, hint: str
) -> BearerToken | OAuth2Token:
    if config.auth_flow == "private_app":
        assert secrets.access_token is not None  # resolve_secrets required it
        return BearerToken(secrets.access_token)
    token_url = config.token_url or system.base_url.rstrip("/") + settings.TOKEN_PATH
    return OAuth2Token(
        token_request_factory(secrets, token_url), system=system.name, setting_hint=hint
    )
