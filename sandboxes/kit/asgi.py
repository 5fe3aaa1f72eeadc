"""ASGI types and the JSON response every sandbox answers with."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

__all__ = [
    "ASGIApp",
    "Message",
    "ProductJSONResponse",
    "Receive",
    "Scope",
    "Send",
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
