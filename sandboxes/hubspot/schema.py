"""The sandbox portal's object types, property definitions and pipelines.

Written from HubSpot's public documentation of the CRM objects, properties and
pipelines APIs: default HubSpot properties the hub uses, plus the portal's
custom properties ``handoff_hub_id`` (unique), the deals' and companies'
``delivery_*`` group (project, status, percent, due date, health) and the
leads' ``delivery_feedback`` (the text a lead came from: Leads have no
description property). Pipelines and their stages are in
:mod:`handoff_hub.sandboxes.hubspot.pipelines`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.hubspot.pipelines import (
    DEAL_PIPELINES,
    LEAD_PIPELINES,
    PIPELINES,
    PipelineDef,
)

__all__ = ["INDUSTRIES", "OBJECTS", "PIPELINES", "ObjectDef", "PropertyDef", "find_object"]

_STAMP = "2024-03-12T09:30:00.000Z"


@dataclass(frozen=True)
class PropertyDef:
    """One property as the properties API describes it."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    group: str = "information"
    options: tuple[tuple[str, str], ...] = ()
    unique: bool = False
    read_only: bool = False
    calculated: bool = False
    hubspot_defined: bool = True
    external_options: bool = False
    description: str = ""

    def as_api(self, order: int) -> dict[str, Any]:
        """The property as ``GET /crm/v3/properties/{type}`` returns it."""
        return {
            "updatedAt": _STAMP,
            "createdAt": _STAMP,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [
                {"label": label, "value": value, "displayOrder": n, "hidden": False}
                for n, (label, value) in enumerate(self.options)
            ],
            "displayOrder": order,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": not self.read_only,
            "dataSensitivity": "non_sensitive",
            "archived": False,
        }


@dataclass(frozen=True)
class ObjectDef:
    """One CRM object type."""

    name: str
    singular: str
    type_id: str
    created: str
    modified: str
    defaults: tuple[str, ...]
    properties: tuple[PropertyDef, ...]
    required: tuple[str, ...] = ()
    pipeline_property: str | None = None
    stage_property: str | None = None
    _index: dict[str, PropertyDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({p.name: p for p in self.properties})

    def prop(self, name: str) -> PropertyDef | None:
        """The property called ``name`` (names are lowercase in HubSpot)."""
        return self._index.get(name)

    @property
    def upper(self) -> str:
        """``COMPANY``, as error messages name the type."""
        return self.singular.upper()


_CURRENCIES = (
    ("US Dollar", "USD"),
    ("Euro", "EUR"),
    ("British Pound", "GBP"),
    ("Swiss Franc", "CHF"),
)
_HEALTH = (("Green", "green"), ("Amber", "amber"), ("Red", "red"))
INDUSTRIES = (
    "COMPUTER_SOFTWARE",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "FINANCIAL_SERVICES",
    "RETAIL",
    "HOSPITAL_HEALTH_CARE",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MARKETING_AND_ADVERTISING",
    "UTILITIES",
)


def _common(created: str, modified: str, *, unique_stamp: bool = True) -> tuple[PropertyDef, ...]:
    return (
        PropertyDef("hs_object_id", "Record ID", "number", "number", read_only=True),
        PropertyDef(created, "Create Date", "datetime", "date", read_only=True),
        PropertyDef(modified, "Last Modified Date", "datetime", "date", read_only=True),
        PropertyDef(
            "hubspot_owner_id",
            "Owner",
            "enumeration",
            "select",
            external_options=True,
        ),
        PropertyDef(
            "handoff_hub_id",
            "Handoff Hub id",
            unique=unique_stamp,
            hubspot_defined=False,
            group="handoff_hub",
            description="Source id stamped by Handoff Hub",
        ),
    )


def _options(*values: str) -> tuple[tuple[str, str], ...]:
    return tuple((v.replace("_", " ").title(), v) for v in values)


def _stages(pipelines: tuple[PipelineDef, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((s.label, s.id) for p in pipelines for s in p.stages)


_DELIVERY_STATUS = (
    ("Not started", "not_started"),
    ("In progress", "in_progress"),
    ("Completed", "completed"),
)
_DELIVERY = (
    PropertyDef("delivery_project", "Delivery project", hubspot_defined=False, group="handoff_hub"),
    PropertyDef(
        "delivery_status",
        "Delivery status",
        "enumeration",
        "select",
        options=_DELIVERY_STATUS,
        hubspot_defined=False,
        group="handoff_hub",
    ),
    PropertyDef(
        "delivery_percent",
        "Delivery % complete",
        "number",
        "number",
        hubspot_defined=False,
        group="handoff_hub",
    ),
    PropertyDef(
        "delivery_due",
        "Delivery due date",
        "date",
        "date",
        hubspot_defined=False,
        group="handoff_hub",
    ),
    PropertyDef(
        "delivery_health",
        "Delivery health",
        "enumeration",
        "select",
        options=_HEALTH,
        hubspot_defined=False,
        group="handoff_hub",
    ),
)

ADMIN_REGIONS = (("EMEA", "emea"), ("Americas", "americas"), ("APAC", "apac"))
"""The deal property ``region``'s options (label, internal value): a portal admin's own."""
ADMIN_SITES = (
    ("Berlin", "berlin"),
    ("Lyon", "lyon"),
    ("Austin", "austin"),
    ("Singapore", "singapore"),
)
"""The deal property ``delivery_sites``'s options: multiple checkboxes, values joined by ``;``."""
ADMIN_SITE_SETS: tuple[tuple[str, ...], ...] = (("berlin", "lyon"), ("austin",), ())
"""The sites the seed's deals hold, in turn: two, one, none."""
_ADMIN = (
    PropertyDef(
        "region",
        "Region",
        "enumeration",
        "select",
        options=ADMIN_REGIONS,
        hubspot_defined=False,
        group="dealinformation",
    ),
    PropertyDef(
        "delivery_start",
        "Delivery start date",
        "date",
        "date",
        hubspot_defined=False,
        group="dealinformation",
    ),
    PropertyDef(
        "delivery_sites",
        "Delivery sites",
        "enumeration",
        "checkbox",
        options=ADMIN_SITES,
        hubspot_defined=False,
        group="dealinformation",
    ),
    # A "HubSpot user" property: its value is an owner id, checked like hubspot_owner_id.
    PropertyDef(
        "delivery_lead",
        "Delivery lead",
        "enumeration",
        "select",
        external_options=True,
        hubspot_defined=False,
        group="dealinformation",
    ),
)
"""Custom deal properties the portal's admin made for their own process, not the hub's."""

COMPANIES = ObjectDef(
    name="companies",
    singular="company",
    type_id="0-2",
    created="createdate",
    modified="hs_lastmodifieddate",
    defaults=("name", "domain"),
    properties=(
        *_common("createdate", "hs_lastmodifieddate"),
        PropertyDef("name", "Company name"),
        PropertyDef("domain", "Company Domain Name"),
        PropertyDef("website", "Website URL"),
        PropertyDef("industry", "Industry", "enumeration", "select", options=_options(*INDUSTRIES)),
        PropertyDef("city", "City"),
        PropertyDef("country", "Country/Region"),
        PropertyDef("phone", "Phone Number"),
        PropertyDef("numberofemployees", "Number of Employees", "number", "number"),
        PropertyDef("annualrevenue", "Annual Revenue", "number", "number"),
        PropertyDef("description", "Description", field_type="textarea"),
        PropertyDef("hs_parent_company_id", "Parent Company", "number", "number", read_only=True),
        PropertyDef(
            "hs_num_child_companies",
            "Number of child companies",
            "number",
            "number",
            read_only=True,
        ),
        *_DELIVERY,
    ),
)
CONTACTS = ObjectDef(
    name="contacts",
    singular="contact",
    type_id="0-1",
    created="createdate",
    modified="lastmodifieddate",
    defaults=("firstname", "lastname", "email"),
    properties=(
        *_common("createdate", "lastmodifieddate"),
        PropertyDef("firstname", "First Name"),
        PropertyDef("lastname", "Last Name"),
        PropertyDef("email", "Email"),
        PropertyDef("phone", "Phone Number"),
        PropertyDef("jobtitle", "Job Title"),
        PropertyDef("company", "Company Name"),
        PropertyDef("message", "Message", field_type="textarea"),
        PropertyDef(
            "lifecyclestage",
            "Lifecycle Stage",
            "enumeration",
            "radio",
            options=_options("subscriber", "lead", "opportunity", "customer", "other"),
        ),
    ),
)
DEALS = ObjectDef(
    name="deals",
    singular="deal",
    type_id="0-3",
    created="createdate",
    modified="hs_lastmodifieddate",
    defaults=("dealname", "amount", "closedate", "pipeline", "dealstage"),
    required=("dealname", "dealstage"),
    pipeline_property="pipeline",
    stage_property="dealstage",
    properties=(
        *_common("createdate", "hs_lastmodifieddate"),
        PropertyDef("dealname", "Deal Name"),
        PropertyDef("amount", "Amount", "number", "number"),
        PropertyDef("deal_currency_code", "Currency", "enumeration", "select", options=_CURRENCIES),
        PropertyDef("closedate", "Close Date", "datetime", "date"),
        PropertyDef(
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            options=tuple((p.label, p.id) for p in DEAL_PIPELINES),
        ),
        PropertyDef(
            "dealstage", "Deal Stage", "enumeration", "radio", options=_stages(DEAL_PIPELINES)
        ),
        PropertyDef(
            "dealtype",
            "Deal Type",
            "enumeration",
            "radio",
            options=(("New Business", "newbusiness"), ("Existing Business", "existingbusiness")),
        ),
        PropertyDef("description", "Deal Description", field_type="textarea"),
        PropertyDef(
            "hs_is_closed",
            "Is Deal Closed?",
            "bool",
            "booleancheckbox",
            calculated=True,
            read_only=True,
        ),
        PropertyDef(
            "hs_is_closed_won",
            "Is Closed Won",
            "bool",
            "booleancheckbox",
            calculated=True,
            read_only=True,
        ),
        PropertyDef(
            "hs_deal_stage_probability",
            "Deal probability",
            "number",
            "number",
            calculated=True,
            read_only=True,
        ),
        *_DELIVERY,
        *_ADMIN,
    ),
)
LEADS = ObjectDef(
    name="leads",
    singular="lead",
    type_id="0-136",
    created="hs_createdate",
    modified="hs_lastmodifieddate",
    defaults=("hs_lead_name", "hs_pipeline", "hs_pipeline_stage"),
    required=("hs_lead_name",),
    pipeline_property="hs_pipeline",
    stage_property="hs_pipeline_stage",
    properties=(
        *_common("hs_createdate", "hs_lastmodifieddate"),
        PropertyDef("hs_lead_name", "Lead name"),
        PropertyDef(
            "delivery_feedback",
            "Delivery feedback",
            field_type="textarea",
            hubspot_defined=False,
            group="handoff_hub",
            description="What delivery reported, who reported it and a link to the item",
        ),
        PropertyDef(
            "hs_lead_type",
            "Lead type",
            "enumeration",
            "select",
            options=_options("NEW_BUSINESS", "UPSELL", "RE_ATTEMPTING"),
        ),
        PropertyDef(
            "hs_lead_label",
            "Lead label",
            "enumeration",
            "select",
            options=_options("HOT", "WARM", "COLD"),
        ),
        PropertyDef(
            "hs_pipeline",
            "Pipeline",
            "enumeration",
            "select",
            options=tuple((p.label, p.id) for p in LEAD_PIPELINES),
        ),
        PropertyDef(
            "hs_pipeline_stage",
            "Lead stage",
            "enumeration",
            "select",
            options=_stages(LEAD_PIPELINES),
        ),
    ),
)
NOTES = ObjectDef(
    name="notes",
    singular="note",
    type_id="0-46",
    created="hs_createdate",
    modified="hs_lastmodifieddate",
    defaults=("hs_note_body", "hs_timestamp"),
    required=("hs_timestamp",),
    properties=(
        *_common("hs_createdate", "hs_lastmodifieddate", unique_stamp=False),
        PropertyDef("hs_note_body", "Note body", field_type="html"),
        PropertyDef("hs_timestamp", "Activity date", "datetime", "date"),
    ),
)
TASKS = ObjectDef(
    name="tasks",
    singular="task",
    type_id="0-27",
    created="hs_createdate",
    modified="hs_lastmodifieddate",
    defaults=("hs_task_subject", "hs_task_status", "hs_timestamp"),
    required=("hs_timestamp",),
    properties=(
        *_common("hs_createdate", "hs_lastmodifieddate", unique_stamp=False),
        PropertyDef("hs_task_subject", "Task Title"),
        PropertyDef("hs_task_body", "Task notes", field_type="html"),
        PropertyDef(
            "hs_task_status",
            "Task Status",
            "enumeration",
            "select",
            options=_options("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
        ),
        PropertyDef(
            "hs_task_priority",
            "Priority",
            "enumeration",
            "select",
            options=_options("NONE", "LOW", "MEDIUM", "HIGH"),
        ),
        PropertyDef(
            "hs_task_type",
            "Task Type",
            "enumeration",
            "select",
            options=_options("TODO", "CALL", "EMAIL"),
        ),
        PropertyDef("hs_timestamp", "Due date", "datetime", "date"),
    ),
)

OBJECTS: dict[str, ObjectDef] = {
    o.name: o for o in (COMPANIES, CONTACTS, DEALS, LEADS, NOTES, TASKS)
}
_ALIASES = {
    alias: o
    for o in OBJECTS.values()
    for alias in (o.name, o.singular, o.type_id, o.name.upper(), o.upper)
}


def find_object(name: str) -> ObjectDef | None:
    """The object type a URL names: ``deals``, ``deal``, ``0-3`` or ``DEALS``."""
    return _ALIASES.get(name) or _ALIASES.get(name.lower())
