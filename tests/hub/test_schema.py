"""JSON Schema generation (kept in sync with the models) and validation to Issues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handoff_hub.hub.config.schema import (
    SCHEMA_FILES,
    hub_config_schema,
    main,
    mapping_schema,
    render_schema,
    schema_dir,
    stale_schemas,
    validate_document,
)
from handoff_hub.hub.config.yamlio import parse_yaml


def test_schema_files_on_disk_match_the_models() -> None:
    for name, build in SCHEMA_FILES.items():
        on_disk = (schema_dir() / name).read_text(encoding="utf-8")
        hint = f"run: python -m hub.config.schema --write ({name})"
        assert on_disk == render_schema(build()), hint
    assert stale_schemas() == []


def test_check_exits_1_when_out_of_date(tmp_path: Path, capsys) -> None:
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["--write", "--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "mapping.schema.json").write_text("{}\n", encoding="utf-8")
    assert main(["--check", "--dir", str(tmp_path)]) == 1


def test_rendering_is_stable() -> None:
    text = render_schema(mapping_schema())
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert json.loads(text)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert text == render_schema(json.loads(text))


def _validate(text: str, schema=None):
    doc = parse_yaml(text, file="hub.yaml")
    return validate_document(
        doc.data, schema or hub_config_schema(), file="hub.yaml", lines=doc.lines
    )


CONFIG = """\
version: 1
systems:
  crm:
    conector: salesforce
    base_url: https://acme.my.salesforce.com
    mapping: salesforce.yaml
    max_retries: 99
  pm:
    connector: jira
    base_url: [not, a, url]
    mapping: jira.yaml
    credentials:
      api_token: {env: "1BAD"}
templates:
  std:
    name: x
    tasks:
      - {name: A, due_offset_days: -3}
handoffs:
  won_to_project:
    crm: crm
    pm: pm
    templat: std
"""


def test_every_error_is_reported_with_its_line() -> None:
    issues = _validate(CONFIG)
    assert [(i.line, i.field) for i in issues] == [
        (4, "systems.crm.conector"),
        (7, "systems.crm.max_retries"),
        (10, "systems.pm.base_url"),
        (13, "systems.pm.credentials.api_token.env"),
        (18, "templates.std.tasks[0].due_offset_days"),
        (23, "handoffs.won_to_project.templat"),
    ]
    assert all(i.file == "hub.yaml" for i in issues)


def test_typo_hints_and_messages() -> None:
    by_field = {i.field: i for i in _validate(CONFIG)}
    assert by_field["systems.crm.conector"].message == "unknown field 'conector'"
    assert by_field["systems.crm.conector"].hint == "did you mean 'connector'?"
    assert by_field["handoffs.won_to_project.templat"].hint == "did you mean 'template'?"
    assert by_field["systems.pm.base_url"].message == "expected string, got array"
    assert "'1BAD' does not match" in by_field["systems.pm.credentials.api_token.env"].message


def test_misspelt_required_key_is_reported_once() -> None:
    issues = _validate("systems:\n  crm:\n    conector: x\n    base_url: u\n    mapping: m\n")
    assert [i.field for i in issues] == ["systems.crm.conector"]


def test_missing_required_key_without_a_near_typo() -> None:
    issues = _validate("systems:\n  crm:\n    base_url: u\n    mapping: m\n")
    assert [(i.line, i.field, i.message) for i in issues] == [
        (2, "systems.crm.connector", "is required")
    ]


def test_far_off_unknown_key_lists_the_allowed_ones() -> None:
    issues = _validate("systems: {}\nzzz: 1\n")
    assert issues[0].hint is not None and issues[0].hint.startswith(
        "allowed: alerts, handoffs, store"
    )


def test_enum_and_union_errors() -> None:
    issues = _validate(
        """\
version: 1
system: jira
entities:
  Task:
    object: issue
    where: {x: {a: 1}}
    fields:
      due: {path: d, direction: bothh}
""",
        mapping_schema(),
    )
    by_field = {i.field: i for i in issues}
    direction = by_field["entities.Task.fields.due.direction"]
    assert direction.hint == "did you mean 'both'?" and direction.line == 8
    where = by_field["entities.Task.where.x"]
    assert where.message == "expected string or integer or boolean or array or null, got object"


def test_empty_document() -> None:
    issues = _validate("")
    assert [(i.field, i.message) for i in issues] == [("(document)", "expected object, got null")]


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schemas_are_valid_json_schema(name) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads((schema_dir() / name).read_text("utf-8")))
