"""The sandbox's credentials: a private-app token and an OAuth app.

``POST /oauth/v1/token`` takes the ``refresh_token`` grant (form fields
``client_id``, ``client_secret``, ``refresh_token``) and answers
``{"token_type": "bearer", "refresh_token", "access_token", "expires_in"}``;
a refused grant is 400 ``{"status": "BAD_REFRESH_TOKEN", "message": ...}``.
API calls without a valid bearer token get 401 ``INVALID_AUTHENTICATION``;
an expired OAuth token gets 401 ``EXPIRED_AUTHENTICATION``.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from handoff_hub.sandboxes.hubspot.errors import ApiError

__all__ = ["SCOPES", "TokenIssuer"]

SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.leads.read",
    "crm.objects.leads.write",
    "crm.objects.owners.read",
    "crm.schemas.deals.read",
)
"""The scopes granted to the sandbox's private app and OAuth app."""
APP_ID = 3120847
USER_ID = 81234567

ACCESS_TOKEN_SECONDS = 1800
_NOT_FOUND = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you"
    " can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class TokenIssuer:
    """Issues and checks the tokens of one sandbox portal."""

    def __init__(self, *, seed: int, clock: Callable[[], dt.datetime]) -> None:
        self._rng = random.Random(f"hubspot-auth-{seed}")
        self.access_token = "pat-na1-" + self._uuid()
        self.client_id = self._uuid()
        self.client_secret = self._uuid()
        self.refresh_token = "na1-" + self._uuid()[:4] + "-" + self._uuid()
        self._clock = clock
        self._oauth: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def check(self, authorization: str | None) -> None:
        """Accept a valid bearer token.

        Raises:
            ApiError: 401 INVALID_AUTHENTICATION or EXPIRED_AUTHENTICATION.
        """
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "INVALID_AUTHENTICATION", _NOT_FOUND)
        if token == self.access_token:
            return
        with self._lock:
            expires = self._oauth.get(token)
        if expires is None:
            raise ApiError(401, "INVALID_AUTHENTICATION", _NOT_FOUND)
        now = self._clock()
        if now >= expires:
            ago = int((now - expires).total_seconds())
            raise ApiError(
                401,
                "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {ago} second(s) ago.",
            )

    def expire_all(self) -> None:
        """Expire every OAuth access token now (the private-app token does not expire)."""
        with self._lock:
            now = self._clock()
            self._oauth = dict.fromkeys(self._oauth, now)

    def token_info(self, body: object, *, hub_id: int) -> tuple[int, dict[str, Any]]:
        """Answer ``POST /oauth/v2/private-apps/get/access-token-info`` (``{"tokenKey": ...}``).

        A private app's token answers its user, account, app and scopes; any
        other key is refused 401 as an API call with it would be.
        """
        key = body.get("tokenKey") if isinstance(body, Mapping) else None
        if not isinstance(key, str) or not key:
            return 400, {
                "status": "error",
                "message": "tokenKey is required",
                "category": "VALIDATION_ERROR",
            }
        if key != self.access_token:
            return 401, {
                "status": "error",
                "message": _NOT_FOUND,
                "category": "INVALID_AUTHENTICATION",
            }
        return 200, {"userId": USER_ID, "hubId": hub_id, "appId": APP_ID, "scopes": list(SCOPES)}

    def grant(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer one ``POST /oauth/v1/token``."""
        if form.get("grant_type") != "refresh_token":
            return _refused("BAD_GRANT_TYPE", "missing or unknown grant type")
        if form.get("client_id") != self.client_id:
            return _refused("BAD_CLIENT_ID", "missing or unknown client id")
        if form.get("client_secret") != self.client_secret:
            return _refused("BAD_CLIENT_SECRET", "missing or invalid client secret")
        if form.get("refresh_token") != self.refresh_token:
            return _refused("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        token = "CN" + self._uuid().replace("-", "") + self._uuid().replace("-", "")
        with self._lock:
            self._oauth[token] = self._clock() + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS)
            self.issued += 1
        return 200, {
            "token_type": "bearer",
            "refresh_token": self.refresh_token,
            "access_token": token,
            "expires_in": ACCESS_TOKEN_SECONDS,
        }


def _refused(status: str, message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"status": status, "message": message, "correlationId": str(uuid.uuid4())}
