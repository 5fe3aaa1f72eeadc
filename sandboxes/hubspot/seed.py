"""Realistic, seeded sample data for the HubSpot sandbox.

``records`` is the number of deals; owners, companies, contacts, leads,
tasks and notes scale with it. Deals sit in both pipelines (most in the
default one), some won, some lost, most open, each associated with its
company (as primary) and with one or two of the company's contacts. The same
seed always yields the same data, modification times relative to the anchor.
"""

from __future__ import annotations

import datetime as dt
import random

from handoff_hub.sandboxes.hubspot.schema import (
    ADMIN_REGIONS,
    ADMIN_SITE_SETS,
    INDUSTRIES,
    OBJECTS,
    PIPELINES,
)
from handoff_hub.sandboxes.hubspot.store import RecordStore
from handoff_hub.sandboxes.hubspot.values import format_datetime
from handoff_hub.sandboxes.kit.moments import moment_before
from handoff_hub.sandboxes.kit.names import (
    COUNTRIES,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS,
    company_name,
)

__all__ = ["clear_some", "deactivate_some", "import_at_once", "seed"]

_STAGE_WEIGHTS = {
    "default": (10, 8, 8, 7, 6, 25, 15),
    "1467431": (10, 8, 20, 8),
}


def seed(store: RecordStore, *, seed: int, records: int, anchor: dt.datetime) -> None:
    """Fill ``store`` with owners, companies, contacts, deals, leads, tasks and notes."""
    rng = random.Random(seed)
    owners = _owners(store, max(4, records // 10), anchor)
    companies = _companies(store, rng, max(5, records // 3), owners, anchor)
    _departments(store, [c for c, _ in companies], anchor)
    contacts = _contacts(store, rng, companies, owners, anchor)
    deals = _deals(store, rng, records, companies, contacts, owners, anchor)
    _leads(store, rng, max(3, records // 8), contacts, owners, anchor)
    _activities(store, rng, deals[: max(3, records // 5)], owners, anchor)


def _email(first: str, last: str, domain: str) -> str:
    return f"{first}.{last}".lower().replace("'", "") + f"@{domain}"


def _owners(store: RecordStore, count: int, anchor: dt.datetime) -> list[str]:
    ids = []
    for n in range(count):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
        owner_id = str(41_629_779 + n * 137)
        stamp = format_datetime(anchor - dt.timedelta(days=400 - n))
        store.owners[owner_id] = {
            "id": owner_id,
            "email": _email(first, last, "acme-sales.example"),
            "type": "PERSON",
            "firstName": first,
            "lastName": last,
            "userId": 9_586_504 + n,
            "userIdIncludingInactive": 9_586_504 + n,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": False,
            "teams": [{"id": "4412", "name": "Sales", "primary": True}],
        }
        ids.append(owner_id)
    return ids


def _companies(
    store: RecordStore, rng: random.Random, count: int, owners: list[str], anchor: dt.datetime
) -> list[tuple[str, str]]:
    made: list[tuple[str, str]] = []
    for n in range(count):
        name = company_name(n)
        domain = name.lower().replace(" ", "-") + ".example"
        record = store.put(
            OBJECTS["companies"],
            {
                "name": name,
                "domain": domain,
                "website": f"https://www.{domain}",
                "industry": rng.choice(INDUSTRIES),
                "country": rng.choice(COUNTRIES),
                "numberofemployees": str(rng.randrange(20, 20000)),
                "annualrevenue": str(rng.randrange(1, 500) * 100000),
                "hubspot_owner_id": rng.choice(owners),
            },
            moment_before(rng, anchor, 30),
        )
        made.append((record.id, domain))
    return made


def _departments(store: RecordStore, companies: list[str], anchor: dt.datetime) -> None:
    """A customer that is a company with departments: the 2nd and 3rd are the 1st's children."""
    for child in companies[1:3]:
        store.set_parent(child, companies[0], anchor - dt.timedelta(days=1))


def _contacts(
    store: RecordStore,
    rng: random.Random,
    companies: list[tuple[str, str]],
    owners: list[str],
    anchor: dt.datetime,
) -> dict[str, list[str]]:
    by_company: dict[str, list[str]] = {}
    for company_id, domain in companies:
        for n in range(rng.randrange(1, 3)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            record = store.put(
                OBJECTS["contacts"],
                {
                    "firstname": first,
                    "lastname": last,
                    "email": _email(first, f"{last}{n}", domain),
                    "jobtitle": rng.choice(("CTO", "Head of Operations", "Project Lead", "CFO")),
                    "lifecyclestage": "customer",
                    "hubspot_owner_id": rng.choice(owners),
                },
                moment_before(rng, anchor, 30),
            )
            store.associate("contacts", record.id, "companies", company_id, primary=True)
            by_company.setdefault(company_id, []).append(record.id)
    return by_company


def _deals(
    store: RecordStore,
    rng: random.Random,
    count: int,
    companies: list[tuple[str, str]],
    contacts: dict[str, list[str]],
    owners: list[str],
    anchor: dt.datetime,
) -> list[str]:
    names = {r.id: r.props["name"] for r in store.records(OBJECTS["companies"])}
    ids: list[str] = []
    for _ in range(count):
        company_id = rng.choice(companies)[0]
        pipeline = rng.choices(PIPELINES["deals"], weights=(7, 3))[0]
        stage = rng.choices(pipeline.stages, weights=_STAGE_WEIGHTS[pipeline.id])[0]
        close = anchor.date() + dt.timedelta(days=rng.randrange(-60, 90))
        record = store.put(
            OBJECTS["deals"],
            {
                "dealname": f"{names[company_id]} - {rng.choice(PRODUCTS)}",
                "pipeline": pipeline.id,
                "dealstage": stage.id,
                "amount": str(rng.randrange(50, 5000) * 100),
                "deal_currency_code": rng.choices(("USD", "EUR", "GBP"), weights=(6, 3, 1))[0],
                "closedate": f"{close.isoformat()}T00:00:00.000Z",
                "dealtype": rng.choice(("newbusiness", "existingbusiness")),
                "hubspot_owner_id": rng.choice(owners),
                **_admin_properties(len(ids), close),
            },
            moment_before(rng, anchor, 30),
        )
        store.associate("deals", record.id, "companies", company_id, primary=True)
        for contact_id in contacts.get(company_id, [])[: rng.randrange(1, 3)]:
            store.associate("deals", record.id, "contacts", contact_id)
        ids.append(record.id)
    return ids


def _admin_properties(index: int, close: dt.date) -> dict[str, str]:
    """The admin's own deal properties (region, delivery_start, delivery_sites), without the rng.

    ``delivery_sites`` (multiple checkboxes) holds two sites, one, or none, in turn.
    """
    if index % 4 == 3:
        return {}
    start = close + dt.timedelta(days=14)
    sites = ADMIN_SITE_SETS[index % len(ADMIN_SITE_SETS)]
    return {
        "region": ADMIN_REGIONS[index % 3][1],
        "delivery_start": start.isoformat(),
        **({"delivery_sites": ";".join(sites)} if sites else {}),
    }


def _leads(
    store: RecordStore,
    rng: random.Random,
    count: int,
    contacts: dict[str, list[str]],
    owners: list[str],
    anchor: dt.datetime,
) -> None:
    people = [(company, c) for company, ids in contacts.items() for c in ids]
    for _ in range(min(count, len(people))):
        company_id, contact_id = rng.choice(people)
        person = store.tables["contacts"][contact_id].props
        record = store.put(
            OBJECTS["leads"],
            {
                "hs_lead_name": f"{person['firstname']} {person['lastname']}",
                "hs_lead_type": rng.choice(("NEW_BUSINESS", "UPSELL")),
                "hs_lead_label": rng.choice(("HOT", "WARM", "COLD")),
                "hubspot_owner_id": rng.choice(owners),
            },
            moment_before(rng, anchor, 30),
        )
        store.associate("leads", record.id, "contacts", contact_id, primary=True)
        store.associate("leads", record.id, "companies", company_id)


def _activities(
    store: RecordStore,
    rng: random.Random,
    deals: list[str],
    owners: list[str],
    anchor: dt.datetime,
) -> None:
    for deal_id in deals:
        due = anchor + dt.timedelta(days=rng.randrange(-5, 20))
        task = store.put(
            OBJECTS["tasks"],
            {
                "hs_task_subject": rng.choice(("Follow-up call", "Send proposal", "Kick-off prep")),
                "hs_task_status": rng.choice(("NOT_STARTED", "IN_PROGRESS", "COMPLETED")),
                "hs_task_priority": rng.choice(("LOW", "MEDIUM", "HIGH")),
                "hs_task_type": "TODO",
                "hs_timestamp": format_datetime(due),
                "hubspot_owner_id": rng.choice(owners),
            },
            moment_before(rng, anchor, 30),
        )
        store.associate("tasks", task.id, "deals", deal_id)
        note = store.put(
            OBJECTS["notes"],
            {
                "hs_note_body": "<p>Customer asked for a delivery timeline.</p>",
                "hs_timestamp": format_datetime(moment_before(rng, anchor, 30)),
                "hubspot_owner_id": rng.choice(owners),
            },
            moment_before(rng, anchor, 30),
        )
        store.associate("notes", note.id, "deals", deal_id)


def clear_some(store: RecordStore, every: int = 5) -> None:
    """Clear the amount of every ``every``-th deal and the job title of as many contacts.

    In a portal that keeps cleared values as ``""`` (a user emptied the field)
    those are what reads send back.
    """
    for name, prop in (("deals", "amount"), ("contacts", "jobtitle")):
        obj = OBJECTS[name]
        for record in store.records(obj)[::every]:
            store.modify(obj, record, {prop: None})


def import_at_once(store: RecordStore, when: dt.datetime) -> None:
    """Give every record one last-modified date per object, as a bulk import leaves them."""
    for obj in OBJECTS.values():
        for record in store.records(obj):
            store.restamp(obj, record, when)


def deactivate_some(store: RecordStore, every: int = 3) -> None:
    """Deactivate every ``every``-th owner (a user who left); their records keep them."""
    for owner in list(store.owners.values())[1::every]:
        owner["archived"] = True
        owner["updatedAt"] = store.moment()
