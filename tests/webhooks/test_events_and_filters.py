"""What a delivery is taken to say, which records an entity covers, and the config checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from handoff_hub.connectors.asana.hook_secrets import AsanaHookSecrets
from handoff_hub.connectors.asana.webhooks import AsanaReceiver, asana_changes
from handoff_hub.connectors.hubspot.webhooks import HubSpotReceiver, hubspot_changes
from handoff_hub.connectors.jira.webhooks import jira_changes
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.cli.serve import reregister_names
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.webhooks.events import Change, PayloadError
from handoff_hub.hub.webhooks.filters import effective_where, record_matches
from handoff_hub.hub.webhooks.settings import webhook_config
from handoff_hub.sandboxes.kit.server import make_sandbox


def test_hubspot_deal_events_only_of_the_hubs_portal() -> None:
    events = [
        {"subscriptionType": "deal.propertyChange", "objectId": 11, "portalId": 5},
        {"subscriptionType": "deal.creation", "objectId": 11, "portalId": 5},
        {"subscriptionType": "deal.creation", "objectId": 12, "portalId": 6},
        {"subscriptionType": "deal.deletion", "objectId": 13, "portalId": 5},
        {"subscriptionType": "contact.propertyChange", "objectId": 14, "portalId": 5},
        {"subscriptionType": "deal.propertyChange", "objectId": "x", "portalId": 5},
    ]
    assert hubspot_changes(events, system="crm", portal_id=5) == [Change("crm", "11", "deal")]
    assert len(hubspot_changes(events, system="crm", portal_id=None)) == 2
    with pytest.raises(PayloadError):
        hubspot_changes({"objectId": 1}, system="crm", portal_id=None)


def test_jira_issue_events() -> None:
    updated = {"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": "DEL-7"}}
    assert jira_changes(updated, system="pm") == [Change("pm", "DEL-7", "issue")]
    deleted = {**updated, "webhookEvent": "jira:issue_deleted"}
    assert jira_changes(deleted, system="pm") == []
    assert jira_changes({"webhookEvent": "project_created"}, system="pm") == []
    with pytest.raises(PayloadError):
        jira_changes([updated], system="pm")


def test_asana_events_name_tasks_projects_and_the_task_of_a_story() -> None:
    payload = {
        "events": [
            {"action": "changed", "resource": {"gid": "1", "resource_type": "task"}},
            {"action": "changed", "resource": {"gid": "2", "resource_type": "project"}},
            {
                "action": "added",
                "resource": {"gid": "3", "resource_type": "story"},
                "parent": {"gid": "4", "resource_type": "task"},
            },
            {"action": "deleted", "resource": {"gid": "5", "resource_type": "task"}},
            {"action": "changed", "resource": {"gid": "1", "resource_type": "task"}},
            {"action": "added", "resource": {"gid": "6", "resource_type": "section"}},
        ]
    }
    assert asana_changes(payload, system="pm") == [
        Change("pm", "1", "item"),
        Change("pm", "2", "project"),
        Change("pm", "4", "item"),
    ]
    with pytest.raises(PayloadError):
        asana_changes({"events": "none"}, system="pm")


def test_jira_records_are_checked_against_the_entity_and_the_project() -> None:
    upsell = {"key": "DEL-3", "fields": {"labels": ["Upsell"], "project": {"key": "DEL"}}}
    elsewhere = {"key": "OPS-3", "fields": {"labels": ["upsell"], "project": {"key": "OPS"}}}
    plain = {"key": "DEL-4", "fields": {"labels": [], "project": {"key": "DEL", "name": "Del"}}}
    where = effective_where(
        "jira", {"project_key": "DEL"}, {"labels": ["customer-feedback", "upsell"]}
    )
    assert where == {"labels": ["customer-feedback", "upsell"], "project": "DEL"}
    assert record_matches("jira", upsell, where) is True
    assert record_matches("jira", elsewhere, where) is False
    assert record_matches("jira", plain, where) is False
    epic = {"fields": {"issuetype": {"name": "Epic", "id": "10000"}}}
    assert record_matches("jira", epic, {"issuetype": "epic"}) is True
    assert record_matches("jira", epic, {"issuetype": "Task"}) is False
    assert effective_where("jira", {"project_key": "DEL", "mode": "project"}, {}) == {}


def test_asana_records_are_checked_by_custom_field_option() -> None:
    risk = {
        "gid": "9",
        "custom_fields": [
            {"gid": "101", "name": "Risk", "enum_value": {"gid": "7", "name": "High"}},
            {"gid": "102", "name": "Feedback", "enum_value": None},
        ],
    }
    assert record_matches("asana", risk, {"custom_fields.Risk": ["High", "Critical"]}) is True
    assert record_matches("asana", risk, {"custom_fields.101": "high"}) is True
    assert record_matches("asana", risk, {"custom_fields.Feedback": ["Upsell"]}) is False
    assert record_matches("asana", risk, {"custom_fields.Feedback": None}) is True
    assert record_matches("asana", risk, {}) is True
    assert record_matches("monday", risk, {"status": "x"}) is None, "cannot tell: not guessed"


@pytest.fixture
def hub_config(tmp_path: Path) -> Path:
    sandboxes = {name: make_sandbox(name, seed=1, records=3) for name in ("hubspot", "asana")}
    targets = {name: (f"http://{name}.sandbox", s) for name, s in sandboxes.items()}
    return write_sandbox_config(
        example_for("hubspot", "asana"), tmp_path, targets, env_prefix="HUB_WHCFG"
    )


def _with_webhooks(path: Path, webhooks: object) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["webhooks"] = webhooks
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_webhook_config_resolves_systems_and_secrets(
    hub_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_WHCFG_HS", "client-secret-123")
    _with_webhooks(
        hub_config,
        {
            "port": 9001,
            "body_timeout_seconds": 4,
            "max_connections": 50,
            "hubspot": {"client_secret": {"env": "HUB_WHCFG_HS"}},
            "asana": {"names": ["delivery", "sales-ops"]},
        },
    )
    loaded = load_config(hub_config, known_connectors=known_connectors())
    settings = webhook_config(loaded)
    assert settings.port == 9001 and settings.replay_window == 300
    assert (settings.body_timeout, settings.head_timeout, settings.max_connections) == (4, 10, 50)
    hubspot, asana = settings.receivers["hubspot"], settings.receivers["asana"]
    assert isinstance(hubspot, HubSpotReceiver) and hubspot.system == "crm"
    portal = loaded.config.systems["crm"].settings["portal_id"]
    assert hubspot.portal_id == portal, "from the HubSpot system's settings"
    assert hubspot.client_secret.get_secret_value() == "client-secret-123"
    assert "client-secret-123" not in repr(settings)
    assert isinstance(asana, AsanaReceiver) and asana.names == {"delivery", "sales-ops"}
    assert asana.secrets.path == hub_config.parent / ".hub/asana-webhook-secrets.json"
    assert "jira" not in settings.receivers
    assert settings.paths() == {
        "asana": ["/webhooks/asana/delivery", "/webhooks/asana/sales-ops"],
        "hubspot": ["/webhooks/hubspot"],
    }


def test_webhook_config_lists_every_problem(
    hub_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_WHCFG_MISSING", raising=False)
    _with_webhooks(
        hub_config,
        {
            "hubspot": {"system": "pm", "client_secret": {"env": "HUB_WHCFG_MISSING"}},
            "jira": {"secret": {"env": "HUB_WHCFG_MISSING"}},
            "asana": {"names": ["../escape"]},
        },
    )
    loaded = load_config(hub_config, known_connectors=known_connectors())
    with pytest.raises(ConfigError) as caught:
        webhook_config(loaded, reregister={"asana": ["other"]})
    text = str(caught.value)
    for expected in (
        "webhooks.hubspot.system",
        "asana system, not hubspot",
        "HUB_WHCFG_MISSING is not set",
        "0 jira systems",
        "not a path segment",
        "--reregister: no such asana webhook ['other']",
    ):
        assert expected in text, (expected, text)


def test_asana_secrets_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "asana.json"
    AsanaHookSecrets(path).put("delivery", "secret-one")
    assert AsanaHookSecrets(path).get("delivery") is not None
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError):
        AsanaHookSecrets(path)


def test_hub_serve_without_a_webhooks_section_exits_2(hub_config: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "-c", str(hub_config)])
    assert result.exit_code == 2, result.output
    assert "webhooks" in result.output and "Traceback" not in result.output


def test_reregister_takes_connector_slash_name() -> None:
    assert reregister_names(["asana/delivery", "asana/other", "acme/main"]) == {
        "asana": ["delivery", "other"],
        "acme": ["main"],
    }
    with pytest.raises(typer.BadParameter, match="CONNECTOR/NAME"):
        reregister_names(["delivery"])


def test_hub_serve_refuses_a_reregister_without_a_connector(hub_config: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "-c", str(hub_config), "--reregister", "delivery"])
    assert result.exit_code == 2, result.output
    assert "CONNECTOR/NAME" in result.output and "Traceback" not in result.output
