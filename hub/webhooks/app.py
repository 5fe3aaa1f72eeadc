"""The webhook app: verify, remember, enqueue, answer; the worker does the rest.

Routes (``POST`` unless said):

* ``/webhooks/<connector>``: the deliveries of a connector whose receiver has
  no ``names`` (HubSpot: signature v3; Jira: ``X-Hub-Signature``).
* ``/webhooks/<connector>/<name>``: one per name its receiver lists (Asana:
  one per configured webhook, its handshake and then its signed events).
* ``GET /healthz``: 200 while the worker runs, else 503.

Which connectors there are is the config's business (:mod:`handoff_hub.hub.webhooks.settings`):
each is a :class:`hub.connector.WebhookSource`, and what is its product's own
(signatures, payloads, a handshake) is its receiver's (:mod:`handoff_hub.hub.webhooks.source`).

Answers: 202 accepted and queued (or the status the receiver documents: Asana
200); 200 nothing to do (a handshake, a heartbeat, no change any handoff
reads); 401 forged, stale or replayed; 400 a signed body that is not what the
product sends; what a handshake answers (Asana: 403 where a webhook is
already established); 404 a product that is not configured or a name that is
not; 408 a body that did not arrive within ``body_timeout``; 413 too large
(408 and 413 close the connection); 503 the queue is full or the state store,
which keeps the deliveries seen lately, does not answer (the product delivers
again later). A client that hangs up mid-body is logged in one line and gets
no answer. A valid delivery never gets a 5xx unless it really could not be
accepted, as the products retry those. No secret or signature is ever logged
or answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.webhooks.body import Unread, client_host, read_body
from handoff_hub.hub.webhooks.events import Change, PayloadError
from handoff_hub.hub.webhooks.seen import SeenDeliveries
from handoff_hub.hub.webhooks.settings import WebhookConfig
from handoff_hub.hub.webhooks.signatures import check_freshness
from handoff_hub.hub.webhooks.source import Answer, WebhookReceiver, WebhookRequest
from handoff_hub.hub.webhooks.worker import Delivery, Worker

__all__ = ["create_app"]

log = logging.getLogger("hub.webhooks")

RETRY_AFTER_SECONDS = 60


def create_app(
    runtime_factory: Callable[[], Runtime],
    config: WebhookConfig,
    *,
    clock: Callable[[], float] = time.time,
    worker: Worker | None = None,
) -> Starlette:
    """The ASGI app; its lifespan starts the worker (which builds the runtime) and stops it.

    Args:
        runtime_factory: Builds the runtime the worker runs the handoffs with
            (called once, at startup; the worker closes it at shutdown).
        config: Receivers, secrets and limits (:func:`hub.webhooks.settings.webhook_config`).
        clock: Seconds since the epoch, for timestamp windows and replay memory
            (kept in the runtime's store: :mod:`handoff_hub.hub.webhooks.seen`).
        worker: A worker of one's own (tests); default: one for ``runtime_factory``.
    """
    worker = worker or Worker(runtime_factory, queue_size=config.queue_size)
    receiver = _Receiver(config, worker, clock)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(worker.start)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(worker.stop)

    app = Starlette(
        routes=[
            Route("/webhooks/{connector}", receiver.deliver, methods=["POST"]),
            Route("/webhooks/{connector}/{name}", receiver.deliver, methods=["POST"]),
            Route("/healthz", receiver.health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.worker = worker
    return app


def _answer(status: int, error: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": error is None, **extra}
    if error is not None:
        body["error"] = error
    return JSONResponse(body, status_code=status)


class _Receiver:
    def __init__(
        self,
        config: WebhookConfig,
        worker: Worker,
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.worker = worker
        self.clock = clock
        self._seen: SeenDeliveries | None = None

    @property
    def seen(self) -> SeenDeliveries:
        """The replay memory, in the store of the worker's runtime (built at startup)."""
        if self._seen is None:
            self._seen = SeenDeliveries(self.worker.runtime.store, 2 * self.config.replay_window)
        return self._seen

    # routes ----------------------------------------------------------------------

    async def deliver(self, request: Request) -> Response:
        """One delivery for ``/webhooks/<connector>[/<name>]``, whichever product sends it."""
        connector = str(request.path_params["connector"])
        name: str | None = request.path_params.get("name")
        receiver = self.config.receivers.get(connector)
        if receiver is None:
            return _answer(404, f"no {connector} webhooks here")
        if not _serves(receiver, name):
            return _answer(404, f"no such {connector} webhook here")
        product = connector if name is None else f"{connector} {name}"
        try:
            body = await self._body(request, product)
        except Unread as exc:
            return exc.answer
        delivery = _request(request, body, name)
        handshake = receiver.handshake(delivery)
        if handshake is not None:
            return _handshake_answer(handshake)
        return await self._receive(request, receiver, product, delivery)

    async def health(self, _: Request) -> Response:
        ok = self.worker.alive
        return _answer(
            200 if ok else 503,
            None if ok else "the worker is not running",
            receivers=sorted(self.config.receivers),
            queued=self.worker.queued,
            handled=self.worker.handled,
        )

    # steps -----------------------------------------------------------------------

    async def _receive(
        self, request: Request, receiver: WebhookReceiver, product: str, delivery: WebhookRequest
    ) -> Response:
        """Verify, read, date and remember a delivery, then queue its changes."""
        now = self.clock()
        window = self.config.replay_window
        reason = receiver.verify(delivery, now=now, window=window)
        if reason is not None:
            return self._refuse(request, product, reason)
        try:
            reading = receiver.read(delivery)
        except PayloadError as exc:
            return self._malformed(request, product, exc)
        if reading.heartbeat:
            return _answer(200, accepted=0)  # identical each time, never a replay
        stale = check_freshness(reading.sent_at, now, window)
        if stale is not None:
            return self._refuse(request, product, stale)
        keys, status = list(reading.keys), receiver.accept_status
        return await self._accept(request, product, keys, reading.changes, now, status=status)

    async def _accept(
        self,
        request: Request,
        product: str,
        keys: list[str],
        changes: Sequence[Change],
        now: float,
        *,
        status: int,
    ) -> Response:
        try:
            fresh = await anyio.to_thread.run_sync(self.seen.claim, keys, now)
        except SQLAlchemyError as exc:
            log.error(
                "webhook: %s delivery from %s not accepted: the state store did not answer (%s)",
                product,
                client_host(request),
                type(exc).__name__,
            )
            return _busy("cannot check for a replay now; deliver again later")
        if not fresh:
            return self._refuse(request, product, "already received (a replay)")
        if not changes:
            return _answer(200, accepted=0)
        delivery = Delivery(product, keys[0][:12], tuple(changes))
        if not self.worker.submit(delivery):
            return await self._queue_full(delivery, keys)
        log.info(
            "webhook: %s delivery %s accepted: %d changed records",
            product,
            delivery.delivery_id,
            len(changes),
        )
        return _answer(status, accepted=len(changes))

    async def _queue_full(self, delivery: Delivery, keys: list[str]) -> Response:
        """503, and the delivery forgotten: it was not accepted, so its retry must be."""
        log.warning(
            "webhook: %s delivery %s not accepted: the queue is full (%d waiting)",
            delivery.product,
            delivery.delivery_id,
            self.worker.queued,
        )
        try:
            await anyio.to_thread.run_sync(self.seen.release, keys)
        except SQLAlchemyError as exc:
            log.error(
                "webhook: %s delivery %s: the state store did not forget it (%s), so its retry "
                "will be refused; the scheduled runs read the change from their cursors",
                delivery.product,
                delivery.delivery_id,
                type(exc).__name__,
            )
        return _busy("busy; deliver again later")

    def _refuse(self, request: Request, product: str, reason: str) -> Response:
        log.warning(
            "webhook: %s delivery from %s refused: %s", product, client_host(request), reason
        )
        return _answer(401, reason)

    def _malformed(self, request: Request, product: str, exc: PayloadError) -> Response:
        log.warning(
            "webhook: %s delivery from %s malformed: %s", product, client_host(request), exc
        )
        return _answer(400, str(exc))

    async def _body(self, request: Request, product: str) -> bytes:
        limit, timeout = self.config.max_body_bytes, self.config.body_timeout
        return await read_body(request, product, limit=limit, timeout=timeout)


def _busy(error: str) -> JSONResponse:
    """503 with Retry-After: the products deliver again later."""
    response = _answer(503, error)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _serves(receiver: WebhookReceiver, name: str | None) -> bool:
    """Whether ``receiver`` takes deliveries at its bare path (``name`` None) or at ``name``."""
    if receiver.names is None:
        return name is None
    return name is not None and name in receiver.names


def _request(request: Request, body: bytes, name: str | None) -> WebhookRequest:
    """What the receiver is shown of ``request``: all it may need to check it, and the body."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        headers.setdefault(key.lower(), value)  # the first of repeated headers, as Starlette's get
    return WebhookRequest(
        method=request.method,
        base_url=f"{request.url.scheme}://{request.headers.get('host') or ''}",
        raw_path=raw_path.decode("latin-1"),
        query=query.decode("latin-1"),
        headers=headers,
        body=body,
        name=name,
        client=client_host(request),
    )


def _handshake_answer(answer: Answer) -> Response:
    if answer.bare:
        return Response(status_code=answer.status, headers=dict(answer.headers))
    response = _answer(answer.status, answer.error)
    response.headers.update(answer.headers)
    return response
