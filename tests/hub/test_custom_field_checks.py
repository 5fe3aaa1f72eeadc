"""hub validate on custom fields: types across the joined mappings, names used in a config."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "salesforce-jira.yaml"
ENV = {"SF_CLIENT_ID": "i", "SF_CLIENT_SECRET": "s", "JIRA_EMAIL": "e", "JIRA_API_TOKEN": "t"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    (tmp_path / "examples").mkdir()
    return Path(shutil.copy(EXAMPLE, tmp_path / "examples" / EXAMPLE.name))


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _issues(path: Path) -> list[Issue]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, known_connectors=("salesforce", "jira"))
    return caught.value.issues


def test_the_example_with_its_custom_fields_validates(config: Path) -> None:
    loaded = load_config(config, known_connectors=("salesforce", "jira"))
    assert "region" in loaded.mappings["crm"].entities["Opportunity"].custom_rules()
    assert "region" in loaded.mappings["pm"].entities["Project"].custom_rules()


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_a_type_differing_between_crm_and_pm_is_an_error_at_the_mapping_line(
    config: Path,
) -> None:
    jira = config.parent.parent / "mappings" / "jira.yaml"
    text = jira.read_text(encoding="utf-8")
    jira.write_text(
        text.replace(
            "custom.delivery_start: {path: fields.customfield_10061, type: date}",
            "custom.delivery_start: {path: fields.customfield_10061, type: number}",
        ),
        encoding="utf-8",
    )
    [issue] = [i for i in _issues(config) if "delivery_start" in i.message]
    assert issue.file.endswith("jira.yaml")
    assert issue.line == _line_of(jira, "custom.delivery_start:")
    assert "number in the jira mapping but date in the salesforce mapping" in issue.message
    assert "salesforce.yaml:" in issue.message


def test_an_enum_value_the_project_cannot_hold_is_an_error(config: Path) -> None:
    jira = config.parent.parent / "mappings" / "jira.yaml"
    text = jira.read_text(encoding="utf-8")
    jira.write_text(text.replace("APAC: APAC}", "Asia: ASIA}"), encoding="utf-8")
    [issue] = [i for i in _issues(config) if "custom.region" in i.message]
    assert issue.file.endswith("jira.yaml") and "reads APAC" in issue.message


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (
            lambda d: d["handoffs"]["won_to_project"].update(only={"custom.regoin": "EMEA"}),
            r"handoffs\.won_to_project\.only\['custom\.regoin'\]",
            "no custom field 'regoin' on Opportunity in the crm mapping",
        ),
        (
            lambda d: d["handoffs"]["sync"]["fields"].append(
                {"crm": "custom.priority", "pm": "custom.priority"}
            ),
            r"handoffs\.sync\.fields\[\d+\]\.pm",
            "no custom field 'priority' on Project in the pm mapping",
        ),
        (
            lambda d: d["templates"]["standard-delivery"].update(
                name="{{ opportunity.name }} {{ opportunity.custom.regon }}"
            ),
            r"templates\.standard-delivery\.name",
            "opportunity.custom.regon: no mapping declares a custom field 'regon'",
        ),
    ],
)
def test_an_unknown_custom_field_in_the_config_is_an_error_with_its_line(
    config: Path, change: Callable[[dict[str, Any]], None], where: str, message: str
) -> None:
    _edit(config, change)
    found = [i for i in _issues(config) if re.fullmatch(where, i.field)]
    assert found, [str(i) for i in _issues(config)]
    assert found[0].line is not None and message in found[0].message


def test_known_custom_fields_in_filters_sync_and_templates_validate(config: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["handoffs"]["won_to_project"]["only"] = {"custom.region": {"in": ["EMEA", "AMER"]}}
        data["handoffs"]["sync"]["fields"].append(
            {"crm": "custom.delivery_start", "pm": "custom.delivery_start", "direction": "both"}
        )
        data["templates"]["standard-delivery"]["name"] = (
            "{{ opportunity.name }}{% if opportunity.custom.region %}"
            " ({{ opportunity.custom.region }}){% endif %}"
        )

    _edit(config, change)
    load_config(config, known_connectors=("salesforce", "jira"))


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def test_only_a_custom_field_value_gets_projects_named_from_a_custom_field(rt: Runtime) -> None:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    templates = rt.loaded.config.templates
    template = templates[settings.template].model_copy(
        update={"name": "{{ opportunity.name }} [{{ opportunity.custom.region }}]"}
    )
    templates[settings.template] = template
    handoff = WonToProject(rt, settings.model_copy(update={"only": {"custom.region": "emea"}}))
    plan = run_handoff(HANDOFF, handoff, rt.store, dry_run=True).decisions
    skipped = [d for d in plan if d.reason.startswith("only: custom.region")]
    assert skipped and all(d.verdict.value == "skip" for d in skipped)
    report = run_handoff(HANDOFF, handoff, rt.store)
    assert report.counts.get("created", 0) >= 1
    pm = rt.connector("pm")
    spec = rt.mapping("pm").entities["Project"]
    ids = [link.target_id for link in rt.store.links(HANDOFF)]
    names = [
        r.raw["fields"]["summary"] for r in pm.read_by_ids(spec.object, ids, fields=["summary"])
    ]
    assert names and all(name.endswith("[EMEA]") for name in names)
