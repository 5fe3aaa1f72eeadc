"""ASGI types, the JSON response every sandbox answers with, and trailing-slash folding."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse, Response

__all__ = [
    "ASGIApp",
    "Message",
    "ProductJSONResponse",
    "Receive",
    "Scope",
    "Send",
    "json_response",
    "strip_trailing_slash",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ProductJSONResponse(JSONResponse):
    r"""Starlette's JSON response, which escapes text UTF-8 cannot carry.

    A record broken behind the API's back may hold an unpaired surrogate. JSON
    can carry it as a ``\uXXXX`` escape, so a product may well send it that
    way rather than fail the whole page; the sandboxes do the same, where
    Starlette's own render would raise.
    """

    def render(self, content: Any) -> bytes:
        """UTF-8 JSON as Starlette writes it, else ASCII JSON with escapes."""
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(
                content, ensure_ascii=True, allow_nan=False, separators=(",", ":")
            ).encode("ascii")


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """``body`` as JSON; no body at all for ``None`` (204 and the like)."""
    if body is None:
        return Response(status_code=status, headers=headers)
    return ProductJSONResponse(body, status_code=status, headers=headers)


def strip_trailing_slash(app: ASGIApp) -> ASGIApp:
    """The products route ``/path/`` as ``/path``; Starlette would redirect it."""

    async def stripped(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            bare = path.rstrip("/") or "/"
            scope = {**scope, "path": bare, "raw_path": bare.encode()}
        await app(scope, receive, send)

    return stripped
