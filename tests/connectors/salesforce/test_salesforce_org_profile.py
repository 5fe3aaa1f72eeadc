"""The sandbox plays the org a profile describes: currencies, absent fields, SOAP getUserInfo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from salesforce_support import BASE_URL

from handoff_hub.hub.errors import ConfigError
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox
from handoff_hub.sandboxes.salesforce.profile import HUB_OPTIONAL_FIELDS, SalesforceOrgProfile

DATA = "/services/data/v61.0"
NO_CURRENCY = (
    "No such column 'CurrencyIsoCode' on entity 'Opportunity'. If you are attempting to use a"
    " custom field, be sure to append the '__c' after the custom field name. Please reference"
    " your WSDL or the describe call for the appropriate names."
)


@pytest.fixture
def api(sandbox_transport) -> Iterator[Callable[[SalesforceSandbox], httpx.Client]]:
    """A plain client with a token of the given sandbox, for wire-level checks."""
    made: list[httpx.Client] = []

    def open_(sandbox: SalesforceSandbox) -> httpx.Client:
        client = httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL)
        form = {"grant_type": "client_credentials", **_client_secrets(sandbox)}
        token = client.post("/services/oauth2/token", data=form).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        made.append(client)
        return client

    yield open_
    for client in made:
        client.close()


def _client_secrets(sandbox: SalesforceSandbox) -> dict[str, str]:
    return {k: v for k, v in sandbox.credentials.items() if k in {"client_id", "client_secret"}}


def query(client: httpx.Client, soql: str) -> httpx.Response:
    return client.get(f"{DATA}/query", params={"q": soql})


def field_names(client: httpx.Client, sobject: str) -> set[str]:
    return {f["name"] for f in client.get(f"{DATA}/sobjects/{sobject}/describe").json()["fields"]}


def test_presets_and_hard() -> None:
    single = SalesforceOrgProfile.preset("single-currency")
    assert single.single_currency and single.corporate_currency == "EUR"
    assert single.switched_on() == {"single_currency": True, "corporate_currency": "EUR"}
    hard = SalesforceOrgProfile.preset("hard")
    assert hard.single_currency and hard.custom_fields_absent
    assert hard.late_commits and hard.hidden_accounts and hard.corporate_currency == "EUR"
    assert "single-currency" in SalesforceOrgProfile.preset_names()


@pytest.mark.parametrize(
    ("values", "wrong"),
    [
        ({"absent_fields": ["Opportunity"]}, "is not Object.Field"),
        ({"absent_fields": ["Opportunity.Nope__c"]}, "is not Object.Field"),
        ({"absent_fields": ["Account.Id"]}, "every object has an Id"),
        ({"corporate_currency": "euro"}, "corporate_currency"),
    ],
)
def test_bad_profile_values_are_config_errors(values: dict[str, Any], wrong: str) -> None:
    with pytest.raises(ConfigError, match=wrong):
        SalesforceSandbox(records=3, profile=values)


def test_single_currency_org_has_no_currency_field_anywhere(api) -> None:
    sandbox = SalesforceSandbox(seed=3, records=20, profile="single-currency")
    client = api(sandbox)
    for sobject in ("Account", "Contact", "Opportunity", "User", "Task", "Lead", "Organization"):
        names = field_names(client, sobject)
        assert "CurrencyIsoCode" not in names and "DefaultCurrencyIsoCode" not in names
    refused = query(client, "SELECT Id, Amount, CurrencyIsoCode FROM Opportunity")
    assert refused.status_code == 400
    located = "\nSELECT Id, Amount, CurrencyIsoCode FROM Opportunity\n" + " " * 19 + "^\n"
    located += "ERROR at Row:1:Column:20\n" + NO_CURRENCY
    assert refused.json() == [{"message": located, "errorCode": "INVALID_FIELD"}]
    rows = query(client, "SELECT Id, Amount FROM Opportunity").json()["records"]
    assert rows and all("CurrencyIsoCode" not in r for r in rows)
    assert all("CurrencyIsoCode" not in r for r in sandbox.state.find("Opportunity"))


def test_single_currency_org_refuses_a_currency_on_write(api) -> None:
    sandbox = SalesforceSandbox(seed=3, records=5, profile="single-currency")
    record_id = sandbox.state.ids("Opportunity")[0]
    update = {"attributes": {"type": "Opportunity"}, "Id": record_id, "CurrencyIsoCode": "EUR"}
    body = {"allOrNone": False, "records": [update]}
    answer = api(sandbox).patch(f"{DATA}/composite/sobjects", json=body).json()
    assert answer == [
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "INVALID_FIELD",
                    "message": "No such column 'CurrencyIsoCode' on sobject of type Opportunity",
                    "fields": [],
                }
            ],
        }
    ]


def test_organization_currency_only_where_multi_currency_is_on(api) -> None:
    soql = "SELECT DefaultCurrencyIsoCode FROM Organization"
    multi = query(api(SalesforceSandbox(records=3, profile={"corporate_currency": "GBP"})), soql)
    assert multi.status_code == 200
    assert [r["DefaultCurrencyIsoCode"] for r in multi.json()["records"]] == ["GBP"]
    single = query(api(SalesforceSandbox(records=3, profile="single-currency")), soql)
    assert single.status_code == 400
    assert single.json()[0]["errorCode"] == "INVALID_FIELD"
    assert (
        "No such column 'DefaultCurrencyIsoCode' on entity 'Organization'"
        in (single.json()[0]["message"])
    )


def test_multi_currency_org_keeps_record_currencies(api) -> None:
    sandbox = SalesforceSandbox(seed=3, records=40, profile={"corporate_currency": "EUR"})
    client = api(sandbox)
    rows = query(client, "SELECT Id, CurrencyIsoCode FROM Opportunity").json()["records"]
    assert {r["CurrencyIsoCode"] for r in rows} == {"USD", "EUR", "GBP"}
    created = client.post(f"{DATA}/sobjects/Account", json={"Name": "Euro Corp"}).json()
    assert sandbox.state.get("Account", created["id"])["CurrencyIsoCode"] == "EUR"


def test_same_seed_same_records_in_either_kind_of_org() -> None:
    multi = SalesforceSandbox(seed=5, records=10)
    single = SalesforceSandbox(seed=5, records=10, profile="single-currency")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "CurrencyIsoCode"} for r in rows]  # noqa: E731
    assert strip(multi.state.find("Opportunity")) == strip(single.state.find("Opportunity"))


def test_custom_fields_absent(api) -> None:
    sandbox = SalesforceSandbox(seed=3, records=5, profile={"custom_fields_absent": True})
    client = api(sandbox)
    names = field_names(client, "Opportunity")
    hub_fields = {p.split(".")[1] for p in HUB_OPTIONAL_FIELDS}
    assert not names & hub_fields
    assert "Handoff_Hub_Id__c" in names and "Amount" in names
    refused = query(client, "SELECT Id, Delivery_Project__c FROM Opportunity")
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "INVALID_FIELD"
    assert (
        "No such column 'Delivery_Project__c' on entity 'Opportunity'"
        in (refused.json()[0]["message"])
    )
    record_id = sandbox.state.ids("Opportunity")[0]
    update = {"attributes": {"type": "Opportunity"}, "Id": record_id, "Delivery_Health__c": "Red"}
    answer = client.patch(
        f"{DATA}/composite/sobjects", json={"allOrNone": False, "records": [update]}
    ).json()
    assert answer[0]["success"] is False
    assert answer[0]["errors"][0]["statusCode"] == "INVALID_FIELD"


def test_absent_fields_of_any_object(api) -> None:
    profile = {"absent_fields": ["Opportunity.Description", "Account.Website"]}
    client = api(SalesforceSandbox(seed=3, records=5, profile=profile))
    assert "Description" not in field_names(client, "Opportunity")
    assert "Website" not in field_names(client, "Account")
    assert query(client, "SELECT Account.Website FROM Opportunity").status_code == 400
    assert query(client, "SELECT Account.Name FROM Opportunity").status_code == 200


def soap_user_info(client: httpx.Client, session: str) -> httpx.Response:
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
        f"<urn:sessionId>{session}</urn:sessionId></urn:SessionHeader></soapenv:Header>"
        "<soapenv:Body><urn:getUserInfo/></soapenv:Body></soapenv:Envelope>"
    )
    return client.post(
        "/services/Soap/u/61.0",
        content=envelope,
        headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
    )


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            "single-currency",
            [
                "<orgDefaultCurrencyIsoCode>EUR</orgDefaultCurrencyIsoCode>",
                "<organizationMultiCurrency>false</organizationMultiCurrency>",
                '<userDefaultCurrencyIsoCode xsi:nil="true"/>',
                "<currencySymbol>€</currencySymbol>",
            ],
        ),
        (
            None,
            [
                '<orgDefaultCurrencyIsoCode xsi:nil="true"/>',
                "<organizationMultiCurrency>true</organizationMultiCurrency>",
                "<userDefaultCurrencyIsoCode>USD</userDefaultCurrencyIsoCode>",
            ],
        ),
    ],
)
def test_soap_get_user_info(api, profile: str | None, expected: list[str]) -> None:
    sandbox = SalesforceSandbox(seed=3, records=5, profile=profile)
    client = api(sandbox)
    session = client.headers["Authorization"].split(" ", 1)[1]
    answer = soap_user_info(client, session)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    for part in expected:
        assert part in answer.text
    assert "<userName>integration@handoff-hub.example</userName>" in answer.text


def test_soap_with_a_bad_session_is_a_fault(api) -> None:
    client = api(SalesforceSandbox(seed=3, records=5))
    answer = soap_user_info(client, "00Dbogus")
    assert answer.status_code == 500
    assert "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in answer.text
