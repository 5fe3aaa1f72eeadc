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
    read_answer,
    read_until_closed,
    request_head,
    serving,
    wait_for,
)

from handoff_hub.hub.store import StateStore


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


def _status_and_headers(answer: bytes) -> tuple[int, str]:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1")
    return int(head.split(" ", 2)[1]), head.lower()


def test_a_slow_body_is_answered_408_and_frees_its_connection(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, headers = jira_delivery("DEL-8")
    slow = 20
    with serving(jira_config(body_timeout=1.0), store) as served:
        sockets = [connect(served.port) for _ in range(slow)]
        try:
            for sock in sockets:
                sock.sendall(request_head("/webhooks/jira", headers, length=len(body)))
                sock.sendall(body[:10])  # and the rest never comes
            answers = [read_until_closed(sock) for sock in sockets]
        finally:
            for sock in sockets:
                sock.close()
        for answer in answers:
            status, head = _status_and_headers(answer)
            assert status == 408 and "connection: close" in head, answer
        wait_for(served.idle, "the slow clients' connections to be released")
        status, _ = post(served.port, "/webhooks/jira", body, headers)
        assert status == 202, "the queue and the server are free for a whole delivery"
        assert served.worker.wait_idle(30)
        assert [c.record_id for c in served.handled.changes] == ["DEL-8"]
    records = _served_records(caplog)
    assert [r for r in records if r.exc_info] == []
    late = [r.getMessage() for r in records if "body took over 1 s" in r.getMessage()]
    assert len(late) == slow and all("10 bytes came" in m for m in late), late


def test_a_too_large_body_is_answered_413_and_its_connection_closed(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, headers = jira_delivery("DEL-9")
    with serving(jira_config(max_body_bytes=100), store) as served:
        with connect(served.port) as sock:  # announced too large: refused before it comes
            sock.sendall(request_head("/webhooks/jira", headers, length=10_000))
            announced = read_until_closed(sock)
        with connect(served.port) as sock:  # chunked, found too large on the way
            chunked = {**headers, "Transfer-Encoding": "chunked"}
            start = request_head("/webhooks/jira", chunked, length=0)
            start = start.replace(b"Content-Length: 0\r\n", b"")
            sock.sendall(start + f"{len(body):x}\r\n".encode() + body + b"\r\n")
            streamed = read_until_closed(sock)
        wait_for(served.idle, "the connections to be released")
    for answer in (announced, streamed):
        status, answer_head = _status_and_headers(answer)
        assert status == 413 and "connection: close" in answer_head, answer
    refused = [r.getMessage() for r in _served_records(caplog) if "refused" in r.getMessage()]
    assert refused == ["webhook: jira delivery from 127.0.0.1 refused: larger than 100 bytes"] * 2


def test_a_connection_whose_request_head_is_late_is_closed(
    store: StateStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, headers = jira_delivery("DEL-10")
    with serving(jira_config(head_timeout=0.5), store) as served:
        silent = connect(served.port)  # sends nothing at all
        trickling = connect(served.port)
        kept_alive = connect(served.port)
        try:
            trickling.sendall(b"POST /webhooks/jira HTTP/1.1\r\nHost: 127.0")  # and no more
            kept_alive.sendall(request_head("/webhooks/jira", headers, length=len(body)) + body)
            answered = read_answer(kept_alive)  # then this connection idles
            assert b" 202 " in answered.split(b"\r\n", 1)[0], answered
            assert [read_until_closed(s) for s in (silent, trickling)] == [b"", b""]
            assert read_until_closed(kept_alive) == b""
        finally:
            for sock in (silent, trickling, kept_alive):
                sock.close()
        wait_for(served.idle, "the connections to be released")
    late = [
        r.getMessage() for r in _served_records(caplog) if "no request within" in r.getMessage()
    ]
    assert late == ["webhook: connection from 127.0.0.1 closed: no request within 0.5 s"] * 3


def test_past_max_connections_a_request_is_answered_503_at_once(store: StateStore) -> None:
    body, headers = jira_delivery("DEL-11")
    with serving(jira_config(max_connections=3), store) as served:
        held = [connect(served.port) for _ in range(3)]
        try:
            wait_for(lambda: len(served.server.server_state.connections) == 3, "3 connections")
            status, _ = post(served.port, "/webhooks/jira", body, headers)
            assert status == 503
        finally:
            for sock in held:
                sock.close()
        wait_for(served.idle, "the held connections to be released")
        status, _ = post(served.port, "/webhooks/jira", body, headers)
        assert status == 202
