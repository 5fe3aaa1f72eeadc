"""Request dispatch of the Asana sandbox, shared by HTTP requests and batch actions.

A :class:`Call` is one decoded request (path below ``/api/1.0``, query
parameters, JSON body); the :class:`Router` finds its handler, which answers
``(status, body)``. The batch API turns each action into a Call and sends it
through the same router, so an action behaves exactly as the request would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HELP", "Call", "Handler", "Reply", "Router", "error"]

Reply = tuple[int, Any]
HELP = (
    "For more information on API status codes and how to handle them, "
    "read the docs on errors: https://developers.asana.com/docs/errors"
)
_PHRASE = "6 sad squid snuggle softly"


def error(status: int, *messages: str) -> Reply:
    """Asana's error body; a 500 carries an error phrase as Asana's do."""
    errors: list[dict[str, str]] = []
    for message in messages:
        entry = {"message": message, "help": HELP}
        if status >= 500:
            entry["phrase"] = _PHRASE
        errors.append(entry)
    return status, {"errors": errors}


@dataclass
class Call:
    """One request, decoded."""

    method: str
    path: str
    params: dict[str, str]
    body: Any = None
    base: str = "https://app.asana.com"
    in_batch: bool = False
    args: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        """The body's ``data`` envelope (None when there is none)."""
        return self.body.get("data") if isinstance(self.body, Mapping) else None

    @property
    def fields(self) -> list[str] | None:
        """The ``opt_fields`` asked for, or None."""
        text = self.params.get("opt_fields")
        if not text:
            return None
        return [f.strip() for f in text.split(",") if f.strip()]


Handler = Callable[[Call], Reply]


class Router:
    """Path templates (``/tasks/{task}``) to handlers, by method."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on ``pattern``."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method.upper(), re.compile(regex), handler))

    def dispatch(self, call: Call) -> Reply:
        """Answer one call; an unknown path is a 404 as Asana answers it."""
        for method, regex, handler in self._routes:
            match = regex.fullmatch(call.path)
            if match is not None and method == call.method.upper():
                call.args = match.groupdict()
                return handler(call)
        return error(404, "No matching route for request")
