"""Notifications through apprise URLs (Slack, Teams, e-mail, DingTalk, Feishu ...).

A notification never fails a handoff: :meth:`Notifier.send` reports whether
it was delivered and the caller records that in the audit trail. With no URL
configured the message goes to the log, which is what the demo shows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.http.redact import redact, register_secret
from handoff_hub.hub.mapping.transforms import render_template

__all__ = ["Delivery", "Notifier", "notifier_for", "shown_url"]

log = logging.getLogger("hub.notify")


@dataclass(frozen=True)
class Delivery:
    """What happened to one notification."""

    delivered: bool
    channel: str
    detail: str = ""


class Notifier:
    """Send a title and body to every configured apprise URL."""

    def __init__(self, urls: Sequence[str]) -> None:
        for url in urls:
            register_secret(url)
        self._urls = list(urls)

    def send_rendered(self, title: str, body: str, context: Mapping[str, Any]) -> Delivery:
        """Render the title and body templates with ``context``, then :meth:`send`.

        A template that fails to render (a misspelt variable) fails this
        notification, never the handoff: the work it tells of is done.
        """
        try:
            rendered = render_template(title, context), render_template(body, context)
        except MappingError as exc:
            return Delivery(False, "template", f"notification template: {exc}")
        return self.send(*rendered)

    def send(self, title: str, body: str) -> Delivery:
        """Deliver to each URL on its own; with none, log the message. Never raises.

        One URL that is wrong or down never keeps the message from the others;
        the detail names each failing URL by its scheme and host only.
        """
        if not self._urls:
            log.info("notification: %s | %s", title, body)
            return Delivery(True, "log")
        failures = [f for url in self._urls if (f := _send_one(url, title, body)) is not None]
        return Delivery(not failures, "apprise", redact("; ".join(failures)))


def _send_one(url: str, title: str, body: str) -> str | None:
    """None when ``url`` took the message, else why not (the URL shown without secrets)."""
    shown = shown_url(url)
    try:
        import apprise

        sender = apprise.Apprise()
        if not sender.add(url):
            return f"{shown}: unsupported notification URL (check its scheme)"
        if not sender.notify(body=body, title=title):
            return f"{shown}: delivery failed"
    except Exception as exc:
        return f"{shown}: {type(exc).__name__}: {exc}"
    return None


def shown_url(url: str) -> str:
    """A notification URL as an audit may show it: scheme and host, the rest masked.

    The path, user, password and query of an apprise URL often hold its tokens.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "***"
    return f"{parts.scheme}://{host}/***" if parts.scheme else "***"


def notifier_for(urls: Sequence[object]) -> Notifier:
    """A notifier for a handoff's ``notify.urls``: plain URLs and ``{env: VAR}`` entries.

    A URL held in an unset variable is left out (validation already reported it).
    """
    resolved: list[str] = []
    for entry in urls:
        if isinstance(entry, str):
            resolved.append(entry)
        elif (var := getattr(entry, "env", None)) and (value := os.environ.get(var)):
            resolved.append(value)
    return Notifier(resolved)
