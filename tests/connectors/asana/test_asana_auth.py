"""Credentials: PAT and OAuth refresh, what Asana refuses, and secrets kept out of sight."""

from __future__ import annotations

import logging

import httpx
import pytest
from asana_support import API, BASE_URL

from handoff_hub.connectors.asana import AsanaConnector
from handoff_hub.hub.errors import AuthError, ConfigError
from handoff_hub.sandboxes.asana.seed import OTHER_WORKSPACE

TOKEN = "/-/oauth_token"


def me(connector: AsanaConnector) -> dict:
    return connector.client.call("GET", "/users/me")


def test_personal_access_token_reaches_the_api(connector, sandbox):
    assert me(connector)["email"] == "hub-integration@acme-delivery.example"
    assert sandbox.credentials["access_token"].startswith("2/1209000000000400/")


def test_wrong_token_is_an_auth_error_naming_system_and_setting(sandbox, connect):
    wrong = {"access_token": "2/1209000000000400/1200000000000000:" + "0" * 32}
    connector = connect(sandbox, credentials=wrong)
    with pytest.raises(AuthError) as caught:
        me(connector)
    text = str(caught.value)
    assert caught.value.system == "pm" and caught.value.status == 401
    assert "systems.pm.credentials.access_token" in text and "Not Authorized" in text
    assert wrong["access_token"] not in text
    assert sandbox.credentials["access_token"] not in text


def test_oauth_fetches_a_token_and_refreshes_it_on_401(sandbox, connect):
    connector = connect(
        sandbox, credentials=sandbox.oauth_credentials, settings={"auth_flow": "oauth"}
    )
    assert me(connector)["gid"] == "1209000000000400"
    assert sandbox.auth.issued == 1
    me(connector)
    assert sandbox.auth.issued == 1  # the token is reused while Asana takes it
    sandbox.state.expire_tokens()
    assert list(connector.find_users(["sam.rivera@acme-delivery.example"])) == [
        "sam.rivera@acme-delivery.example"
    ]
    assert sandbox.auth.issued == 2
    calls = [(c.method, c.path, c.status) for c in sandbox.journal.calls]
    assert calls.count(("POST", "/-/oauth_token", 200)) == 2
    assert ("GET", f"{API}/users", 401) in calls  # refused once, then replayed
    assert calls[-1] == ("GET", f"{API}/users", 200)


def test_oauth_refresh_is_a_form_post_of_the_refresh_grant(sandbox, connect, sandbox_transport):
    seen: list[httpx.Request] = []
    inner = sandbox_transport(sandbox)

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return inner.handle_request(request)

    connector = connect(
        sandbox,
        credentials=sandbox.oauth_credentials,
        settings={"auth_flow": "oauth"},
        transport=Spy(),
    )
    me(connector)
    grant = seen[0]
    assert str(grant.url) == "https://app.asana.com/-/oauth_token"
    assert grant.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(grant.content.decode()))
    assert form == {"grant_type": "refresh_token", **sandbox.oauth_credentials}


def test_refused_refresh_token_is_an_auth_error_without_secrets(sandbox, connect):
    credentials = {**sandbox.oauth_credentials, "refresh_token": "2/1/2:" + "f" * 32}
    connector = connect(sandbox, credentials=credentials, settings={"auth_flow": "oauth"})
    with pytest.raises(AuthError) as caught:
        me(connector)
    text = str(caught.value)
    assert "refresh token is invalid" in text
    assert "systems.pm.credentials.refresh_token" in text
    for secret in credentials.values():
        assert secret not in text


def test_no_secret_reaches_the_logs(sandbox, connect, caplog):
    caplog.set_level(logging.DEBUG)  # no redacting filter: nothing may need one
    oauth = connect(sandbox, credentials=sandbox.oauth_credentials, settings={"auth_flow": "oauth"})
    me(oauth)
    sandbox.state.expire_tokens()
    me(oauth)
    with pytest.raises(AuthError) as caught:
        me(
            connect(
                sandbox, credentials={"access_token": sandbox.credentials["access_token"] + "x"}
            )
        )
    logging.getLogger("hub.asana").warning("refused: %s", caught.value)
    text = caplog.text
    assert "HTTP Request" in text  # httpx logged the calls
    secrets = [sandbox.credentials["access_token"], *sandbox.oauth_credentials.values()]
    assert not [s for s in secrets if s in text]
    assert "Bearer 1/" not in text and "Bearer 2/" not in text


def test_a_workspace_the_user_is_not_in_is_forbidden(sandbox, connect):
    connector = connect(sandbox, settings={"workspace_gid": OTHER_WORKSPACE})
    with pytest.raises(AuthError) as caught:
        connector.find_users(["ada.lovelace@acme-sales.example"])
    assert caught.value.status == 403 and "Forbidden" in str(caught.value)


def test_missing_credentials_and_bad_settings_are_reported_at_once(system_config, sandbox):
    system = system_config({}, {**sandbox.settings, "auth_flow": "oauth"})
    with pytest.raises(ConfigError) as caught:
        AsanaConnector.from_config(system)
    assert {i.field for i in caught.value.issues} == {
        "systems.pm.credentials.client_id",
        "systems.pm.credentials.client_secret",
        "systems.pm.credentials.refresh_token",
    }
    system = system_config(
        sandbox.credentials, {"workspace_gid": "acme", "page_size": 500, "auth_flow": "saml"}
    )
    with pytest.raises(ConfigError) as caught:
        AsanaConnector.from_config(system)
    fields = {i.field for i in caught.value.issues}
    assert fields == {
        "systems.pm.settings.workspace_gid",
        "systems.pm.settings.page_size",
        "systems.pm.settings.auth_flow",
    }


def test_sandbox_401_body(sandbox, sandbox_transport):
    with httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL) as client:
        missing = client.get(f"{API}/users/me")
        wrong = client.get(f"{API}/users/me", headers={"Authorization": "Bearer nope"})
        basic = client.get(f"{API}/users/me", headers={"Authorization": "Basic abc"})
        token = client.post(TOKEN, data={"grant_type": "client_credentials"})
    assert missing.status_code == wrong.status_code == basic.status_code == 401
    assert missing.json()["errors"][0]["message"] == "Not Authorized"
    assert "developers.asana.com/docs/errors" in wrong.json()["errors"][0]["help"]
    assert token.status_code == 400 and token.json()["error"] == "unsupported_grant_type"
