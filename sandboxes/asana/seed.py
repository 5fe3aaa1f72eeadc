"""Realistic, seeded sample data for the Asana sandbox.

An organization "Acme Delivery" with a Delivery team and a Sales Ops team;
custom fields Budget (number) with Budget currency (text), CRM ID (text), Health (enum
Green/Amber/Red), Customer (text) and Priority (enum); a "Standard delivery"
project template; four delivery projects, each stamped with the won deal it
came from, with sections, tasks, subtasks, assignees and due dates (some past
and still open: overdue). Users are the API user, project managers
(``@acme-delivery.example``) and the account managers whose addresses match
the CRM sandbox's (``first.last@acme-sales.example``). The structure has
fixed gids whatever the seed; names, values and times come from the seed and
are relative to the anchor. ``modified_at`` is spread independently of
creation order, as Asana's listings are not sorted by it.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from handoff_hub.sandboxes.asana.data import (
    CustomField,
    EnumOption,
    Project,
    Task,
    Team,
    Template,
    TemplateTask,
    Workspace,
)
from handoff_hub.sandboxes.asana.store import AsanaStore
from handoff_hub.sandboxes.kit.moments import moment_after, moment_before
from handoff_hub.sandboxes.kit.names import FIRST_NAMES, LAST_NAMES, SUBTASKS, TASKS

__all__ = [
    "API_USER_EMAIL",
    "BUDGET_CURRENCY_FIELD",
    "BUDGET_FIELD",
    "CRM_ID_FIELD",
    "CUSTOMER_FIELD",
    "DELIVERY_PROJECTS",
    "DELIVERY_START_FIELD",
    "FEEDBACK_FIELD",
    "HEALTH_FIELD",
    "OTHER_WORKSPACE",
    "PRIORITY_FIELD",
    "REGION_FIELD",
    "RISK_FIELD",
    "SALES_TEAM",
    "TEAM",
    "TEMPLATE",
    "WORKSPACE",
    "seed",
]

API_USER_EMAIL = "hub-integration@acme-delivery.example"
WORKSPACE = "1209000000000001"
OTHER_WORKSPACE = "1209000000000002"
TEAM = "1209000000000011"
SALES_TEAM = "1209000000000012"
BUDGET_FIELD = "1209000000000101"
CRM_ID_FIELD = "1209000000000102"
HEALTH_FIELD = "1209000000000103"
CUSTOMER_FIELD = "1209000000000104"
PRIORITY_FIELD = "1209000000000105"
FEEDBACK_FIELD = "1209000000000106"
RISK_FIELD = "1209000000000107"
BUDGET_CURRENCY_FIELD = "1209000000000108"
REGION_FIELD = "1209000000000109"
"""Region (enum): a field the workspace's admin made for their own process, not the hub's."""
DELIVERY_START_FIELD = "1209000000000110"
"""Delivery start (date): the admin's own too."""
DELIVERY_LEAD_FIELD = "1209000000000111"
"""Delivery lead (people): the admin's own; a list of user gids."""
TEMPLATE = "1209000000000201"
DELIVERY_PROJECTS = (
    "1209000000000301",
    "1209000000000302",
    "1209000000000303",
    "1209000000000304",
)
_SALES_PROJECT = "1209000000000305"
_API_USER = "1209000000000400"
_HEALTH = (("Green", "green"), ("Amber", "yellow-orange"), ("Red", "red"))
_REGION = (("EMEA", "blue"), ("Americas", "green"), ("APAC", "orange"))
_PRIORITY = (("High", "red"), ("Medium", "yellow"), ("Low", "blue"))
_KINDS = (("Customer feedback", "purple"), ("New need", "aqua"), ("Upsell", "green"))
_RISK = (("Low", "blue"), ("Medium", "yellow"), ("High", "orange"), ("Critical", "red"))
_FEEDBACK = (
    ("Customer asks for SSO with Okta", "Customer feedback"),
    ("Customer wants a second region", "New need"),
    ("Upsell: premium support tier", "Upsell"),
)
_FIELDS = [
    BUDGET_FIELD,
    BUDGET_CURRENCY_FIELD,
    CRM_ID_FIELD,
    HEALTH_FIELD,
    CUSTOMER_FIELD,
    PRIORITY_FIELD,
    FEEDBACK_FIELD,
    RISK_FIELD,
    REGION_FIELD,
    DELIVERY_START_FIELD,
]
_PMS = (
    ("Priya", "Natarajan"),
    ("Tomás", "Herrera"),
    ("Mei", "Chen"),
    ("Jonas", "Berg"),
    ("Aisha", "Okafor"),
    ("Sam", "Rivera"),
)
_COMPANIES = (
    "Acme Industries",
    "Globex Systems",
    "Initech Labs",
    "Umbrella Logistics",
    "Stark Energy",
    "Wayne Holdings",
    "Tyrell Analytics",
)
_PRODUCTS = ("Platform rollout", "Data migration", "Analytics add-on", "Integration project")
_SECTIONS = ("Planning", "Execution", "Closing")


def seed(store: AsanaStore, *, seed: int, records: int, anchor: dt.datetime) -> None:
    """Fill ``store``: the domain's structure, then about ``records`` tasks."""
    rng = random.Random(seed)
    _structure(store)
    pms = _users(store)
    _template(store, pms[0])
    projects = [
        _project(store, rng, gid, n, pms, anchor) for n, gid in enumerate(DELIVERY_PROJECTS)
    ]
    sales = store.add_project(
        "Sales Ops - CRM hygiene",
        SALES_TEAM,
        WORKSPACE,
        gid=_SALES_PROJECT,
        owner=pms[-1],
        created_at=anchor - dt.timedelta(days=90),
        notes="Quarterly clean-up of CRM records.",
    )
    backlog = store.add_section(sales, "Backlog")
    feedback = _FEEDBACK[: min(len(_FEEDBACK), records // 10)]
    made = len(feedback)
    for n, project in enumerate(projects):
        share = max(2, (records - made) // (len(projects) - n))
        made += _tasks(store, rng, project, pms, anchor, share)
    for project, (text, kind) in zip(projects, feedback, strict=False):
        _feedback(store, rng, project, text, kind, pms, anchor)
    for name in ("Merge duplicate accounts", "Archive stale leads"):
        created = moment_before(rng, anchor, 60, at_least_seconds=3600)
        store.add_task(
            name,
            workspace=WORKSPACE,
            projects=[sales.gid],
            sections={sales.gid: backlog.gid},
            created_at=created,
            modified_at=moment_after(rng, created, anchor),
        )


def _structure(store: AsanaStore) -> None:
    store.workspaces[WORKSPACE] = Workspace(WORKSPACE, "Acme Delivery")
    store.workspaces[OTHER_WORKSPACE] = Workspace(OTHER_WORKSPACE, "Umbrella Partners")
    store.member_of.add(WORKSPACE)
    store.add_team(Team(TEAM, "Delivery", WORKSPACE))
    store.add_team(Team(SALES_TEAM, "Sales Ops", WORKSPACE))
    store.add_field(
        CustomField(
            BUDGET_FIELD,
            "Budget",
            "number",
            "Contract amount of the won deal",
            precision=2,
        )
    )
    store.add_field(
        CustomField(
            BUDGET_CURRENCY_FIELD,
            "Budget currency",
            "text",
            "ISO currency code of the budget (USD, EUR, ...)",
        )
    )
    store.add_field(CustomField(CRM_ID_FIELD, "CRM ID", "text", "Source deal in the CRM"))
    store.add_field(
        CustomField(HEALTH_FIELD, "Health", "enum", "Delivery health", _options(110, _HEALTH))
    )
    store.add_field(CustomField(CUSTOMER_FIELD, "Customer", "text", "Customer account"))
    store.add_field(CustomField(PRIORITY_FIELD, "Priority", "enum", "", _options(120, _PRIORITY)))
    store.add_field(
        CustomField(
            FEEDBACK_FIELD,
            "Feedback",
            "enum",
            "Customer feedback, a new need or an upsell (becomes a CRM lead)",
            _options(130, _KINDS),
        )
    )
    store.add_field(
        CustomField(
            RISK_FIELD,
            "Risk",
            "enum",
            "A delivery risk and how bad it is (the account manager gets a CRM task)",
            _options(140, _RISK),
        )
    )
    store.add_field(CustomField(REGION_FIELD, "Region", "enum", "", _options(150, _REGION)))
    store.add_field(CustomField(DELIVERY_START_FIELD, "Delivery start", "date", ""))
    store.add_field(CustomField(DELIVERY_LEAD_FIELD, "Delivery lead", "people", ""))


def _options(first: int, names: tuple[tuple[str, str], ...]) -> list[EnumOption]:
    return [
        EnumOption(f"1209000000000{first + n}", name, color)
        for n, (name, color) in enumerate(names)
    ]


def _users(store: AsanaStore) -> list[str]:
    me = store.add_user("Handoff Hub Integration", API_USER_EMAIL, gid=_API_USER)
    store.me = me
    pms = [
        store.add_user(
            f"{first} {last}",
            f"{first}.{last}".lower().replace("á", "a") + "@acme-delivery.example",
        ).gid
        for first, last in _PMS
    ]
    for n, first in enumerate(FIRST_NAMES):  # the CRM sandboxes' users, spelt as they spell them
        last = LAST_NAMES[(n * 7) % len(LAST_NAMES)]
        store.add_user(
            f"{first} {last}", f"{first}.{last}".lower().replace("'", "") + "@acme-sales.example"
        )
    return pms


def _template(store: AsanaStore, owner: str) -> None:
    tasks = [
        TemplateTask(
            "Kick-off meeting",
            "Planning",
            5,
            "Introduce the team; confirm scope and timeline.",
            [
                TemplateTask("Prepare agenda", "Planning", 3),
                TemplateTask("Send invites", "Planning"),
            ],
        ),
        TemplateTask("Discovery and requirements", "Planning", 15),
        TemplateTask("Solution design", "Execution", 25),
        TemplateTask(
            "Build and configuration",
            "Execution",
            60,
            subtasks=[TemplateTask("Data migration", "Execution", 55)],
        ),
        TemplateTask("User acceptance testing", "Closing", 75),
        TemplateTask("Go-live and handover", "Closing", 90),
    ]
    store.add_template(
        Template(
            TEMPLATE,
            "Standard delivery",
            TEAM,
            owner,
            "The delivery plan for a newly won deal.",
            list(_SECTIONS),
            tasks,
            list(_FIELDS),
        )
    )


def _project(
    store: AsanaStore,
    rng: random.Random,
    gid: str,
    number: int,
    pms: list[str],
    anchor: dt.datetime,
) -> Project:
    company = _COMPANIES[(number + rng.randrange(len(_COMPANIES))) % len(_COMPANIES)]
    product = _PRODUCTS[number % len(_PRODUCTS)]
    deal = f"salesforce:006Hb0000{rng.randrange(16**6):06X}IA{chr(65 + number)}"
    created = anchor - dt.timedelta(days=rng.randrange(40, 120), seconds=rng.randrange(86400))
    health = store.fields[HEALTH_FIELD].options[rng.choice((0, 0, 1, 2))]
    project = store.add_project(
        f"{company} - {product}",
        TEAM,
        WORKSPACE,
        gid=gid,
        owner=pms[number % len(pms)],
        created_at=created,
        modified_at=moment_after(rng, created, anchor),
        notes=f"Delivery project for the won deal {product}.\n\nHandoff Hub source: {deal}",
        start_on=(created + dt.timedelta(days=7)).date().isoformat(),
        due_on=(anchor + dt.timedelta(days=rng.randrange(20, 150))).date().isoformat(),
        field_settings=list(_FIELDS),
        values={
            BUDGET_FIELD: float(rng.randrange(40, 400) * 1000),
            BUDGET_CURRENCY_FIELD: "EUR" if number % 3 == 1 else "USD",
            CRM_ID_FIELD: deal,
            HEALTH_FIELD: health.gid,
            CUSTOMER_FIELD: company,
            **_admin_values(store, number, created),
        },
    )
    for name in _SECTIONS:
        store.add_section(project, name).created_at = created
    return project


def _admin_values(store: AsanaStore, number: int, created: dt.datetime) -> dict[str, Any]:
    """The admin's own fields (Region, Delivery start), drawn without the rng."""
    if number % 4 == 3:
        return {}
    region = store.fields[REGION_FIELD].options[number % 3].gid
    start = (created + dt.timedelta(days=14)).date().isoformat()
    return {REGION_FIELD: region, DELIVERY_START_FIELD: start}


def _tasks(
    store: AsanaStore,
    rng: random.Random,
    project: Project,
    pms: list[str],
    anchor: dt.datetime,
    budget: int,
) -> int:
    """Add up to ``budget`` tasks and subtasks to ``project``; return how many."""
    sections = [s.gid for s in store.sections.values() if s.project == project.gid]
    made, number = 0, 0
    while made < budget:
        name = TASKS[number % len(TASKS)]
        if number >= len(TASKS):
            name += f" ({number // len(TASKS) + 1})"
        task = _task(store, rng, name, anchor, pms, projects=[project.gid])
        task.sections = {project.gid: sections[min(len(sections) - 1, number * 3 // 8 % 3)]}
        if rng.random() < 0.4:
            task.values[PRIORITY_FIELD] = store.fields[PRIORITY_FIELD].options[rng.randrange(3)].gid
        made, number = made + 1, number + 1
        for sub in SUBTASKS[: rng.choice((0, 0, 1, 2)) if made < budget else 0]:
            _task(store, rng, sub, anchor, pms, parent=task.gid)
            made += 1
    return made


def _task(
    store: AsanaStore,
    rng: random.Random,
    name: str,
    anchor: dt.datetime,
    pms: list[str],
    **home: object,
) -> Task:
    created = moment_before(rng, anchor, 45, at_least_seconds=3600)
    due = anchor.date() + dt.timedelta(days=rng.randrange(-20, 60))
    done = rng.random() < 0.3
    modified = moment_after(rng, created, anchor)
    return store.add_task(
        name,
        workspace=WORKSPACE,
        created_at=created,
        modified_at=modified,
        assignee=rng.choice([*pms, None]),
        due_on=due.isoformat(),
        completed=done,
        completed_at=modified if done else None,
        notes=f"{name} for this delivery.",
        **home,
    )


def _feedback(
    store: AsanaStore,
    rng: random.Random,
    project: Project,
    text: str,
    kind: str,
    pms: list[str],
    anchor: dt.datetime,
) -> None:
    """A task the delivery team flagged as customer feedback, a need or an upsell."""
    option = next(o for o in store.fields[FEEDBACK_FIELD].options if o.name == kind)
    task = _task(store, rng, text, anchor, pms, projects=[project.gid])
    task.sections = {
        project.gid: next(s.gid for s in store.sections.values() if s.project == project.gid)
    }
    task.completed, task.completed_at = False, None
    task.created_by = rng.choice(pms)
    task.values = {FEEDBACK_FIELD: option.gid, CUSTOMER_FIELD: project.values[CUSTOMER_FIELD]}
