"""What differs from one real org to another, for the sandbox to play (sandboxes.kit.profile)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from handoff_hub.sandboxes.kit.profile import OrgProfile
from handoff_hub.sandboxes.salesforce.schema import OBJECTS

__all__ = ["HUB_OPTIONAL_FIELDS", "SalesforceOrgProfile"]

HUB_OPTIONAL_FIELDS = (
    "Opportunity.Delivery_Project__c",
    "Opportunity.Delivery_Health__c",
    "Opportunity.Delivery_Status__c",
    "Opportunity.Delivery_Due__c",
    "Opportunity.Delivery_Percent__c",
)
"""The custom fields an admin creates for the hub's write-backs; ``Handoff_Hub_Id__c`` stays."""


class SalesforceOrgProfile(OrgProfile):
    """The switches of the salesforce sandbox's org; the defaults are the demo's org."""

    product: ClassVar[str] = "salesforce"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "single-currency": {"single_currency": True, "corporate_currency": "EUR"},
    }

    single_currency: bool = Field(
        default=False,
        description="Multi-currency off, Salesforce's default for a new org: no object has"
        " CurrencyIsoCode (selecting it is INVALID_FIELD) and Organization has no"
        " DefaultCurrencyIsoCode; every amount is in the corporate currency, which SOAP"
        " getUserInfo reports as orgDefaultCurrencyIsoCode",
    )
    corporate_currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="The org's corporate currency (ISO 4217): the default CurrencyIsoCode of"
        " new records in a multi-currency org, the only currency of a single-currency org",
    )
    custom_fields_absent: bool = Field(
        default=False,
        description="The admin has not created the hub's optional Opportunity fields"
        " (Delivery_Project__c, Delivery_Health__c, Delivery_Status__c, Delivery_Due__c,"
        " Delivery_Percent__c); Handoff_Hub_Id__c, which the hub requires, exists",
    )
    absent_fields: tuple[str, ...] = Field(
        default=(),
        description="Further fields (Object.Field) the integration user cannot see: not"
        " created, or hidden by field-level security; Salesforce answers as for an unknown field",
    )
    late_commits: bool = Field(
        default=False,
        description="Long transactions: some records become visible only after records with"
        " a newer SystemModstamp were read (seeded ones commit on later API writes)",
    )
    hidden_accounts: bool = Field(
        default=False,
        description="Sharing hides some accounts from the integration user: their"
        " opportunities and contacts keep AccountId, but Account.* reads as null",
    )

    @classmethod
    def hard_values(cls) -> dict[str, Any]:
        """Every switch on, in an org whose corporate currency is not the mappings' USD."""
        return {**super().hard_values(), "corporate_currency": "EUR"}

    @field_validator("absent_fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            object_name, dot, field_name = path.partition(".")
            obj = OBJECTS.get(object_name)
            if not dot or obj is None or obj.field(field_name) is None:
                raise ValueError(f"{path!r} is not Object.Field of a sandbox object")
            if field_name == "Id":
                raise ValueError(f"{path!r}: every object has an Id")
        return value
