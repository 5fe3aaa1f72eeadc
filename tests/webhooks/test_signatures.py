"""Signature, freshness and replay checks, against signatures computed here by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from handoff_hub.connectors.asana.webhooks import verify_asana
from handoff_hub.connectors.hubspot.webhooks import hubspot_uri, verify_hubspot_v3
from handoff_hub.connectors.jira.webhooks import verify_jira
from handoff_hub.hub.webhooks.signatures import check_freshness, parse_event_time

SECRET = "app-client-secret-7f3a"
NOW = 1_750_000_000.0
BODY = b'[{"eventId":1,"subscriptionType":"deal.propertyChange","objectId":42}]'
URI = "https://hub.example.com/webhooks/hubspot"


def _hubspot_sig(secret: str, uri: str, body: bytes, timestamp: str, method: str = "POST") -> str:
    mac = hmac.new(secret.encode(), f"{method}{uri}".encode() + body + timestamp.encode(), "sha256")
    return base64.b64encode(mac.digest()).decode()


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _hubspot(**changes: object) -> str | None:
    timestamp = str(int(NOW * 1000) - 1000)
    args: dict[str, object] = {
        "client_secret": SECRET,
        "method": "POST",
        "uri": URI,
        "body": BODY,
        "signature": _hubspot_sig(SECRET, URI, BODY, timestamp),
        "timestamp": timestamp,
        "now": NOW,
    }
    args.update(changes)
    return verify_hubspot_v3(**args)  # type: ignore[arg-type]


def test_hubspot_v3_accepts_a_valid_delivery() -> None:
    assert _hubspot() is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"signature": base64.b64encode(b"x" * 32).decode()}, "does not match"),
        ({"client_secret": "another-secret"}, "does not match"),
        ({"body": BODY.replace(b"42", b"43")}, "does not match"),
        ({"uri": URI + "?portal=1"}, "does not match"),
        ({"method": "PUT"}, "does not match"),
        ({"signature": None}, "missing X-HubSpot-Signature-v3"),
        ({"timestamp": None}, "missing X-HubSpot-Request-Timestamp"),
        ({"timestamp": "yesterday"}, "not a time"),
    ],
)
def test_hubspot_v3_refuses_forged_or_tampered(changes: dict[str, object], reason: str) -> None:
    found = _hubspot(**changes)
    assert found is not None and reason in found


def test_hubspot_v3_refuses_a_stale_timestamp_even_when_signed() -> None:
    old = str(int((NOW - 301) * 1000))
    signed = _hubspot_sig(SECRET, URI, BODY, old)
    found = _hubspot(timestamp=old, signature=signed)
    assert found is not None and "older than 300 s" in found
    early = str(int((NOW + 301) * 1000))
    found = _hubspot(timestamp=early, signature=_hubspot_sig(SECRET, URI, BODY, early))
    assert found is not None and "ahead" in found
    recent = str(int((NOW - 299) * 1000))
    assert _hubspot(timestamp=recent, signature=_hubspot_sig(SECRET, URI, BODY, recent)) is None


def test_hubspot_uri_decodes_exactly_hubspots_escapes() -> None:
    uri = hubspot_uri("https://hub.example.com/", "/webhooks/hubspot", "a=%3A%2F%3f%40%21%24")
    assert uri == "https://hub.example.com/webhooks/hubspot?a=:/?@!$"
    kept = hubspot_uri("https://h", "/p", "b=%27%28%29%2A%2C%3B%20%26%3D")
    assert kept == "https://h/p?b='()*,;%20%26%3D"  # space, & and = stay encoded
    assert hubspot_uri("http://127.0.0.1:8000", "/webhooks/hubspot") == (
        "http://127.0.0.1:8000/webhooks/hubspot"
    )


def test_jira_websub_signature() -> None:
    body = b'{"timestamp": 1, "webhookEvent": "jira:issue_updated"}'
    good = "sha256=" + _hex("jira-secret", body)
    assert verify_jira(secret="jira-secret", body=body, signature=good) is None
    assert verify_jira(secret="jira-secret", body=body, signature=good.upper()) is None
    for bad, reason in [
        ("sha256=" + _hex("other", body), "does not match"),
        ("sha256=" + _hex("jira-secret", body + b" "), "does not match"),
        ("sha1=" + _hex("jira-secret", body), "not sha256"),
        ("sha256=zz", "not sha256"),
        (None, "missing"),
    ]:
        found = verify_jira(secret="jira-secret", body=body, signature=bad)
        assert found is not None and reason in found, bad
    tampered = verify_jira(secret="jira-secret", body=body.replace(b"1", b"2"), signature=good)
    assert tampered == "signature does not match"


def test_asana_signature() -> None:
    body = b'{"events": [{"action": "changed"}]}'
    good = _hex("hook-secret", body)
    assert verify_asana(secret="hook-secret", body=body, signature=good) is None
    assert verify_asana(secret="hook-secret", body=body + b"\n", signature=good) is not None
    assert verify_asana(secret="other", body=body, signature=good) == "signature does not match"
    assert verify_asana(secret="hook-secret", body=body, signature=None) is not None
    assert verify_asana(secret="hook-secret", body=body, signature="é" * 64) is not None


def test_reasons_never_show_the_secret_or_the_signature() -> None:
    sig = _hex("s3cret-value", b"x")
    reasons = [
        verify_asana(secret="s3cret-value", body=b"y", signature=sig),
        verify_jira(secret="s3cret-value", body=b"y", signature=f"sha256={sig}"),
        _hubspot(client_secret="s3cret-value"),
    ]
    for reason in reasons:
        assert reason is not None and "s3cret" not in reason and sig not in reason


def test_freshness_and_event_times() -> None:
    assert check_freshness(NOW - 10, NOW, 300) is None
    assert check_freshness(None, NOW, 300) == "the delivery carries no time"
    assert "older" in (check_freshness(NOW - 400, NOW, 300) or "")
    assert parse_event_time(1_750_000_000_000) == 1_750_000_000.0
    assert parse_event_time("1750000000000") == 1_750_000_000.0
    assert parse_event_time("2025-06-15T15:06:40.000Z") == 1_750_000_000.0
    assert parse_event_time("not a time") is None and parse_event_time(True) is None
