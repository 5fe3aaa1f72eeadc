"""Jira Cloud webhooks with a secret: their ``webhooks.jira:`` section, check and reading.

``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>``; the body's
``timestamp`` (ms) must lie within the replay window. An event naming an
``issue`` gives its key (Epic, task, risk or feedback alike: the dispatcher
finds out which); deletions are ignored. A delivery is known by its body and
by ``X-Atlassian-Webhook-Identifier`` (which Jira keeps across retries).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from handoff_hub.hub.config.systems import EnvSecret
from handoff_hub.hub.config.webhooks import ProductWebhookConfig
from handoff_hub.hub.webhooks.events import Change, PayloadError, json_payload
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
)

__all__ = [
    "JiraReceiver",
    "JiraWebhookConfig",
    "jira_changes",
    "jira_signature",
    "receiver",
    "verify_jira",
    "webhook_model",
]

_IGNORED = frozenset({"jira:issue_deleted"})


class JiraWebhookConfig(ProductWebhookConfig):
    """Jira Cloud webhooks with a secret (X-Hub-Signature), received at ``/webhooks/jira``."""

    secret: EnvSecret = Field(description="{env: VAR} holding the webhook's secret")


def jira_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` Jira sends with a body (``sha256=<hex>``)."""
    return "sha256=" + hmac_sha256(secret, body).hex()


def verify_jira(*, secret: str, body: bytes, signature: str | None) -> str | None:
    """None when ``X-Hub-Signature`` is the HMAC-SHA256 of ``body`` with the webhook's secret."""
    if not signature:
        return "missing X-Hub-Signature"
    method, _, given = signature.strip().partition("=")
    if method.strip().lower() != "sha256":
        return "X-Hub-Signature is not sha256=<hex>"
    if not HEX_SHA256.match(given.strip()):
        return "X-Hub-Signature is not sha256=<hex>"
    expected = hmac_sha256(secret, body).hex()
    return None if same_signature(expected, given.strip().lower()) else "signature does not match"


def jira_changes(payload: Any, *, system: str) -> list[Change]:
    """The issue key of a Jira delivery, if it is about an issue that still exists."""
    if not isinstance(payload, Mapping):
        raise PayloadError("a Jira delivery is a JSON object")
    if payload.get("webhookEvent") in _IGNORED:
        return []
    issue = payload.get("issue")
    if not isinstance(issue, Mapping):
        return []
    key = issue.get("key") or issue.get("id")
    if not isinstance(key, str | int) or not str(key).strip():
        return []
    return [Change(system, str(key).strip(), "issue")]


@dataclass(frozen=True)
class JiraReceiver:
    """Jira deliveries: about ``system``, signed with the webhook's secret."""

    system: str
    secret: SecretStr
    names: ClassVar[frozenset[str] | None] = None
    accept_status: ClassVar[int] = 202

    def handshake(self, request: WebhookRequest) -> Answer | None:
        """Jira has none."""
        return None

    def verify(self, request: WebhookRequest, *, now: float, window: float) -> str | None:
        """The signature (the time is in the body: checked once it is read)."""
        return verify_jira(
            secret=self.secret.get_secret_value(),
            body=request.body,
            signature=request.headers.get("x-hub-signature"),
        )

    def read(self, request: WebhookRequest) -> Reading:
        """The issue's key, the body's time, and the keys of the body and delivery id."""
        payload = json_payload(request.body)
        changes = jira_changes(payload, system=self.system)
        keys = [digest(b"jira", request.body)]
        if identifier := request.headers.get("x-atlassian-webhook-identifier"):
            keys.append(digest(b"jira-id", identifier.strip().encode()))
        return Reading(changes, keys, parse_event_time(payload.get("timestamp")))


def webhook_model() -> type[JiraWebhookConfig]:
    """The model of ``webhooks.jira:``."""
    return JiraWebhookConfig


def receiver(section: JiraWebhookConfig, context: WebhookContext) -> WebhookReceiver | None:
    """The receiver of ``webhooks.jira:``; None when a problem is recorded in ``context``."""
    secret = context.secret("secret", section.secret)
    if context.system is None or secret is None:
        return None
    return JiraReceiver(context.system, secret)
