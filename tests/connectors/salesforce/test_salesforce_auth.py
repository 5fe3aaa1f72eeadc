"""Auth flows of the connector against the sandbox's token endpoint."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest
from pydantic import SecretStr
from salesforce_support import BASE_URL, RecordingTransport

from handoff_hub.connectors.salesforce import SalesforceConnector
from handoff_hub.connectors.salesforce.client import token_request_factory
from handoff_hub.connectors.salesforce.config import SalesforceConfig, SalesforceSecrets
from handoff_hub.hub.errors import AuthError, ConfigError
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

WON = {"IsWon": True}


def read_all(connector: SalesforceConnector, **kwargs):
    return [
        r
        for page in connector.read_changes("Opportunity", since=None, **kwargs)
        for r in page.records
    ]


def jwt_credentials(sandbox: SalesforceSandbox, private_key: str) -> dict[str, str]:
    return {"client_id": sandbox.credentials["client_id"], "private_key": private_key}


def test_client_credentials(sandbox, connector):
    assert len(read_all(connector, fields=["Name"], where=WON)) == sandbox.state.count(
        "Opportunity", IsWon=True
    )
    assert connector.auth is not None and connector.auth.token_fetches == 1


def test_token_instance_url_becomes_the_api_host(connect, sandbox_transport):
    sandbox = SalesforceSandbox(seed=3, records=20, instance_url="https://acme.my.salesforce.com")
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, base_url="https://login.salesforce.com", transport=recording)
    read_all(connector, fields=["Name"])
    hosts = [(r.url.host, r.url.path) for r in recording.requests]
    assert hosts[0] == ("login.salesforce.com", "/services/oauth2/token")
    assert {h for h, _ in hosts[1:]} == {"acme.my.salesforce.com"}
    assert all(r.headers["Host"] == "acme.my.salesforce.com" for r in recording.requests[1:])
    url = connector.record_url("Opportunity", "006Hb00000000GRIAY")
    assert url == "https://acme.lightning.force.com/lightning/r/Opportunity/006Hb00000000GRIAY/view"


def test_refresh_after_session_expiry(sandbox, connector):
    read_all(connector, fields=["Name"])
    sandbox.state.expire_tokens()
    sandbox.journal.clear()
    assert read_all(connector, fields=["Name"])
    statuses = [(c.path, c.status) for c in sandbox.journal.calls]
    assert statuses[0][1] == 401
    assert statuses[1] == ("/services/oauth2/token", 200)
    assert statuses[2][1] == 200
    assert connector.auth is not None and connector.auth.token_fetches == 2


def test_jwt_bearer(connect, rsa_keys):
    private, public = rsa_keys
    sandbox = SalesforceSandbox(seed=1, records=10, jwt_public_key=public)
    connector = connect(
        sandbox,
        credentials=jwt_credentials(sandbox, private),
        settings={"auth_flow": "jwt_bearer", "login_url": "https://login.salesforce.com"},
    )
    assert len(read_all(connector, fields=["Name"])) == 10


def test_jwt_bearer_unknown_user(connect, rsa_keys):
    private, public = rsa_keys
    sandbox = SalesforceSandbox(seed=1, records=5, jwt_public_key=public)
    connector = connect(
        sandbox,
        credentials=jwt_credentials(sandbox, private),
        settings={"auth_flow": "jwt_bearer", "username": "nobody@nowhere.example"},
    )
    with pytest.raises(AuthError, match="user hasn't approved this consumer"):
        read_all(connector, fields=["Name"])


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "https://evil.example"}, "audience is invalid"),
        ({"iss": "someone-else"}, "client identifier invalid"),
        ({"exp": int(time.time()) - 60}, "expired assertion"),
        ({"exp": int(time.time()) + 3600}, "invalid assertion"),
    ],
)
def test_sandbox_checks_jwt_claims(rsa_keys, sandbox_transport, claims, error):
    private, public = rsa_keys
    sandbox = SalesforceSandbox(seed=1, records=5, jwt_public_key=public)
    good = {
        "iss": sandbox.credentials["client_id"],
        "sub": sandbox.settings["username"],
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 120,
    }
    assertion = jwt.encode({**good, **claims}, private, algorithm="RS256")
    with httpx.Client(transport=sandbox_transport(sandbox)) as client:
        response = client.post(
            f"{BASE_URL}/services/oauth2/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        )
    assert response.status_code == 400
    assert response.json()["error_description"] == error


def test_jwt_with_a_foreign_key_is_refused(connect, rsa_keys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    sandbox = SalesforceSandbox(seed=1, records=5, jwt_public_key=rsa_keys[1])
    connector = connect(
        sandbox,
        credentials=jwt_credentials(sandbox, other),
        settings={"auth_flow": "jwt_bearer"},
    )
    with pytest.raises(AuthError, match="invalid assertion"):
        read_all(connector, fields=["Name"])


def test_refresh_token_flow(sandbox, connect):
    credentials = {k: sandbox.credentials[k] for k in ("client_id", "refresh_token")}
    connector = connect(sandbox, credentials=credentials, settings={"auth_flow": "refresh_token"})
    assert read_all(connector, fields=["Name"])
    bad = connect(
        sandbox,
        credentials={**credentials, "refresh_token": "5Aep861stale"},
        settings={"auth_flow": "refresh_token"},
    )
    with pytest.raises(AuthError, match="expired access/refresh token"):
        read_all(bad, fields=["Name"])


def test_wrong_secret_names_system_and_setting_not_the_secret(sandbox, connect):
    wrong = "Wr0ngS3cretValue"
    connector = connect(sandbox, credentials={**sandbox.credentials, "client_secret": wrong})
    with pytest.raises(AuthError) as caught:
        read_all(connector, fields=["Name"])
    text = str(caught.value)
    assert text.startswith("crm: ")
    assert "client_secret" in text and "invalid client credentials" in text
    assert wrong not in text and sandbox.credentials["client_secret"] not in text


def test_missing_credentials_are_reported_together(sandbox, system_config):
    system = system_config({}, {"auth_flow": "jwt_bearer", "username": "x@y.example"})
    with pytest.raises(ConfigError) as caught:
        SalesforceConnector.from_config(system)
    fields = [issue.field for issue in caught.value.issues]
    assert fields == ["systems.crm.credentials.client_id", "systems.crm.credentials.private_key"]


def test_invalid_settings_are_reported_together(system_config):
    system = system_config({}, {"auth_flow": "password", "query_batch_size": 50, "colour": "x"})
    with pytest.raises(ConfigError) as caught:
        SalesforceConnector.from_config(system)
    fields = sorted(issue.field for issue in caught.value.issues)
    assert fields == [
        "systems.crm.settings.auth_flow",
        "systems.crm.settings.colour",
        "systems.crm.settings.query_batch_size",
    ]


def test_jwt_needs_a_username(system_config):
    with pytest.raises(ConfigError, match="username is required"):
        SalesforceConnector.from_config(system_config({}, {"auth_flow": "jwt_bearer"}))


@pytest.mark.parametrize(
    ("login_url", "configured", "audience"),
    [
        ("https://acme.my.salesforce.com", None, "https://login.salesforce.com"),
        ("https://acme--uat.sandbox.my.salesforce.com", None, "https://test.salesforce.com"),
        ("https://test.salesforce.com/", None, "https://test.salesforce.com"),
        (
            "https://acme.my.salesforce.com",
            "https://acme.my.site.com/customers",
            "https://acme.my.site.com/customers",
        ),
    ],
)
def test_jwt_audience(rsa_keys, login_url, configured, audience):
    private, public = rsa_keys
    config = SalesforceConfig(
        auth_flow="jwt_bearer", username="u@x.example", jwt_audience=configured
    )
    secrets = SalesforceSecrets(client_id=SecretStr("cid"), private_key=SecretStr(private))
    request = token_request_factory(config, secrets, login_url, clock=lambda: 1_000.0)(None)
    assert str(request.url) == login_url.rstrip("/") + "/services/oauth2/token"
    form = dict(parse_qsl(request.read().decode()))
    claims = jwt.decode(
        form["assertion"],
        public,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_aud": False},
    )
    assert claims == {"iss": "cid", "sub": "u@x.example", "aud": audience, "exp": 1180}
