"""Webhook signatures of HubSpot (v3), Jira Cloud and Asana, checked as the vendors document.

Every function is pure: it takes the secret, what arrived and the current
time, and returns None when the delivery is authentic (and fresh), else the
reason. A reason never holds a secret or a signature, so it may be logged
and answered.

* HubSpot v3: ``X-HubSpot-Signature-v3`` is base64(HMAC-SHA256(client secret,
  method + URI + body + timestamp)); ``X-HubSpot-Request-Timestamp`` is in ms.
* Jira Cloud (webhooks with a secret): ``X-Hub-Signature: sha256=<hex
  HMAC-SHA256(secret, body)>``; the body's ``timestamp`` is in ms.
* Asana: ``X-Hook-Signature`` is hex HMAC-SHA256(the handshake's secret, body).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from typing import Any

__all__ = [
    "asana_signature",
    "check_freshness",
    "hubspot_uri",
    "hubspot_v3_signature",
    "jira_signature",
    "parse_event_time",
    "verify_asana",
    "verify_hubspot_v3",
    "verify_jira",
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
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def hubspot_uri(base_url: str, raw_path: str, query: str = "") -> str:
    """The URI as HubSpot signs it: base URL + path (+ ``?query``), HubSpot's escapes decoded."""
    uri = base_url.rstrip("/") + raw_path + (f"?{query}" if query else "")
    return _HUBSPOT_ESCAPE.sub(lambda m: _HUBSPOT_DECODED[m.group(0).upper()], uri)


def hubspot_v3_signature(
    client_secret: str, method: str, uri: str, body: bytes, timestamp: str
) -> str:
    """The ``X-HubSpot-Signature-v3`` HubSpot sends for this request."""
    message = method.upper().encode("ascii") + uri.encode("utf-8") + body + timestamp.encode()
    return base64.b64encode(_mac(client_secret, message)).decode("ascii")


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
    return None if _same(expected, signature.strip()) else "signature does not match"


def jira_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` Jira sends with a body (``sha256=<hex>``)."""
    return "sha256=" + _mac(secret, body).hex()


def verify_jira(*, secret: str, body: bytes, signature: str | None) -> str | None:
    """None when ``X-Hub-Signature`` is the HMAC-SHA256 of ``body`` with the webhook's secret."""
    if not signature:
        return "missing X-Hub-Signature"
    method, _, digest = signature.strip().partition("=")
    if method.strip().lower() != "sha256":
        return "X-Hub-Signature is not sha256=<hex>"
    if not _HEX.match(digest.strip()):
        return "X-Hub-Signature is not sha256=<hex>"
    expected = _mac(secret, body).hex()
    return None if _same(expected, digest.strip().lower()) else "signature does not match"


def asana_signature(secret: str, body: bytes) -> str:
    """The ``X-Hook-Signature`` Asana sends with a body (hex)."""
    return _mac(secret, body).hex()


def verify_asana(*, secret: str, body: bytes, signature: str | None) -> str | None:
    """None when ``X-Hook-Signature`` is the HMAC-SHA256 of ``body`` with the handshake secret."""
    if not signature:
        return "missing X-Hook-Signature"
    if not _HEX.match(signature.strip()):
        return "X-Hook-Signature is not a hex HMAC-SHA256"
    expected = asana_signature(secret, body)
    return None if _same(expected, signature.strip().lower()) else "signature does not match"


def check_freshness(sent_at: float | None, now: float, window: float) -> str | None:
    """None when ``sent_at`` (epoch seconds) is within ``window`` of ``now``, either side.

    The future side tolerates the sender's clock running ahead by as much.
    """
    if sent_at is None:
        return "the delivery carries no time"
    if now - sent_at > window:
        return f"the delivery is older than {window:g} s"
    if sent_at - now > window:
        return f"the delivery is dated more than {window:g} s ahead"
    return None


def parse_event_time(value: Any) -> float | None:
    """Epoch seconds from ms since the epoch (Jira, HubSpot) or ISO 8601 (Asana); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return int(text) / 1000
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.timestamp()
    return None
