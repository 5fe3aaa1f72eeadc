"""A handoff acts only on records that meet its only: conditions; the rest are skips with why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.runtime import Runtime


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _handoff(rt: Runtime, only: dict[str, Any]) -> WonToProject:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return WonToProject(rt, settings.model_copy(update={"only": only}))


def test_only_big_deals_get_projects_and_the_plan_says_why_the_others_do_not(
    rt: Runtime,
) -> None:
    plan = run_handoff(HANDOFF, _handoff(rt, {}), rt.store, dry_run=True)
    amounts = sorted(
        float(d.reason.rsplit(" ", 1)[-1].rstrip(")"))
        for d in run_handoff(
            HANDOFF, _handoff(rt, {"amount": {"<": 0}}), rt.store, dry_run=True
        ).decisions
    )
    everything = sum(1 for d in plan.decisions if d.verdict.value == "create")
    assert everything >= 3 and len(amounts) == everything
    bar = amounts[len(amounts) // 2]
    only = {"amount": {">=": bar}}
    planned = run_handoff(HANDOFF, _handoff(rt, only), rt.store, dry_run=True).decisions
    skipped = [d for d in planned if d.reason.startswith("only: amount >=")]
    created = [d for d in planned if d.verdict.value == "create"]
    assert len(created) == sum(1 for a in amounts if a >= bar)
    assert len(skipped) == everything - len(created) and skipped[0].verdict.value == "skip"
    summary = run_handoff(HANDOFF, _handoff(rt, only), rt.store)
    assert summary.counts["created"] == len(created)
    assert summary.counts["outside_only"] == len(skipped)
    assert len(rt.store.links(HANDOFF)) == len(created)


@pytest.mark.parametrize(
    ("only", "message"),
    [
        ({"priority": {">=": 2}}, "priority"),
        ({"amount": {"gte": 2}}, "unknown comparison gte"),
        ({"close_date": {"after": "soon"}}, "after takes a date"),
    ],
)
def test_validate_names_the_line_of_a_bad_condition(
    rt: Runtime, only: dict[str, Any], message: str
) -> None:
    path = rt.loaded.path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["handoffs"]["won_to_project"]["only"] = only
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [issue] = [i for i in caught.value.issues if ".only." in i.field]
    assert issue.line is not None and message in f"{issue.message} {issue.hint}"
