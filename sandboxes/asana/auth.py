"""Credentials of the Asana sandbox: a personal access token and an OAuth app.

Requests carry ``Authorization: Bearer <token>``: the API user's personal
access token or an OAuth access token issued by ``POST /-/oauth_token``
(``grant_type=refresh_token``, form-encoded, with the app's client id and
secret). OAuth access tokens can all be expired at once
(:meth:`AsanaAuth.expire_all`), after which they answer 401 until refreshed.
Token endpoint errors are OAuth's ``{"error", "error_description"}``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.asana.data import User

__all__ = ["AsanaAuth"]

Grant = tuple[int, dict[str, Any]]


class AsanaAuth:
    """Issues and checks the tokens of one sandbox."""

    def __init__(self, *, seed: int, user: User) -> None:
        self._rng = random.Random(f"asana-auth-{seed}")
        self.user = user
        self.pat = f"2/{user.gid}/{self._digits(16)}:{self._hex(32)}"
        self.client_id = self._digits(16)
        self.client_secret = self._hex(32)
        self.refresh_token = f"2/{user.gid}/{self._digits(16)}:{self._hex(32)}"
        self._access: set[str] = set()
        self._lock = threading.Lock()
        self.issued = 0

    def _hex(self, length: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def _digits(self, length: int) -> str:
        return "1" + "".join(self._rng.choice("0123456789") for _ in range(length - 1))

    def accepts(self, authorization: str) -> bool:
        """True for ``Bearer <the PAT or a live OAuth access token>``."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        token = token.strip()
        with self._lock:
            return token == self.pat or token in self._access

    def expire_all(self) -> None:
        """Expire every OAuth access token issued so far (the PAT stays valid)."""
        with self._lock:
            self._access.clear()

    def grant(self, form: Mapping[str, str]) -> Grant:
        """Answer the token endpoint: a new access token for a valid refresh grant."""
        if form.get("grant_type") not in {"refresh_token", "authorization_code"}:
            return _error(400, "unsupported_grant_type", "The grant type is not supported.")
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return _error(401, "invalid_client", "The client credentials are invalid.")
        if form.get("grant_type") == "authorization_code":
            return _error(400, "invalid_grant", "The authorization code is invalid or expired.")
        if form.get("refresh_token") != self.refresh_token:
            return _error(400, "invalid_grant", "The refresh token is invalid or has been revoked.")
        token = f"1/{self.user.gid}:{self._hex(32)}"
        with self._lock:
            self._access.add(token)
            self.issued += 1
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 3600,
            "data": {
                "id": int(self.user.gid),
                "gid": self.user.gid,
                "name": self.user.name,
                "email": self.user.email,
            },
        }


def _error(status: int, code: str, description: str) -> Grant:
    return status, {"error": code, "error_description": description}
