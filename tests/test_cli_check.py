"""``hub check`` on the command line: table, JSON, exit codes 0 / 1 / 2, no tracebacks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import DemoEnvironment, demo_environment
from handoff_hub.hub.cli.main import app

BAD = Path(__file__).resolve().parent / "data" / "bad-configs"
runner = CliRunner()
WIDE = {"COLUMNS": "220"}


@pytest.fixture
def default_orgs(tmp_path: Path) -> Iterator[DemoEnvironment]:
    with demo_environment(tmp_path, seed=3, records=10) as env:
        yield env


def test_the_demo_orgs_are_all_clear_as_a_table_and_as_json(
    default_orgs: DemoEnvironment,
) -> None:
    config = str(default_orgs.config_path)
    table = runner.invoke(app, ["check", "-c", config], env=WIDE)
    assert table.exit_code == 0, table.output
    assert "all clear" in table.output and "won stages" in table.output
    as_json = runner.invoke(app, ["check", "-c", config, "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert report["ok"] is True and report["counts"]["problem"] == 0
    row = report["results"][0]
    assert set(row) == {"system", "check", "result", "detail", "handoff"}
    assert {r["system"] for r in report["results"]} == {"crm", "pm"}


def test_a_hard_org_exits_1_naming_its_problems(tmp_path: Path) -> None:
    with demo_environment(tmp_path, seed=3, records=10, profiles={"salesforce": "hard"}) as env:
        config = str(env.config_path)
        table = runner.invoke(app, ["check", "-c", config, "--problems"], env=WIDE)
        as_json = runner.invoke(app, ["check", "-c", config, "--json"])
    assert table.exit_code == 1, table.output
    assert "5 problem(s)" in table.output and "fields" in table.output
    assert " ok " not in table.output  # --problems leaves the all-clears out
    report = json.loads(as_json.output)
    assert as_json.exit_code == 1 and report["ok"] is False
    bad = [r for r in report["results"] if r["result"] == "problem"]
    assert all(r["system"] == "crm" and r["check"] == "fields" for r in bad), bad
    assert any("Opportunity.Delivery_Project__c" in r["detail"] for r in bad), bad


def test_a_wrong_token_exits_1_without_traceback_or_secret(
    default_orgs: DemoEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = default_orgs.sandboxes["jira"].sandbox.credentials["api_token"]
    monkeypatch.setenv("HUB_DEMO_PM_API_TOKEN", "not-the-token-42")
    result = runner.invoke(app, ["check", "-c", str(default_orgs.config_path)], env=WIDE)
    assert result.exit_code == 1, result.output
    assert "credentials" in result.output and "refused (401)" in result.output
    assert "Traceback" not in result.output
    assert token not in result.output and "not-the-token-42" not in result.output
    as_json = runner.invoke(app, ["check", "-c", str(default_orgs.config_path), "--json"])
    refused = [r for r in json.loads(as_json.output)["results"] if r["result"] == "problem"]
    assert [(r["system"], r["check"]) for r in refused] == [("pm", "credentials")]
    assert token not in as_json.output and "not-the-token-42" not in as_json.output


def test_a_bad_config_exits_2_as_validate_reports_it() -> None:
    config = str(BAD / "typo-connector.yaml")
    checked = runner.invoke(app, ["check", "-c", config])
    validated = runner.invoke(app, ["validate", "-c", config])
    assert checked.exit_code == 2 == validated.exit_code
    assert checked.output == validated.output
