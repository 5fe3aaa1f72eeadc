"""``hub check`` against each product's sandbox: its default org is all clear, its hard org
has every planted problem named, and a wrong credential is one clear finding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.connector import CheckStatus
from handoff_hub.hub.preflight import exit_code, problems
from tests.preflight.support import findings, open_pair

PAIRS = [("salesforce", "jira"), ("hubspot", "asana"), ("salesforce", "asana"), ("hubspot", "jira")]


@pytest.mark.parametrize(("crm", "pm"), PAIRS)
def test_the_default_orgs_are_all_clear(
    crm: str, pm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = open_pair(crm, pm, tmp_path, monkeypatch)
    results = pair.check()
    assert problems(results) == []
    assert [r for r in results if r.status is CheckStatus.WARNING] == []
    assert exit_code(results) == 0
    checks = {(r.system, r.check) for r in results}
    for system in ("crm", "pm"):
        assert {(system, "credentials"), (system, "fields"), (system, "rate limit")} <= checks
    assert ("crm", "won stages") in checks and ("pm", "owners") in checks
    for sandbox in pair.sandboxes.values():
        assert sandbox.journal.writes() == []  # type: ignore[attr-defined]


def test_a_hard_salesforce_org_names_its_missing_fields_and_currency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = open_pair("salesforce", "jira", tmp_path, monkeypatch, profiles={"salesforce": "hard"})
    results = pair.check()
    bad = findings(results, CheckStatus.PROBLEM, "crm")
    for name in ("Project", "Health", "Status", "Due", "Percent"):
        assert any(f"Opportunity.Delivery_{name}__c" in line for line in bad), bad
    warned = " ".join(findings(results, CheckStatus.WARNING, "crm"))
    assert "multi-currency off" in warned and "EUR" in warned
    assert "the integration user cannot see (sharing)" in warned  # hidden_accounts
    assert exit_code(results) == 1


def test_a_hard_hubspot_portal_names_its_deactivated_owners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = open_pair(
        "hubspot", "jira", tmp_path, monkeypatch, profiles={"hubspot": "hard"}
    ).check()
    warned = findings(results, CheckStatus.WARNING, "crm")
    assert any("deactivated owner" in line for line in warned), warned


def test_a_hard_jira_site_without_administer_fails_project_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = open_pair("salesforce", "jira", tmp_path, monkeypatch, profiles={"jira": "hard"})
    epic_mode = pair.check()
    assert problems(epic_mode) == []  # epic mode needs no Administer Jira
    said = " ".join(findings(epic_mode, CheckStatus.OK, "pm"))
    assert "not Administer Jira" in said and "America/St_Johns" in said

    def project_mode(data: dict[str, Any]) -> None:
        data["systems"]["pm"]["settings"]["mode"] = "project"

    pair.edit(project_mode)
    bad = findings(pair.check(), CheckStatus.PROBLEM, "pm")
    assert any("ADMINISTER" in line and "mode: project" in line for line in bad), bad


def test_a_hard_asana_workspace_names_typed_options_and_projects_without_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = open_pair(
        "salesforce", "asana", tmp_path, monkeypatch, profiles={"asana": "hard"}
    ).check()
    warned = findings(results, CheckStatus.WARNING, "pm")
    options = [line for line in warned if line.startswith("options")]
    assert {line.split(" ")[1] for line in options} == {"Feedback", "Health", "Risk"}, options
    assert any("'RED' for 'Red'" in line for line in options)
    projects = [line for line in warned if line.startswith("projects")]
    assert projects and "lack custom fields" in projects[0] and "Budget" in projects[0]


def test_a_custom_field_the_site_lacks_is_named_with_object_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = Path(__file__).resolve().parents[2] / "mappings" / "jira.yaml"
    wrong = tmp_path / "jira.yaml"
    wrong.write_text(
        mapping.read_text(encoding="utf-8").replace("customfield_10053", "customfield_10077"),
        encoding="utf-8",
    )
    pair = open_pair("salesforce", "jira", tmp_path, monkeypatch)
    pair.edit(lambda data: data["systems"]["pm"].update(mapping=str(wrong)))
    results = pair.check()
    bad = findings(results, CheckStatus.PROBLEM, "pm")
    assert any(
        "issue.fields.customfield_10077 (entity Project, written)" in line
        and "no field customfield_10077" in line
        for line in bad
    ), bad
    assert any(line.startswith("create screen: issue.customfield_10077") for line in bad), bad
    assert exit_code(results) == 1


WRONG = {
    "salesforce": ("CLIENT_SECRET", "client_secret"),
    "hubspot": ("ACCESS_TOKEN", "access_token"),
    "jira": ("API_TOKEN", "api_token"),
    "asana": ("ACCESS_TOKEN", "access_token"),
}


@pytest.mark.parametrize(
    ("crm", "pm", "role"),
    [
        ("salesforce", "jira", "crm"),
        ("hubspot", "asana", "crm"),
        ("salesforce", "jira", "pm"),
        ("hubspot", "asana", "pm"),
    ],
)
def test_a_wrong_credential_is_one_clear_finding_without_the_secret(
    crm: str, pm: str, role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = open_pair(crm, pm, tmp_path, monkeypatch)
    product = crm if role == "crm" else pm
    setting, key = WRONG[product]
    real = pair.sandboxes[role].credentials[key]
    monkeypatch.setenv(f"{pair.prefix}_{role}_{setting}".upper(), "wrong-token-1234")
    results = pair.check()
    mine = [r for r in results if r.system == role]
    assert [(r.check, r.status) for r in mine] == [("credentials", CheckStatus.PROBLEM)], mine
    assert "refused" in mine[0].detail and ("401" in mine[0].detail or "400" in mine[0].detail)
    other = "pm" if role == "crm" else "crm"
    assert any(r.system == other and r.check == "fields" for r in results)
    text = " ".join(r.detail for r in results)
    assert real not in text and "wrong-token-1234" not in text
    assert exit_code(results) == 1
