"""What the enabled handoffs need of each system, worked out without any network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff_hub.hub.cli.common import load
from handoff_hub.hub.cli.demo import example_for
from handoff_hub.hub.connector import CheckStatus, FieldNeed
from handoff_hub.hub.preflight import system_needs
from handoff_hub.hub.preflight.findings import Findings, type_fits
from handoff_hub.hub.preflight.run import system_checks


def _loaded(
    crm: str, pm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **won: object
) -> Any:
    example = example_for(crm, pm)
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        system["mapping"] = str((example.parent / system["mapping"]).resolve())
        for ref in system["credentials"].values():
            monkeypatch.setenv(ref["env"], "set-in-test")
    data["handoffs"]["won_to_project"].update(won)
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load(path)


def _need(needs: tuple[FieldNeed, ...], path: str) -> FieldNeed:
    return next(n for n in needs if n.path == path)


def test_a_field_a_handoff_writes_is_needed_until_the_handoff_stops_writing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = system_needs(_loaded("salesforce", "jira", tmp_path, monkeypatch), "crm")
    project = _need(crm.fields, "Delivery_Project__c")
    assert project.needed and project.write and project.object == "Opportunity"
    assert not _need(crm.fields, "CurrencyIsoCode").needed
    assert _need(crm.fields, "Handoff_Hub_Id__c").needed  # the stamp of leads and tasks
    assert crm.won_filter == {"IsWon": True} and not crm.writes_projects
    assert "won-to-project" in crm.handoffs

    off = system_needs(
        _loaded("salesforce", "jira", tmp_path, monkeypatch, write_back=False), "crm"
    )
    assert not _need(off.fields, "Delivery_Project__c").needed


def test_the_project_tool_needs_its_template_and_the_mappings_option_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pm = system_needs(_loaded("hubspot", "asana", tmp_path, monkeypatch), "pm")
    assert pm.writes_projects and pm.won_filter is None
    assert [t.name for t in pm.templates] == ["standard-delivery"]
    assert pm.enum_values["Health"] == ("Green", "Amber", "Red")
    assert pm.enum_values["custom_fields.Risk"] == ("Low", "Medium", "High", "Critical")


def test_types_fit_by_kind_and_headroom_warns_when_little_is_left() -> None:
    assert type_fits("money", "currency") and type_fits("date", "date")
    assert not type_fits("date", "string") and not type_fits("integer", "string")
    assert type_fits(None, "picklist") and type_fits("string", "number")
    found = Findings("crm")
    found.headroom("daily", 100, 1000)
    found.headroom("daily", 900, 1000)
    found.headroom("daily", None, None)
    assert [r.status for r in found.results] == [
        CheckStatus.WARNING,
        CheckStatus.OK,
        CheckStatus.OK,
    ]


class _NoPreflight:
    """A third party's connector that offers no pre-flight."""

    name = "plain"


def test_a_connector_without_preflight_is_listed_as_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = _loaded("salesforce", "jira", tmp_path, monkeypatch)
    results = system_checks("pm", _NoPreflight(), loaded)  # type: ignore[arg-type]
    assert [(r.check, r.status) for r in results] == [("pre-flight", CheckStatus.SKIPPED)]
    assert "'plain' offers no pre-flight" in results[0].detail
