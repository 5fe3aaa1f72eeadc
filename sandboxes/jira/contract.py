"""Jira's answers to the shared connector contract suite (sandboxes.kit.contract)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.contract import ContractCase
from handoff_hub.sandboxes.kit.profile import DEFAULT

from .app import JiraSandbox

_CUSTOMER = "customfield_10051"


def _sandbox(seed: int, records: int, faults: Faults | None, profile: str = DEFAULT) -> JiraSandbox:
    return JiraSandbox(seed=seed, records=records, faults=faults, profile=profile)


def _new(n: int, stamp: str) -> Mapping[str, Any]:
    return {
        "project": {"key": "DEL"},
        "issuetype": {"name": "Task"},
        "summary": f"Contract task {n:04d}",
        _CUSTOMER: stamp,
    }


def _change(n: int) -> Mapping[str, Any]:
    return {"summary": f"Contract task {n:04d} (changed)"}


def _changed(raw: Mapping[str, Any], n: int) -> bool:
    return bool((raw.get("fields") or {}).get("summary") == f"Contract task {n:04d} (changed)")


def contract_case() -> ContractCase:
    """Tasks in project DEL, stamped through the text field Customer (customfield_10051)."""
    return ContractCase(
        connector="jira",
        make_sandbox=_sandbox,
        object_name="issue",
        new_record=_new,
        change=_change,
        changed=_changed,
        external_id_field=_CUSTOMER,
        missing_id="DEL-99999",
        fields=("summary", "updated", _CUSTOMER),
        where={"issuetype": "Task"},
        batch_size=50,
        page_size=10,
        rate_limit=(1000, 1.0),  # updates go one issue a call: paced, they only wait
        base_url="https://contract.atlassian.net",
    )
