"""Pre-flight of a hub config: one typed schema (connector settings included), every
problem of every section in one pass, and unset variables as warnings (issue 21)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field
from typer.testing import CliRunner

from handoff_hub.connectors.jira.config import JiraConfig
from handoff_hub.hub import registry
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.config.schema import hub_config_schema, schema_dir
from handoff_hub.hub.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "salesforce-jira.yaml"
ENV = ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL", "JIRA_API_TOKEN")

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A copy of the example beside the shipped mappings."""
    (tmp_path / "mappings").symlink_to(ROOT / "mappings")
    (tmp_path / "examples").mkdir()
    path = tmp_path / "examples" / "hub.yaml"
    shutil.copy(EXAMPLE, path)
    return path


@pytest.fixture
def env_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.setenv(name, "set-in-test")


@pytest.fixture
def env_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def _replace(path: Path, *pairs: tuple[str, str]) -> Path:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path


def _line(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def _validate(path: Path, *options: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, ["validate", *options, "-c", str(path)])
    return result.exit_code, [line.strip() for line in result.output.splitlines()]


# Every problem of every section, in one pass ---------------------------------------


@pytest.mark.usefixtures("env_set")
def test_every_settings_typo_and_bad_url_is_reported_at_once_with_line_and_hint(
    config: Path,
) -> None:
    _replace(
        config,
        ("      mode: epic", "      mode: epik"),
        ("      project_key: DEL", "      project_kee: DEL"),
        ("      external_id_field:", "      external_id_feild:"),
        ("    notify:\n      urls: []", '    notify:\n      urls: ["slakc://T0KEN", "fieshu://x"]'),
    )

    code, lines = _validate(config)

    at = f"{config}:"
    assert code == 2
    assert lines[0] == "5 problem(s) found:"
    assert lines[1:] == [
        f"{at}{_line(config, 'external_id_feild')}: systems.crm.settings.external_id_feild: "
        "unknown field 'external_id_feild' (did you mean 'external_id_field'?)",
        f"{at}{_line(config, 'project_kee')}: systems.pm.settings.project_kee: "
        "unknown field 'project_kee' (did you mean 'project_key'?)",
        f"{at}{_line(config, 'mode: epik')}: systems.pm.settings.mode: "
        "'epik' is not one of: epic, project (did you mean 'epic'?)",
        f"{at}{_line(config, 'slakc')}: handoffs.won_to_project.notify.urls[0]: "
        "this URL has a scheme apprise does not know: 'slakc' (did you mean 'slack'?)",
        f"{at}{_line(config, 'slakc')}: handoffs.won_to_project.notify.urls[1]: "
        "this URL has a scheme apprise does not know: 'fieshu' (did you mean 'feishu'?)",
    ]
    assert "T0KEN" not in "\n".join(lines)


@pytest.mark.usefixtures("env_set")
def test_an_unknown_key_does_not_hide_a_bad_value_beside_it(config: Path) -> None:
    _replace(
        config,
        ("    conflict: report", "    conflict: reportt\n    colour: red"),
        (
            "      mode: epic",
            "      mode: epik\n      colour: red\n    rate_limit: {requests: 0, per_secs: 1}",
        ),
    )

    with pytest.raises(ConfigError) as refused:
        load_config(config, known_connectors=("salesforce", "jira"))

    found = {(i.field, i.hint) for i in refused.value.issues}
    assert found == {
        ("handoffs.sync.conflict", "did you mean 'report'?"),
        (
            "handoffs.sync.colour",
            "allowed: batch_size, conflict, crm, enabled, fields, pm, schedule, start_from",
        ),
        ("systems.pm.settings.mode", "did you mean 'epic'?"),
        ("systems.pm.settings.colour", "allowed: " + ", ".join(sorted(JiraConfig.model_fields))),
        ("systems.pm.rate_limit.per_secs", "did you mean 'per_seconds'?"),
        ("systems.pm.rate_limit.requests", None),
    }


# Unset variables: a warning, an error with --strict, and at run time ----------------


@pytest.mark.usefixtures("env_unset")
def test_an_unset_variable_is_a_warning_by_default(config: Path) -> None:
    code, lines = _validate(config)

    assert code == 0, lines
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 4
    assert warnings[0] == (
        f"warning: {config}:{_line(config, 'SF_CLIENT_ID')}: systems.crm.credentials.client_id: "
        "environment variable SF_CLIENT_ID is not set (export SF_CLIENT_ID=... before running "
        "the hub)"
    )
    ok = " ".join(line for line in lines if line and not line.startswith("warning:"))
    assert ok.startswith("ok") and ok.endswith("4 warning(s)"), ok  # it may wrap


@pytest.mark.usefixtures("env_unset")
def test_an_unset_variable_is_an_error_with_strict(config: Path) -> None:
    code, lines = _validate(config, "--strict")

    assert code == 2
    assert lines[0] == "4 problem(s) found:"
    assert "environment variable JIRA_API_TOKEN is not set" in lines[4]


@pytest.mark.usefixtures("env_unset")
def test_warnings_are_shown_beside_the_problems(config: Path) -> None:
    _replace(config, ("      mode: epic", "      mode: epik"))

    code, lines = _validate(config)

    assert code == 2 and lines[0] == "1 problem(s) found:"
    assert sum(line.startswith("warning:") for line in lines) == 4


@pytest.mark.usefixtures("env_unset")
@pytest.mark.parametrize("command", [["plan"], ["run", "won-to-project"]])
def test_plan_and_run_refuse_an_unset_variable(config: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "-c", str(config)])

    assert result.exit_code == 2, result.output
    assert "4 problem(s) found:" in result.output
    assert "systems.pm.credentials.api_token: environment variable JIRA_API_TOKEN is not set" in (
        result.output
    )


# The schema: connector settings, for editors ----------------------------------------


def _committed_schema() -> dict[str, Any]:
    text = (schema_dir() / "hub-config.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_schema_file_carries_each_connector_settings_with_descriptions() -> None:
    schema = _committed_schema()
    system = schema["$defs"]["SystemConfig"]
    cases = {
        case["if"]["properties"]["connector"]["const"]: case["then"]["properties"]["settings"]
        for case in system["allOf"]
    }

    assert set(cases) == {"asana", "hubspot", "jira", "salesforce"}
    for name, settings in cases.items():
        model = schema["$defs"][settings["$ref"].removeprefix("#/$defs/")]
        assert model["additionalProperties"] is False, name
        assert model["properties"], name
        for field, spec in model["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"
    jira = schema["$defs"]["jira.settings"]["properties"]
    assert jira["mode"]["enum"] == ["epic", "project"] and jira["mode"]["default"] == "epic"
    assert jira["project_key"]["examples"] == ["DEL"]
    connector = system["properties"]["connector"]
    assert connector["anyOf"][0]["enum"] == ["asana", "hubspot", "jira", "salesforce"]
    assert schema["$defs"]["WebhooksConfig"]["properties"]["jira"] == {
        "$ref": "#/$defs/jira.webhooks"
    }


def _schema_errors(system: dict[str, Any]) -> list[str]:
    document = {"version": 1, "systems": {"pm": system}}
    validator = Draft202012Validator(_committed_schema())
    return sorted(
        "/".join(map(str, error.absolute_path)) + f": {error.validator}"
        for error in validator.iter_errors(document)
    )


def test_an_editor_checks_settings_by_the_connector_named() -> None:
    base = {"base_url": "https://acme.atlassian.net", "mapping": "jira.yaml"}

    jira_typo = {**base, "connector": "jira", "settings": {"project_kee": "DEL", "mode": "epik"}}
    asana_key = {**base, "connector": "asana", "settings": {"workspace_gid": "1", "mode": "epic"}}
    elsewhere = {**base, "connector": "pipedrive", "settings": {"anything": 1}}

    assert _schema_errors(jira_typo) == [
        "systems/pm/settings/mode: enum",
        "systems/pm/settings: additionalProperties",
        "systems/pm/settings: required",
    ]
    assert _schema_errors(asana_key) == ["systems/pm/settings: additionalProperties"]
    assert _schema_errors(elsewhere) == []  # a connector of another package: left open


# A third party's connector: its settings flow into the schema -----------------------


class _PipedriveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_domain: str = Field(description="Pipedrive company domain", examples=["acme"])
    pipeline: Literal["sales", "renewals"] = Field(default="sales", description="Pipeline")


class _Pipedrive:
    settings_model: ClassVar[type[BaseModel]] = _PipedriveSettings


def test_a_third_party_connector_settings_are_in_the_schema_and_checked(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = registry.connector_class
    monkeypatch.setattr(
        registry, "connector_class", lambda name: _Pipedrive if name == "pipedrive" else real(name)
    )
    _replace(
        config,
        ("    connector: jira", "    connector: pipedrive"),
        (
            "      project_key: DEL\n      mode: epic",
            "      company_domian: acme\n      pipeline: sale",
        ),
    )

    schema = hub_config_schema(["jira", "pipedrive"])
    with pytest.raises(ConfigError) as refused:
        load_config(config, known_connectors=("salesforce", "pipedrive"), check_env=False)

    assert schema["$defs"]["pipedrive.settings"]["properties"]["company_domain"]["description"]
    found = {(i.field, i.hint) for i in refused.value.issues if ".settings." in i.field}
    assert found == {
        ("systems.pm.settings.company_domian", "did you mean 'company_domain'?"),
        ("systems.pm.settings.pipeline", "did you mean 'sales'?"),
    }
