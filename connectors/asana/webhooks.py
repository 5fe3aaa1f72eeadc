"""Asana webhooks: their ``webhooks.asana:`` section, handshake, check and reading.

One webhook per configured name, at ``/webhooks/asana/<name>``. Asana first
sends a handshake (``X-Hook-Secret``), answered by echoing the secret, which
is kept (:mod:`handoff_hub.connectors.asana.hook_secrets`) and signs every later delivery:
``X-Hook-Signature`` is hex HMAC-SHA256(that secret, body). A changed task or
project gives its gid; a change of a story or attachment gives its parent
task; deletions are ignored. An empty ``events`` list is a heartbeat.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field

from handoff_hub.connectors.asana.hook_secrets import AsanaHookSecrets
from handoff_hub.hub.config.webhooks import ProductWebhookConfig
from handoff_hub.hub.webhooks.events import Change, ChangeKind, PayloadError, json_payload, unique
from handoff_hub.hub.webhooks.seen import digest
from handoff_hub.hub.webhooks.signatures import (
    HEX_SHA256,
    hmac_sha256,
    parse_event_time,
    same_signature,
)
from handoff_hub.hub.webhooks.source import (
    Answer,
    Reading,
    WebhookContext,
    WebhookReceiver,
    WebhookRequest,
    is_path_segment,
)

__all__ = [
    "AsanaReceiver",
    "AsanaWebhookConfig",
    "asana_changes",
    "asana_event_time",
    "asana_signature",
    "receiver",
    "verify_asana",
    "webhook_model",
]

log = logging.getLogger("hub.webhooks")

_KINDS: dict[str, ChangeKind] = {"task": "item", "project": "project"}
_MAX_HOOK_SECRET = 1024


class AsanaWebhookConfig(ProductWebhookConfig):
    """Asana webhooks received by ``hub serve``, each at ``/webhooks/asana/<name>``."""

    names: list[str] = Field(
        min_length=1,
        description="Webhooks the admin registers; only these paths accept a handshake",
    )
    secrets_file: str = Field(
        default=".hub/asana-webhook-secrets.json",
        description="Where the handshake secrets are kept (relative to the config file)",
    )


def asana_signature(secret: str, body: bytes) -> str:
    """The ``X-Hook-Signature`` Asana sends with a body (hex)."""
    return hmac_sha256(secret, body).hex()


def verify_asana(*, secret: str, body: bytes, signature: str | None) -> str | None:
    """None when ``X-Hook-Signature`` is the HMAC-SHA256 of ``body`` with the handshake secret."""
    if not signature:
        return "missing X-Hook-Signature"
    if not HEX_SHA256.match(signature.strip()):
        return "X-Hook-Signature is not a hex HMAC-SHA256"
    expected = asana_signature(secret, body)
    return (
        None if same_signature(expected, signature.strip().lower()) else "signature does not match"
    )


def asana_changes(payload: Any, *, system: str) -> list[Change]:
    """Task and project gids from an Asana delivery (``{"events": [...]}``)."""
    changes: list[Change] = []
    for event in _events(payload):
        if event.get("action") == "deleted":
            continue
        found = _record(event.get("resource"), ("item", "project"))
        # A story, attachment or subtask event: the task it belongs to changed.
        found = found or _record(event.get("parent"), ("item",))
        if found is not None:
            changes.append(Change(system, *found))
    return unique(changes)


def asana_event_time(payload: Any) -> float | None:
    """The newest ``created_at`` of an Asana delivery's events (epoch seconds), if any."""
    times = [parse_event_time(e.get("created_at")) for e in _events(payload)]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _events(payload: Any) -> list[Mapping[str, Any]]:
    events = payload.get("events") if isinstance(payload, Mapping) else None
    if not isinstance(events, list) or not all(isinstance(e, Mapping) for e in events):
        raise PayloadError('an Asana delivery is {"events": [...]}')
    return events


def _record(value: Any, kinds: tuple[ChangeKind, ...]) -> tuple[str, ChangeKind] | None:
    """(gid, kind) of an Asana resource reference, when it is of one of ``kinds``."""
    if not isinstance(value, Mapping):
        return None
    gid = str(value.get("gid") or "")
    kind: ChangeKind | None = _KINDS.get(str(value.get("resource_type")))
    return (gid, kind) if gid.isdigit() and kind in kinds else None


@dataclass
class AsanaReceiver:
    """Asana deliveries at ``/webhooks/asana/<name>`` for each of ``names``, about ``system``.

    ``reregister`` names the webhooks whose stored secret one new handshake may
    replace (``hub serve --reregister asana/<name>``); each is used up by that handshake.
    """

    system: str
    names: frozenset[str]
    secrets: AsanaHookSecrets
    reregister: set[str] = field(default_factory=set)
    accept_status: ClassVar[int] = 200  # the answer Asana documents

    def handshake(self, request: WebhookRequest) -> Answer | None:
        """Establish webhook ``name``; never silently replace the secret of an established one."""
        offered = request.headers.get("x-hook-secret")
        if offered is None:
            return None
        name = request.name or ""
        secret = offered.strip()
        if not secret or len(secret) > _MAX_HOOK_SECRET or not _printable(secret):
            return Answer(400, "X-Hook-Secret is not a usable secret")
        stored = self.secrets.get(name)
        same = stored is not None and hmac.compare_digest(
            stored.get_secret_value().encode(), secret.encode()
        )
        if stored is not None and not same and name not in self.reregister:
            log.warning(
                "webhook: asana %s: handshake from %s refused: a webhook is already established "
                "here; if you deleted it and are registering anew, run hub serve with "
                "--reregister asana/%s",
                name,
                request.client,
                name,
            )
            return Answer(403, "a webhook is already established at this path")
        if not same:
            try:
                self.secrets.put(name, secret)
            except OSError as exc:
                log.error("webhook: asana %s: cannot keep the secret: %s", name, exc.strerror)
                return Answer(503, "cannot keep the webhook's secret")
            self.reregister.discard(name)
            log.warning(
                "webhook: asana %s %s (handshake from %s)",
                name,
                "re-established, the old secret replaced" if stored else "established",
                request.client,
            )
        return Answer(200, headers={"X-Hook-Secret": secret}, bare=True)

    def verify(self, request: WebhookRequest, *, now: float, window: float) -> str | None:
        """The signature with the secret of the handshake (the time is in the events)."""
        secret = self.secrets.get(request.name or "")
        if secret is None:
            return "no webhook established here yet"
        return verify_asana(
            secret=secret.get_secret_value(),
            body=request.body,
            signature=request.headers.get("x-hook-signature"),
        )

    def read(self, request: WebhookRequest) -> Reading:
        """The changed gids and the newest event's time; no events: a heartbeat."""
        payload = json_payload(request.body)
        changes = asana_changes(payload, system=self.system)
        sent_at = asana_event_time(payload)
        if not payload["events"]:
            return Reading(heartbeat=True)
        key = digest(b"asana", (request.name or "").encode(), request.body)
        return Reading(changes, [key], sent_at)


def webhook_model() -> type[AsanaWebhookConfig]:
    """The model of ``webhooks.asana:``."""
    return AsanaWebhookConfig


def receiver(section: AsanaWebhookConfig, context: WebhookContext) -> WebhookReceiver | None:
    """The receiver of ``webhooks.asana:``; None when a problem is recorded in ``context``."""
    unknown = sorted(context.reregister - set(section.names))
    if unknown:
        context.issue("names", f"--reregister: no such asana webhook {unknown}")
    bad = [n for n in section.names if not is_path_segment(n)]
    if bad:
        context.issue("names", f"not a path segment: {bad}")
    if context.system is None or bad:
        return None
    secrets = AsanaHookSecrets(context.path(section.secrets_file))
    return AsanaReceiver(context.system, frozenset(section.names), secrets, set(context.reregister))


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable() and not any(c.isspace() for c in text)
