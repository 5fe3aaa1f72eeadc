"""Fixtures for the HubSpot connector and sandbox tests (all in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hubspot_support import BASE_URL, NO_WAIT, SYSTEM

from handoff_hub.connectors.hubspot import HubSpotConnector
from handoff_hub.hub.config.systems import EnvSecret, SystemConfig
from handoff_hub.hub.http import RetryPolicy, TokenBucket
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.kit import SyncASGITransport

FAST = {"search_lag_seconds": 0, "search_requests_per_second": 10_000}
"""Tests read their own writes at once and never wait for the search budget."""


@pytest.fixture
def transports() -> Iterator[list[SyncASGITransport]]:
    made: list[SyncASGITransport] = []
    yield made
    for transport in made:
        transport.shutdown()


@pytest.fixture
def sandbox_transport(transports: list[SyncASGITransport]) -> Callable[[HubSpotSandbox], Any]:
    def make(sandbox: HubSpotSandbox) -> SyncASGITransport:
        transport = sandbox.transport()
        assert isinstance(transport, SyncASGITransport)
        transports.append(transport)
        return transport

    return make


@pytest.fixture
def system_config(monkeypatch: pytest.MonkeyPatch) -> Callable[..., SystemConfig]:
    def make(credentials: dict[str, str], settings: dict[str, Any]) -> SystemConfig:
        refs = {}
        for name, value in credentials.items():
            variable = f"HUB_TEST_HS_{name.upper()}"
            monkeypatch.setenv(variable, value)
            refs[name] = EnvSecret(env=variable)
        system = SystemConfig(
            connector="hubspot",
            base_url=BASE_URL,
            mapping="hubspot.yaml",
            credentials=refs,
            settings=settings,
        )
        system.bind_name(SYSTEM)
        return system

    return make


@pytest.fixture
def limiter_sleeps() -> list[float]:
    """Waits the connector's request limiter asked for (none are really slept)."""
    return []


@pytest.fixture
def connect(
    system_config: Callable[..., SystemConfig],
    sandbox_transport: Callable[..., Any],
    limiter_sleeps: list[float],
) -> Callable[..., HubSpotConnector]:
    def make(
        sandbox: HubSpotSandbox,
        *,
        credentials: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = NO_WAIT,
        **kwargs: Any,
    ) -> HubSpotConnector:
        system = system_config(
            sandbox.credentials if credentials is None else credentials,
            {**sandbox.settings, **FAST, **(settings or {})},
        )
        limiter = TokenBucket(requests=100_000, per_seconds=1, sleep=limiter_sleeps.append)
        return HubSpotConnector.from_config(
            system,
            transport=transport or sandbox_transport(sandbox),
            retry=retry,
            limiter=kwargs.pop("limiter", limiter),
            **kwargs,
        )

    return make


@pytest.fixture
def sandbox() -> HubSpotSandbox:
    return HubSpotSandbox(seed=7, records=60, rate_limit=RateLimits.generous())


@pytest.fixture
def connector(
    sandbox: HubSpotSandbox, connect: Callable[..., HubSpotConnector]
) -> Iterator[HubSpotConnector]:
    made = connect(sandbox)
    yield made
    made.close()


@pytest.fixture
def raw_client(
    sandbox: HubSpotSandbox, sandbox_transport: Callable[..., Any]
) -> Iterator[httpx.Client]:
    """A plain httpx client with the private-app token, for wire-level checks."""
    client = httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    )
    yield client
    client.close()
