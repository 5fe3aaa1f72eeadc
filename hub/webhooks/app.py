"""The webhook app: verify, remember, enqueue, answer; the worker does the rest.

Routes (``POST`` unless said):

* ``/webhooks/hubspot``: HubSpot app webhooks (signature v3, timestamp window).
* ``/webhooks/jira``: Jira Cloud webhooks with a secret (``X-Hub-Signature``).
* ``/webhooks/asana/{name}``: one Asana webhook per configured name: its
  handshake (``X-Hook-Secret``) and then its signed events.
* ``GET /healthz``: 200 while the worker runs, else 503.

Answers: 202 accepted and queued (Asana: 200, the answer it documents); 200
nothing to do (a handshake, a heartbeat, no change any handoff reads); 401
forged, stale or replayed; 400 a signed body that is not what the product
sends; 403 an Asana handshake where a webhook is already established; 404 a
product that is not configured or an Asana name that is not; 408 a body that
did not arrive within ``body_timeout``; 413 too large (408 and 413 close the
connection); 503 the queue is full or the state store, which keeps the
deliveries seen lately, does not answer (the product delivers again later).
A client that hangs up mid-body is logged in one line and gets no answer. A
valid delivery never gets a 5xx unless it really could not be accepted, as
the products retry those. No secret or signature is ever logged or answered.
"""

from __future__ import annotations

import hmac
import json
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

from hub.runtime import Runtime
from hub.webhooks.body import Unread, client_host, read_body
from hub.webhooks.events import (
    Change,
    PayloadError,
    asana_changes,
    asana_event_time,
    hubspot_changes,
    jira_changes,
)
from hub.webhooks.seen import SeenDeliveries, digest
from hub.webhooks.settings import AsanaReceiver, WebhookConfig
from hub.webhooks.signatures import (
    check_freshness,
    hubspot_uri,
    parse_event_time,
    verify_asana,
    verify_hubspot_v3,
    verify_jira,
)
from hub.webhooks.worker import Delivery, Worker

__all__ = ["create_app"]

log = logging.getLogger("hub.webhooks")

RETRY_AFTER_SECONDS = 60
_MAX_HOOK_SECRET = 1024


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
            (kept in the runtime's store: :mod:`hub.webhooks.seen`).
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
            Route("/webhooks/hubspot", receiver.hubspot, methods=["POST"]),
            Route("/webhooks/jira", receiver.jira, methods=["POST"]),
            Route("/webhooks/asana/{name}", receiver.asana, methods=["POST"]),
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

    async def hubspot(self, request: Request) -> Response:
        receiver = self.config.hubspot
        if receiver is None:
            return _answer(404, "no HubSpot webhooks here")
        try:
            body = await self._body(request, "hubspot")
        except Unread as exc:
            return exc.answer
        now = self.clock()
        timestamp = request.headers.get("x-hubspot-request-timestamp")
        reason = verify_hubspot_v3(
            client_secret=receiver.client_secret.get_secret_value(),
            method=request.method,
            uri=self._hubspot_uri(request, receiver.public_url),
            body=body,
            signature=request.headers.get("x-hubspot-signature-v3"),
            timestamp=timestamp,
            now=now,
            max_age=self.config.replay_window,
        )
        if reason is not None:
            return self._refuse(request, "hubspot", reason)
        try:
            changes = hubspot_changes(
                _json(body), system=receiver.system, portal_id=receiver.portal_id
            )
        except PayloadError as exc:
            return self._malformed(request, "hubspot", exc)
        keys = [digest(b"hubspot", (timestamp or "").strip().encode(), body)]
        return await self._accept(request, "hubspot", keys, changes, now, status=202)

    async def jira(self, request: Request) -> Response:
        receiver = self.config.jira
        if receiver is None:
            return _answer(404, "no Jira webhooks here")
        try:
            body = await self._body(request, "jira")
        except Unread as exc:
            return exc.answer
        now = self.clock()
        reason = verify_jira(
            secret=receiver.secret.get_secret_value(),
            body=body,
            signature=request.headers.get("x-hub-signature"),
        )
        if reason is not None:
            return self._refuse(request, "jira", reason)
        try:
            payload = _json(body)
            changes = jira_changes(payload, system=receiver.system)
        except PayloadError as exc:
            return self._malformed(request, "jira", exc)
        sent_at = parse_event_time(payload.get("timestamp"))
        stale = check_freshness(sent_at, now, self.config.replay_window)
        if stale is not None:
            return self._refuse(request, "jira", stale)
        keys = [digest(b"jira", body)]
        if identifier := request.headers.get("x-atlassian-webhook-identifier"):
            keys.append(digest(b"jira-id", identifier.strip().encode()))
        return await self._accept(request, "jira", keys, changes, now, status=202)

    async def asana(self, request: Request) -> Response:
        receiver = self.config.asana
        name = str(request.path_params["name"])
        if receiver is None or name not in receiver.names:
            return _answer(404, "no such Asana webhook here")
        try:
            body = await self._body(request, f"asana {name}")
        except Unread as exc:
            return exc.answer
        hook_secret = request.headers.get("x-hook-secret")
        if hook_secret is not None:
            return self._handshake(request, receiver, name, hook_secret)
        secret = receiver.secrets.get(name)
        if secret is None:
            return self._refuse(request, f"asana {name}", "no webhook established here yet")
        now = self.clock()
        reason = verify_asana(
            secret=secret.get_secret_value(),
            body=body,
            signature=request.headers.get("x-hook-signature"),
        )
        if reason is not None:
            return self._refuse(request, f"asana {name}", reason)
        try:
            payload = _json(body)
            changes = asana_changes(payload, system=receiver.system)
            sent_at = asana_event_time(payload)
        except PayloadError as exc:
            return self._malformed(request, f"asana {name}", exc)
        if not payload["events"]:
            return _answer(200, accepted=0)  # a heartbeat: identical each time, never a replay
        stale = check_freshness(sent_at, now, self.config.replay_window)
        if stale is not None:
            return self._refuse(request, f"asana {name}", stale)
        keys = [digest(b"asana", name.encode(), body)]
        return await self._accept(request, f"asana {name}", keys, changes, now, status=200)

    async def health(self, _: Request) -> Response:
        receivers = [
            product
            for product, receiver in (
                ("hubspot", self.config.hubspot),
                ("jira", self.config.jira),
                ("asana", self.config.asana),
            )
            if receiver is not None
        ]
        ok = self.worker.alive
        return _answer(
            200 if ok else 503,
            None if ok else "the worker is not running",
            receivers=receivers,
            queued=self.worker.queued,
            handled=self.worker.handled,
        )

    # steps -----------------------------------------------------------------------

    def _handshake(
        self, request: Request, receiver: AsanaReceiver, name: str, offered: str
    ) -> Response:
        """Establish webhook ``name``; never silently replace the secret of an established one."""
        secret = offered.strip()
        if not secret or len(secret) > _MAX_HOOK_SECRET or not _printable(secret):
            return _answer(400, "X-Hook-Secret is not a usable secret")
        stored = receiver.secrets.get(name)
        same = stored is not None and hmac.compare_digest(
            stored.get_secret_value().encode(), secret.encode()
        )
        if stored is not None and not same and name not in receiver.reregister:
            log.warning(
                "webhook: asana %s: handshake from %s refused: a webhook is already established "
                "here; if you deleted it and are registering anew, run hub serve with "
                "--asana-reregister %s",
                name,
                client_host(request),
                name,
            )
            return _answer(403, "a webhook is already established at this path")
        if not same:
            try:
                receiver.secrets.put(name, secret)
            except OSError as exc:
                log.error("webhook: asana %s: cannot keep the secret: %s", name, exc.strerror)
                return _answer(503, "cannot keep the webhook's secret")
            receiver.reregister.discard(name)
            log.warning(
                "webhook: asana %s %s (handshake from %s)",
                name,
                "re-established, the old secret replaced" if stored else "established",
                client_host(request),
            )
        return Response(status_code=200, headers={"X-Hook-Secret": secret})

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

    @staticmethod
    def _hubspot_uri(request: Request, public_url: str | None) -> str:
        """The URI HubSpot called: ``public_url`` (or this request's scheme and host) + path."""
        base = public_url or f"{request.url.scheme}://{request.headers.get('host') or ''}"
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string") or b""
        return hubspot_uri(base, raw_path.decode("latin-1"), query.decode("latin-1"))


def _busy(error: str) -> JSONResponse:
    """503 with Retry-After: the products deliver again later."""
    response = _answer(503, error)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("the body is not JSON") from None


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable() and not any(c.isspace() for c in text)
