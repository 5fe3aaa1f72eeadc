"""``hub validate`` refuses values that fit the schema but fail at run time, with file:line."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff_hub.connectors.jira import JiraConnector
from handoff_hub.connectors.jira.config import JiraConfig
from handoff_hub.connectors.salesforce import SalesforceConnector
from handoff_hub.connectors.salesforce.config import SalesforceConfig
from handoff_hub.hub.config.handoffs import FeedbackToLeadConfig, RiskToAccountManagerConfig
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.handoffs import feedback_to_lead, risk_to_account_manager, won_to_project

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
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example beside the shipped mappings, its variables set."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "mappings").symlink_to(ROOT / "mappings")
    (tmp_path / "examples").mkdir()
    path = tmp_path / "examples" / "hub.yaml"
    shutil.copy(EXAMPLE, path)
    return path


def _edit(path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _issues(path: Path) -> list[Issue]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_connectors=CONNECTORS)
    return caught.value.issues


def _only(path: Path) -> Issue:
    (issue,) = _issues(path)
    assert issue.file == str(path) and issue.line is not None
    return issue


# base_url ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["127 0 0 1", "acme.atlassian.net", "http://", "ftp://files.acme.example", "https://h:x"]
)
def test_a_base_url_without_http_and_a_host_is_refused(config: Path, url: str) -> None:
    issue = _only(_edit(config, lambda d: d["systems"]["pm"].update(base_url=url)))
    assert issue.field == "systems.pm.base_url"
    assert issue.message == f"{url!r} is not an http(s) URL with a host name"


def test_a_base_url_with_credentials_is_not_shown(config: Path) -> None:
    url = "ftp://admin:hunter2@acme.atlassian.net"
    issue = _only(_edit(config, lambda d: d["systems"]["pm"].update(base_url=url)))
    assert "hunter2" not in str(issue)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8001", "https://[::1]:8443/jira", "HTTPS://A.B"])
def test_local_and_ip_base_urls_are_fine(config: Path, url: str) -> None:
    load_config(_edit(config, lambda d: d["systems"]["pm"].update(base_url=url)))


# store.url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mongodb://hub:s3cret@db.internal/hub",
            "store URL scheme 'mongodb' is not supported; supported: sqlite, postgresql",
        ),
        (
            "postgres://hub:s3cret@db.internal/hub",
            "store URL scheme 'postgres' is not supported; supported: sqlite, postgresql",
        ),
        (
            "mysql+pymysql://hub:s3cret@db.internal/hub",
            "store URL scheme 'mysql+pymysql' is not supported; supported: sqlite, postgresql",
        ),
        (
            "postgresql+nosuchdriver://hub:s3cret@db.internal/hub",
            "store URL scheme 'postgresql+nosuchdriver': no such SQLAlchemy driver",
        ),
        ("hub:s3cret@db.internal", "is not a database URL (the value is not shown"),
    ],
)
def test_a_store_the_hub_cannot_open_is_refused(config: Path, url: str, message: str) -> None:
    issue = _only(_edit(config, lambda d: d["store"].update(url=url)))
    assert issue.field == "store.url"
    assert issue.message.startswith(message)
    assert issue.hint == "e.g. sqlite:///.hub/state.db or postgresql+psycopg://user@host/db"
    assert "s3cret" not in str(issue)


@pytest.mark.parametrize(
    "url", ["sqlite:///state.db", "sqlite://", "postgresql+psycopg://hub:pw@db.internal:5432/hub"]
)
def test_supported_stores_are_fine(config: Path, url: str) -> None:
    load_config(_edit(config, lambda d: d["store"].update(url=url)))


# schedules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("0 6 30 2 *", "February has no day 30"),
        ("0 6 30 feb ?", "February has no day 30"),
        ("0 6 30,31 2 *", "February has no day 30"),
        ("0 6 31 4,6,9,11 *", "April, June, September and November have no day 31"),
        ("0 0 31 apr-jun/2 *", "April and June have no day 31"),
    ],
)
def test_a_schedule_that_never_fires_is_refused(config: Path, cron: str, why: str) -> None:
    issue = _only(_edit(config, lambda d: d["handoffs"]["reconcile"].update(schedule=cron)))
    assert issue.field == "handoffs.reconcile.schedule"
    assert issue.message == f"{cron!r} never fires: {why}"


@pytest.mark.parametrize(
    "cron", ["0 6 29 2 *", "0 6 30 2 1", "0 6 31 */2 *", "0 6 31 2-3 *", "0 6 L 2 *", "0 6 30 * *"]
)
def test_schedules_that_fire_some_day_are_fine(config: Path, cron: str) -> None:
    load_config(_edit(config, lambda d: d["handoffs"]["reconcile"].update(schedule=cron)))


# notification URLs ------------------------------------------------------------------


def _urls(*urls: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["handoffs"]["won_to_project"]["notify"]["urls"] = list(urls)

    return change


def test_an_unknown_notification_scheme_is_refused_without_showing_the_url(config: Path) -> None:
    issue = _only(_edit(config, _urls("json://127.0.0.1:9/ok", "slakc://T0KEN/B0T/C0DE")))
    assert issue.field == "handoffs.won_to_project.notify.urls[1]"
    assert issue.message == "this URL has a scheme apprise does not know: 'slakc'"
    assert issue.hint == "did you mean 'slack'?"
    assert "T0KEN" not in str(issue)


def test_a_url_held_in_a_variable_is_checked_by_scheme_only(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_TEST_NOTIFY_URL", "fieshu://s3cret-token")
    issue = _only(_edit(config, _urls({"env": "HUB_TEST_NOTIFY_URL"})))
    assert issue.message == (
        "the URL in HUB_TEST_NOTIFY_URL has a scheme apprise does not know: 'fieshu'"
    )
    assert issue.hint == "did you mean 'feishu'?"
    assert "s3cret" not in str(issue)


def test_a_web_url_no_service_claims_and_a_non_url_are_refused(config: Path) -> None:
    issues = _issues(_edit(config, _urls("https://hooks.example.com/x?token=s3cret", "s3cret")))
    assert [(i.field, i.message) for i in issues] == [
        (
            "handoffs.won_to_project.notify.urls[0]",
            "apprise knows no service at this URL (https://)",
        ),
        ("handoffs.won_to_project.notify.urls[1]", "this URL is not an apprise URL (scheme://...)"),
    ]
    assert "s3cret" not in " ".join(str(i) for i in issues)


def test_web_and_scheme_urls_apprise_knows_are_fine(config: Path) -> None:
    urls = (
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "mailto://user:pass@example.com",
        "json://127.0.0.1:9/hook",
        "Discord://123456/abcdef",
    )
    load_config(_edit(config, _urls(*urls)))


def test_risk_notification_urls_are_templates_checked_as_such(config: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["handoffs"]["risk_to_account_manager"]["notify"]["urls"] = [
            "json://127.0.0.1:9/{{ owner.email }}",
            "json://127.0.0.1:9/{{ ower.email }}",
        ]

    issue = _only(_edit(config, change))
    assert issue.field == "handoffs.risk_to_account_manager.notify.urls[1]"
    assert issue.message.startswith("unknown variable 'ower' (template line 1)")
    assert issue.hint == "did you mean 'owner'?"


# templates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "text", "message", "hint"),
    [
        (
            ("templates", "standard-delivery", "name"),
            "{{ acount.name }} - {{ opportunity.name }}",
            "unknown variable 'acount' (template line 1); this template sees: account, opportunity",
            "did you mean 'account'?",
        ),
        (
            ("templates", "standard-delivery", "name"),
            "{{ opportunity.name }}\n{{ opportunity.amont }}",
            "opportunity has no field 'amont' (template line 2)",
            "did you mean 'amount'?",
        ),
        (
            ("handoffs", "feedback_to_lead", "lead_name"),
            "{{ account.name }} - {{ fedback.feedback_kind }}",
            "unknown variable 'fedback' (template line 1); "
            "this template sees: account, feedback, lead_id, lead_url",
            "did you mean 'feedback'?",
        ),
        (
            ("handoffs", "feedback_to_lead", "comment"),
            "Lead {{ lead_url }} for {{ feedback['txt'] }}",
            "feedback has no field 'txt' (template line 1)",
            "did you mean 'text'?",
        ),
        (
            ("handoffs", "risk_to_account_manager", "health_subject"),
            "Health {{ risk.title }}",
            "unknown variable 'risk' (template line 1); this template sees: project",
            None,
        ),
        (
            ("handoffs", "won_to_project", "notify", "title"),
            "New: {{ project.nam }}",
            "project has no field 'nam' (template line 1)",
            "did you mean 'name'?",
        ),
        (
            ("handoffs", "won_to_project", "notify", "body"),
            "{% include 'body.txt' %}",
            "template refused (template line 1): {% include %} is not allowed",
            None,
        ),
    ],
)
def test_templates_are_checked_against_what_they_see(
    config: Path, where: tuple[str, ...], text: str, message: str, hint: str | None
) -> None:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in where[:-1]:
            node = node.setdefault(key, {})
        node[where[-1]] = text

    issue = _only(_edit(config, change))
    assert issue.field == ".".join(where)
    assert issue.message.startswith(message)
    assert issue.hint == hint


def test_names_a_template_sets_itself_are_not_reported(config: Path) -> None:
    name = (
        "{% set who = account.name or 'Customer' %}{% for d in opportunity.documents %}"
        "{{ d.title }}{% endfor %}{{ who }} {{ opportunity.get('name') }} {{ range(2)|list }}"
        "{% macro tag(x) %}[{{ x.label }}]{% endmacro %}{{ tag(account) }}"
    )
    load_config(_edit(config, lambda d: d["templates"]["standard-delivery"].update(name=name)))


def test_the_default_templates_of_every_handoff_pass_the_check(config: Path) -> None:
    """The context table agrees with the templates the handoffs use when none is configured."""

    def change(data: dict[str, Any]) -> None:
        for name, module in (
            ("won_to_project", won_to_project),
            ("risk_to_account_manager", risk_to_account_manager),
            ("feedback_to_lead", feedback_to_lead),
        ):
            data["handoffs"][name]["notify"].update(
                title=module.NOTIFY_TITLE, body=module.NOTIFY_BODY
            )
        for name, model in (
            ("feedback_to_lead", FeedbackToLeadConfig),
            ("risk_to_account_manager", RiskToAccountManagerConfig),
        ):
            for field in ("lead_name", "comment", "risk_subject", "health_subject"):
                if field in model.model_fields:
                    data["handoffs"][name][field] = model.model_fields[field].default

    handoffs = load_config(_edit(config, change), known_connectors=CONNECTORS).config.handoffs
    assert handoffs.feedback_to_lead is not None
    assert handoffs.feedback_to_lead.notify.title == feedback_to_lead.NOTIFY_TITLE


def test_a_huge_template_name_is_refused_quickly(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    start = text.index('    name: "{% if account.name %}')
    end = text.index("\n", start)
    config.write_text(f"{text[:start]}    name: {'x' * 20_000_000}{text[end:]}", encoding="utf-8")

    issue = _only(config)

    assert issue.field == "(file)"
    assert "the file is larger than 1,048,576 bytes" in issue.message


def test_a_long_task_description_is_refused_without_showing_it(config: Path) -> None:
    text = "word " * 2_001

    def change(data: dict[str, Any]) -> None:
        data["templates"]["standard-delivery"]["tasks"][0]["description"] = text

    issue = _only(_edit(config, change))
    assert issue.field == "templates.standard-delivery.tasks[0].description"
    assert issue.message == "is 10,005 characters long; the limit is 10,000"


# connector settings ---------------------------------------------------------------------


def _wrong_types(config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    text = text.replace('      api_version: "61.0"', "      api_version: 61.10")
    text = text.replace("      project_key: DEL", "      project_key: NO")
    config.write_text(text, encoding="utf-8")
    return config


def test_settings_yaml_typed_wrongly_name_file_line_and_why_at_run_time(config: Path) -> None:
    with pytest.raises(ConfigError) as refused:  # validate knows the connectors' settings
        load_config(_wrong_types(config), known_connectors=CONNECTORS)
    assert {i.field for i in refused.value.issues} == {
        "systems.pm.settings.project_key",
        "systems.crm.settings.api_version",
    }
    loaded = load_config(_wrong_types(config))  # loaded without the registry: run time tells

    with pytest.raises(ConfigError) as caught:
        loaded.config.systems["pm"].parse_settings(JiraConfig)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.field) == (
        str(config),
        34,
        "systems.pm.settings.project_key",
    )
    assert issue.message == "Input should be a valid string"
    assert issue.hint == (
        "YAML reads yes, no, on, off, true and false as booleans: quote it to keep it text"
    )

    with pytest.raises(ConfigError) as caught:
        loaded.config.systems["crm"].parse_settings(SalesforceConfig)
    (issue,) = caught.value.issues
    assert (issue.line, issue.field) == (22, "systems.crm.settings.api_version")
    assert issue.hint == "YAML read this as the number 61.1: quote it to keep it text"


def test_validate_checks_settings_against_a_connector_settings_model(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(JiraConnector, "settings_model", JiraConfig, raising=False)
    monkeypatch.setattr(SalesforceConnector, "settings_model", SalesforceConfig, raising=False)

    issues = _issues(_wrong_types(config))

    assert [(i.line, i.field, i.message, i.hint) for i in issues] == [
        (
            22,
            "systems.crm.settings.api_version",
            "expected string, got number 61.1",
            "YAML read this as the number 61.1: quote it to keep it text",
        ),
        (
            34,
            "systems.pm.settings.project_key",
            "expected string, got boolean False",
            "YAML reads yes, no, on, off, true and false as booleans: quote it to keep it text",
        ),
    ]
    load_config(EXAMPLE, known_connectors=CONNECTORS, check_env=False)


def test_a_connector_package_that_does_not_import_is_an_issue(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(name: str) -> type:
        raise ImportError(f"No module named '{name}_sdk'")

    monkeypatch.setattr("handoff_hub.hub.registry.connector_class", broken)

    issues = _issues(config)

    assert [(i.field, i.message) for i in issues] == [
        (
            "systems.crm.connector",
            "connector 'salesforce' cannot be loaded: No module named 'salesforce_sdk'",
        ),
        ("systems.pm.connector", "connector 'jira' cannot be loaded: No module named 'jira_sdk'"),
    ]
