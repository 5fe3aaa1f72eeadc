"""HubSpot's answers to the shared connector contract suite (sandboxes.kit.contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.contract import ContractCase
from handoff_hub.sandboxes.kit.profile import DEFAULT

from .app import HubSpotSandbox

_INDUSTRIES = ("UTILITIES", "RETAIL", "FINANCIAL_SERVICES", "COMPUTER_SOFTWARE")


def _sandbox(
    seed: int, records: int, faults: Faults | None, profile: str = DEFAULT
) -> HubSpotSandbox:
    return HubSpotSandbox(seed=seed, records=records, faults=faults, profile=profile)


def _new(n: int, stamp: str) -> Mapping[str, Any]:
    return {"name": f"Contract Company {n:04d}", "handoff_hub_id": stamp}


def _change(n: int) -> Mapping[str, Any]:
    return {"industry": _INDUSTRIES[n % len(_INDUSTRIES)], "domain": f"n{n}.example.com"}


def _changed(raw: Mapping[str, Any], n: int) -> bool:
    return (raw.get("properties") or {}).get("domain") == f"n{n}.example.com"


def contract_case() -> ContractCase:
    """Companies, stamped through the unique custom property ``handoff_hub_id``."""
    return ContractCase(
        connector="hubspot",
        make_sandbox=_sandbox,
        object_name="companies",
        new_record=_new,
        change=_change,
        changed=_changed,
        external_id_field="handoff_hub_id",
        missing_id="99999999999",
        fields=("name", "domain", "industry", "handoff_hub_id", "hs_lastmodifieddate"),
        batch_size=100,
        page_size=5,
        base_url="https://api.hubapi.com",
    )
