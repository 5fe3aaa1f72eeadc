"""How ``hub serve`` runs the app under uvicorn, so that slow clients cannot hold it.

The app reads each body within ``body_timeout`` (:mod:`.app`); this module
covers what comes before the body and around it:

* a request head (line and headers) must arrive within ``head_timeout`` of the
  connection opening or of the previous answer, else the connection is closed.
  uvicorn has no such deadline: its keep-alive timer starts only after a first
  answer and every byte received resets it, so a client sending nothing, or its
  headers a byte at a time, held a connection for ever;
* past ``max_connections`` open connections (or requests in hand) uvicorn answers
  503 at once, which the products retry, instead of running out of file
  descriptors;
* an idle kept-alive connection is closed after ``KEEP_ALIVE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from handoff_hub.hub.webhooks.settings import HEAD_TIMEOUT_SECONDS, KEEP_ALIVE_SECONDS

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from handoff_hub.hub.webhooks.settings import WebhookConfig

__all__ = ["HeadDeadlineProtocol", "server_config"]

log = logging.getLogger("hub.webhooks")


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is late."""

    head_timeout: float = HEAD_TIMEOUT_SECONDS
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its first request head is due within ``head_timeout``."""
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        """Bytes came; once they complete a request head, it is no longer late."""
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_in()

    def on_response_complete(self) -> None:
        """An answer went out; the next request head on the connection is due in time."""
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._await_head()  # the next request on this kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: nothing is due any more."""
        self._head_in()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._head_in()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_late)

    def _head_in(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        client = self.client[0] if self.client else "?"
        log.info(
            "webhook: connection from %s closed: no request within %g s", client, self.head_timeout
        )
        self.transport.close()


def server_config(
    app: Starlette, config: WebhookConfig, *, host: str, port: int, **options: Any
) -> uvicorn.Config:
    """The uvicorn settings for ``app`` (``options`` add to them or override them)."""
    protocol = type(
        "HubServeProtocol", (HeadDeadlineProtocol,), {"head_timeout": config.head_timeout}
    )
    settings: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": protocol,
        "limit_concurrency": config.max_connections,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "log_level": "info",
        "access_log": False,
    }
    return uvicorn.Config(app, **{**settings, **options})
