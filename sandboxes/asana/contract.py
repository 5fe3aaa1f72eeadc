"""The Asana connector's answers to the shared contract suite (tests/contract).

The suite works on ``tasks`` of the first seeded delivery project, whose
custom fields include the CRM-id text field the hub stamps: records are
created in that project with the stamp in ``custom_fields.crm_id`` and found
again through it. Writes go through the batch API, 10 actions per call, so
``batch_size`` is 10. The project and field gids are fixed whatever the seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import CRM_ID_FIELD, DELIVERY_PROJECTS
from handoff_hub.sandboxes.kit import Faults, Sandbox
from handoff_hub.sandboxes.kit.contract import ContractCase
from handoff_hub.sandboxes.kit.profile import DEFAULT

__all__ = ["contract_case"]

_PROJECT = DELIVERY_PROJECTS[0]


def _sandbox(seed: int, records: int, faults: Faults | None, profile: str = DEFAULT) -> Sandbox:
    return AsanaSandbox(seed=seed, records=records, faults=faults, profile=profile)


def _new_record(n: int, stamp: str) -> Mapping[str, Any]:
    return {
        "name": f"Contract task {n}",
        "notes": f"Created by the contract suite ({n}).",
        "projects": [_PROJECT],
        "custom_fields": {"crm_id": stamp},
    }


def _change(n: int) -> Mapping[str, Any]:
    return {"name": f"Contract task {n} (changed)", "due_on": "2027-01-15"}


def _changed(raw: Mapping[str, Any], n: int) -> bool:
    return raw.get("name") == f"Contract task {n} (changed)"


def contract_case() -> ContractCase:
    """Tasks in the first seeded delivery project, stamped through the CRM-id field."""
    return ContractCase(
        connector="asana",
        make_sandbox=_sandbox,
        object_name="tasks",
        new_record=_new_record,
        change=_change,
        changed=_changed,
        external_id_field=CRM_ID_FIELD,
        missing_id="1209999999999999",
        fields=("name", "notes", "due_on", "custom_fields", "modified_at"),
        where={"project": _PROJECT},
        batch_size=10,
        page_size=5,
    )
