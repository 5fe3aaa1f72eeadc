"""Helpers shared by the Salesforce tests (imported by name; not a test module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from handoff_hub.hub.http import RetryPolicy

VENDOR = Path(__file__).resolve().parents[2] / "vendor-specs" / "salesforce"
BASE_URL = "https://acme.my.salesforce.com"
SYSTEM = "crm"
NO_WAIT = RetryPolicy(max_attempts=6, sleep=lambda _seconds: None)


class RecordingTransport(httpx.BaseTransport):
    """Passes requests on and remembers them (URL, headers) for assertions."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def vendor_json(relative: str) -> Any:
    return json.loads((VENDOR / relative).read_text())
