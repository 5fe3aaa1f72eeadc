"""HubSpot app webhooks (signature v3): their ``webhooks.hubspot:`` section, check and reading.

``X-HubSpot-Signature-v3`` is base64(HMAC-SHA256(client secret, method + URI +
body + timestamp)), the URI as HubSpot called it with a few of its escapes
decoded; ``X-HubSpot-Request-Timestamp`` is in ms and at most the replay
window old. An app's client secret signs the deliveries of every portal it
is installed in, so events of another portal than the hub's are ignored.
Only ``deal.*`` events (not deletions) are taken: their deal ids.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from handoff_hub.hub.config.systems import EnvSecret
from handoff_hub.hub.config.webhooks import ProductWebhookConfig
from handoff_hub.hub.webhooks.events import Change, PayloadError, json_payload, unique
from handoff_hub.hub.webhooks.seen import digest
from handoff_hub.hub.webhooks.signatures import check_freshness, hmac_sha256, same_signature
from handoff_hub.hub.webhooks.source import (
    Answer,
    Reading,
    WebhookContext,
    WebhookReceiver,
    WebhookRequest,
)

__all__ = [
    "HubSpotReceiver",
    "HubSpotWebhookConfig",
    "hubspot_changes",
    "hubspot_uri",
    "hubspot_v3_signature",
    "receiver",
    "verify_hubspot_v3",
    "webhook_model",
]

# HubSpot decodes exactly these escapes of the URI before signing it.
_HUBSPOT_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_HUBSPOT_ESCAPE = re.compile("|".join(_HUBSPOT_DECODED), re.IGNORECASE)
_IGNORED = frozenset({"deletion", "privacyDeletion", "associationChange"})


class HubSpotWebhookConfig(ProductWebhookConfig):
    """HubSpot app webhooks (signature v3) received by ``hub serve`` at ``/webhooks/hubspot``."""

    client_secret: EnvSecret = Field(
        description="{env: VAR} holding the HubSpot app's client secret (signs every delivery)"
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL HubSpot calls, e.g. https://hub.example.com (behind a proxy); "
        "default: the scheme and host of the request",
    )
    portal_id: int | None = Field(
        default=None,
        description="Accept only this portal's events (default: the system's portal_id setting)",
    )


def hubspot_uri(base_url: str, raw_path: str, query: str = "") -> str:
    """The URI as HubSpot signs it: base URL + path (+ ``?query``), HubSpot's escapes decoded."""
    uri = base_url.rstrip("/") + raw_path + (f"?{query}" if query else "")
    return _HUBSPOT_ESCAPE.sub(lambda m: _HUBSPOT_DECODED[m.group(0).upper()], uri)


def hubspot_v3_signature(
    client_secret: str, method: str, uri: str, body: bytes, timestamp: str
) -> str:
    """The ``X-HubSpot-Signature-v3`` HubSpot sends for this request."""
    message = method.upper().encode("ascii") + uri.encode("utf-8") + body + timestamp.encode()
    return base64.b64encode(hmac_sha256(client_secret, message)).decode("ascii")


def verify_hubspot_v3(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_age: float = 300.0,
) -> str | None:
    """None when a HubSpot delivery is signed with ``client_secret`` and at most ``max_age`` old.

    Args:
        client_secret: The HubSpot app's client secret.
        method: The request's method (``POST``).
        uri: The URI HubSpot called, as :func:`hubspot_uri` builds it.
        body: The raw request body.
        signature: ``X-HubSpot-Signature-v3``.
        timestamp: ``X-HubSpot-Request-Timestamp`` (ms since the epoch).
        now: The current time, in seconds since the epoch.
        max_age: Seconds a delivery stays acceptable (HubSpot: 5 minutes).
    """
    if not signature:
        return "missing X-HubSpot-Signature-v3"
    if not timestamp:
        return "missing X-HubSpot-Request-Timestamp"
    if not timestamp.strip().isdigit():
        return "X-HubSpot-Request-Timestamp is not a time in milliseconds"
    stale = check_freshness(int(timestamp) / 1000, now, max_age)
    if stale is not None:
        return stale
    expected = hubspot_v3_signature(client_secret, method, uri, body, timestamp.strip())
    return None if same_signature(expected, signature.strip()) else "signature does not match"


def hubspot_changes(payload: Any, *, system: str, portal_id: int | None) -> list[Change]:
    """Deal ids from a HubSpot delivery (a JSON array of events)."""
    if not isinstance(payload, list):
        raise PayloadError("a HubSpot delivery is a JSON array of events")
    changes: list[Change] = []
    for event in payload:
        if not isinstance(event, Mapping):
            raise PayloadError("a HubSpot event is a JSON object")
        kind, _, action = str(event.get("subscriptionType") or "").partition(".")
        if kind != "deal" or action in _IGNORED:
            continue
        if portal_id is not None and str(event.get("portalId")) != str(portal_id):
            continue
        object_id = event.get("objectId")
        if isinstance(object_id, int | str) and str(object_id).isdigit():
            changes.append(Change(system, str(object_id), "deal"))
    return unique(changes)


@dataclass(frozen=True)
class HubSpotReceiver:
    """HubSpot deliveries: about ``system``, signed with the app's client secret."""

    system: str
    client_secret: SecretStr
    public_url: str | None = None
    portal_id: int | None = None
    names: ClassVar[frozenset[str] | None] = None
    accept_status: ClassVar[int] = 202

    def handshake(self, request: WebhookRequest) -> Answer | None:
        """HubSpot has none."""
        return None

    def verify(self, request: WebhookRequest, *, now: float, window: float) -> str | None:
        """Signature v3 over the URI HubSpot called, and the timestamp within ``window``."""
        base = self.public_url or request.base_url
        return verify_hubspot_v3(
            client_secret=self.client_secret.get_secret_value(),
            method=request.method,
            uri=hubspot_uri(base, request.raw_path, request.query),
            body=request.body,
            signature=request.headers.get("x-hubspot-signature-v3"),
            timestamp=request.headers.get("x-hubspot-request-timestamp"),
            now=now,
            max_age=window,
        )

    def read(self, request: WebhookRequest) -> Reading:
        """The deal ids of the hub's portal; known by its signed timestamp and body."""
        payload = json_payload(request.body)
        changes = hubspot_changes(payload, system=self.system, portal_id=self.portal_id)
        timestamp = (request.headers.get("x-hubspot-request-timestamp") or "").strip()
        key = digest(b"hubspot", timestamp.encode(), request.body)
        sent_at = int(timestamp) / 1000 if timestamp.isdigit() else None
        return Reading(changes, [key], sent_at)


def webhook_model() -> type[HubSpotWebhookConfig]:
    """The model of ``webhooks.hubspot:``."""
    return HubSpotWebhookConfig


def receiver(section: HubSpotWebhookConfig, context: WebhookContext) -> WebhookReceiver | None:
    """The receiver of ``webhooks.hubspot:``; None when a problem is recorded in ``context``."""
    secret = context.secret("client_secret", section.client_secret)
    if context.system is None or secret is None:
        return None
    portal = section.portal_id if section.portal_id is not None else _portal(context.settings)
    return HubSpotReceiver(context.system, secret, section.public_url, portal)


def _portal(settings: Mapping[str, Any]) -> int | None:
    value = settings.get("portal_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
