"""Pure paginators: state machines that read a page and shape the next request.

A paginator never does I/O. :meth:`update_state` reads the body of the page
just fetched; :meth:`update_request` places the next-page token where the
product wants it (query, body or a whole next URL), or moves an offset on by
the records read. A token seen twice raises :class:`~hub.errors.PagingLoopError`
instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from handoff_hub.hub.errors import PagingLoopError

__all__ = [
    "NextUrlPaginator",
    "OffsetPaginator",
    "PageRequest",
    "Paginator",
    "TokenPaginator",
    "dig",
]


@dataclass(frozen=True)
class PageRequest:
    """The parts of a request a paginator may change, and the headers every page carries.

    ``headers`` are for page options a product takes there (Salesforce's
    ``Sforce-Query-Options: batchSize=``); each page is sent with them.
    """

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def dig(body: Any, path: str) -> Any:
    """Read a dotted path (``paging.next.after``) from nested dicts; None if absent."""
    current = body
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


class Paginator(Protocol):
    """What the client loop needs from a paginator."""

    @property
    def has_next(self) -> bool:
        """True while another page is to be fetched."""
        ...

    def update_state(self, body: Any) -> None:
        """Read the next-page token from the page just received."""
        ...

    def update_request(self, request: PageRequest) -> PageRequest:
        """Return the request for the next page."""
        ...


class _LoopGuard:
    def __init__(self) -> None:
        self._seen: set[str] = set()

    def check(self, token: str) -> None:
        if token in self._seen:
            raise PagingLoopError(f"next-page token {token[:60]!r} was already followed")
        self._seen.add(token)


class TokenPaginator:
    """An opaque next-page token read from the body, sent back in query or body.

    Jira ``nextPageToken``, HubSpot ``paging.next.after``, Asana ``next_page.offset``.
    """

    def __init__(
        self,
        *,
        token_path: str,
        param: str,
        placement: Literal["query", "body"] = "query",
        stop_path: str | None = None,
    ) -> None:
        self.token_path = token_path
        self.param = param
        self.placement = placement
        self.stop_path = stop_path
        self._token: str | None = None
        self._started = False
        self._guard = _LoopGuard()

    @property
    def has_next(self) -> bool:
        """True before the first page and while the product hands out a token."""
        return not self._started or self._token is not None

    def update_state(self, body: Any) -> None:
        """Remember the next token; stop when it is missing or the stop flag is set."""
        self._started = True
        token = dig(body, self.token_path)
        if self.stop_path and dig(body, self.stop_path) is True:
            token = None
        self._token = str(token) if token not in (None, "") else None
        if self._token is not None:
            self._guard.check(self._token)

    def update_request(self, request: PageRequest) -> PageRequest:
        """Put the token in the query string or the JSON body."""
        if self._token is None:
            return request
        if self.placement == "query":
            return replace(request, params={**request.params, self.param: self._token})
        return replace(request, json={**(request.json or {}), self.param: self._token})


class NextUrlPaginator:
    """The body names the next page's URL (Salesforce ``nextRecordsUrl``)."""

    def __init__(self, *, url_path: str, done_path: str | None = None) -> None:
        self.url_path = url_path
        self.done_path = done_path
        self._next: str | None = None
        self._started = False
        self._guard = _LoopGuard()

    @property
    def has_next(self) -> bool:
        """True before the first page and while a next URL is given."""
        return not self._started or self._next is not None

    def update_state(self, body: Any) -> None:
        """Read the next URL unless the body says the result is complete."""
        self._started = True
        url = dig(body, self.url_path)
        if self.done_path and dig(body, self.done_path) is True:
            url = None
        self._next = str(url) if url else None
        if self._next is not None:
            self._guard.check(self._next)

    def update_request(self, request: PageRequest) -> PageRequest:
        """The next URL replaces the path and already carries its own state; headers stay."""
        if self._next is None:
            return request
        return replace(request, url=self._next, params={}, json=None)


class OffsetPaginator:
    """A record offset in the query, moved on by each page's records (Jira ``startAt``).

    The first request carries the starting offset itself; the read ends on an
    empty page or, with ``total_path``, once the offset reaches the total. A
    body without a readable total ends it too: nothing says more follow.
    Offsets only grow, so no loop guard is needed.
    """

    def __init__(
        self, *, records_path: str, param: str, total_path: str | None = None, start: int = 0
    ) -> None:
        self.records_path = records_path
        self.param = param
        self.total_path = total_path
        self._offset = start
        self._more = True

    @property
    def has_next(self) -> bool:
        """True until a page ends the read."""
        return self._more

    def update_state(self, body: Any) -> None:
        """Move past this page's records; stop on an empty page or at the total."""
        records = dig(body, self.records_path)
        count = len(records) if isinstance(records, list) else 0
        self._offset += count
        self._more = count > 0 and not self._at_total(body)

    def _at_total(self, body: Any) -> bool:
        if self.total_path is None:
            return False
        total = _whole(dig(body, self.total_path))
        return total is None or self._offset >= total

    def update_request(self, request: PageRequest) -> PageRequest:
        """Put the new offset in the query, in the place the first request gave it."""
        if not self._more:
            return request
        return replace(request, params={**request.params, self.param: self._offset})


def _whole(value: Any) -> int | None:
    """An integer from a JSON number or numeric text; None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
