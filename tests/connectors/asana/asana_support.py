"""Helpers shared by the Asana tests (imported by name; not a test module)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from handoff_hub.hub.connector import NewProject, ProjectTemplate, TemplateTask
from handoff_hub.hub.http import RetryPolicy

VENDOR = Path(__file__).resolve().parents[2] / "vendor-specs" / "asana"
BASE_URL = "https://app.asana.com"
API = "/api/1.0"
SYSTEM = "pm"
NO_WAIT = RetryPolicy(max_attempts=6, sleep=lambda _seconds: None)
PROJECT = "1209000000000301"
"""The first seeded delivery project."""

TEMPLATE = ProjectTemplate(
    name="standard-delivery",
    tasks=(
        TemplateTask("Kick-off", "Meet the customer", due_offset_days=2),
        TemplateTask("Prepare agenda", parent="Kick-off", due_offset_days=1),
        TemplateTask("Send invites", parent="Kick-off"),
        TemplateTask("Book the room", parent="Send invites"),
        TemplateTask("Solution design", due_offset_days=14),
        TemplateTask("Review design", parent="Solution design", due_offset_days=12),
        TemplateTask("Go-live", due_offset_days=60),
    ),
)
EXPECTED_TREE = {
    "Kick-off": {"Prepare agenda": {}, "Send invites": {"Book the room": {}}},
    "Solution design": {"Review design": {}},
    "Go-live": {},
}


def new_project(source_id: str = "salesforce:006Dn000004AbCdIAK", **changes: object) -> NewProject:
    """A NewProject shaped as won-to-project builds it from mappings/asana.yaml."""
    values: dict[str, object] = {
        "source_id": source_id,
        "name": "Acme Industries - Platform rollout",
        "fields": {
            "name": "Acme Industries - Platform rollout",
            "notes": "Delivery project for the won deal.\n\nCRM record: https://x",
            "due_on": "2027-01-30",
            "custom_fields": {"budget": 125000.0, "customer": "Acme Industries"},
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


class CrashAfter(httpx.BaseTransport):
    """Lets the product act on the n-th request to ``path`` and then cuts the connection."""

    def __init__(self, inner: httpx.BaseTransport, path: str, nth: int) -> None:
        self.inner, self.path, self.nth, self.seen = inner, path, nth, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            self.seen += 1
            if self.seen == self.nth:
                raise httpx.RemoteProtocolError("connection dropped", request=request)
        return response


class AnswerAfter(httpx.BaseTransport):
    """Lets the product act on the n-th request to ``path``, then answers ``status`` instead."""

    def __init__(self, inner: httpx.BaseTransport, path: str, nth: int, status: int = 500):
        self.inner, self.path, self.nth, self.status, self.seen = inner, path, nth, status, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            self.seen += 1
            if self.seen == self.nth:
                body = {"errors": [{"message": "Server Error", "phrase": "6 sad squid"}]}
                return httpx.Response(self.status, json=body, request=request)
        return response


class TimeoutAfter(httpx.BaseTransport):
    """Lets the product act on the n-th request to ``path``, then times out instead of answering."""

    def __init__(self, inner: httpx.BaseTransport, path: str, nth: int) -> None:
        self.inner, self.path, self.nth, self.seen = inner, path, nth, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            self.seen += 1
            if self.seen == self.nth:
                raise httpx.ReadTimeout("no answer", request=request)
        return response
