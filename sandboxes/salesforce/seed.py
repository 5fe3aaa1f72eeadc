"""Realistic, seeded sample data for the Salesforce sandbox.

``records`` is the number of opportunities; accounts, contacts, users, tasks
and leads scale with it. The same seed always yields the same records (ids,
names, amounts, stages, and modification times relative to the anchor time),
in every kind of org: values of fields an org lacks are left out.
:func:`stage` then makes the data the profile's org: accounts hidden by
sharing, saves of long transactions not committed yet.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from handoff_hub.sandboxes.kit.moments import moment_before
from handoff_hub.sandboxes.kit.names import (
    COMPANY_PREFIXES,
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS,
    company_name,
)
from handoff_hub.sandboxes.salesforce.auth import ORG_ID
from handoff_hub.sandboxes.salesforce.org import CURRENCY_LOCALES
from handoff_hub.sandboxes.salesforce.profile import SalesforceOrgProfile
from handoff_hub.sandboxes.salesforce.rules import format_datetime
from handoff_hub.sandboxes.salesforce.schema import (
    ADMIN_PRIORITIES,
    ADMIN_REGIONS,
    ADMIN_SITE_SETS,
    STAGES,
)
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = ["DEPARTMENTS", "INTEGRATION_USERNAME", "seed", "stage"]

DEPARTMENTS = (1, 2)
"""The accounts (by seeding order) that are departments of the first: ParentId."""

INTEGRATION_USERNAME = "integration@handoff-hub.example"
_STAGE_WEIGHTS = (10, 8, 8, 7, 6, 5, 8, 8, 25, 15)
"""Weights of the standard stages; an org's own stages (listed after them) are not seeded."""


def seed(store: RecordStore, *, seed: int, records: int, anchor: dt.datetime) -> None:
    """Fill ``store`` with users, accounts, contacts, opportunities, tasks and leads."""
    rng = random.Random(seed)
    users = _users(store, rng, max(4, records // 10), anchor)
    accounts = _accounts(store, rng, max(5, records // 3), users, anchor)
    _contacts(store, rng, accounts, anchor)
    opportunities = _opportunities(store, rng, records, accounts, users, anchor)
    _tasks(store, rng, opportunities[: max(3, records // 5)], users, anchor)
    _leads(store, rng, max(3, records // 8), users, anchor)
    _organization(store, anchor)
    _stages(store, anchor)


def stage(store: RecordStore, profile: SalesforceOrgProfile) -> None:
    """Hide every third account (``hidden_accounts``); hold back some opportunities' saves.

    Held saves (``late_commits``) are stamped shortly before the newest
    opportunity and stay invisible until committed: the first won
    opportunity and every eighth other one.
    """
    if profile.hidden_accounts:
        store.hidden |= {a["Id"][:15] for a in store.records("Account")[1::3]}
    if not profile.late_commits:
        return
    rows = store.records("Opportunity")
    newest = max(r["SystemModstamp"] for r in rows)
    won = [r["Id"] for r in rows if r["IsWon"] and r["SystemModstamp"] != newest][:1]
    late = [r["Id"] for n, r in enumerate(rows) if n % 8 == 3 and r["SystemModstamp"] != newest]
    at = dt.datetime.fromisoformat(newest.replace("+0000", "+00:00"))
    for n, record_id in enumerate(dict.fromkeys(won + late)):
        store.hold_back(record_id, format_datetime(at - dt.timedelta(seconds=20 * (n + 1))))


def _organization(store: RecordStore, anchor: dt.datetime) -> None:
    org = store.schema.object("Organization")
    currency = store.schema.corporate_currency
    values = {
        "Id": ORG_ID,
        "Name": "Acme Sales",
        "Country": "United States",
        "DefaultLocaleSidKey": CURRENCY_LOCALES.get(currency, "en_US"),
        "LanguageLocaleKey": "en_US",
        "TimeZoneSidKey": "America/Los_Angeles",
        "OrganizationType": "Enterprise Edition",
        "InstanceName": "NA224",
        "IsSandbox": False,
        "FiscalYearStartMonth": 1,
        "DefaultCurrencyIsoCode": currency,
    }
    store.put(org, values, anchor - dt.timedelta(days=400))


def _stages(store: RecordStore, anchor: dt.datetime) -> None:
    """The org's stage definitions, from which Salesforce derives IsClosed and IsWon."""
    obj = store.schema.object("OpportunityStage")
    for order, (name, (probability, category, closed, won)) in enumerate(STAGES.items(), 1):
        values = {
            "MasterLabel": name,
            "ApiName": name,
            "IsActive": True,
            "SortOrder": order,
            "IsClosed": closed,
            "IsWon": won,
            "ForecastCategoryName": category,
            "DefaultProbability": probability,
        }
        store.put(obj, values, anchor - dt.timedelta(days=400))


def _put(store: RecordStore, name: str, values: dict[str, Any], when: dt.datetime) -> str:
    return store.put(store.schema.object(name), values, when)


def _users(store: RecordStore, rng: random.Random, count: int, anchor: dt.datetime) -> list[str]:
    ids = [
        _put(
            store,
            "User",
            {
                "Username": INTEGRATION_USERNAME,
                "FirstName": "Integration",
                "LastName": "User",
                "Email": "integration@handoff-hub.example",
                "Alias": "integ",
                "Title": "API user",
                "Department": "IT",
                "IsActive": True,
            },
            anchor - dt.timedelta(days=90),
        )
    ]
    store.acting_user = ids[0]
    for n in range(count):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
        email = f"{first}.{last}".lower().replace("'", "") + "@acme-sales.example"
        ids.append(
            _put(
                store,
                "User",
                {
                    "Username": email + ".prod",
                    "FirstName": first,
                    "LastName": last,
                    "Email": email,
                    "Alias": (first[0] + last)[:8].lower(),
                    "Title": "Account Executive",
                    "Department": "Sales",
                    "IsActive": n != count - 1,
                },
                moment_before(rng, anchor, 60),
            )
        )
    return ids


def _accounts(
    store: RecordStore, rng: random.Random, count: int, users: list[str], anchor: dt.datetime
) -> list[tuple[str, str]]:
    industries = store.schema.object("Account").field("Industry")
    assert industries is not None
    made: list[tuple[str, str]] = []
    for n in range(count):
        name = company_name(n)
        parent = made[rng.randrange(len(made))][0] if made and rng.random() < 0.1 else None
        if n in DEPARTMENTS:
            parent = made[0][0]  # a customer that is a company with departments
        domain = name.split()[0].lower() + ".example"
        account_id = _put(
            store,
            "Account",
            {
                "Name": name,
                "Industry": rng.choice(industries.values),
                "ParentId": parent,
                "Type": rng.choice(("Customer - Direct", "Prospect", "Customer - Channel")),
                "Website": f"https://www.{domain}",
                "BillingCountry": rng.choice(COUNTRIES),
                "NumberOfEmployees": rng.randrange(20, 20000),
                "OwnerId": rng.choice(users[1:]),
                "AnnualRevenue": float(rng.randrange(1, 500) * 100000),
            },
            moment_before(rng, anchor, 30),
        )
        made.append((account_id, domain))
    return made


def _contacts(
    store: RecordStore, rng: random.Random, accounts: list[tuple[str, str]], anchor: dt.datetime
) -> list[str]:
    ids = []
    for account_id, domain in accounts:
        for _ in range(rng.randrange(1, 3)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}".lower().replace("'", "") + f"@{domain}"
            ids.append(
                _put(
                    store,
                    "Contact",
                    {
                        "FirstName": first,
                        "LastName": last,
                        "Email": email,
                        "AccountId": account_id,
                        "Title": rng.choice(("CTO", "Head of Operations", "Project Lead", "CFO")),
                    },
                    moment_before(rng, anchor, 30),
                )
            )
    return ids


def _opportunities(
    store: RecordStore,
    rng: random.Random,
    count: int,
    accounts: list[tuple[str, str]],
    users: list[str],
    anchor: dt.datetime,
) -> list[str]:
    ids: list[str] = []
    names = {a: store.tables["Account"][a]["Name"] for a, _ in accounts}
    for _ in range(count):
        account_id = rng.choice(accounts)[0]
        stage = rng.choices(tuple(STAGES)[: len(_STAGE_WEIGHTS)], weights=_STAGE_WEIGHTS)[0]
        close = anchor.date() + dt.timedelta(days=rng.randrange(-60, 90))
        ids.append(
            _put(
                store,
                "Opportunity",
                {
                    "Name": f"{names[account_id]} - {rng.choice(PRODUCTS)}",
                    "AccountId": account_id,
                    "StageName": stage,
                    "Amount": float(rng.randrange(50, 5000) * 100),
                    "CurrencyIsoCode": rng.choices(("USD", "EUR", "GBP"), weights=(6, 3, 1))[0],
                    "CloseDate": close.isoformat(),
                    "OwnerId": rng.choice(users[1:]),
                    "Type": rng.choice(("New Customer", "Existing Customer - Upgrade")),
                    "LeadSource": rng.choice(("Web", "Partner Referral", "Phone Inquiry")),
                    **_admin_fields(len(ids), close),
                },
                moment_before(rng, anchor, 30),
            )
        )
    return ids


def _admin_fields(index: int, close: dt.date) -> dict[str, Any]:
    """The admin's own fields (Region__c, Delivery_Start__c, Priority__c), without the rng.

    Drawn from the record's position, so the seed's other records stay as they were;
    every fourth deal leaves them empty, as real data does. Delivery_Sites__c (a
    multi-select picklist) holds two sites, one, or none, in turn.
    """
    if index % 4 == 3:
        return {}
    sites = ADMIN_SITE_SETS[index % len(ADMIN_SITE_SETS)]
    return {
        "Region__c": ADMIN_REGIONS[index % len(ADMIN_REGIONS)],
        "Delivery_Start__c": (close + dt.timedelta(days=14)).isoformat(),
        "Priority__c": ADMIN_PRIORITIES[index % len(ADMIN_PRIORITIES)],
        **({"Delivery_Sites__c": ";".join(sites)} if sites else {}),
    }


def _tasks(
    store: RecordStore,
    rng: random.Random,
    opportunities: list[str],
    users: list[str],
    anchor: dt.datetime,
) -> None:
    for opportunity_id in opportunities:
        _put(
            store,
            "Task",
            {
                "Subject": rng.choice(("Follow-up call", "Send proposal", "Kick-off prep")),
                "WhatId": opportunity_id,
                "OwnerId": rng.choice(users[1:]),
                "Status": rng.choice(("Not Started", "In Progress", "Completed")),
                "ActivityDate": (
                    anchor.date() + dt.timedelta(days=rng.randrange(-5, 20))
                ).isoformat(),
            },
            moment_before(rng, anchor, 30),
        )


def _leads(
    store: RecordStore, rng: random.Random, count: int, users: list[str], anchor: dt.datetime
) -> None:
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        _put(
            store,
            "Lead",
            {
                "FirstName": first,
                "LastName": last,
                "Company": f"{COMPANY_PREFIXES[n % len(COMPANY_PREFIXES)]} Prospects",
                "Email": f"{first}.{last}".lower().replace("'", "") + "@prospect.example",
                "LeadSource": rng.choice(("Web", "Customer Feedback", "Partner Referral")),
                "OwnerId": rng.choice(users[1:]),
            },
            moment_before(rng, anchor, 30),
        )
