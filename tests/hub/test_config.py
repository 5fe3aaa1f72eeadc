"""load_config on the shipped example and on variations of it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff_hub.hub.config.loading import LoadedConfig, load_config, resolve_store_url
from handoff_hub.hub.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "salesforce-jira.yaml"
ENV = {
    "SF_CLIENT_ID": "id",
    "SF_CLIENT_SECRET": "secret",
    "JIRA_EMAIL": "bot@acme.example",
    "JIRA_API_TOKEN": "token",
}
CONNECTORS = ("salesforce", "jira")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of examples/ and mappings/ side by side, as in the repository."""
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "examples" / EXAMPLE.name)
    return tmp_path / "examples" / EXAMPLE.name


def _edit(path: Path, change: Any) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_example_loads_cleanly(env: None) -> None:
    loaded = load_config(EXAMPLE, known_connectors=CONNECTORS)
    assert isinstance(loaded, LoadedConfig)
    assert loaded.path == EXAMPLE
    assert loaded.base_dir == EXAMPLE.parent
    assert set(loaded.config.systems) == {"crm", "pm"}
    assert loaded.config.systems["crm"].name == "crm"
    assert loaded.mappings["crm"].system == "salesforce"
    assert loaded.mappings["pm"].system == "jira"
    assert loaded.mappings["crm"].ref_key == "crm" and loaded.mappings["pm"].ref_key == "pm"
    handoff = loaded.config.handoffs.won_to_project
    assert handoff is not None and handoff.template == "standard-delivery"
    assert handoff.schedule == "*/15 * * * *"
    tasks = loaded.config.templates["standard-delivery"].tasks
    assert len(tasks) >= 6 and any(t.parent for t in tasks)
    assert loaded.config.systems["crm"].secret("client_secret").get_secret_value() == "secret"


def test_relative_sqlite_url_is_relative_to_the_config(env: None) -> None:
    loaded = load_config(EXAMPLE, known_connectors=CONNECTORS)
    assert loaded.config.store.url == f"sqlite:///{EXAMPLE.parent.as_posix()}/.hub/state.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///state.db", "sqlite:////base/state.db"),
        ("sqlite+pysqlite:///db/s.db?timeout=5", "sqlite+pysqlite:////base/db/s.db?timeout=5"),
        ("sqlite:////abs/s.db", "sqlite:////abs/s.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_resolve_store_url(url: str, expected: str) -> None:
    assert resolve_store_url(url, Path("/base")) == expected


def test_env_check_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    loaded = load_config(EXAMPLE, known_connectors=CONNECTORS, check_env=False)
    assert set(loaded.mappings) == {"crm", "pm"}


def test_missing_env_vars_name_the_setting(monkeypatch: pytest.MonkeyPatch, env: None) -> None:
    monkeypatch.delenv("SF_CLIENT_SECRET")
    monkeypatch.setenv("JIRA_API_TOKEN", "")
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, known_connectors=CONNECTORS)
    assert [(i.field, i.message) for i in caught.value.issues] == [
        (
            "systems.crm.credentials.client_secret",
            "environment variable SF_CLIENT_SECRET is not set",
        ),
        ("systems.pm.credentials.api_token", "environment variable JIRA_API_TOKEN is not set"),
    ]
    assert all(i.line and i.file == str(EXAMPLE) for i in caught.value.issues)


def test_unknown_connector_lists_the_known_ones(env: None) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, known_connectors=["salesforce", "asana"])
    (issue,) = caught.value.issues
    assert issue.field == "systems.pm.connector"
    assert "unknown connector 'jira'; known connectors: asana, salesforce" in issue.message


def test_unknown_handoff_keys_get_hints(workdir: Path, env: None) -> None:
    def change(data: dict[str, Any]) -> None:
        data["handoffs"]["won_to_project"].update(crm="cmr", template="standard")

    with pytest.raises(ConfigError) as caught:
        load_config(_edit(workdir, change), known_connectors=CONNECTORS)
    hints = {i.field: i.hint for i in caught.value.issues}
    assert hints == {
        "handoffs.won_to_project.crm": "did you mean 'crm'?",
        "handoffs.won_to_project.template": "did you mean 'standard-delivery'?",
    }


def test_config_and_mapping_errors_are_gathered_together(workdir: Path, env: None) -> None:
    mapping = workdir.parent.parent / "mappings" / "jira.yaml"
    mapping.write_text(
        mapping.read_text("utf-8").replace("transform: adf}", "transform: adff}"), encoding="utf-8"
    )
    _edit(workdir, lambda d: d["systems"]["crm"].update(timeout_seconds="slow"))
    with pytest.raises(ConfigError) as caught:
        load_config(workdir, known_connectors=CONNECTORS)
    issues = caught.value.issues
    assert [Path(i.file).name for i in issues] == ["salesforce-jira.yaml", "jira.yaml", "jira.yaml"]
    assert issues[0].field == "systems.crm.timeout_seconds"
    assert {i.hint for i in issues[1:]} == {"did you mean 'adf'?"}


def test_mapping_for_the_wrong_product(workdir: Path, env: None) -> None:
    _edit(workdir, lambda d: d["systems"]["pm"].update(mapping="../mappings/salesforce.yaml"))
    with pytest.raises(ConfigError) as caught:
        load_config(workdir, known_connectors=CONNECTORS)
    messages = [i.message for i in caught.value.issues]
    assert "mapping is for 'salesforce' but the connector is 'jira'" in messages


def test_won_to_project_needs_its_entities_and_write_back_rule(workdir: Path, env: None) -> None:
    mappings = workdir.parent.parent / "mappings"
    sf = mappings / "salesforce.yaml"
    sf.write_text(
        sf.read_text("utf-8").replace(
            "project_ref: {path: Delivery_Project__c, type: string}",
            "project_ref: {path: Delivery_Project__c, type: string, direction: read}",
        ),
        "utf-8",
    )
    jira = mappings / "jira.yaml"
    _edit(jira, lambda d: d["entities"].pop("Project"))
    with pytest.raises(ConfigError) as caught:
        load_config(workdir, known_connectors=CONNECTORS)
    messages = " | ".join(i.message for i in caught.value.issues)
    assert "write_back needs a project_ref rule" in messages
    assert "won_to_project needs entity 'Project' in the jira mapping" in messages


def test_template_checks(workdir: Path, env: None) -> None:
    def change(data: dict[str, Any]) -> None:
        template = data["templates"]["standard-delivery"]
        template["name"] = "{{ account.name "
        template["tasks"][1]["parent"] = "Kickoff meeting"
        template["tasks"].append({"name": template["tasks"][0]["name"]})
        data["handoffs"]["won_to_project"]["schedule"] = "every 15 minutes"

    with pytest.raises(ConfigError) as caught:
        load_config(_edit(workdir, change), known_connectors=CONNECTORS)
    by_field = {i.field: i for i in caught.value.issues}
    assert "does not parse" in by_field["templates.standard-delivery.name"].message
    assert (
        by_field["templates.standard-delivery.tasks[1].parent"].hint
        == "did you mean 'Kick-off meeting'?"
    )
    assert "listed twice" in by_field["templates.standard-delivery.tasks[8].name"].message
    assert "cron" in by_field["handoffs.won_to_project.schedule"].message


def test_pydantic_errors_become_issues() -> None:
    from pydantic import ValidationError

    from handoff_hub.hub.config.root import HubConfig
    from handoff_hub.hub.config.schema import pydantic_issues
    from handoff_hub.hub.config.yamlio import parse_yaml

    doc = parse_yaml("systems:\n  crm:\n    connector: 5\n", file="x.yaml")
    with pytest.raises(ValidationError) as caught:
        HubConfig.model_validate(doc.data)
    issues = pydantic_issues(caught.value, file=doc.file, lines=doc.lines)
    assert [(i.line, i.field) for i in issues] == [
        (2, "systems.crm.base_url"),
        (2, "systems.crm.mapping"),
        (3, "systems.crm.connector"),
    ]
