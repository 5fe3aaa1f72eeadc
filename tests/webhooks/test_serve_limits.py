"""``hub serve`` against clients that hang up mid-body or send it too slowly."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_support import (
    JIRA_SECRET,
    connect,
    jira_config,
    jira_delivery,
    post,
    request_head,
    serving,
    wait_for,
)

from hub.store import StateStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def _served_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("hub.webhooks", "uvicorn"))]


def test_a_client_that_drops_mid_body_costs_one_log_line_and_no_traceback(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, headers = jira_delivery("DEL-7")
    clients = 5
    with serving(jira_config(), store) as served:
        for _ in range(clients):
            with connect(served.port) as sock:
                sock.sendall(request_head("/webhooks/jira", headers, length=len(body)))
                sock.sendall(body[: len(body) // 2])

        def noticed() -> bool:
            done = [r for r in _served_records(caplog) if r.levelno >= logging.WARNING]
            return len(done) >= clients and served.idle()

        wait_for(noticed, "the server to notice the dropped clients")
        # The server is free: a whole delivery still goes through.
        status, answer = post(served.port, "/webhooks/jira", body, headers)
        assert status == 202, answer
        assert served.worker.wait_idle(30)
        assert [c.record_id for c in served.handled.changes] == ["DEL-7"]

    records = _served_records(caplog)
    assert [r for r in records if r.exc_info] == [], "no traceback"
    dropped = [r for r in records if "dropped" in r.getMessage()]
    assert len(dropped) == clients, [r.getMessage() for r in records]
    for record in dropped:
        message = record.getMessage()
        assert "\n" not in message and "jira" in message and "127.0.0.1" in message
        assert "DEL-7" not in message, "no body"
        assert headers["X-Hub-Signature"] not in message and JIRA_SECRET not in message
