"""Enum option names as real workspaces have them: stray spaces, another case.

The sandbox's ``padded_enum_options`` switch names the options ``" High"``,
``"Medium "``, ``"low"``, ``"RED"``...; the connector matches them trimmed and
without regard to case when it filters, writes and checks a webhook's record.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asana_support import PROJECT

from handoff_hub.hub.mapping.engine import to_unified
from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.hub.model import Severity
from handoff_hub.hub.webhooks.filters import record_matches
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import FEEDBACK_FIELD, RISK_FIELD

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "asana.yaml"
RISK_WHERE = {"custom_fields.Risk": ["Low", "Medium", "High", "Critical"]}
FEEDBACK_WHERE = {"custom_fields.Feedback": ["Customer feedback", "New need", "Upsell"]}


@pytest.fixture
def padded() -> AsanaSandbox:
    return AsanaSandbox(seed=7, records=60, profile={"padded_enum_options": True})


def options(sandbox: AsanaSandbox, field: str) -> dict[str, str]:
    return {o.name: o.gid for o in sandbox.store.fields[field].options}


def read(connector, where) -> list[dict]:
    pages = connector.read_changes(
        "tasks", since=None, fields=("name", "custom_fields"), where=where
    )
    return [r.raw for page in pages for r in page.records]


def test_the_sandbox_plays_option_names_as_people_typed_them(padded, raw_client):
    default = AsanaSandbox(seed=7, records=60)
    assert list(options(default, RISK_FIELD)) == ["Low", "Medium", "High", "Critical"]
    assert list(options(padded, RISK_FIELD)) == ["low", "Medium ", " High", " CRITICAL "]
    assert AsanaSandbox(profile="hard").profile.padded_enum_options


def test_writing_an_option_by_name_finds_it_trimmed_and_in_any_case(padded, connect):
    connector = connect(padded)
    gids = padded.state.tasks(PROJECT)[:3]
    results = connector.update(
        "tasks",
        [
            (gids[0], {"custom_fields": {"Risk": "High"}}),
            (gids[1], {"custom_fields": {"Risk": "medium"}}),
            (gids[2], {"custom_fields": {"Risk": "Critical "}}),
        ],
    )
    assert [r.ok for r in results] == [True, True, True], results
    assert [padded.state.value(g, "Risk") for g in gids] == [" High", "Medium ", " CRITICAL "]


def test_an_option_that_does_not_exist_names_the_value_the_field_and_its_options(padded, connect):
    [result] = connect(padded).update(
        "tasks", [(padded.state.tasks(PROJECT)[0], {"custom_fields": {"Risk": "Severe"}})]
    )
    assert not result.ok
    assert "'Severe'" in result.error and "'Risk'" in result.error
    assert "' High'" in result.error and "'Medium '" in result.error


def test_reads_filtered_by_option_find_the_padded_options(padded, connect):
    connector = connect(padded)
    risks = {padded.state.add_risk(PROJECT, f"Risk {s}", s) for s in ("low", "high", "critical")}
    assert {r["gid"] for r in read(connector, RISK_WHERE)} == risks
    feedback = [t for t in padded.store.tasks.values() if FEEDBACK_FIELD in t.values]
    assert feedback, "the seed flags some tasks as feedback"
    assert {r["gid"] for r in read(connector, FEEDBACK_WHERE)} == {t.gid for t in feedback}


def test_a_record_read_by_id_passes_the_where_of_its_padded_option(padded):
    gid = padded.state.add_feedback(PROJECT, "Customer wants a second region", "need")
    raw = padded.state.task(gid)
    assert record_matches("asana", raw, FEEDBACK_WHERE) is True
    assert record_matches("asana", raw, {"custom_fields.Feedback": ["Upsell"]}) is False


def test_a_padded_option_reads_through_the_mappings_value_map(padded, connect):
    spec = load_mapping(MAPPING).bind_name("pm")
    entity = spec.entities["Risk"]
    gid = padded.state.add_risk(PROJECT, "Data export late", "high")
    [envelope] = connect(padded).read_by_ids("tasks", [gid], fields=entity.source_fields())
    risk = to_unified(spec, "Risk", envelope.raw)
    assert risk.severity is Severity.HIGH  # not the map's default, medium
