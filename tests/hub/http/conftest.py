"""Fixtures for the HTTP toolkit tests."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from http_fakes import FakeApi, FakeClock

# ``hub.http.redact`` the attribute is the function re-exported by the package.
redact_module = importlib.import_module("handoff_hub.hub.http.redact")


@pytest.fixture(autouse=True)
def _isolated_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers secrets into its own registry, so none leak into other tests."""
    monkeypatch.setattr(redact_module, "_secrets", set())


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A strict router; the test fails if a registered response is left unrequested."""
    api = FakeApi()
    yield api
    api.verify()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
