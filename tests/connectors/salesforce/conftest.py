"""Fixtures for the Salesforce connector and sandbox tests (all in-process)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import rfc3339_validator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openapi_core import Config, OpenAPI
from salesforce_support import BASE_URL, NO_WAIT, SYSTEM, VENDOR

from handoff_hub.connectors.salesforce import SalesforceConnector
from handoff_hub.hub.config.systems import EnvSecret, RateLimitConfig, SystemConfig
from handoff_hub.hub.http import RetryPolicy
from handoff_hub.sandboxes.kit import SyncASGITransport
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox


@pytest.fixture
def transports() -> Iterator[list[SyncASGITransport]]:
    made: list[SyncASGITransport] = []
    yield made
    for transport in made:
        transport.shutdown()


@pytest.fixture
def sandbox_transport(transports: list[SyncASGITransport]) -> Callable[[SalesforceSandbox], Any]:
    def make(sandbox: SalesforceSandbox) -> SyncASGITransport:
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
        base_url: str = BASE_URL,
        max_retries: int = 5,
    ) -> SystemConfig:
        refs = {}
        for name, value in credentials.items():
            variable = f"HUB_TEST_SF_{name.upper()}"
            monkeypatch.setenv(variable, value)
            refs[name] = EnvSecret(env=variable)
        system = SystemConfig(
            connector="salesforce",
            base_url=base_url,
            mapping="salesforce.yaml",
            credentials=refs,
            settings=settings,
            rate_limit=RateLimitConfig(requests=100000, per_seconds=1),
            max_retries=max_retries,
        )
        system.bind_name(SYSTEM)
        return system

    return make


@pytest.fixture
def connect(
    system_config: Callable[..., SystemConfig], sandbox_transport: Callable[..., Any]
) -> Callable[..., SalesforceConnector]:
    def make(
        sandbox: SalesforceSandbox,
        *,
        credentials: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        base_url: str = BASE_URL,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = NO_WAIT,
    ) -> SalesforceConnector:
        system = system_config(
            sandbox.credentials if credentials is None else credentials,
            {**sandbox.settings, **(settings or {})},
            base_url=base_url,
        )
        return SalesforceConnector.from_config(
            system, transport=transport or sandbox_transport(sandbox), retry=retry
        )

    return make


@pytest.fixture
def sandbox() -> SalesforceSandbox:
    return SalesforceSandbox(seed=7, records=60)


@pytest.fixture
def connector(
    sandbox: SalesforceSandbox, connect: Callable[..., SalesforceConnector]
) -> Iterator[SalesforceConnector]:
    made = connect(sandbox)
    yield made
    made.close()


@pytest.fixture
def raw_client(
    sandbox: SalesforceSandbox, sandbox_transport: Callable[..., Any]
) -> Iterator[httpx.Client]:
    """A plain httpx client with a valid access token, for wire-level checks."""
    client = httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL)
    token = client.post(
        "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            **{k: v for k, v in sandbox.credentials.items() if k in {"client_id", "client_secret"}},
        },
    ).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    yield client
    client.close()


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """A fresh RS256 key pair (private PEM, public PEM) for the JWT bearer flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _nullable(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            node["nullable"] = True
        for value in node.values():
            _nullable(value)
    elif isinstance(node, list):
        for value in node:
            _nullable(value)


def _salesforce_datetime(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    return bool(rfc3339_validator.validate_rfc3339(re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", value)))


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    """The vendor's sObjects OpenAPI (v59), loaded once, served from the sandbox base.

    Two deliberate adjustments, both where the published file disagrees with
    the wire format real orgs send (see restforce-fixtures): every schema is
    nullable (Salesforce returns ``null`` for empty fields, e.g. describe's
    ``controllerName``), and ``date-time`` accepts the ``+0000`` offset
    (``2011-07-07T00:37:00.000+0000``).
    """
    spec = json.loads((VENDOR / "salesforce.oas.json").read_text())
    _nullable(spec["components"]["schemas"])
    spec["servers"] = [{"url": f"{BASE_URL}/services/data/v61.0"}]
    config = Config(
        spec_validator_cls=None, extra_format_validators={"date-time": _salesforce_datetime}
    )
    return OpenAPI.from_dict(spec, config=config)
