"""Loading mapping files: schema, then semantic checks, every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.mapping.loader import check_mapping, load_mapping, unified_path_problem

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.mark.parametrize("name", ["salesforce.yaml", "jira.yaml", "hubspot.yaml", "asana.yaml"])
def test_shipped_mappings_load_cleanly(name) -> None:
    spec, issues = check_mapping(MAPPINGS / name)
    assert issues == []
    assert spec is not None and spec.system == name.removesuffix(".yaml")


def test_shipped_mappings_cover_the_documented_entities() -> None:
    assert set(load_mapping(MAPPINGS / "salesforce.yaml").entities) == {
        "Opportunity",
        "Account",
        "User",
        "Contact",
        "Lead",
        "Note",
    }
    jira = load_mapping(MAPPINGS / "jira.yaml")
    assert set(jira.entities) == {"Project", "Task", "Feedback", "Risk", "Milestone"}
    fields = jira.entities["Project"].fields
    assert fields["budget"].path == "fields.customfield_10050"
    assert fields["account.name"].path == "fields.customfield_10051"
    assert fields["health"].path == "fields.customfield_10052.value"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_semantic_problems_are_all_reported_with_lines(tmp_path) -> None:
    path = _write(
        tmp_path,
        """\
version: 1
system: jira
entities:
  Task:
    object: issue
    id_path: "key["
    fields:
      nmae: {path: fields.summary}
      due: {path: "fields.duedate[0]", type: date}
      status: {path: fields.status.name, transform: lowr}
      parent: {template: "{{ x ", direction: read}
      assignee.emial: {path: fields.x, direction: read}
      description: {path: fields.summary}
      project.ref: {path: a}
      ref: {path: b, direction: read}
      name: {path: n, type: money}
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    found = {(i.line, i.field): i for i in caught.value.issues}
    assert found[(6, "entities.Task.id_path")].message.startswith("'key[' is not a valid JMESPath")
    assert found[(8, "entities.Task.fields.nmae")].hint == "did you mean 'name'?"
    assert "plain dotted path" in found[(9, "entities.Task.fields.due.path")].message
    assert found[(10, "entities.Task.fields.status.transform")].hint == "did you mean 'lower'?"
    assert "does not parse" in found[(11, "entities.Task.fields.parent.template")].message
    assert found[(12, "entities.Task.fields['assignee.emial']")].hint == "did you mean 'email'?"
    assert "also written by 'nmae'" in found[(13, "entities.Task.fields.description.path")].message
    assert "no sub-fields" in found[(14, "entities.Task.fields['project.ref']")].message
    assert "id_path" in str(found[(15, "entities.Task.fields.ref")].hint)
    assert "currency" in found[(16, "entities.Task.fields.name.type")].message
    assert len(caught.value.issues) == 10


def test_schema_problems_come_first_and_all_at_once(tmp_path) -> None:
    path = _write(
        tmp_path,
        """\
version: 2
system: Jira
entities:
  Projct: {object: issue}
  Task:
    object: issue
    fields:
      due: {path: fields.duedate, type: dat, direction: sideways}
""",
    )
    _, issues = check_mapping(path)
    assert [(i.line, i.field) for i in issues] == [
        (1, "version"),
        (2, "system"),
        (4, "entities.Projct"),
        (8, "entities.Task.fields.due.direction"),
        (8, "entities.Task.fields.due.type"),
    ]
    assert issues[2].hint == "did you mean 'Project'?"


def test_write_targets_must_sit_below_write_root(tmp_path) -> None:
    path = _write(
        tmp_path,
        """\
version: 1
system: jira
entities:
  Task:
    object: issue
    id_path: key
    write_root: fields
    fields:
      name: {path: fields.summary}
      parent: {path: parent.key}
      description: {path: renderedFields.description, direction: read}
""",
    )
    _, issues = check_mapping(path)
    assert [(i.line, i.field) for i in issues] == [(10, "entities.Task.fields.parent.path")]
    assert "not below write_root 'fields'" in issues[0].message


def test_template_with_path_must_write(tmp_path) -> None:
    path = _write(
        tmp_path,
        """\
version: 1
system: x
entities:
  User:
    object: U
    fields:
      name: {template: "{{ a }}", path: Name}
""",
    )
    _, issues = check_mapping(path)
    assert [i.field for i in issues] == ["entities.User.fields.name.direction"]


@pytest.mark.parametrize(
    ("entity", "path", "problem"),
    [
        ("Opportunity", "owner.email", None),
        ("Opportunity", "account.ref", None),
        ("Opportunity", "amount", None),
        ("Opportunity", "documents", None),
        ("Opportunity", "stagee", "did you mean 'stage'?"),
        ("Opportunity", "account.nam", "did you mean 'name'?"),
        ("Opportunity", "name.first", None),
        ("Project", "manager.ref", None),
    ],
)
def test_unified_paths(entity, path, problem) -> None:
    found = unified_path_problem(entity, path)
    if path == "name.first":
        assert found is not None and "no sub-fields" in found[0]
    elif problem is None:
        assert found is None
    else:
        assert found is not None and found[1] == problem


def _file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_keeps_the_base_entities_and_replaces_the_named_ones(tmp_path) -> None:
    spec = load_mapping(MAPPINGS / "hubspot-contact-leads.yaml")
    base = load_mapping(MAPPINGS / "hubspot.yaml")
    assert set(spec.entities) == set(base.entities)
    assert spec.entities["Lead"].object == "contacts"
    assert spec.entities["Lead"].constants == {"properties.lifecyclestage": "lead"}
    assert spec.entities["Opportunity"] == base.entities["Opportunity"]


def test_extends_problems_name_the_file_and_line(tmp_path) -> None:
    _file(
        tmp_path, "base.yaml", "system: jira\nentities:\n  Task: {object: issue, id_path: 'k['}\n"
    )
    child = _file(tmp_path, "child.yaml", "extends: base.yaml\nsystem: jira\nentities: {}\n")
    _, issues = check_mapping(child)
    assert [(Path(i.file).name, i.line, i.field) for i in issues] == [
        ("base.yaml", 3, "entities.Task.id_path")
    ]
    missing = _file(tmp_path, "lost.yaml", "system: jira\nextends: nowhere.yaml\nentities: {}\n")
    [issue] = check_mapping(missing)[1]
    assert (issue.line, issue.field) == (2, "extends") and "not found" in issue.message


def test_extends_loops_and_system_mismatches_are_refused(tmp_path) -> None:
    _file(tmp_path, "a.yaml", "extends: b.yaml\nsystem: jira\nentities: {}\n")
    b = _file(tmp_path, "b.yaml", "extends: a.yaml\nsystem: jira\nentities: {}\n")
    [issue] = check_mapping(b)[1]
    assert "loop: b.yaml -> a.yaml -> b.yaml" in issue.message
    other = _file(tmp_path, "c.yaml", "extends: ../c.yaml\nsystem: asana\nentities: {}\n")
    _file(tmp_path.parent, "c.yaml", "system: jira\nentities: {}\n")
    [issue] = check_mapping(other)[1]
    assert issue.field == "system" and "extends a 'jira' mapping" in issue.message


def test_constants_must_be_plain_targets_below_the_root_and_unique(tmp_path) -> None:
    path = _file(
        tmp_path,
        "m.yaml",
        """\
system: hubspot
entities:
  Lead:
    object: contacts
    write_root: properties
    constants:
      properties.lifecyclestage: lead
      "properties.x[0]": 1
      elsewhere: 2
      properties.lastname: dup
    fields:
      last_name: {path: properties.lastname}
""",
    )
    _, issues = check_mapping(path)
    found = {i.field: i.message for i in issues}
    assert len(issues) == 3
    assert "plain dotted path" in found["entities.Lead.constants['properties.x[0]']"]
    assert "not below write_root" in found["entities.Lead.constants.elsewhere"]
    assert "also written by 'last_name'" in found["entities.Lead.constants['properties.lastname']"]
