"""The ``hub`` command: exit codes and messages an admin sees (no tracebacks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

BAD = Path(__file__).resolve().parent / "data" / "bad-configs"
HUB_CONFIGS = sorted(p for p in BAD.glob("*.yaml") if not p.name.startswith("mapping-"))

runner = CliRunner()


def _env_for_example(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.setenv(name, "set-in-test")


def test_validate_accepts_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    _env_for_example(monkeypatch)
    result = runner.invoke(app, ["validate", "-c", str(example_for("salesforce", "jira"))])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "crm (salesforce)" in result.output


@pytest.mark.parametrize("path", HUB_CONFIGS, ids=lambda p: p.name)
def test_validate_reports_a_broken_config_with_exit_2(path: Path) -> None:
    result = runner.invoke(app, ["validate", "--strict", "-c", str(path)])
    assert result.exit_code == 2, result.output
    assert path.name in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["validate", "-c", str(missing)])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output and "Traceback" not in result.output


def test_unknown_handoff_and_sandbox_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    _env_for_example(monkeypatch)
    config = str(example_for("salesforce", "jira"))
    result = runner.invoke(app, ["plan", "-c", config, "lost-to-nowhere"])
    assert result.exit_code == 2 and "known: won-to-project" in result.output
    result = runner.invoke(app, ["sandbox", "serve", "dynamics"])
    assert result.exit_code == 2 and "'dynamics' is not one of 'asana'" in result.output


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=3, records=12)),
        "jira": serve_in_thread(make_sandbox("jira", seed=3, records=5)),
    }
    yield running
    for item in running.values():
        item.stop()


def test_plan_lists_what_a_run_would_do_and_writes_nothing(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_CLITEST"
    )
    result = runner.invoke(app, ["plan", "-c", str(config)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "plan: won-to-project" in result.output
    assert result.output.count("create") >= 2
    writes = [c for s in served.values() for c in s.sandbox.journal.writes()]
    assert writes == []


def test_a_wrong_credential_is_a_message_not_a_traceback(
    tmp_path: Path, served: dict[str, RunningSandbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_CLIBAD"
    )
    secret = served["salesforce"].sandbox.credentials["client_secret"]
    monkeypatch.setenv("HUB_CLIBAD_CRM_CLIENT_SECRET", "not-the-secret")
    result = runner.invoke(app, ["plan", "-c", str(config)])
    assert result.exit_code == 1, result.output
    assert "error:" in result.output and "credentials" in result.output
    assert "Traceback" not in result.output
    assert secret not in result.output and "not-the-secret" not in result.output


def _sandbox_config(tmp_path: Path, served: dict[str, RunningSandbox], prefix: str) -> Path:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    return write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix=prefix
    )


def test_reconcile_prints_a_table_and_writes_each_format(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    config = _sandbox_config(tmp_path, served, "HUB_CLIREC")
    html = tmp_path / "report.html"
    result = runner.invoke(
        app, ["reconcile", "-c", str(config), "-o", str(html)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Won deal without a project" in result.output and "report written to" in result.output
    assert 'data-kind="won_without_project"' in html.read_text(encoding="utf-8")
    as_json = runner.invoke(app, ["reconcile", "-c", str(config), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    won = report["summary"]["counts"]["won_without_project"]
    assert won >= 1 and len(report["discrepancies"]) == report["summary"]["total"]
    for fmt in ("csv", "md"):
        out = tmp_path / f"report.{fmt}"
        done = runner.invoke(app, ["reconcile", "-c", str(config), "-o", str(out)])
        assert done.exit_code == 0 and out.stat().st_size > 0, done.output
    assert [c for s in served.values() for c in s.sandbox.journal.writes()] == []


def test_reconcile_fail_on_sets_the_exit_code(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    config = _sandbox_config(tmp_path, served, "HUB_CLIFAIL")
    found = runner.invoke(app, ["reconcile", "-c", str(config), "--fail-on", "won_without_project"])
    assert found.exit_code == 3, found.output
    assert "found won_without_project" in found.output
    clean = runner.invoke(
        app, ["reconcile", "-c", str(config), "--fail-on", "more_projects_than_rules"]
    )
    assert clean.exit_code == 0, clean.output
    unknown = runner.invoke(app, ["reconcile", "-c", str(config), "--fail-on", "won_no_project"])
    assert unknown.exit_code == 2 and "unknown kind won_no_project" in unknown.output
    fixed = runner.invoke(
        app, ["reconcile", "-c", str(config), "--fix", "--fail-on", "won_without_project"]
    )
    assert fixed.exit_code == 0, fixed.output
    assert "won-to-project: created" in fixed.output


def test_kpis_as_table_and_json(tmp_path: Path, served: dict[str, RunningSandbox]) -> None:
    config = _sandbox_config(tmp_path, served, "HUB_CLIKPI")
    runner.invoke(app, ["reconcile", "-c", str(config), "--fix"])
    table = runner.invoke(app, ["kpis", "-c", str(config), "--days", "365"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    figures = json.loads(runner.invoke(app, ["kpis", "-c", str(config), "-f", "json"]).stdout)
    assert figures["won_deals"] >= 1 and figures["share_with_project"] == 1.0
    bad = runner.invoke(app, ["kpis", "-c", str(config), "-f", "csv"], env={"COLUMNS": "200"})
    assert bad.exit_code == 2 and "'csv' is not one of 'json', 'md', 'html'" in bad.output
    by = ["kpis", "-c", str(config), "--by", "customer"]
    grouped = runner.invoke(app, by, env={"COLUMNS": "200"})
    assert grouped.exit_code == 0 and "KPIs by customer" in grouped.output, grouped.output
    customers = json.loads(runner.invoke(app, [*by, "-f", "json"]).stdout)["customers"]
    assert sum(c["won_deals"] for c in customers) == figures["won_deals"]
    region = runner.invoke(app, ["kpis", "-c", str(config), "--by", "region"])
    assert region.exit_code == 2 and "unknown grouping 'region'" in region.output


def test_account_shows_one_customer(tmp_path: Path, served: dict[str, RunningSandbox]) -> None:
    config = _sandbox_config(tmp_path, served, "HUB_CLIACC")
    runner.invoke(app, ["reconcile", "-c", str(config), "--fix"])
    salesforce = served["salesforce"].sandbox
    account = salesforce.state.find("Account")[0]  # type: ignore[attr-defined]
    shown = runner.invoke(
        app, ["account", account["Name"], "-c", str(config)], env={"COLUMNS": "200"}
    )
    assert shown.exit_code == 0, shown.output
    assert account["Name"] in shown.output and "Deals (" in shown.output
    assert "Roll-up: 2 departments" in shown.output  # the seed's first account is a group
    as_json = runner.invoke(app, ["account", account["Id"], "-c", str(config), "--json"])
    assert json.loads(as_json.stdout)["account"]["name"] == account["Name"]
    missing = runner.invoke(app, ["account", "Nobody Ltd", "-c", str(config)])
    assert missing.exit_code == 1 and "no account named" in missing.output


PAIRS = [(crm, pm) for crm in ("salesforce", "hubspot") for pm in ("jira", "asana")]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def test_plan_of_every_handoff_writes_nothing_anywhere(
    tmp_path: Path, pair: tuple[str, str]
) -> None:
    from handoff_hub.hub.cli.demo import stage_delivery_events
    from handoff_hub.hub.store import StateStore

    crm, pm = pair
    running = {
        crm: serve_in_thread(make_sandbox(crm, seed=5, records=16)),
        pm: serve_in_thread(make_sandbox(pm, seed=5, records=8)),
    }
    try:
        targets = {name: (run.url, run.sandbox) for name, run in running.items()}
        config = write_sandbox_config(
            example_for(crm, pm), tmp_path, targets, env_prefix=f"HUB_PLAN_{crm}_{pm}".upper()
        )
        assert runner.invoke(app, ["reconcile", "-c", str(config), "--fix"]).exit_code == 0
        store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
        projects = [lk.target_key for lk in store.links("won-to-project")]
        stage_delivery_events(running[pm].sandbox, projects)
        before = _store_rows(store)
        for run in running.values():
            run.sandbox.journal.clear()

        result = runner.invoke(app, ["plan", "-c", str(config)], env={"COLUMNS": "220"})

        assert result.exit_code == 0, result.output
        for handoff in ("won-to-project", "risk-to-account-manager", "feedback-to-lead", "sync"):
            assert f"plan: {handoff}" in result.output
        assert "create" in result.output and "skip" in result.output
        assert [c for run in running.values() for c in run.sandbox.journal.writes()] == []
        assert _store_rows(store) == before
        store.close()
    finally:
        for run in running.values():
            run.stop()


def _store_rows(store: Any) -> dict[str, Any]:
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).fetchall()
            for table in ("links", "cursors", "runs", "audit_events", "dead_letters", "sync_state")
        }
