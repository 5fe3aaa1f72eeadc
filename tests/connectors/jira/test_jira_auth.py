"""Credentials: what the sandbox accepts, and what the connector says when refused."""

from __future__ import annotations

import base64

import httpx
import pytest
from jira_support import BASE_URL, basic

from handoff_hub.connectors.jira import JiraConnector
from handoff_hub.hub.errors import AuthError, ConfigError


def test_valid_credentials_reach_myself(connector: JiraConnector):
    me = connector.client.myself()
    assert me["emailAddress"] == "hub-integration@acme-delivery.example"
    assert connector.time_zone() == "Europe/Berlin"


def test_wrong_token_is_an_auth_error_naming_system_and_settings(sandbox, connect):
    wrong = {**sandbox.credentials, "api_token": "ATATT3xNOT-THE-TOKEN-0123456789"}
    connector = connect(sandbox, credentials=wrong)
    with pytest.raises(AuthError) as caught:
        connector.client.myself()
    text = str(caught.value)
    assert caught.value.system == "pm" and caught.value.status == 401
    assert "systems.pm.credentials.email" in text and "systems.pm.credentials.api_token" in text
    assert "Client must be authenticated" in text
    assert wrong["api_token"] not in text and sandbox.credentials["api_token"] not in text


def test_wrong_email_is_refused(sandbox, connect):
    connector = connect(sandbox, credentials={**sandbox.credentials, "email": "x@example.com"})
    with pytest.raises(AuthError):
        list(connector.read_changes("issue", since=None))


def test_username_setting_replaces_the_email_credential(sandbox, connect):
    token_only = {"api_token": sandbox.credentials["api_token"]}
    connector = connect(
        sandbox, credentials=token_only, settings={"username": sandbox.credentials["email"]}
    )
    assert connector.client.myself()["accountType"] == "atlassian"


def test_auth_error_hint_names_the_username_setting(sandbox, connect):
    connector = connect(
        sandbox,
        credentials={"api_token": "wrong-token-value"},
        settings={"username": "someone@example.com"},
    )
    with pytest.raises(AuthError, match=r"systems\.pm\.settings\.username"):
        connector.client.myself()


def test_missing_credentials_and_bad_settings_are_reported_at_once(system_config):
    system = system_config({}, {"project_key": "del", "mode": "kanban"})
    with pytest.raises(ConfigError) as caught:
        JiraConnector.from_config(system)
    fields = {issue.field for issue in caught.value.issues}
    assert {"systems.pm.settings.project_key", "systems.pm.settings.mode"} <= fields
    system = system_config({}, {"project_key": "DEL"})
    with pytest.raises(ConfigError) as caught:
        JiraConnector.from_config(system)
    fields = {issue.field for issue in caught.value.issues}
    assert fields == {"systems.pm.credentials.email", "systems.pm.credentials.api_token"}


def test_unknown_time_zone_setting_is_a_config_error(system_config, sandbox):
    system = system_config(sandbox.credentials, {"project_key": "DEL", "time_zone": "Mars/Base"})
    with pytest.raises(ConfigError, match="time_zone"):
        JiraConnector.from_config(system)


def test_sandbox_401_body_and_headers(sandbox, sandbox_transport):
    with httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL) as client:
        missing = client.get("/rest/api/3/myself")
        token = base64.b64encode(b"hub-integration@acme-delivery.example:nope").decode()
        wrong = client.get("/rest/api/3/myself", headers={"Authorization": f"Basic {token}"})
        bearer = client.get("/rest/api/3/myself", headers={"Authorization": "Bearer abc"})
        ok = client.get("/rest/api/3/myself/", headers={"Authorization": basic(sandbox)})
    body = {"message": "Client must be authenticated to access this resource.", "status-code": 401}
    assert missing.status_code == wrong.status_code == bearer.status_code == 401
    assert missing.json() == wrong.json() == body
    assert wrong.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert "X-Seraph-LoginReason" not in missing.headers
    assert missing.headers["WWW-Authenticate"].startswith("OAuth realm=")
    assert ok.status_code == 200  # trailing slash tolerated
