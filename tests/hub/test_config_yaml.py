"""Line-aware YAML loading (hub.config.yamlio), the base of every file:line message."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_hub.hub.config.yamlio import format_path, line_of, load_yaml, parse_yaml
from handoff_hub.hub.errors import ConfigError

TEXT = """\
# comment
systems:
  crm:
    connector: salesforce
    credentials:
      client_id: {env: SF_ID}
templates:
  std:
    tasks:
      - name: A
      - name: B
        parent: A
anchors:
  base: &base {x: 1}
  derived:
    <<: *base
    y: 2
"""


def test_every_node_has_its_line() -> None:
    doc = parse_yaml(TEXT, file="hub.yaml")
    assert doc.data["systems"]["crm"]["connector"] == "salesforce"
    assert doc.lines[("systems",)] == 2
    assert doc.lines[("systems", "crm", "connector")] == 4
    assert doc.lines[("systems", "crm", "credentials", "client_id", "env")] == 6
    assert doc.lines[("templates", "std", "tasks", 1)] == 11
    assert doc.lines[("templates", "std", "tasks", 1, "parent")] == 12
    assert doc.data["anchors"]["derived"] == {"x": 1, "y": 2}
    assert doc.lines[("anchors", "derived", "y")] == 17


def test_missing_paths_fall_back_to_the_nearest_ancestor() -> None:
    doc = parse_yaml(TEXT)
    assert doc.line(("systems", "crm", "base_url")) == 3
    assert line_of(doc.lines, ("nowhere", "at", "all")) == 1


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "(document)"),
        (("systems", "crm", "connector"), "systems.crm.connector"),
        (("templates", "std", "tasks", 2, "name"), "templates.std.tasks[2].name"),
        (
            ("entities", "Opportunity", "fields", "owner.email"),
            "entities.Opportunity.fields['owner.email']",
        ),
    ],
)
def test_format_path(path, text) -> None:
    assert format_path(path) == text


def test_syntax_error_is_an_issue_with_file_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\nb: [1, 2\nc: 3\n", file="broken.yaml")
    (issue,) = caught.value.issues
    assert issue.file == "broken.yaml"
    assert issue.line == 3
    assert issue.field == "(syntax)"
    assert issue.message.startswith("invalid YAML: while parsing a flow sequence (from line 2)")


def test_tabs_are_a_syntax_error_not_a_traceback() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a:\n\tb: 1\n", file="tabs.yaml")
    assert caught.value.issues[0].line == 2


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("x: !!python/object/apply:os.system ['echo hi']\n", file="evil.yaml")
    assert caught.value.issues[0].line == 1
    assert "python/object/apply" in caught.value.issues[0].message


def test_duplicate_keys_are_reported() -> None:
    doc = parse_yaml("a: 1\nb: 2\na: 3\n", file="d.yaml")
    assert [(i.line, i.field) for i in doc.issues] == [(3, "a")]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "missing.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_yaml(binary)


def test_empty_and_scalar_documents() -> None:
    assert parse_yaml("").data is None
    assert parse_yaml("# only a comment\n").data is None
    assert parse_yaml("42\n").data == 42
