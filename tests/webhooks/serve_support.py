"""A webhook app served by uvicorn on a localhost port, talked to over raw sockets.

For what an HTTP client library will not do: send half a body and hang up, or
send it too slowly. The worker's handler is a recorder (what runs behind the
queue is tested elsewhere); the replay memory is a real store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette

from handoff_hub.connectors.jira.webhooks import JiraReceiver
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.webhooks.app import create_app
from handoff_hub.hub.webhooks.dispatch import DispatchResult
from handoff_hub.hub.webhooks.events import Change
from handoff_hub.hub.webhooks.server import server_config
from handoff_hub.hub.webhooks.settings import WebhookConfig
from handoff_hub.hub.webhooks.worker import Worker
from handoff_hub.sandboxes.kit.server import free_port

JIRA_SECRET = "jira-webhook-secret-0003"


@dataclass
class Recorder:
    """The worker's handler: remembers the changes it was handed."""

    changes: list[Change] = field(default_factory=list)

    def __call__(self, _: Runtime, changes: Sequence[Change]) -> DispatchResult:
        self.changes.extend(changes)
        return DispatchResult("run", "succeeded", {})


@dataclass
class Served:
    """A running app: its port, uvicorn's server (for its connections) and its worker."""

    port: int
    server: uvicorn.Server
    worker: Worker
    handled: Recorder

    def idle(self) -> bool:
        """True when no connection is open and no request is being handled."""
        state = self.server.server_state
        return not state.connections and not state.tasks


def jira_config(**limits: Any) -> WebhookConfig:
    """Jira deliveries only, signed with ``JIRA_SECRET``; ``limits`` override the defaults."""
    return WebhookConfig({"jira": JiraReceiver("pm", SecretStr(JIRA_SECRET))}, **limits)


def store_runtime(store: StateStore) -> Runtime:
    """What the app needs of a runtime when the handler is a recorder: the store."""
    return cast("Runtime", SimpleNamespace(store=store, close=lambda: None))


@contextmanager
def serving(config: WebhookConfig, store: StateStore, **uvicorn_options: Any) -> Iterator[Served]:
    """Serve the app for ``config`` on a free port until the block ends."""
    handled = Recorder()
    worker = Worker(lambda: store_runtime(store), queue_size=10, handle=handled)
    app: Starlette = create_app(lambda: store_runtime(store), config, worker=worker)
    port = free_port()
    options = {"log_config": None, "lifespan": "on", **uvicorn_options}  # log records: caplog
    server = uvicorn.Server(server_config(app, config, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, name="hub-serve-test", daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), "hub serve to start")
    assert server.started, "hub serve did not start"
    try:
        yield Served(port, server, worker, handled)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``check`` until it is truthy (a deadline against hanging, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def jira_delivery(key: str, *, secret: str = JIRA_SECRET) -> tuple[bytes, dict[str, str]]:
    """A Jira ``issue_updated`` delivery signed as Jira signs it (``X-Hub-Signature``)."""
    body = json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_updated",
            "issue": {"id": "10999", "key": key, "fields": {}},
        }
    ).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature": signature}


def request_head(path: str, headers: dict[str, str], *, length: int) -> bytes:
    """A POST request's line and headers, announcing ``length`` body bytes."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(port: int) -> socket.socket:
    """A client socket to the app, with a generous read deadline against hanging."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(60)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = bytearray()
    while chunk := sock.recv(65536):
        received += chunk
    return bytes(received)


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and ``Content-Length`` body), leaving the connection open."""
    received = bytearray()
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536) or pytest.fail(f"closed before the answer: {received!r}")
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536) or pytest.fail("closed before the whole answer")
    return head + b"\r\n\r\n" + body


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """One complete request on its own connection: the status and the answer (JSON if it is)."""
    with connect(port) as sock:
        # One write: a server that answers before reading the body (a 404, a refusal)
        # must not find the body arriving after it closed, which resets the connection.
        head = request_head(path, {**headers, "Connection": "close"}, length=len(body))
        sock.sendall(head + body)
        answer = read_until_closed(sock)
    head, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    is_json = b"content-type: application/json" in head.lower()
    return status, json.loads(payload) if is_json else payload.decode("latin-1")
