"""``hub deploy --print``: which deployments a hub config gives, without a Prefect server."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from handoff_hub.hub.cli import console as cli_console
from handoff_hub.hub.cli import deploy as cli_deploy
from handoff_hub.hub.cli.demo import example_for
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.deploy_plan import FLOWS, project_root
from handoff_hub.sandboxes.kit.server import free_port, make_sandbox, serve_in_thread

runner = CliRunner()
EXAMPLE = example_for("salesforce", "jira")


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared console takes its width once, from COLUMNS at import (80 under xdist)."""
    wide = Console(width=250, highlight=False)
    monkeypatch.setattr(cli_console, "console", wide)
    monkeypatch.setattr(cli_deploy, "console", wide)


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """hub deploy needs no credential: the worker reads them when a run starts."""
    for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _print_json(config: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["deploy", "-c", str(config), "--print", "--json", *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _variant(tmp_path: Path, edit: dict[str, Any]) -> Path:
    """The example with ``handoffs`` sections replaced (None deletes), mapping paths absolute."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        system["mapping"] = str((EXAMPLE.parent / system["mapping"]).resolve())
    for key, value in edit.items():
        if value is None:
            data["handoffs"].pop(key, None)
        else:
            data["handoffs"][key] = {**data["handoffs"].get(key, {}), **value}
    path = tmp_path / "ops-hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_print_shows_every_scheduled_flow_of_the_example() -> None:
    result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE), "--print"])
    assert result.exit_code == 0, result.output
    for line in (
        "won-to-project/salesforce-jira",
        "*/15 * * * *",
        "risk-to-account-manager/salesforce-jira",
        "*/30 * * * *",
        "feedback-to-lead/salesforce-jira",
        "sync/salesforce-jira",
        "*/10 * * * *",
        "reconcile/salesforce-jira",
        "0 6 * * *",
        "flows/won_to_project.py:won_to_project",
        "work pool: handoff-hub",
    ):
        assert line in result.output, line
    assert "not created" in result.output


def test_print_json_carries_the_config_path_and_options_only() -> None:
    data = _print_json(EXAMPLE, "--work-pool", "ops")
    specs = {d["flow_name"]: d for d in data["deployments"]}
    assert list(specs) == [
        "won-to-project",
        "risk-to-account-manager",
        "feedback-to-lead",
        "sync",
        "reconcile",
    ]
    config = str(EXAMPLE.resolve())
    for flow_name in ("won-to-project", "risk-to-account-manager", "feedback-to-lead", "sync"):
        assert specs[flow_name]["parameters"] == {"config_path": config}
    assert specs["reconcile"]["parameters"] == {
        "config_path": config,
        "fix": False,
        "window_days": 90,
        "report_path": str(EXAMPLE.parent.resolve() / "reconcile.html"),
        "report_format": "html",
    }
    spec = specs["won-to-project"]
    assert spec["full_name"] == "won-to-project/salesforce-jira"
    assert spec["name"] == "salesforce-jira" and spec["work_pool"] == "ops"
    assert spec["tags"] == ["handoff-hub", "salesforce-jira"]
    assert data["source"] == str(project_root()) and data["not_scheduled"] == []


@pytest.mark.parametrize("target", FLOWS, ids=lambda t: t.flow_name)
def test_entry_points_name_the_flows(target: Any) -> None:
    """Each entry point's file holds a Prefect flow whose name is the deployment's flow name."""
    from prefect import Flow
    from prefect.flows import load_flow_from_entrypoint

    file, _, function = target.entrypoint.partition(":")
    loaded = load_flow_from_entrypoint(f"{project_root() / file}:{function}")
    assert isinstance(loaded, Flow) and loaded.name == target.flow_name
    assert "config_path" in loaded.parameters.required
    if target.flow_name != "reconcile":
        assert set(loaded.parameters.properties) == {"config_path", "batch_retry_delay_seconds"}


def test_unscheduled_is_listed_and_disabled_is_left_out(tmp_path: Path) -> None:
    config = _variant(
        tmp_path,
        {
            "sync": {"schedule": None},
            "feedback_to_lead": {"enabled": False},
            "reconcile": None,
        },
    )
    data = _print_json(config, "--name", "ops")
    assert [d["full_name"] for d in data["deployments"]] == [
        "won-to-project/ops",
        "risk-to-account-manager/ops",
    ]
    assert data["not_scheduled"] == ["sync"]
    table = runner.invoke(app, ["deploy", "-c", str(config), "--print"])
    assert "sync/ops-hub" in table.output and "not scheduled" in table.output
    assert "feedback-to-lead" not in table.output and "reconcile" not in table.output


def test_reconcile_options_and_a_relative_report(tmp_path: Path) -> None:
    config = _variant(
        tmp_path,
        {
            "reconcile": {
                "schedule": "30 5 * * 1-5",
                "fix": True,
                "window_days": 30,
                "report_path": "out/report.json",
                "report_format": "json",
            }
        },
    )
    data = _print_json(config)
    spec = next(d for d in data["deployments"] if d["flow_name"] == "reconcile")
    assert spec["cron"] == "30 5 * * 1-5"
    assert spec["parameters"]["fix"] is True and spec["parameters"]["window_days"] == 30
    assert spec["parameters"]["report_path"] == str(tmp_path.resolve() / "out" / "report.json")


def test_a_bad_reconcile_schedule_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    config = _variant(tmp_path, {"reconcile": {"schedule": "daily", "report_format": "pdf"}})
    result = runner.invoke(app, ["deploy", "-c", str(config), "--print"])
    assert result.exit_code == 2, result.output
    assert "ops-hub.yaml" in result.output
    assert "handoffs.reconcile.schedule" in result.output and "not a cron" in result.output
    assert "handoffs.reconcile.report_format" in result.output


def test_a_bad_deployment_name_exits_2() -> None:
    result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE), "--print", "--name", "a/b"])
    assert result.exit_code == 2 and "may not contain" in " ".join(result.output.split())


def test_without_a_server_it_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE)])
    assert result.exit_code == 1, result.output
    assert "set PREFECT_API_URL or pass --api-url" in " ".join(result.output.split())
    url = f"http://127.0.0.1:{free_port()}/api"
    result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE), "--api-url", url])
    assert result.exit_code == 1, result.output
    assert f"no Prefect server answers at {url}" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_an_address_that_is_not_a_prefect_api_fails_with_a_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = serve_in_thread(make_sandbox("jira", seed=1, records=1))
    try:
        monkeypatch.setenv("PREFECT_API_URL", running.url)
        result = runner.invoke(app, ["deploy", "-c", str(EXAMPLE)])
    finally:
        running.stop()
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "is not a healthy Prefect API (HTTP 404 on /health)" in text
    assert f"did you mean {running.url.rstrip('/')}/api?" in text


def test_a_docker_pool_runs_the_flows_from_the_image() -> None:
    data = _print_json(EXAMPLE, "--work-pool-type", "docker", "--image", "registry/hub:1.2")
    assert data["work_pool"] == "handoff-hub-docker" and data["work_pool_type"] == "docker"
    folders = [EXAMPLE.parent.resolve(), (EXAMPLE.parent.parent / "mappings").resolve()]
    for spec in data["deployments"]:
        module, _, function = spec["flow_entrypoint"].rpartition(".")
        assert getattr(importlib.import_module(module), function).name == spec["flow_name"]
        assert spec["job_variables"]["image"] == "registry/hub:1.2"
        assert spec["job_variables"]["volumes"] == [f"{f}:{f}" for f in folders]
    assert _print_json(EXAMPLE)["deployments"][0]["job_variables"] == {}


def test_a_schedule_with_a_time_zone_and_one_run_at_a_time(tmp_path: Path) -> None:
    config = _variant(
        tmp_path,
        {
            "won_to_project": {"schedule": {"cron": "15 7 * * 1-5", "timezone": "Europe/Berlin"}},
            "reconcile": {"schedule": "30 5 * * 1-5"},
        },
    )
    data = _print_json(config)
    by_flow = {d["flow_name"]: d for d in data["deployments"]}
    won = by_flow["won-to-project"]
    assert (won["cron"], won["timezone"]) == ("15 7 * * 1-5", "Europe/Berlin")
    assert (by_flow["reconcile"]["cron"], by_flow["reconcile"]["timezone"]) == (
        "30 5 * * 1-5",
        "UTC",
    )
    assert {d["concurrency_limit"] for d in data["deployments"]} == {1}
    table = runner.invoke(app, ["deploy", "-c", str(config), "--print"])
    assert "15 7 * * 1-5 (Europe/Berlin)" in table.output


def test_an_unknown_time_zone_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    config = _variant(
        tmp_path, {"won_to_project": {"schedule": {"cron": "15 7 * * *", "timezone": "Mars/Base"}}}
    )
    result = runner.invoke(app, ["deploy", "-c", str(config), "--print"])
    assert result.exit_code == 2, result.output
    assert "unknown time zone 'Mars/Base'" in result.output
    assert re.search(r"ops-hub\.yaml:\d+", result.output), result.output
