"""Shared fixtures of the mapping tests: the shipped specs and raw product records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.hub.mapping.spec import MappingSpec

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.fixture(scope="session")
def salesforce() -> MappingSpec:
    return load_mapping(MAPPINGS / "salesforce.yaml").bind_name("crm")


@pytest.fixture(scope="session")
def jira() -> MappingSpec:
    return load_mapping(MAPPINGS / "jira.yaml").bind_name("pm")


@pytest.fixture
def sf_opportunity() -> dict[str, Any]:
    return {
        "attributes": {"type": "Opportunity"},
        "Id": "006Hb000000000aIAA",
        "SystemModstamp": "2026-10-24T17:27:05.911+0000",
        "Name": "Tyrell Analytics - Pilot",
        "StageName": "Closed Won",
        "IsWon": True,
        "IsClosed": True,
        "Amount": 365800.5,
        "CurrencyIsoCode": "EUR",
        "CloseDate": "2026-12-31",
        "OwnerId": "005Hb0000000002IAA",
        "Owner": {"attributes": {"type": "User"}, "Email": "ada@acme.example", "Name": "Ada"},
        "AccountId": "001Hb000000000CIAQ",
        "Account": {"attributes": {"type": "Account"}, "Name": "Tyrell Analytics"},
        "Description": "Pilot for the analytics team",
        "Delivery_Project__c": None,
    }


@pytest.fixture
def jira_epic() -> dict[str, Any]:
    return {
        "id": "10042",
        "key": "DEL-12",
        "self": "https://acme.atlassian.net/rest/api/3/issue/10042",
        "fields": {
            "summary": "Tyrell Analytics - Pilot",
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "First line"}]},
                    {"type": "paragraph", "content": [{"type": "text", "text": "Second"}]},
                ],
            },
            "status": {"name": "In Progress"},
            "duedate": "2027-02-28",
            "updated": "2026-11-20T10:15:00.000+0100",
            "assignee": {
                "accountId": "5b10ac8d82e05b22cc7d4ef5",
                "emailAddress": "PM@acme.example",
                "displayName": "Grace Hopper",
            },
            "customfield_10050": 365800.5,
            "customfield_10051": "Tyrell Analytics",
            "customfield_10052": {"value": "Amber", "id": "10101"},
        },
    }
