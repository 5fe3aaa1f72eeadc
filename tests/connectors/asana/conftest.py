"""Fixtures for the Asana connector and sandbox tests (all in-process)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import rfc3339_validator
import yaml
from asana_support import BASE_URL, NO_WAIT, SYSTEM, VENDOR
from openapi_core import Config, OpenAPI

from handoff_hub.connectors.asana import AsanaConnector
from handoff_hub.hub.config.systems import EnvSecret, RateLimitConfig, SystemConfig
from handoff_hub.hub.http import RetryPolicy
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.kit import SyncASGITransport


@pytest.fixture
def transports() -> Iterator[list[SyncASGITransport]]:
    made: list[SyncASGITransport] = []
    yield made
    for transport in made:
        transport.shutdown()


@pytest.fixture
def sandbox_transport(transports: list[SyncASGITransport]) -> Callable[[AsanaSandbox], Any]:
    def make(sandbox: AsanaSandbox) -> SyncASGITransport:
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
            variable = f"HUB_TEST_ASANA_{name.upper()}"
            monkeypatch.setenv(variable, value)
            refs[name] = EnvSecret(env=variable)
        system = SystemConfig(
            connector="asana",
            base_url=BASE_URL,
            mapping="asana.yaml",
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
) -> Iterator[Callable[..., AsanaConnector]]:
    made: list[AsanaConnector] = []

    def make(
        sandbox: AsanaSandbox,
        *,
        credentials: dict[str, str] | None = None,
        settings: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = NO_WAIT,
        **options: Any,
    ) -> AsanaConnector:
        system = system_config(
            sandbox.credentials if credentials is None else credentials,
            {**sandbox.settings, **(settings or {})},
            **options,
        )
        connector = AsanaConnector.from_config(
            system, transport=transport or sandbox_transport(sandbox), retry=retry
        )
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def sandbox() -> AsanaSandbox:
    return AsanaSandbox(seed=7, records=60)


@pytest.fixture
def connector(sandbox: AsanaSandbox, connect: Callable[..., AsanaConnector]) -> AsanaConnector:
    return connect(sandbox)


@pytest.fixture
def raw_client(
    sandbox: AsanaSandbox, sandbox_transport: Callable[..., Any]
) -> Iterator[httpx.Client]:
    """A plain httpx client with the sandbox's token, for wire-level checks."""
    client = httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    )
    yield client
    client.close()


def _string_keys(node: Any) -> Any:
    """YAML reads status codes (``200:``) as ints; OpenAPI wants string keys."""
    if isinstance(node, dict):
        return {str(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _null_in_all_of(node: Any) -> Any:
    """``allOf: [{$ref: X}, {nullable: true}]`` as "X or null".

    The description marks such references nullable (Asana answers ``"assignee":
    null``), but openapi-core checks each ``allOf`` member on its own, and X
    alone is not nullable; ``anyOf`` with a null-only member says what the file means.
    """
    if isinstance(node, list):
        return [_null_in_all_of(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _null_in_all_of(v) for k, v in node.items()}
    members = node.get("allOf")
    if isinstance(members, list) and any(m.get("nullable") for m in members):
        kept = [m for m in members if not m.get("nullable")]
        rest = {k: v for k, v in node.items() if k != "allOf"}
        null = {"type": "object", "nullable": True, "enum": [None]}
        return {**rest, "anyOf": [{"allOf": kept}, null]}
    return node


def _any_custom_field_value(schemas: dict[str, Any]) -> None:
    """Custom field values in requests may be a number (or an object) as the description says.

    The file types ``custom_fields`` values as strings while its description
    says "an enum GID, string, number, or object", and Asana takes a number
    for a number field.
    """
    for schema in schemas.values():
        for part in [schema, *schema.get("allOf", [])]:
            field = (part.get("properties") or {}).get("custom_fields")
            if isinstance(field, dict) and isinstance(field.get("additionalProperties"), dict):
                field["additionalProperties"] = {"nullable": True}


def _date_time(value: Any) -> bool:
    return not isinstance(value, str) or bool(rfc3339_validator.validate_rfc3339(value))


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    """Asana's OpenAPI description, loaded once, served from BASE_URL/api/1.0.

    Three deliberate adjustments, each where the published file contradicts
    itself (its own descriptions, and Asana's answers, are followed):

    * ``DateVariableRequest.value`` is declared ``format: date-time`` while its
      description and example say a ``YYYY-MM-DD`` date: it is checked as a date;
    * ``custom_fields`` request values are typed string while described as
      "an enum GID, string, number, or object" (see ``_any_custom_field_value``);
    * references marked nullable inside ``allOf`` accept null (see ``_null_in_all_of``).
    """
    with (VENDOR / "asana_oas.yaml").open(encoding="utf-8") as handle:
        spec = _string_keys(yaml.load(handle, Loader=yaml.CSafeLoader))
    spec["servers"] = [{"url": f"{BASE_URL}/api/1.0"}]
    schemas = spec["components"]["schemas"]
    schemas["DateVariableRequest"]["properties"]["value"]["format"] = "date"
    _any_custom_field_value(schemas)
    spec = _null_in_all_of(spec)
    config = Config(spec_validator_cls=None, extra_format_validators={"date-time": _date_time})
    return OpenAPI.from_dict(spec, config=config)
