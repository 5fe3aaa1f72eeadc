"""The sandbox's OAuth 2.0 token endpoint and its access tokens.

Grants: client credentials, JWT bearer (RS256 assertion checked against a
configured public key) and refresh token. Errors are Salesforce's
``{"error", "error_description"}`` bodies with HTTP 400. Access tokens can
expire after ``ttl`` seconds, or all at once through :meth:`TokenIssuer.expire_all`.
"""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt

__all__ = ["LOGIN_HOSTS", "TokenIssuer"]

LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")
ORG_ID = "00DHb0000001hUbMAI"
_ALPHABET = string.ascii_letters + string.digits
_JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_MAX_JWT_LIFETIME = 300
Grant = tuple[int, dict[str, Any]]


def _error(error: str, description: str) -> Grant:
    return 400, {"error": error, "error_description": description}


class TokenIssuer:
    """Issues and checks access tokens for one sandbox org."""

    def __init__(
        self,
        *,
        seed: int,
        ttl: float | None,
        public_key: str | None,
        usernames: Callable[[], Mapping[str, str]],
        run_as: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rng = random.Random(f"salesforce-auth-{seed}")
        self.client_id = "3MVG9" + self._random(80)
        self.client_secret = self._random(64).upper()
        self.refresh_token = "5Aep861" + self._random(80)
        self.ttl = ttl
        self.public_key = public_key
        self._usernames = usernames
        self._run_as = run_as
        self._clock = clock
        self._tokens: dict[str, float | None] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def _random(self, length: int) -> str:
        return "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def valid(self, token: str | None) -> bool:
        """True for a token this org issued that has not expired."""
        with self._lock:
            if token is None or token not in self._tokens:
                return False
            expires = self._tokens[token]
            return expires is None or self._clock() < expires

    def expire_all(self) -> None:
        """Expire every access token now (the next API call gets a 401)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, float("-inf"))

    def grant(self, form: Mapping[str, str], *, origin: str, instance_url: str) -> Grant:
        """Answer one ``POST /services/oauth2/token``."""
        kind = form.get("grant_type", "")
        handlers: dict[str, Callable[[Mapping[str, str], str], Grant | str]] = {
            "client_credentials": self._client_credentials,
            _JWT_GRANT: self._jwt_bearer,
            "refresh_token": self._refresh,
        }
        if kind not in handlers:
            return _error("unsupported_grant_type", "grant type not supported")
        outcome = handlers[kind](form, origin)
        if isinstance(outcome, tuple):
            return outcome
        return 200, self._issue(outcome, instance_url, signed=kind != _JWT_GRANT)

    def _client_credentials(self, form: Mapping[str, str], _origin: str) -> Grant | str:
        if form.get("client_id") != self.client_id:
            return _error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != self.client_secret:
            return _error("invalid_client", "invalid client credentials")
        return self._run_as_user()

    def _run_as_user(self) -> Grant | str:
        user_id = self._usernames().get(self._run_as)
        if user_id is None:
            return _error("invalid_grant", "no client credentials user enabled")
        return user_id

    def _refresh(self, form: Mapping[str, str], _origin: str) -> Grant | str:
        if form.get("client_id") != self.client_id:
            return _error("invalid_client_id", "client identifier invalid")
        if "client_secret" in form and form["client_secret"] != self.client_secret:
            return _error("invalid_client", "invalid client credentials")
        if form.get("refresh_token") != self.refresh_token:
            return _error("invalid_grant", "expired access/refresh token")
        return self._run_as_user()

    def _jwt_bearer(self, form: Mapping[str, str], origin: str) -> Grant | str:
        if self.public_key is None:
            return _error("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key,
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            return _error("invalid_grant", "expired assertion")
        except jwt.PyJWTError:
            return _error("invalid_grant", "invalid assertion")
        return self._jwt_subject(claims, origin)

    def _jwt_subject(self, claims: Mapping[str, Any], origin: str) -> Grant | str:
        if claims["iss"] != self.client_id:
            return _error("invalid_client_id", "client identifier invalid")
        if str(claims["aud"]).rstrip("/") not in (*LOGIN_HOSTS, origin):
            return _error("invalid_grant", "audience is invalid")
        if int(claims["exp"]) > time.time() + _MAX_JWT_LIFETIME:
            return _error("invalid_grant", "invalid assertion")
        user_id = self._usernames().get(str(claims["sub"]))
        if user_id is None:
            return _error("invalid_grant", "user hasn't approved this consumer")
        return user_id

    def _issue(self, user_id: str, instance_url: str, *, signed: bool) -> dict[str, Any]:
        token = f"{ORG_ID[:15]}!AQ" + self._random(96)
        with self._lock:
            self._tokens[token] = None if self.ttl is None else self._clock() + self.ttl
            self.issued += 1
        body = {
            "access_token": token,
            "scope": "api",
            "instance_url": instance_url,
            "id": f"{LOGIN_HOSTS[0]}/id/{ORG_ID}/{user_id}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
        }
        if signed:
            body["signature"] = self._random(43) + "="
        return body
