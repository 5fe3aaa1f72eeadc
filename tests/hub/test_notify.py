from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from handoff_hub.hub.notify import Notifier


def test_without_urls_the_message_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hub.notify"):
        delivery = Notifier([]).send("New project", "DEL-1 created")
    assert delivery.delivered and delivery.channel == "log"
    assert "DEL-1 created" in caplog.text


def test_unsupported_url_is_reported_not_raised_and_redacted() -> None:
    delivery = Notifier(["nosuchscheme://token-abcdef123456@host"]).send("t", "b")
    assert not delivery.delivered
    assert "token-abcdef123456" not in delivery.detail


def test_unreachable_target_fails_softly() -> None:
    delivery = Notifier(["json://127.0.0.1:9/hook"]).send("t", "b")
    assert not delivery.delivered


def test_one_bad_url_never_keeps_the_message_from_the_others() -> None:
    """A misspelt scheme and a dead host fail alone; the good URL still gets the message."""
    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        urls = [
            "slakc://T0000/B0000/secret-token-xyz",
            "json://127.0.0.1:9/hook?token=secret-query",
            f"json://127.0.0.1:{server.server_port}/hook",
        ]
        delivery = Notifier(urls).send("New project", "DEL-1 created")
    finally:
        server.shutdown()
    assert len(received) == 1 and b"DEL-1 created" in received[0]
    assert not delivery.delivered
    assert "slakc://t0000/***: unsupported notification URL" in delivery.detail
    assert "json://127.0.0.1/***: delivery failed" in delivery.detail
    assert "secret-token-xyz" not in delivery.detail and "secret-query" not in delivery.detail


def test_shown_url_keeps_scheme_and_host_only() -> None:
    from handoff_hub.hub.notify import shown_url

    shown = shown_url("mailto://user:pass@mail.example.com?to=a@b.c")
    assert shown == "mailto://mail.example.com/***"
    assert shown_url("not a url") == "***"
