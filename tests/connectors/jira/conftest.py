"""Fixtures for the Jira connector and sandbox tests (all in-process)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import rfc3339_validator
from jira_support import BASE_URL, NO_WAIT, SYSTEM, VENDOR, basic
from openapi_core import Config, OpenAPI

from handoff_hub.connectors.jira import JiraConnector
from handoff_hub.hub.config.systems import EnvSecret, RateLimitConfig, SystemConfig
from handoff_hub.hub.http import RetryPolicy
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.kit import SyncASGITransport


@pytest.fixture
def transports() -> Iterator[list[SyncASGITransport]]:
    made: list[SyncASGITransport] = []
    yield made
    for transport in made:
        transport.shutdown()


@pytest.fixture
def sandbox_transport(transports: list[SyncASGITransport]) -> Callable[[JiraSandbox], Any]:
    def make(sandbox: JiraSandbox) -> SyncASGITransport:
        transport = sandbox.transport()
        assert isinstance(transport, SyncASGITransport)
        transports.append(transport)
        return transport

    return make


@pytest.fixture
def system_config(monkeypatch: pytest.MonkeyPatch) -> Callable[..., SystemConfig]:
    def make(
        credentials: dict[str, str],
        settings: dict[str, Any],
        *,
        max_retries: int = 5,
        rate_limit: RateLimitConfig | None = None,
    ) -> SystemConfig:
        refs = {}
        for name, value in credentials.items():
            variable = f"HUB_TEST_JIRA_{name.upper()}"
            monkeypatch.setenv(variable, value)
            refs[name] = EnvSecret(env=variable)
        system = SystemConfig(
            connector="jira",
            base_url=BASE_URL,
            mapping="jira.yaml",
            credentials=refs,
            settings=settings,
            max_retries=max_retries,
            rate_limit=rate_limit or RateLimitConfig(requests=100000, per_seconds=1),
        )
        system.bind_name(SYSTEM)
        return system

    return make


@pytest.fixture
def connect(
    system_config: Callable[..., SystemConfig], sandbox_transport: Callable[..., Any]
) -> Iterator[Callable[..., JiraConnector]]:
    made: list[JiraConnector] = []

    def make(
        sandbox: JiraSandbox,
        *,
        credentials: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = NO_WAIT,
        **options: Any,
    ) -> JiraConnector:
        system = system_config(
            sandbox.credentials if credentials is None else credentials,
            {**sandbox.settings, **(settings or {})},
            **options,
        )
        connector = JiraConnector.from_config(
            system, transport=transport or sandbox_transport(sandbox), retry=retry
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def sandbox() -> JiraSandbox:
    return JiraSandbox(seed=7, records=60)


@pytest.fixture
def connector(sandbox: JiraSandbox, connect: Callable[..., JiraConnector]) -> JiraConnector:
    return connect(sandbox)


@pytest.fixture
def raw_client(
    sandbox: JiraSandbox, sandbox_transport: Callable[..., Any]
) -> Iterator[httpx.Client]:
    """A plain httpx client with valid Basic credentials, for wire-level checks."""
    client = httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": basic(sandbox)},
    )
    yield client
    client.close()


def _jira_datetime(value: Any) -> bool:
    """Jira sends ``+0100`` offsets (no colon), which RFC 3339 spells ``+01:00``."""
    if not isinstance(value, str):
        return True
    return bool(rfc3339_validator.validate_rfc3339(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)))


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    """Atlassian's REST API v3 OpenAPI, loaded once (lazily), served from BASE_URL.

    One deliberate adjustment, where the published file disagrees with the
    wire format: ``date-time`` accepts Jira's ``+0100`` offsets.
    """
    spec = json.loads((VENDOR / "swagger-v3.v3.json").read_text())
    spec["servers"] = [{"url": BASE_URL}]
    config = Config(spec_validator_cls=None, extra_format_validators={"date-time": _jira_datetime})
    return OpenAPI.from_dict(spec, config=config)
