"""Credentials from Prefect Secret blocks: config, schema, resolver registry, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import handoff_hub.hub.config.secrets as secrets_module
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.config.schema import hub_config_schema, validate_document
from handoff_hub.hub.config.secrets import (
    register_secret_resolver,
    registered_kinds,
    resolve_secret,
)
from handoff_hub.hub.config.systems import PrefectSecret, SystemConfig
from handoff_hub.hub.config.yamlio import parse_yaml
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.reports.formats import FORMATS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "salesforce-jira.yaml"
VALUE = "s3cret-value-never-shown"


@pytest.fixture(autouse=True)
def _empty_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(secrets_module, "_RESOLVERS", {})
    yield


def _system(**credentials: Any) -> SystemConfig:
    system = SystemConfig(connector="jira", base_url="u", mapping="m", credentials=credentials)
    system.bind_name("pm")
    return system


def _with_block(tmp_path: Path, block: Any) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        system["mapping"] = str((EXAMPLE.parent / system["mapping"]).resolve())
    data["systems"]["pm"]["credentials"]["api_token"] = {"prefect_secret": block}
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_prefect_secret_passes_validation_without_any_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SF_CLIENT_ID", "SF_CLIENT_SECRET", "JIRA_EMAIL"):
        monkeypatch.setenv(name, "x")
    monkeypatch.delenv("JIRA_API_TOKEN", raising=False)
    loaded = load_config(_with_block(tmp_path, "jira-api-token"), check_env=True)
    ref = loaded.config.systems["pm"].credentials["api_token"]
    assert ref == PrefectSecret(prefect_secret="jira-api-token")


def test_the_schema_rejects_a_block_name_prefect_would_refuse(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_with_block(tmp_path, "Jira_Token"), check_env=False)
    fields = [i.field for i in caught.value.issues]
    assert fields == ["systems.pm.credentials.api_token.prefect_secret"], caught.value.issues


def test_env_and_prefect_secret_are_the_two_kinds_in_the_schema() -> None:
    text = "systems:\n  pm:\n    connector: jira\n    base_url: u\n    mapping: m\n"
    for ref, ok in (
        ("{env: JIRA_TOKEN}", True),
        ("{prefect_secret: jira-token}", True),
        ("{vault: jira-token}", False),
        ("{env: A, prefect_secret: b}", False),
    ):
        doc = parse_yaml(f"{text}    credentials:\n      api_token: {ref}\n", file="hub.yaml")
        issues = validate_document(doc.data, hub_config_schema(), file="hub.yaml", lines=doc.lines)
        assert (issues == []) is ok, (ref, issues)


def test_the_registered_resolver_reads_the_block() -> None:
    seen: list[str] = []

    def resolver(name: str) -> str:
        seen.append(name)
        return VALUE

    register_secret_resolver("prefect_secret", resolver)
    secret = _system(api_token={"prefect_secret": "jira-token"}).secret("api_token")
    assert secret.get_secret_value() == VALUE and VALUE not in repr(secret)
    assert seen == ["jira-token"]
    assert "prefect_secret" in registered_kinds()
    assert resolve_secret("prefect_secret", "x") == VALUE


def test_a_missing_block_names_system_setting_and_block_never_a_value() -> None:
    def resolver(name: str) -> str:
        raise LookupError(f"Prefect Secret block {name!r} not found on the Prefect server")

    register_secret_resolver("prefect_secret", resolver)
    with pytest.raises(ConfigError) as caught:
        _system(api_token={"prefect_secret": "jira-token"}).secret("api_token")
    (issue,) = caught.value.issues
    assert issue.field == "systems.pm.credentials.api_token"
    assert "'jira-token' not found" in issue.message


def test_an_empty_block_is_an_error() -> None:
    register_secret_resolver("prefect_secret", lambda name: "")
    with pytest.raises(ConfigError, match="is empty"):
        _system(api_token={"prefect_secret": "jira-token"}).secret("api_token")


def test_without_a_resolver_the_error_says_where_blocks_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in an install without flows/ (the entry point names flows._secrets).
    monkeypatch.setattr("handoff_hub.hub.config.secrets.entry_points", lambda **_: [])
    monkeypatch.delitem(secrets_module._RESOLVERS, "prefect_secret", raising=False)
    with pytest.raises(ConfigError) as caught:
        _system(api_token={"prefect_secret": "jira-token"}).secret("api_token")
    (issue,) = caught.value.issues
    assert issue.field == "systems.pm.credentials.api_token"
    assert "inside a Prefect flow run" in issue.message and "{env: VAR}" in issue.message


def test_env_credentials_are_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SECRETS_TEST_TOKEN", VALUE)
    system = _system(api_token={"env": "HUB_SECRETS_TEST_TOKEN"})
    assert system.secret("api_token").get_secret_value() == VALUE
    monkeypatch.delenv("HUB_SECRETS_TEST_TOKEN")
    with pytest.raises(ConfigError, match="HUB_SECRETS_TEST_TOKEN is not set"):
        system.secret("api_token")


def test_reconcile_report_formats_match_the_writers() -> None:
    schema = hub_config_schema()["$defs"]["ReconcileConfig"]["properties"]["report_format"]
    assert tuple(schema["enum"]) == FORMATS
