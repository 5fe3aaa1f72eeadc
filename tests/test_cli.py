"""The ``hub`` command: exit codes and messages an admin sees (no tracebacks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.demo import example_for, write_sandbox_config
from hub.sandbox_server import RunningSandbox, make_sandbox, serve_in_thread

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
    result = runner.invoke(app, ["validate", "-c", str(path)])
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
    assert result.exit_code == 2 and "unknown sandbox 'dynamics'" in result.output


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
    writes = [c for s in served.values() for c in s.sandbox.journal.writes(read_paths=_READS)]
    assert writes == []


_READS = ("/services/oauth2/token", "/rest/api/3/search/jql")


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
