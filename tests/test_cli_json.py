"""``hub validate --json``: one JSON object on stdout, ok or every issue with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for
from handoff_hub.hub.cli.main import app

runner = CliRunner()
EXAMPLE = example_for("salesforce", "jira")
SECRETS = ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN")


def test_a_valid_config_is_ok_with_its_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.setenv(name, "set-in-test")
    result = runner.invoke(app, ["validate", "-c", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ok": True,
        "config": str(EXAMPLE),
        "issues": [],
        "warnings": [],
        "systems": {"crm": "salesforce", "pm": "jira"},
        "mappings": 2,
    }


def test_every_issue_has_its_file_line_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SECRETS:
        monkeypatch.setenv(name, "set-in-test")
    monkeypatch.delenv("JIRA_API_TOKEN")
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "connector: salesforce", "connector: salesforse"
    )
    config = tmp_path / "hub.yaml"
    config.write_text(text.replace("../mappings/", str(EXAMPLE.parent.parent / "mappings") + "/"))
    lines = text.splitlines()

    result = runner.invoke(app, ["validate", "-c", str(config), "--json"])

    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and "systems" not in data
    by_path = {issue["path"]: issue for issue in data["issues"]}
    warned = {issue["path"]: issue for issue in data["warnings"]}
    token = warned["systems.pm.credentials.api_token"]  # an unset variable warns (--strict errs)
    assert token["file"] == str(config) and "JIRA_API_TOKEN is not set" in token["message"]
    assert "JIRA_API_TOKEN" in lines[token["line"] - 1]
    typo = by_path["systems.crm.connector"]
    assert "salesforse" in lines[typo["line"] - 1] and typo["hint"]


def test_strict_makes_an_unset_variable_an_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.setenv(name, "set-in-test")
    monkeypatch.delenv("JIRA_API_TOKEN")
    result = runner.invoke(app, ["validate", "-c", str(EXAMPLE), "--json", "--strict"])
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert [i["path"] for i in data["issues"]] == ["systems.pm.credentials.api_token"]
