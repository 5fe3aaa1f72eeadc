from __future__ import annotations

import logging

import pytest

from hub.notify import Notifier


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
