"""Realistic, seeded sample data for the Jira sandbox.

Project DEL "Delivery" holds epics (one per delivery engagement) with their
tasks and sub-tasks, plus a few customer-feedback tasks. Users are the API
user, project managers (``@acme-delivery.example``) and the account managers
whose addresses match the CRM sandbox's (``first.last@acme-sales.example``),
so that users can be matched across the two products by e-mail. The same
seed always yields the same data; times are relative to the anchor.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from typing import Any

from handoff_hub.sandboxes.jira.data import PRIORITIES, Issue, IssueType, Project, User
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.kit.moments import moment_after, moment_before
from handoff_hub.sandboxes.kit.names import FIRST_NAMES, LAST_NAMES, SUBTASKS, TASKS

__all__ = ["API_USER_EMAIL", "api_token", "integration_user", "seed"]

API_USER_EMAIL = "hub-integration@acme-delivery.example"
_PMS = (
    ("Priya", "Natarajan", "Europe/London"),
    ("Tomás", "Herrera", "Europe/Madrid"),
    ("Mei", "Chen", "Asia/Singapore"),
    ("Jonas", "Berg", "Europe/Berlin"),
    ("Aisha", "Okafor", "Africa/Lagos"),
    ("Sam", "Rivera", "America/Chicago"),
)
_ZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "America/Los_Angeles")
_COMPANIES = (
    "Acme Industries",
    "Globex Systems",
    "Initech Labs",
    "Umbrella Logistics",
    "Stark Energy",
    "Wayne Holdings",
    "Tyrell Analytics",
    "Cyberdyne Media",
    "Soylent Foods",
    "Hooli Corporation",
)
_PRODUCTS = (
    "Platform rollout",
    "Data migration",
    "Analytics add-on",
    "Integration project",
    "Training package",
    "Pilot",
)
_FEEDBACK = (
    "Customer asks for SSO with Okta",
    "Customer wants a second region",
    "Request: export to Power BI",
    "Upsell: premium support tier",
)
_STATUS_WEIGHTS = {"To Do": 4, "In Progress": 3, "In Review": 1, "Done": 3}
_HEALTH = ("Green", "Green", "Green", "Amber", "Red")


def api_token(seed: int) -> str:
    """The API token the sandbox accepts (Atlassian tokens start ``ATATT3x``)."""
    rng = random.Random(f"jira-token-{seed}")
    return "ATATT3x" + "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=40))


def integration_user(time_zone: str) -> User:
    """The account the connector authenticates as."""
    return User(
        "712020:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "Handoff Hub Integration",
        API_USER_EMAIL,
        time_zone,
    )


def seed(store: JiraStore, *, seed: int, records: int, anchor: dt.datetime) -> None:
    """Fill ``store`` with users, the DEL project and about ``records`` issues."""
    rng = random.Random(seed)
    pms = _users(store, rng)
    project = store.add_project(
        "DEL", "Delivery", pms[0], description="Customer delivery engagements"
    )
    made = 0
    for n in range(max(2, records // 6)):
        if made >= records:
            break
        made += _engagement(store, rng, project, pms, n, anchor, records - made)
    for text in _FEEDBACK[: max(0, min(len(_FEEDBACK), records - made))]:
        created = moment_before(rng, anchor, 20, at_least_seconds=3600)
        store.add_issue(
            project,
            _type(store, "Task"),
            text,
            created=created,
            updated=moment_after(rng, created, anchor),
            labels=["customer-feedback"],
            assignee=rng.choice(pms),
            status="To Do",
        )


def _users(store: JiraStore, rng: random.Random) -> list[str]:
    pms = []
    for n, (first, last, zone) in enumerate(_PMS):
        account = f"5f{rng.getrandbits(80):020x}"[:24]
        hidden = n == len(_PMS) - 1  # one user hides their e-mail (profile visibility)
        email = f"{first.lower().replace('á', 'a')}.{last.lower()}@acme-delivery.example"
        store.add_user(User(account, f"{first} {last}", email, zone, email_hidden=hidden))
        pms.append(account)
    for n in range(len(FIRST_NAMES)):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n * 7) % len(LAST_NAMES)]
        email = f"{first}.{last}".lower().replace("'", "") + "@acme-sales.example"
        account = f"5e{rng.getrandbits(80):020x}"[:24]
        store.add_user(User(account, f"{first} {last}", email, rng.choice(_ZONES)))
    store.add_user(
        User(
            "5d0000000000000000000001",
            "Former Employee",
            "former.employee@acme-delivery.example",
            active=False,
        )
    )
    store.add_user(
        User(
            "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
            "Automation for Jira",
            None,
            account_type="app",
        )
    )
    return pms


def _type(store: JiraStore, name: str) -> IssueType:
    found = store.issue_type(name)
    if found is None:
        raise LookupError(f"no issue type {name!r}")
    return found


def _status(rng: random.Random) -> str:
    return rng.choices(tuple(_STATUS_WEIGHTS), weights=tuple(_STATUS_WEIGHTS.values()))[0]


def _engagement(
    store: JiraStore,
    rng: random.Random,
    project: Project,
    pms: list[str],
    n: int,
    anchor: dt.datetime,
    budget: int,
) -> int:
    """An epic with tasks and sub-tasks; returns how many issues it made (<= budget)."""
    customer = _COMPANIES[n % len(_COMPANIES)]
    # Teams label an engagement's issues with the customer, e.g. "acme-industries".
    tag = customer.lower().replace(" ", "-") + (
        f"-{n // len(_COMPANIES) + 1}" if n >= len(_COMPANIES) else ""
    )
    created = moment_before(rng, anchor, 30, at_least_seconds=3600)
    epic = store.add_issue(
        project,
        _type(store, "Epic"),
        f"{customer} - {rng.choice(_PRODUCTS)}",
        created=created,
        updated=moment_after(rng, created, anchor),
        status=_status(rng),
        assignee=rng.choice(pms),
        labels=["delivery", tag],
        priority=rng.choice(PRIORITIES[1:4]),
        duedate=(anchor + dt.timedelta(days=rng.randrange(20, 120))).date(),
        custom={
            "customfield_10050": float(rng.randrange(50, 5000) * 100),
            "customfield_10053": "EUR" if n % 3 == 1 else "USD",
            "customfield_10051": customer,
            "customfield_10052": {"value": rng.choice(_HEALTH)},
            **_admin_fields(n, created),
        },
    )
    made = 1
    for title in rng.sample(TASKS, k=rng.randrange(2, 5)):
        if made >= budget:
            break
        task = _child(store, rng, project, epic, "Task", title, anchor, pms, tag)
        made += 1
        if rng.random() < 0.3 and made < budget:
            title = rng.choice(SUBTASKS)
            _child(store, rng, project, task, "Subtask", title, anchor, pms, tag)
            made += 1
    return made


def _admin_fields(n: int, created: dt.datetime) -> dict[str, Any]:
    """The site admin's own fields (Region, Delivery start), drawn without the rng."""
    if n % 4 == 3:
        return {}
    regions = ("Europe", "Americas", "APAC")
    start = (created + dt.timedelta(days=14)).date()
    return {"customfield_10060": {"value": regions[n % 3]}, "customfield_10061": start}


def _child(
    store: JiraStore,
    rng: random.Random,
    project: Project,
    parent: Issue,
    kind: str,
    title: str,
    anchor: dt.datetime,
    pms: list[str],
    tag: str,
) -> Issue:
    created = moment_after(rng, parent.created, anchor)
    return store.add_issue(
        project,
        _type(store, kind),
        title,
        created=created,
        updated=moment_after(rng, created, anchor),
        status=_status(rng),
        parent=parent.id,
        labels=[tag],
        assignee=rng.choice([*pms, None]),
        priority="Medium",
    )
