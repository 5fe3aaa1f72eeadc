"""Private-app token and OAuth refresh against the sandbox; secrets stay secret."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import pytest
from hubspot_support import RecordingTransport

from handoff_hub.connectors.hubspot import HubSpotConnector
from handoff_hub.hub.errors import AuthError, ConfigError

OAUTH = {"auth_flow": "oauth"}


def read_all(connector: HubSpotConnector) -> list:
    pages = connector.read_changes("companies", since=None, fields=["name"])
    return [r for page in pages for r in page.records]


def test_private_app_token_is_sent_as_bearer(sandbox, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    assert len(read_all(connector)) == sandbox.state.count("companies")
    token = sandbox.credentials["access_token"]
    assert token.startswith("pat-na1-")
    assert {r.headers["Authorization"] for r in recording.requests} == {f"Bearer {token}"}
    assert connector.auth is None


def test_oauth_refresh_token_grant(sandbox, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(
        sandbox, credentials=sandbox.oauth_credentials, settings=OAUTH, transport=recording
    )
    assert read_all(connector)
    token_call = recording.requests[0]
    assert (token_call.method, token_call.url.path) == ("POST", "/oauth/v1/token")
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(token_call.content.decode())) == {
        "grant_type": "refresh_token",
        **sandbox.oauth_credentials,
    }
    api_calls = recording.requests[1:]
    assert all(r.headers["Authorization"].startswith("Bearer CN") for r in api_calls)
    assert connector.auth is not None and connector.auth.token_fetches == 1


def test_oauth_refreshes_once_on_401(sandbox, connect):
    connector = connect(sandbox, credentials=sandbox.oauth_credentials, settings=OAUTH)
    read_all(connector)
    sandbox.state.expire_tokens()
    sandbox.journal.clear()
    assert read_all(connector)
    statuses = [(c.path, c.status) for c in sandbox.journal.calls]
    assert statuses[0] == ("/crm/v3/objects/companies/search", 401)
    assert statuses[1] == ("/oauth/v1/token", 200)
    assert statuses[2] == ("/crm/v3/objects/companies/search", 200)
    assert connector.auth is not None and connector.auth.token_fetches == 2


def test_wrong_token_is_an_auth_error_without_the_token(sandbox, connect):
    wrong = "pat-na1-00000000-dead-beef-0000-000000000000"
    connector = connect(sandbox, credentials={"access_token": wrong})
    with pytest.raises(AuthError) as caught:
        read_all(connector)
    text = str(caught.value)
    assert text.startswith("crm: POST /crm/v3/objects/companies/search: HTTP 401")
    assert "INVALID_AUTHENTICATION: Authentication credentials not found" in text
    assert "systems.crm.credentials (access_token) for auth_flow private_app" in text
    assert wrong not in text and sandbox.credentials["access_token"] not in text
    assert caught.value.status == 401


def test_bad_refresh_token_names_the_settings_not_the_secrets(sandbox, connect):
    credentials = {**sandbox.oauth_credentials, "refresh_token": "na1-stale-refresh-token"}
    connector = connect(sandbox, credentials=credentials, settings=OAUTH)
    with pytest.raises(AuthError) as caught:
        read_all(connector)
    text = str(caught.value)
    assert text.startswith("crm: token request refused: missing or invalid refresh token;")
    assert "(client_id and client_secret and refresh_token) for auth_flow oauth" in text
    for secret in (*credentials.values(), *sandbox.oauth_credentials.values()):
        assert secret not in text


def test_secrets_never_reach_the_logs(sandbox, connect, caplog):
    sandbox.faults.kinds = ("429", "503")
    sandbox.faults.rate = 1.0
    sandbox.faults.limit = 3
    caplog.set_level(logging.DEBUG)
    connector = connect(sandbox, credentials=sandbox.oauth_credentials, settings=OAUTH)
    assert read_all(connector)
    assert sandbox.faults.injected == 3 and caplog.records
    for secret in sandbox.oauth_credentials.values():
        assert secret not in caplog.text
    assert "Bearer CN" not in caplog.text


def test_missing_credentials_are_reported_together(system_config):
    system = system_config({}, OAUTH)
    with pytest.raises(ConfigError) as caught:
        HubSpotConnector.from_config(system)
    assert [i.field for i in caught.value.issues] == [
        "systems.crm.credentials.client_id",
        "systems.crm.credentials.client_secret",
        "systems.crm.credentials.refresh_token",
    ]


def test_invalid_settings_are_reported_together(system_config):
    system = system_config(
        {}, {"auth_flow": "api_key", "page_size": 500, "id_property": "Bad-Name", "colour": 1}
    )
    with pytest.raises(ConfigError) as caught:
        HubSpotConnector.from_config(system)
    assert sorted(i.field for i in caught.value.issues) == [
        "systems.crm.settings.auth_flow",
        "systems.crm.settings.colour",
        "systems.crm.settings.id_property",
        "systems.crm.settings.page_size",
    ]


def test_faults_during_token_refresh_are_retried(sandbox, connect):
    sandbox.faults.kinds = ("503",)
    sandbox.faults.only_paths = ("/oauth/v1/token",)
    sandbox.faults.rate = 1.0
    sandbox.faults.limit = 1
    connector = connect(sandbox, credentials=sandbox.oauth_credentials, settings=OAUTH)
    assert read_all(connector)
    assert [c.status for c in sandbox.journal.calls][:2] == [503, 200]
    assert connector.auth is not None and connector.auth.token_fetches == 1
