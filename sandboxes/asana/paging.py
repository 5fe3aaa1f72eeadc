"""Offset paging as Asana does it: ``limit`` 1-100 and opaque, expiring offset tokens.

The first page of a listing keeps the gids it matched as a snapshot; an
offset token names the snapshot and a position, signed so that it cannot be
edited, and tied to the listing's query. Tokens expire after ``ttl`` seconds
(or all at once through :meth:`OffsetBook.expire_all`) and are then refused
with 400, as Asana's are "after some time, as data may have changed".
Without ``limit`` a listing answers everything and no ``next_page`` at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ["OffsetBook", "Page", "PagingError"]

_HEADER = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"
_MAX_SNAPSHOTS = 256
_NOT_QUERY = frozenset({"limit", "offset", "opt_fields", "opt_pretty"})
_BAD_OFFSET = (
    "offset: Your pagination token is invalid or has expired. "
    "Please restart the request from the first page."
)


class PagingError(Exception):
    """A ``limit`` or ``offset`` Asana would refuse with 400."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Page:
    """One page of gids and the ``next_page`` to answer (``paged`` False: no key at all)."""

    gids: list[str]
    next_page: dict[str, str] | None
    paged: bool


@dataclass(frozen=True)
class _Snapshot:
    gids: tuple[str, ...]
    query: str
    issued: float


class OffsetBook:
    """Issues and checks the offset tokens of one sandbox."""

    def __init__(
        self, *, secret: bytes, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._secret = secret
        self._ttl = ttl
        self._clock = clock
        self._snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
        self._numbers = itertools.count(1)

    def expire_all(self) -> None:
        """Make every token issued so far invalid."""
        self._snapshots.clear()

    def page(
        self,
        params: Mapping[str, str],
        *,
        path: str,
        base: str,
        items: Callable[[], list[str]],
    ) -> Page:
        """The page ``params`` asks for of the listing ``items`` computes.

        Raises:
            PagingError: ``limit`` is not 1-100, or the offset is invalid or expired.
        """
        if params.get("limit") is None:
            return Page(items(), None, paged=False)
        limit = _limit(params["limit"])
        query = json.dumps([path, sorted((k, v) for k, v in params.items() if k not in _NOT_QUERY)])
        if params.get("offset"):
            number, position = self._read(str(params["offset"]), query)
            snapshot = self._snapshots[number]
        else:
            number, position = f"s{next(self._numbers)}", 0
            snapshot = _Snapshot(tuple(items()), query, self._clock())
            self._keep(number, snapshot)
        end = position + limit
        if end >= len(snapshot.gids):
            return Page(list(snapshot.gids[position:end]), None, paged=True)
        token = self._token(number, end)
        rest = {k: v for k, v in params.items() if k != "offset"}
        link = f"{path}?{urlencode({**rest, 'limit': limit, 'offset': token})}"
        next_page = {"offset": token, "path": link, "uri": f"{base}/api/1.0{link}"}
        return Page(list(snapshot.gids[position:end]), next_page, paged=True)

    def _keep(self, number: str, snapshot: _Snapshot) -> None:
        self._snapshots[number] = snapshot
        while len(self._snapshots) > _MAX_SNAPSHOTS:
            self._snapshots.popitem(last=False)

    def _token(self, number: str, position: int) -> str:
        payload = _b64(json.dumps({"s": number, "o": position}).encode())
        signature = hmac.new(self._secret, f"{_HEADER}.{payload}".encode(), hashlib.sha256)
        return f"{_HEADER}.{payload}.{_b64(signature.digest())}"

    def _read(self, token: str, query: str) -> tuple[str, int]:
        try:
            header, payload, signature = token.split(".")
            expected = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256)
            if not hmac.compare_digest(_b64(expected.digest()), signature):
                raise ValueError("bad signature")
            decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            number, position = str(decoded["s"]), int(decoded["o"])
        except (ValueError, KeyError, TypeError):
            raise PagingError(_BAD_OFFSET) from None
        snapshot = self._snapshots.get(number)
        if (
            snapshot is None
            or snapshot.query != query
            or self._clock() - snapshot.issued > self._ttl
        ):
            raise PagingError(_BAD_OFFSET)
        return number, position


def _limit(text: Any) -> int:
    try:
        limit = int(text)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= 100:
        raise PagingError("limit: Must be between 1 and 100")
    return limit


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
