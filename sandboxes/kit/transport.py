"""An httpx transport that calls a sandbox's ASGI app in-process, from sync code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading

import httpx

from handoff_hub.sandboxes.kit.asgi import ASGIApp
from handoff_hub.sandboxes.kit.faults import find_fault

__all__ = [
    "SyncASGITransport",
]


class SyncASGITransport(httpx.BaseTransport):
    """Run an ASGI app in-process behind a synchronous ``httpx.Client``.

    httpx's own ``ASGITransport`` is async-only; the connectors are sync. This
    transport runs the app on a private event loop thread and turns the
    sandbox's injected connection faults into the httpx exceptions a real
    network would raise (``ReadTimeout``, ``RemoteProtocolError``).
    """

    def __init__(self, app: ASGIApp, *, timeout: float = 60.0) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request to the app and wait for its complete response."""
        copy = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read()
        )
        future = asyncio.run_coroutine_threadsafe(self._call(copy), self._loop)
        try:
            status, headers, body = future.result(self._timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()  # do not leave the app running on the loop
            raise httpx.ReadTimeout("sandbox did not answer", request=request) from exc
        except Exception as exc:
            fault = find_fault(exc)
            if fault is None:
                raise
            if fault.timed_out:
                raise httpx.ReadTimeout(str(fault), request=request) from exc
            raise httpx.RemoteProtocolError(str(fault), request=request) from exc
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _call(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        response = await self._inner.handle_async_request(request)
        # The raw bytes: the headers still say how they are encoded (gzip), so
        # the caller's client decodes them once, as it would off the network.
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, response.headers, body

    def close(self) -> None:
        """Keep the loop: one transport may serve several clients in turn."""

    def shutdown(self) -> None:
        """Stop the private event loop for good, cancelling requests still in the app."""
        if self._loop.is_closed():
            return
        # An app that ignores cancellation must not keep the loop alive.
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(_cancel_pending(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


async def _cancel_pending() -> None:
    """Cancel every other task on the running loop and wait until they have finished."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
