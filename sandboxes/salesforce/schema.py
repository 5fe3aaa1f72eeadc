"""Object and field metadata of the Salesforce sandbox, and its describe output.

Field definitions follow a standard Sales Cloud org with multi-currency on,
plus the custom fields the hub relies on (``Delivery_Project__c``,
``Delivery_Health__c``, ``Handoff_Hub_Id__c`` as a unique external id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OBJECTS",
    "STAGES",
    "FieldDef",
    "ObjectDef",
    "describe_field",
    "describe_object",
    "find_object",
    "kind_of",
    "object_flags",
]

STRING_TYPES = frozenset(
    {
        "id",
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "combobox",
        "reference",
    }
)
NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})
_SOAP = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "currency": "xsd:double",
    "double": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}

STAGES: dict[str, tuple[int, str, bool, bool]] = {
    "Prospecting": (10, "Pipeline", False, False),
    "Qualification": (10, "Pipeline", False, False),
    "Needs Analysis": (20, "Pipeline", False, False),
    "Value Proposition": (50, "Pipeline", False, False),
    "Id. Decision Makers": (60, "Pipeline", False, False),
    "Perception Analysis": (70, "Pipeline", False, False),
    "Proposal/Price Quote": (75, "Pipeline", False, False),
    "Negotiation/Review": (90, "Commit", False, False),
    "Closed Won": (100, "Closed", True, True),
    "Closed Lost": (0, "Omitted", True, False),
    "Closed Won - Signed": (100, "Closed", True, True),  # an org's own won stage
}
"""StageName -> (Probability, ForecastCategoryName, IsClosed, IsWon)."""

CURRENCIES = ("USD", "EUR", "GBP")


@dataclass(frozen=True)
class FieldDef:
    """One field as describe reports it."""

    name: str
    type: str
    label: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False
    values: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    unique: bool = False
    external_id: bool = False
    custom: bool = False
    name_field: bool = False
    precision: int = 0
    scale: int = 0
    default: str | None = None

    @property
    def required(self) -> bool:
        """Must be given on create (REQUIRED_FIELD_MISSING otherwise)."""
        return self.createable and not self.nillable and not self.defaulted


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type."""

    name: str
    label: str
    plural: str
    key_prefix: str
    fields: tuple[FieldDef, ...]
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    searchable: bool = True

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (case-insensitive), or None."""
        folded = name.casefold()
        return next((f for f in self.fields if f.name.casefold() == folded), None)

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship is ``name`` (case-insensitive), or None."""
        folded = name.casefold()
        return next((f for f in self.fields if (f.relationship or "").casefold() == folded), None)


def kind_of(field: FieldDef) -> str:
    """Value kind of a field: string, number, boolean, date or datetime."""
    if field.type in STRING_TYPES:
        return "string"
    if field.type in NUMBER_TYPES:
        return "number"
    return field.type


def _text(name: str, label: str, length: int, **kw: Any) -> FieldDef:
    return FieldDef(name, kw.pop("type", "string"), label, length=length, **kw)


ADMIN_REGIONS = ("Europe", "North America", "Asia Pacific")
"""Region__c's picklist values (an admin's own field on Opportunity)."""
ADMIN_PRIORITIES = ("High", "Medium", "Low")
"""Priority__c's picklist values (an admin's own field on Opportunity)."""
ADMIN_SITES = ("Berlin", "Lyon", "Austin", "Singapore")
"""Delivery_Sites__c's values: a multi-select picklist, its values joined by ``;``."""
ADMIN_SITE_SETS: tuple[tuple[str, ...], ...] = (("Berlin", "Lyon"), ("Austin",), ())
"""The sites the seed's deals hold, in turn: two, one, none."""


def _pick(name: str, label: str, values: tuple[str, ...], **kw: Any) -> FieldDef:
    return FieldDef(name, "picklist", label, length=255, values=values, **kw)


def _ref(name: str, label: str, to: tuple[str, ...], rel: str, **kw: Any) -> FieldDef:
    return FieldDef(name, "reference", label, length=18, reference_to=to, relationship=rel, **kw)


def _person_name() -> tuple[FieldDef, ...]:
    """A person's name fields: first, last (required) and the full name they make."""
    return (
        _text("FirstName", "First Name", 40),
        _text("LastName", "Last Name", 80, nillable=False),
        _text("Name", "Full Name", 121, **_CALC_NAME),
    )


def _system(*, owner: bool = True, currency: bool = True) -> tuple[FieldDef, ...]:
    audit: dict[str, Any] = {
        "createable": False,
        "updateable": False,
        "nillable": False,
        "defaulted": True,
    }
    fields = [
        FieldDef("Id", "id", "Record ID", length=18, **audit),
        FieldDef("IsDeleted", "boolean", "Deleted", **audit),
        FieldDef("CreatedDate", "datetime", "Created Date", **audit),
        _ref("CreatedById", "Created By ID", ("User",), "CreatedBy", **audit),
        FieldDef("LastModifiedDate", "datetime", "Last Modified Date", **audit),
        _ref("LastModifiedById", "Last Modified By ID", ("User",), "LastModifiedBy", **audit),
        FieldDef("SystemModstamp", "datetime", "System Modstamp", **audit),
    ]
    if owner:
        fields.append(
            _ref("OwnerId", "Owner ID", ("User",), "Owner", nillable=False, defaulted=True)
        )
    if currency:
        fields.append(
            _pick(
                "CurrencyIsoCode",
                "Currency ISO Code",
                CURRENCIES,
                restricted=True,
                nillable=False,
                defaulted=True,
                default="USD",
            )
        )
    return tuple(fields)


def _hub_id() -> FieldDef:
    return _text(
        "Handoff_Hub_Id__c", "Handoff Hub Id", 255, unique=True, external_id=True, custom=True
    )


_NAME: dict[str, Any] = {"nillable": False, "name_field": True}
_CALC_NAME: dict[str, Any] = {"createable": False, "updateable": False, "name_field": True}
_INDUSTRIES = (
    "Technology",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Energy",
    "Media",
    "Transportation",
    "Consulting",
)
_LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")

_ACCOUNT = ObjectDef(
    "Account",
    "Account",
    "Accounts",
    "001",
    (
        *_system(),
        _text("Name", "Account Name", 255, **_NAME),
        _pick(
            "Type",
            "Account Type",
            ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"),
        ),
        _pick("Industry", "Industry", _INDUSTRIES),
        _ref("ParentId", "Parent Account ID", ("Account",), "Parent"),
        _text("Website", "Website", 255, type="url"),
        _text("Phone", "Account Phone", 40, type="phone"),
        _text("BillingCity", "Billing City", 40),
        _text("BillingCountry", "Billing Country", 80),
        FieldDef("NumberOfEmployees", "int", "Employees", precision=8),
        FieldDef("AnnualRevenue", "currency", "Annual Revenue", precision=18),
        _text("Description", "Account Description", 32000, type="textarea"),
        _hub_id(),
    ),
)
_CONTACT = ObjectDef(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    (
        *_system(),
        *_person_name(),
        _ref("AccountId", "Account ID", ("Account",), "Account"),
        _text("Email", "Email", 80, type="email"),
        _text("Phone", "Business Phone", 40, type="phone"),
        _text("Title", "Title", 128),
        _text("Description", "Contact Description", 32000, type="textarea"),
    ),
)
_OPPORTUNITY = ObjectDef(
    "Opportunity",
    "Opportunity",
    "Opportunities",
    "006",
    (
        *_system(),
        _text("Name", "Name", 120, **_NAME),
        _ref("AccountId", "Account ID", ("Account",), "Account"),
        _pick("StageName", "Stage", tuple(STAGES), nillable=False),
        FieldDef("Amount", "currency", "Amount", precision=18, scale=2),
        FieldDef("Probability", "percent", "Probability (%)", precision=3),
        FieldDef("CloseDate", "date", "Close Date", nillable=False),
        FieldDef(
            "IsClosed",
            "boolean",
            "Closed",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        FieldDef(
            "IsWon",
            "boolean",
            "Won",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        _pick(
            "ForecastCategoryName",
            "Forecast Category",
            ("Pipeline", "Best Case", "Commit", "Omitted", "Closed"),
            restricted=True,
        ),
        _pick(
            "Type",
            "Opportunity Type",
            ("New Customer", "Existing Customer - Upgrade", "Existing Customer - Replacement"),
        ),
        _pick("LeadSource", "Lead Source", _LEAD_SOURCES),
        _text("NextStep", "Next Step", 255),
        _text("Description", "Description", 32000, type="textarea"),
        _text("Delivery_Project__c", "Delivery Project", 255, custom=True),
        _pick(
            "Delivery_Status__c",
            "Delivery Status",
            ("Not Started", "In Progress", "Completed"),
            restricted=True,
            custom=True,
        ),
        FieldDef("Delivery_Due__c", "date", "Delivery Due Date", custom=True),
        FieldDef("Delivery_Percent__c", "percent", "Delivery % Complete", custom=True, precision=3),
        _pick(
            "Delivery_Health__c",
            "Delivery Health",
            ("Green", "Amber", "Red"),
            restricted=True,
            custom=True,
        ),
        # The admin's own fields, as a real org has them (not the hub's): a region
        # picklist, a delivery start date and a priority.
        _pick("Region__c", "Region", ADMIN_REGIONS, restricted=True, custom=True),
        FieldDef("Delivery_Start__c", "date", "Delivery Start Date", custom=True),
        _pick("Priority__c", "Priority", ADMIN_PRIORITIES, restricted=True, custom=True),
        _ref("Delivery_Lead__c", "Delivery Lead", ("User",), "Delivery_Lead__r", custom=True),
        FieldDef(
            "Delivery_Sites__c",
            "multipicklist",
            "Delivery Sites",
            length=4099,
            values=ADMIN_SITES,
            restricted=True,
            custom=True,
        ),
        _hub_id(),
    ),
)
_USER = ObjectDef(
    "User",
    "User",
    "Users",
    "005",
    (
        *_system(owner=False),
        _text("Username", "Username", 80, nillable=False, unique=True),
        *_person_name(),
        _text("Email", "Email", 128, type="email", nillable=False),
        _text("Alias", "Alias", 8, nillable=False),
        _text("Title", "Title", 80),
        _text("Department", "Department", 80),
        FieldDef("IsActive", "boolean", "Active", nillable=False, defaulted=True),
    ),
    deletable=False,
)
_TASK = ObjectDef(
    "Task",
    "Task",
    "Tasks",
    "00T",
    (
        *_system(),
        _text("Subject", "Subject", 255, type="combobox"),
        _pick(
            "Status",
            "Status",
            ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
            nillable=False,
            defaulted=True,
            default="Not Started",
        ),
        _pick(
            "Priority",
            "Priority",
            ("High", "Normal", "Low"),
            nillable=False,
            defaulted=True,
            default="Normal",
        ),
        FieldDef("ActivityDate", "date", "Due Date Only"),
        _ref("WhatId", "Related To ID", ("Account", "Opportunity"), "What"),
        _ref("WhoId", "Name ID", ("Contact", "Lead"), "Who"),
        _text("Description", "Description", 32000, type="textarea"),
        FieldDef(
            "IsClosed",
            "boolean",
            "Closed",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        _hub_id(),
    ),
)
_LEAD = ObjectDef(
    "Lead",
    "Lead",
    "Leads",
    "00Q",
    (
        *_system(),
        *_person_name(),
        _text("Company", "Company", 255, nillable=False),
        _text("Email", "Email", 80, type="email"),
        _text("Title", "Title", 128),
        _pick(
            "Status",
            "Status",
            (
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Converted",
                "Closed - Not Converted",
            ),
            nillable=False,
            defaulted=True,
            default="Open - Not Contacted",
        ),
        _pick("LeadSource", "Lead Source", (*_LEAD_SOURCES, "Customer Feedback")),
        _pick("Industry", "Industry", _INDUSTRIES),
        _text("Description", "Description", 32000, type="textarea"),
        FieldDef(
            "IsConverted",
            "boolean",
            "Converted",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        _hub_id(),
    ),
)

OBJECTS: dict[str, ObjectDef] = {
    o.name: o for o in (_ACCOUNT, _CONTACT, _OPPORTUNITY, _USER, _TASK, _LEAD)
}


def find_object(name: str) -> ObjectDef | None:
    """The sObject called ``name`` (case-insensitive), or None."""
    folded = name.casefold()
    return next((o for n, o in OBJECTS.items() if n.casefold() == folded), None)


def describe_field(field: FieldDef) -> dict[str, Any]:
    """The describe entry of one field, with the keys the REST API returns."""
    text = field.type in STRING_TYPES and field.type not in {"id", "reference"}
    return {
        "aggregatable": field.type != "textarea",
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": field.length * 3 if text else field.length,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": field.default,
        "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": field.precision if field.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": field.external_id,
        "extraTypeInfo": None,
        "filterable": field.type != "textarea",
        "filteredLookupInfo": None,
        "groupable": field.type not in {"textarea", "currency", "double", "percent"},
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": field.name == "Id" or field.external_id or field.unique,
        "inlineHelpText": None,
        "label": field.label,
        "length": field.length if text else 0,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": field.name_field,
        "namePointing": len(field.reference_to) > 1,
        "nillable": field.nillable,
        "permissionable": field.nillable and not field.name_field,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": v == field.default,
                "label": v,
                "validFor": None,
                "value": v,
            }
            for v in field.values
        ],
        "polymorphicForeignKey": len(field.reference_to) > 1,
        "precision": field.precision if field.type != "int" else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": field.restricted,
        "scale": field.scale,
        "searchPrefilterable": field.type == "reference",
        "soapType": _SOAP.get(field.type, "xsd:string"),
        "sortable": field.type != "textarea",
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def object_flags(obj: ObjectDef) -> dict[str, bool]:
    """The yes/no properties of an object, as describe and describe-global report them."""
    flags = dict.fromkeys(
        (
            "queryable",
            "retrieveable",
            "searchable",
            "layoutable",
            "replicateable",
            "triggerable",
            "undeletable",
            "mergeable",
            "feedEnabled",
            "mruEnabled",
            "compactLayoutable",
            "searchLayoutable",
        ),
        True,
    )
    flags |= dict.fromkeys(
        (
            "activateable",
            "custom",
            "customSetting",
            "deprecatedAndHidden",
            "hasSubtypes",
            "isSubtype",
            "isInterface",
            "deepCloneable",
            "dataTranslationEnabled",
        ),
        False,
    )
    writable = {"createable": obj.createable, "updateable": obj.updateable}
    deletable = {"deletable": obj.deletable, "undeletable": obj.deletable}
    return flags | writable | deletable | {"searchable": obj.searchable}


def describe_object(
    obj: ObjectDef, version: str, instance_url: str, objects: Mapping[str, ObjectDef] = OBJECTS
) -> dict[str, Any]:
    """The ``/sobjects/{type}/describe`` body of one object among the org's ``objects``."""
    root = f"/services/data/v{version}/sobjects/{obj.name}"
    return {
        **object_flags(obj),
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.plural,
        "keyPrefix": obj.key_prefix,
        "fields": [describe_field(f) for f in obj.fields],
        "actionOverrides": [],
        "childRelationships": _children(obj, objects),
        "namedLayoutInfos": [],
        "recordTypeInfos": [_master_record_type(obj, root)],
        "supportedScopes": [
            {"label": "All " + obj.plural.lower(), "name": "everything"},
            {"label": "My " + obj.plural.lower(), "name": "mine"},
        ],
        "sobjectDescribeOption": "FULL",
        "associateEntityType": None,
        "associateParentEntity": None,
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "implementedBy": None,
        "implementsInterfaces": None,
        "listviewable": None,
        "lookupLayoutable": None,
        "networkScopeFieldName": None,
        "urls": {
            "sobject": root,
            "describe": root + "/describe",
            "rowTemplate": root + "/{ID}",
            "compactLayouts": root + "/describe/compactLayouts",
            "layouts": root + "/describe/layouts",
            "uiDetailTemplate": f"{instance_url}/{{ID}}",
            "uiEditTemplate": f"{instance_url}/{{ID}}/e",
            "uiNewRecord": f"{instance_url}/{obj.key_prefix}/e",
        },
    }


def _children(parent: ObjectDef, objects: Mapping[str, ObjectDef]) -> list[dict[str, Any]]:
    children = []
    for child in objects.values():
        for field in child.fields:
            if parent.name not in field.reference_to or field.name.endswith("ById"):
                continue
            name = "Child" + child.plural if child is parent else child.plural
            children.append(
                {
                    "cascadeDelete": False,
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": field.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": None if field.name == "OwnerId" else name,
                    "restrictedDelete": False,
                }
            )
    return children


def _master_record_type(obj: ObjectDef, root: str) -> dict[str, Any]:
    return {
        "active": True,
        "available": True,
        "defaultRecordTypeMapping": True,
        "developerName": "Master",
        "master": True,
        "name": "Master",
        "recordTypeId": "012000000000000AAA",
        "urls": {"layout": root + "/describe/layouts/012000000000000AAA"},
    }
