"""Secrets never reach a message or a log line: registered values and credential patterns."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest

from handoff_hub.hub.http.redact import RedactingFilter, install_redaction, redact, register_secret


def test_registered_secret_is_masked_everywhere_it_appears() -> None:
    register_secret("sk-live-4f3e2d1c")

    assert redact("key sk-live-4f3e2d1c and again sk-live-4f3e2d1c.") == "key *** and again ***."


def test_longer_secret_is_masked_before_its_prefix() -> None:
    register_secret("abcd-1234")
    register_secret("abcd-1234-efgh-5678")

    assert redact("x abcd-1234-efgh-5678 y abcd-1234") == "x *** y ***"


def test_too_short_values_are_not_registered() -> None:
    register_secret("abc")  # would mask every "abc" in every message

    assert redact("abc abcdef") == "abc abcdef"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi", "Authorization: ***"),
        ("authorization: basic dXNlcjp0b2tlbg==", "dXNlcjp0b2tlbg", "authorization: ***"),
        ("{'Authorization': 'Bearer 00Dxx!AQ4AQ.token'}", "00Dxx", "{'Authorization': '***'}"),
        ('{"authorization": "Basic dXNlcjp0b2tlbg=="}', "dXNlcjp0", '{"authorization": "***"}'),
        ("Authorization: pat-na1-raw-key", "pat-na1", "Authorization: ***"),
        ("GET /x?access_token=at-123&limit=5", "at-123", "access_token=***&limit=5"),
        (
            '{"access_token": "at-456", "instance_url": "https://x"}',
            "at-456",
            '"access_token": "***", "instance_url": "https://x"',
        ),
        ("refresh_token=rt-789 grant", "rt-789", "refresh_token=*** grant"),
        ("client_secret: cs-000", "cs-000", "client_secret: ***"),
        ("'api_token': 'jira-111'", "jira-111", "'api_token': '***'"),
        ("password=hunter22", "hunter22", "password=***"),
        ("ACCESS_TOKEN=at-upper-1", "at-upper-1", "ACCESS_TOKEN=***"),
        ("curl -H 'x' sent Bearer 0123456789abcdefXYZ!", "0123456789abcdef", "sent Bearer ***"),
    ],
)
def test_credential_patterns_are_masked(text: str, secret: str, kept: str) -> None:
    cleaned = redact(text)

    assert secret not in cleaned
    assert kept in cleaned


@pytest.mark.parametrize(
    "text",
    [
        "the Authorization header was missing",
        "a basic idea of the bearer of bad news",
        "token expired; check systems.crm.credentials",
        "Name = 'O''Brien'",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


# --- logging -----------------------------------------------------------------------------------


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    log = logging.getLogger(f"test.redact.{uuid.uuid4().hex}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    yield log, out
    log.removeHandler(handler)


def test_filter_masks_secrets_in_messages_and_args(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = logger
    register_secret("sk-log-secret-42")
    install_redaction(log)

    log.info("calling with %s", "sk-log-secret-42")
    log.warning("header Authorization: Bearer %s", "not-registered-token-9")
    log.info("plain %d", 7)

    lines = out.getvalue().splitlines()
    assert lines == ["INFO calling with ***", "WARNING header Authorization: ***", "INFO plain 7"]


def test_filter_masks_secrets_in_tracebacks(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, out = logger
    register_secret("sk-trace-secret-77")
    install_redaction(log)

    try:
        raise RuntimeError("token sk-trace-secret-77 refused")
    except RuntimeError:
        log.exception("call failed")

    text = out.getvalue()
    assert "sk-trace-secret-77" not in text
    assert "RuntimeError: token *** refused" in text


def test_child_logger_records_are_masked_by_the_handler_filter(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, out = logger
    register_secret("sk-child-secret-55")
    install_redaction(log)

    child = logging.getLogger(log.name + ".hub.http")  # filters on `log` do not see these
    child.warning("retrying with sk-child-secret-55")

    assert out.getvalue() == "WARNING retrying with ***\n"


def test_install_redaction_is_idempotent(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, _ = logger

    install_redaction(log)
    install_redaction(log)

    assert sum(isinstance(f, RedactingFilter) for f in log.filters) == 1
    assert sum(isinstance(f, RedactingFilter) for f in log.handlers[0].filters) == 1


def test_filter_never_drops_a_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)

    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "hello world"
