"""The objects and fields one sandbox org has, worked out from its profile.

:data:`~sandboxes.salesforce.schema.OBJECTS` is a multi-currency
Sales Cloud org with every custom field the hub knows. A real org may differ:
multi-currency off (no ``CurrencyIsoCode`` anywhere, and no
``Organization.DefaultCurrencyIsoCode``), custom fields never created, fields
hidden by field-level security. :class:`OrgSchema` is what one org has; every
part of the sandbox resolves objects and fields through it, so a field the
org lacks is unknown everywhere (describe, SOQL, writes) exactly as in a real org.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from handoff_hub.sandboxes.salesforce.auth import ORG_ID
from handoff_hub.sandboxes.salesforce.profile import HUB_OPTIONAL_FIELDS, SalesforceOrgProfile
from handoff_hub.sandboxes.salesforce.schema import CURRENCIES, OBJECTS, FieldDef, ObjectDef

__all__ = [
    "CURRENCY_FIELD",
    "CURRENCY_LOCALES",
    "CURRENCY_SYMBOLS",
    "OPPORTUNITY_STAGE",
    "ORGANIZATION",
    "ORG_ID",
    "OrgSchema",
    "org_schema",
]

CURRENCY_FIELD = "CurrencyIsoCode"
_ORG_CURRENCY_FIELD = "DefaultCurrencyIsoCode"
_USER_CURRENCY_FIELD = "DefaultCurrencyIsoCode"
CURRENCY_LOCALES = {"USD": "en_US", "EUR": "de_DE", "GBP": "en_GB", "JPY": "ja_JP", "CHF": "de_CH"}
"""The locale an org's admin picks for its currency (a single-currency org's currency locale)."""
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF"}
_READ_ONLY: dict[str, Any] = {"createable": False, "updateable": False}


def _org_field(name: str, kind: str, label: str, length: int = 0, **kw: Any) -> FieldDef:
    return FieldDef(name, kind, label, length=length, **{**_READ_ONLY, **kw})


ORGANIZATION = ObjectDef(
    "Organization",
    "Organization",
    "Organizations",
    "00D",
    (
        _org_field("Id", "id", "Organization ID", 18, nillable=False, defaulted=True),
        _org_field("Name", "string", "Name", 80, nillable=False, name_field=True),
        _org_field("Division", "string", "Division", 80),
        _org_field("Country", "string", "Country", 80),
        _org_field("DefaultLocaleSidKey", "picklist", "Locale", 40, nillable=False),
        _org_field("LanguageLocaleKey", "picklist", "Language", 40, nillable=False),
        _org_field("TimeZoneSidKey", "picklist", "Time Zone", 40, nillable=False),
        _org_field("OrganizationType", "picklist", "Edition", 40),
        _org_field("InstanceName", "string", "Instance Name", 5),
        _org_field("IsSandbox", "boolean", "Is Sandbox", nillable=False, defaulted=True),
        _org_field("FiscalYearStartMonth", "int", "Fiscal Year Starts In", precision=9),
        _org_field(
            _ORG_CURRENCY_FIELD,
            "picklist",
            "Currency ISO Code",
            3,
            values=CURRENCIES,
            restricted=True,
        ),
        _org_field("CreatedDate", "datetime", "Created Date", nillable=False, defaulted=True),
        FieldDef(
            "CreatedById",
            "reference",
            "Created By ID",
            length=18,
            reference_to=("User",),
            relationship="CreatedBy",
            **_READ_ONLY,
        ),
        _org_field("LastModifiedDate", "datetime", "Last Modified Date", nillable=False),
        FieldDef(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            length=18,
            reference_to=("User",),
            relationship="LastModifiedBy",
            **_READ_ONLY,
        ),
        _org_field("SystemModstamp", "datetime", "System Modstamp", nillable=False),
    ),
    createable=False,
    updateable=False,
    deletable=False,
    searchable=False,
)
"""The one record describing the org itself (key prefix 00D); nobody creates or deletes it."""


OPPORTUNITY_STAGE = ObjectDef(
    "OpportunityStage",
    "Opportunity Stage",
    "Opportunity Stages",
    "01J",
    (
        _org_field("Id", "id", "Opportunity Stage ID", 18, nillable=False, defaulted=True),
        _org_field("MasterLabel", "string", "Master Label", 255, name_field=True),
        _org_field("ApiName", "string", "Api Name", 255, nillable=False),
        _org_field("IsActive", "boolean", "Is Active", nillable=False, defaulted=True),
        _org_field("SortOrder", "int", "Sort Order", precision=9),
        _org_field("IsClosed", "boolean", "Is Closed", nillable=False, defaulted=True),
        _org_field("IsWon", "boolean", "Is Won", nillable=False, defaulted=True),
        _org_field("ForecastCategoryName", "picklist", "Forecast Category", 40),
        _org_field("DefaultProbability", "percent", "Probability (%)", precision=3),
        _org_field("Description", "string", "Description", 255),
        _org_field("CreatedDate", "datetime", "Created Date", nillable=False, defaulted=True),
        _org_field("LastModifiedDate", "datetime", "Last Modified Date", nillable=False),
        _org_field("SystemModstamp", "datetime", "System Modstamp", nillable=False),
    ),
    createable=False,
    updateable=False,
    deletable=False,
    searchable=False,
)
"""The org's opportunity stages (Setup's stage picklist): which are closed, which won."""


@dataclass(frozen=True)
class OrgSchema:
    """The objects of one org, each with only the fields that org has."""

    objects: Mapping[str, ObjectDef]
    single_currency: bool = False
    corporate_currency: str = "USD"

    def find(self, name: str) -> ObjectDef | None:
        """The object called ``name`` (case-insensitive), or None."""
        folded = name.casefold()
        return next((o for n, o in self.objects.items() if n.casefold() == folded), None)

    def object(self, name: str) -> ObjectDef:
        """The object of this exact API name.

        Raises:
            KeyError: naming the objects the org has.
        """
        if name not in self.objects:
            raise KeyError(f"the sandbox has no {name!r} object; it has {sorted(self.objects)}")
        return self.objects[name]


def org_schema(profile: SalesforceOrgProfile | None = None) -> OrgSchema:
    """The objects and fields of the org ``profile`` describes (default: the demo's org)."""
    profile = profile or SalesforceOrgProfile()
    absent = {p.casefold() for p in profile.absent_fields}
    if profile.custom_fields_absent:
        absent |= {p.casefold() for p in HUB_OPTIONAL_FIELDS}
    currencies = tuple(dict.fromkeys((profile.corporate_currency, *CURRENCIES)))
    objects = {}
    for obj in (*OBJECTS.values(), ORGANIZATION, OPPORTUNITY_STAGE):
        fields = []
        for field in obj.fields:
            if f"{obj.name}.{field.name}".casefold() in absent:
                continue
            if _is_currency(obj, field):
                if profile.single_currency:
                    continue
                field = dataclasses.replace(
                    field, values=currencies, default=field.default and profile.corporate_currency
                )
            fields.append(field)
        fields += _user_currency(obj, profile, currencies)
        objects[obj.name] = dataclasses.replace(obj, fields=tuple(fields))
    return OrgSchema(MappingProxyType(objects), profile.single_currency, profile.corporate_currency)


def _is_currency(obj: ObjectDef, field: FieldDef) -> bool:
    return field.name == CURRENCY_FIELD or (
        obj is ORGANIZATION and field.name == _ORG_CURRENCY_FIELD
    )


def _user_currency(
    obj: ObjectDef, profile: SalesforceOrgProfile, currencies: tuple[str, ...]
) -> list[FieldDef]:
    """``User.DefaultCurrencyIsoCode``: a user's currency, only where there are several."""
    if obj.name != "User" or profile.single_currency:
        return []
    return [
        FieldDef(
            _USER_CURRENCY_FIELD,
            "picklist",
            "User Currency",
            length=3,
            values=currencies,
            restricted=True,
            nillable=False,
            defaulted=True,
            default=profile.corporate_currency,
        )
    ]
