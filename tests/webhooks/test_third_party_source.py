"""A third party's connector brings its webhooks with it: no edit of the hub.

``Acme`` is registered the way an installed package registers (the registry's
entry points); its class is a :class:`hub.connector.WebhookSource`, so its
``webhooks.acme:`` section is checked against its own model, ``hub serve``
routes ``/webhooks/acme`` to its receiver, and what the receiver reads from a
delivery reaches the worker.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr
from serve_support import post, serving, wait_for

from handoff_hub.hub import registry
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.config.systems import EnvSecret
from handoff_hub.hub.config.webhooks import ProductWebhookConfig
from handoff_hub.hub.connector import WebhookSource, webhook_source
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.registry import connector_class, known_connectors
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.webhooks.events import Change, PayloadError, json_payload
from handoff_hub.hub.webhooks.seen import digest
from handoff_hub.hub.webhooks.settings import webhook_config, webhook_sources
from handoff_hub.hub.webhooks.signatures import hmac_sha256, same_signature
from handoff_hub.hub.webhooks.source import (
    Answer,
    Reading,
    WebhookContext,
    WebhookReceiver,
    WebhookRequest,
)

SECRET = "acme-signing-secret-0042"


class AcmeWebhookConfig(ProductWebhookConfig):
    """``webhooks.acme:``: Acme signs each delivery with a shared secret."""

    secret: EnvSecret
    shop_only: bool = False


@dataclass(frozen=True)
class AcmeReceiver:
    """Acme deliveries: ``X-Acme-Signature`` is hex HMAC-SHA256(secret, body)."""

    system: str
    secret: SecretStr
    names: ClassVar[frozenset[str] | None] = None
    accept_status: ClassVar[int] = 202

    def handshake(self, request: WebhookRequest) -> Answer | None:
        return None

    def verify(self, request: WebhookRequest, *, now: float, window: float) -> str | None:
        given = request.headers.get("x-acme-signature")
        if not given:
            return "missing X-Acme-Signature"
        expected = hmac_sha256(self.secret.get_secret_value(), request.body).hex()
        return None if same_signature(expected, given) else "signature does not match"

    def read(self, request: WebhookRequest) -> Reading:
        payload = json_payload(request.body)
        if not isinstance(payload, dict) or not isinstance(payload.get("orders"), list):
            raise PayloadError('an Acme delivery is {"orders": [...]}')
        changes = [Change(self.system, str(order), "deal") for order in payload["orders"]]
        return Reading(changes, [digest(b"acme", request.body)], payload.get("sent_at"))


class AcmeConnector:
    """Only what matters here: the connector's name and its webhooks."""

    name: ClassVar[str] = "acme"

    @staticmethod
    def webhook_model() -> type[AcmeWebhookConfig]:
        return AcmeWebhookConfig

    @staticmethod
    def webhook_receiver(
        section: AcmeWebhookConfig, context: WebhookContext
    ) -> WebhookReceiver | None:
        secret = context.secret("secret", section.secret)
        if context.system is None or secret is None:
            return None
        return AcmeReceiver(context.system, secret)


@pytest.fixture
def acme_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Acme registered as an installed package's entry point would register it."""
    installed = dict(registry._entry_points())
    installed["acme"] = SimpleNamespace(load=lambda: AcmeConnector)
    monkeypatch.setattr(registry, "_entry_points", lambda: installed)


def _config(folder: Path, webhooks: str) -> Path:
    (folder / "acme.yaml").write_text("version: 1\nsystem: acme\nentities: {}\n", encoding="utf-8")
    path = folder / "hub.yaml"
    path.write_text(
        "version: 1\n"
        "systems:\n"
        "  shop:\n"
        "    connector: acme\n"
        "    base_url: https://acme.example.com\n"
        "    mapping: acme.yaml\n"
        "webhooks:\n" + webhooks,
        encoding="utf-8",
    )
    return path


def _signed(orders: list[str], *, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"orders": orders, "sent_at": time.time()}).encode()
    signature = hmac_sha256(secret, body).hex()
    return body, {"Content-Type": "application/json", "X-Acme-Signature": signature}


def test_the_registry_finds_the_webhook_sources(acme_installed: None) -> None:
    assert webhook_source(connector_class("acme")) is AcmeConnector
    assert isinstance(AcmeConnector, type) and issubclass(AcmeConnector, WebhookSource)
    assert webhook_source(connector_class("salesforce")) is None, "Salesforce sends none"
    assert sorted(webhook_sources()) == ["acme", "asana", "hubspot", "jira"]


def test_its_section_is_checked_against_its_own_model_with_lines(
    acme_installed: None, tmp_path: Path
) -> None:
    path = _config(
        tmp_path,
        "  port: 9100\n"
        "  acme:\n"
        "    secret: {env: HUB_ACME_SECRET}\n"
        "    shop_only: sometimes\n"
        "  acmee: {}\n"
        "  salesforce: {}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_connectors=known_connectors(), check_env=False)
    found = {(issue.field, issue.line): issue for issue in caught.value.issues}
    assert ("webhooks.acme.shop_only", 11) in found, caught.value
    assert found["webhooks.acmee", 12].hint == "did you mean 'acme'?"
    assert "receives no webhooks" in found["webhooks.salesforce", 13].message
    assert len(caught.value.issues) == 3, caught.value


def test_its_route_takes_signed_deliveries_and_its_changes_reach_the_worker(
    acme_installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_ACME_SECRET", SECRET)
    path = _config(tmp_path, "  acme:\n    secret: {env: HUB_ACME_SECRET}\n")
    settings = webhook_config(load_config(path, known_connectors=known_connectors()))
    assert settings.paths() == {"acme": ["/webhooks/acme"]}
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with serving(settings, store) as served:
            body, headers = _signed(["1001", "1002"])
            assert post(served.port, "/webhooks/acme", body, headers) == (
                202,
                {"ok": True, "accepted": 2},
            )
            wait_for(lambda: len(served.handled.changes) == 2, "the changes to be dispatched")
            assert served.handled.changes == [
                Change("shop", "1001", "deal"),
                Change("shop", "1002", "deal"),
            ]
            refusals: list[tuple[str, bytes, dict[str, str], int, Callable[[Any], bool]]] = [
                ("a replay", body, headers, 401, lambda a: "replay" in a["error"]),
                ("forged", *_signed(["1003"], secret="guessed"), 401, lambda a: True),
                ("odd body", *_signed_raw(b'{"orders": 1}'), 400, lambda a: "Acme" in a["error"]),
            ]
            for what, content, sent, status, check in refusals:
                got, answer = post(served.port, "/webhooks/acme", content, sent)
                assert got == status and check(answer), (what, answer)
                assert SECRET not in json.dumps(answer)
            assert post(served.port, "/webhooks/acme/extra", body, headers)[0] == 404
            assert post(served.port, "/webhooks/hubspot", body, headers)[0] == 404
            assert served.worker.wait_idle(10)
            assert len(served.handled.changes) == 2, "nothing more was dispatched"
    finally:
        store.close()


def _signed_raw(body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"X-Acme-Signature": hmac_sha256(SECRET, body).hex()}


def test_without_its_secret_every_problem_is_listed(
    acme_installed: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_ACME_UNSET", raising=False)
    path = _config(tmp_path, "  acme:\n    system: nowhere\n    secret: {env: HUB_ACME_UNSET}\n")
    loaded = load_config(path, known_connectors=known_connectors())
    with pytest.raises(ConfigError) as caught:
        webhook_config(loaded, reregister={"asana": ["delivery"]})
    text = str(caught.value)
    for expected in (
        "webhooks.acme.system: no system 'nowhere'",
        "webhooks.acme.secret: environment variable HUB_ACME_UNSET is not set",
        "webhooks.asana.names: --reregister: no such webhook ['asana/delivery']",
    ):
        assert expected in text, (expected, text)


def test_a_secret_pasted_in_its_section_is_not_shown(acme_installed: None, tmp_path: Path) -> None:
    path = _config(tmp_path, "  acme:\n    secret: pasted-s3cret-value\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_connectors=known_connectors(), check_env=False)
    [issue] = caught.value.issues
    assert (issue.field, issue.line) == ("webhooks.acme.secret", 9)
    assert "pasted-s3cret-value" not in str(caught.value)
