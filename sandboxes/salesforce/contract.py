"""Salesforce's answers to the shared connector contract suite (sandboxes.kit.contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.contract import ContractCase
from handoff_hub.sandboxes.kit.profile import DEFAULT

from .app import SalesforceSandbox

_INDUSTRIES = ("Energy", "Media", "Retail", "Banking")


def _sandbox(
    seed: int, records: int, faults: Faults | None, profile: str = DEFAULT
) -> SalesforceSandbox:
    return SalesforceSandbox(seed=seed, records=records, faults=faults, profile=profile)


def _new(n: int, stamp: str) -> Mapping[str, Any]:
    return {"Name": f"Contract Account {n:04d}", "Handoff_Hub_Id__c": stamp}


def _change(n: int) -> Mapping[str, Any]:
    return {"Industry": _INDUSTRIES[n % len(_INDUSTRIES)], "Website": f"https://n{n}.example.com"}


def _changed(raw: Mapping[str, Any], n: int) -> bool:
    return raw.get("Website") == f"https://n{n}.example.com"


def contract_case() -> ContractCase:
    """Accounts, stamped through the unique external-id field ``Handoff_Hub_Id__c``."""
    return ContractCase(
        connector="salesforce",
        make_sandbox=_sandbox,
        object_name="Account",
        new_record=_new,
        change=_change,
        changed=_changed,
        external_id_field="Handoff_Hub_Id__c",
        missing_id="001Zz00000000AAAAA",
        fields=("Id", "Name", "Industry", "Website", "Handoff_Hub_Id__c", "SystemModstamp"),
        batch_size=200,
        page_size=200,
        base_url="https://contract.my.salesforce.com",
    )
