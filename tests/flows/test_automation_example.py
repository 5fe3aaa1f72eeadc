"""The automation docs/operations.md shows is one Prefect accepts, on the events the hub emits."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "automations" / "dead-letters.yaml"
PLACEHOLDER = "REPLACE-WITH-YOUR-NOTIFICATION-BLOCK-ID"


def test_the_dead_letter_automation_is_valid_for_prefect() -> None:
    from prefect.events.schemas.automations import AutomationCore, EventTrigger

    text = EXAMPLE.read_text(encoding="utf-8").replace(PLACEHOLDER, str(uuid.uuid4()))
    automation = AutomationCore.model_validate(yaml.safe_load(text))
    assert isinstance(automation.trigger, EventTrigger)
    assert automation.trigger.expect == {"handoff-hub.dead-letters.created"}


def test_operations_guide_shows_the_automation() -> None:
    guide = (EXAMPLE.parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "examples/automations/dead-letters.yaml" in guide
    assert "handoff-hub.dead-letters.created" in guide
