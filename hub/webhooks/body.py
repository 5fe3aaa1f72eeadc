"""A delivery's body, read within a size cap and a deadline; a client that hangs up is one line.

Starlette raises ``ClientDisconnect`` when a client closes its connection
mid-body; left alone, uvicorn logs it with a 43-line traceback, so a few
hundred clients dropping out fill the log. A slow body, left alone, holds
its connection for as long as the client likes. Neither the body nor any
header is ever logged.
"""

from __future__ import annotations

import logging

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

__all__ = ["Unread", "client_host", "read_body"]

log = logging.getLogger("hub.webhooks")


class Unread(Exception):
    """The body was not read to its end: ``answer`` is all there is to say."""

    def __init__(self, answer: Response) -> None:
        super().__init__(answer.status_code)
        self.answer = answer


async def read_body(request: Request, product: str, *, limit: int, timeout: float) -> bytes:
    """The whole body of ``product``'s delivery, or :class:`Unread`.

    Too large: 413; not all there within ``timeout`` seconds: 408. Both close
    the connection, so the rest of the body cannot hold it either. A client
    that hung up gets no answer (nobody is left to read one).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _refused(request, product, 413, f"larger than {limit} bytes")
    body = bytearray()
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise _refused(request, product, 413, f"larger than {limit} bytes")
    except ClientDisconnect:
        log.warning(
            "webhook: %s delivery from %s dropped: the client hung up after %d body bytes",
            product,
            client_host(request),
            len(body),
        )
        raise Unread(Response(status_code=400)) from None
    except TimeoutError:
        reason = f"the body took over {timeout:g} s ({len(body)} bytes came)"
        raise _refused(request, product, 408, reason) from None
    return bytes(body)


def client_host(request: Request) -> str:
    """The client's address, for log lines."""
    return request.client.host if request.client is not None else "?"


def _refused(request: Request, product: str, status: int, reason: str) -> Unread:
    log.warning("webhook: %s delivery from %s refused: %s", product, client_host(request), reason)
    error = "delivery too large" if status == 413 else reason
    answer = JSONResponse({"ok": False, "error": error}, status_code=status)
    answer.headers["Connection"] = "close"
    return Unread(answer)
