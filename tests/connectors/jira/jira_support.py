"""Helpers shared by the Jira tests (imported by name; not a test module)."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import httpx

from handoff_hub.hub.connector import NewProject, ProjectTemplate, TemplateTask
from handoff_hub.hub.http import RetryPolicy

VENDOR = Path(__file__).resolve().parents[2] / "vendor-specs" / "jira"
BASE_URL = "https://acme.atlassian.net"
SYSTEM = "pm"
NO_WAIT = RetryPolicy(max_attempts=6, sleep=lambda _seconds: None)

TEMPLATE = ProjectTemplate(
    name="standard-delivery",
    tasks=(
        TemplateTask("Kick-off", "Meet the customer", due_offset_days=2),
        TemplateTask("Prepare agenda", parent="Kick-off", due_offset_days=1),
        TemplateTask("Send invites", parent="Kick-off"),
        TemplateTask("Solution design", due_offset_days=14),
        TemplateTask("Review design", parent="Solution design", due_offset_days=12),
        TemplateTask("Go-live", due_offset_days=60),
    ),
)


def new_project(source_id: str = "salesforce:006Dn000004AbCdIAK", **changes: object) -> NewProject:
    values: dict[str, object] = {
        "source_id": source_id,
        "name": "Acme Industries - Platform rollout",
        "fields": {
            "customfield_10050": 125000.0,
            "customfield_10051": "Acme Industries",
            "description": "Delivery project for the won deal.\n\nCRM record: https://x",
        },
        "template": TEMPLATE,
        "start": dt.date(2026, 12, 1),
        "manager_id": None,
    }
    values.update(changes)
    return NewProject(**values)  # type: ignore[arg-type]


class RecordingTransport(httpx.BaseTransport):
    """Passes requests on and remembers each request with its response."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r, _ in self.exchanges if method in (None, r.method)]


class _AfterNth(httpx.BaseTransport):
    """Lets the product act on the n-th request to ``path``, then loses its answer."""

    def __init__(self, inner: httpx.BaseTransport, path: str, nth: int) -> None:
        self.inner, self.path, self.nth, self.seen = inner, path, nth, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            self.seen += 1
            if self.seen == self.nth:
                return self.instead(request)
        return response

    def instead(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError


class CrashAfter(_AfterNth):
    """Lets the product act on the n-th request to ``path`` and then cuts the connection."""

    def instead(self, request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("connection dropped", request=request)


class TimeoutAfter(_AfterNth):
    """Lets the product act on the n-th request to ``path``, then times out instead of answering."""

    def instead(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)


class AnswerAfter(_AfterNth):
    """Lets the product act on the n-th request to ``path``, then answers ``status`` instead."""

    def __init__(self, inner: httpx.BaseTransport, path: str, nth: int, status: int = 500):
        super().__init__(inner, path, nth)
        self.status = status

    def instead(self, request: httpx.Request) -> httpx.Response:
        body = {"errorMessages": ["Internal server error"], "errors": {}}
        return httpx.Response(self.status, json=body, request=request)


def basic(sandbox: Any) -> str:
    """The Authorization header value of the sandbox's valid credentials."""
    creds = sandbox.credentials
    return "Basic " + base64.b64encode(f"{creds['email']}:{creds['api_token']}".encode()).decode()
