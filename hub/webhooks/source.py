"""What a product's webhooks tell the hub's app, and what the app hands them.

A connector whose product sends webhooks is a :class:`hub.connector.WebhookSource`:
from its ``webhooks.<connector>:`` section (checked against its own model) and
a :class:`WebhookContext` it builds a :class:`WebhookReceiver`. The app
(:mod:`handoff_hub.hub.webhooks.app`) routes ``/webhooks/<connector>`` (or, for a receiver
with ``names``, ``/webhooks/<connector>/<name>``) to it and does the rest the
same way for every product::

    read the body (size cap, deadline)      -> 413 / 408
    receiver.handshake(request)             -> its answer, if it is one
    receiver.verify(request, now, window)   -> 401 with the reason
    receiver.read(request)                  -> 400 on PayloadError
    reading.heartbeat                       -> 200, nothing remembered
    freshness of reading.sent_at            -> 401
    reading.keys not seen lately            -> 401 (a replay) / 503 (store down)
    queue reading.changes                   -> receiver.accept_status / 200 if none / 503

``verify`` and ``read`` are pure: they never log, and a reason they give never
holds a secret or a signature, so the app may log and answer it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import SecretStr

from handoff_hub.hub.errors import Issue
from handoff_hub.hub.http.redact import register_secret

if TYPE_CHECKING:
    from handoff_hub.hub.config.systems import EnvSecret
    from handoff_hub.hub.webhooks.events import Change

__all__ = [
    "Answer",
    "Reading",
    "WebhookContext",
    "WebhookReceiver",
    "WebhookRequest",
    "is_path_segment",
]


@dataclass(frozen=True)
class WebhookRequest:
    """A delivery as it arrived, whole; nothing of it is trusted yet.

    ``name`` is the path's last segment for a receiver with ``names`` (else
    None); ``base_url`` is the scheme and host the request was sent to,
    ``raw_path`` and ``query`` as they came (not decoded); ``headers`` have
    lower-case names; ``client`` is the client's address, for log lines.
    """

    method: str
    base_url: str
    raw_path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    name: str | None = None
    client: str = "?"


@dataclass(frozen=True)
class Reading:
    """What a verified delivery says.

    ``keys`` are digests of what the signature covers (:func:`hub.webhooks.seen.digest`),
    remembered so that the same delivery sent again is refused; the first one
    names the delivery in log lines. ``sent_at`` (epoch seconds) must lie within
    the replay window of now. A ``heartbeat`` is answered 200 at once, neither
    remembered nor dated (it is identical each time and never a replay).
    """

    changes: Sequence[Change] = ()
    keys: Sequence[str] = ()
    sent_at: float | None = None
    heartbeat: bool = False


@dataclass(frozen=True)
class Answer:
    """What to answer a request the receiver handles itself (a handshake).

    The body is ``{"ok": ..., "error": ...}`` unless ``bare`` (no body at all).
    """

    status: int
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    bare: bool = False


class WebhookReceiver(Protocol):
    """One product's deliveries, resolved from its ``webhooks.<connector>:`` section."""

    @property
    def names(self) -> frozenset[str] | None:
        """The names it takes deliveries at (``/webhooks/<connector>/<name>``); None: none."""
        ...

    @property
    def accept_status(self) -> int:
        """The status of an accepted delivery (the product's documented answer: 202 or 200)."""
        ...

    def handshake(self, request: WebhookRequest) -> Answer | None:
        """The answer when ``request`` is a handshake rather than a delivery, else None.

        May keep state (a secret the product hands over) and log, never a secret.
        """
        ...

    def verify(self, request: WebhookRequest, *, now: float, window: float) -> str | None:
        """None when ``request`` is authentic (and, if it says when, within ``window`` of ``now``).

        Else the reason, which never holds a secret or a signature. Pure.
        """
        ...

    def read(self, request: WebhookRequest) -> Reading:
        """What the verified ``request`` says; :class:`~hub.webhooks.events.PayloadError` if odd."""
        ...


@dataclass
class WebhookContext:
    """What the hub resolved for a connector's ``webhooks.<connector>:`` section.

    ``system`` is the system the deliveries are about (the section's ``system:``
    or the only system of the connector); None when it could not be found, the
    issue already recorded. A factory records its own problems with
    :meth:`issue` and :meth:`secret` and returns None when it cannot build its
    receiver; the hub reports every issue of every section at once.
    """

    connector: str
    system: str | None
    settings: Mapping[str, Any]
    file: str
    base_dir: Path
    reregister: frozenset[str] = frozenset()
    """Names whose stored handshake secret one new handshake may replace."""
    issues: list[Issue] = field(default_factory=list)

    def issue(self, setting: str, message: str) -> None:
        """Record a problem of ``webhooks.<connector>.<setting>`` (of the section: ``""``)."""
        where = ".".join(part for part in ("webhooks", self.connector, setting) if part)
        self.issues.append(Issue(self.file, None, where, message))

    def secret(self, setting: str, ref: EnvSecret) -> SecretStr | None:
        """The secret ``ref`` names (registered for redaction); if unset, None and an issue."""
        value = os.environ.get(ref.env)
        if not value:
            self.issue(setting, f"environment variable {ref.env} is not set")
            return None
        register_secret(value)
        return SecretStr(value)

    def path(self, value: str) -> Path:
        """``value`` as a path, relative to the config file's folder unless absolute."""
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path


def is_path_segment(name: str) -> bool:
    """True when ``name`` can be one segment of a webhook's path, as it is."""
    return bool(name) and all(c.isalnum() or c in "-_." for c in name) and name not in {".", ".."}
