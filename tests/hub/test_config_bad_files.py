"""The corpus of broken files in tests/data/bad-configs: one clear message each.

Each file is broken in exactly one way; loading it must give exactly one issue
naming the file, the line and the field, with a message (and hint) an admin can
act on. Files named ``mapping-*`` are mapping files, the others hub configs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.mapping.loader import load_mapping

BAD = Path(__file__).resolve().parents[1] / "data" / "bad-configs"

# file -> (line, field, words in the message, hint or None)
EXPECTED: dict[str, tuple[int, str, str, str | None]] = {
    "typo-connector.yaml": (
        5,
        "systems.crm.conector",
        "unknown field 'conector'",
        "did you mean 'connector'?",
    ),
    "yaml-syntax.yaml": (7, "(syntax)", "quoted scalar (from line 5)", None),
    "bad-indent.yaml": (6, "(syntax)", "mapping values are not allowed", None),
    "missing-env.yaml": (
        9,
        "systems.crm.credentials.client_secret",
        "environment variable HUB_BADCFG_UNSET_SECRET is not set",
        None,
    ),
    "unknown-template.yaml": (
        20,
        "handoffs.won_to_project.template",
        "no template 'standard-delivry'",
        "did you mean 'standard-delivery'?",
    ),
    "wrong-type.yaml": (8, "systems.crm.timeout_seconds", "expected number, got string", None),
    "duplicate-key.yaml": (8, "systems.crm.base_url", "duplicate key", None),
    "missing-mapping.yaml": (
        7,
        "systems.crm.mapping",
        "mapping file '../mappings/salesforce.yaml' not found",
        None,
    ),
    "mapping-bad-type.yaml": (
        9,
        "entities.Opportunity.fields.close_date.type",
        "'dat' is not one of",
        "did you mean 'date'?",
    ),
    "mapping-unknown-field.yaml": (
        9,
        "entities.Opportunity.fields['owner.emial']",
        "owner has no field 'emial'",
        "did you mean 'email'?",
    ),
    "mapping-unknown-transform.yaml": (
        10,
        "entities.Project.fields.description.transform",
        "unknown transform 'adff'",
        "did you mean 'adf'?",
    ),
    "mapping-write-target.yaml": (
        9,
        "entities.Task.fields.name.path",
        "must be a plain dotted path",
        None,
    ),
    "mapping-unknown-entity.yaml": (
        5,
        "entities.Oportunity",
        "'Oportunity' is not one of",
        "did you mean 'Opportunity'?",
    ),
    "mapping-bad-template.yaml": (
        8,
        "entities.Contact.fields.last_name.template",
        "template does not parse",
        None,
    ),
}


def test_every_file_in_the_corpus_has_an_expectation() -> None:
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_one_clear_message(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_BADCFG_UNSET_SECRET", raising=False)
    path = BAD / name
    with pytest.raises(ConfigError) as caught:
        if name.startswith("mapping-"):
            load_mapping(path)
        else:
            load_config(path, known_connectors=["salesforce", "jira"])
    line, field, words, hint = EXPECTED[name]
    assert len(caught.value.issues) == 1, str(caught.value)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.field) == (str(path), line, field)
    assert words in issue.message
    if hint is not None:
        assert issue.hint == hint
    assert str(issue).startswith(f"{path}:{line}: {field}: ")
