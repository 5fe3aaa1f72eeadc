"""Going live on an org with history: start_from bounds a handoff's first read."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import map_records
from handoff_hub.hub.model import Opportunity, Stage
from handoff_hub.hub.runtime import Runtime


@pytest.fixture(params=[("salesforce", "jira"), ("hubspot", "asana")], ids="+".join)
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _settings(rt: Runtime, start_from: Any) -> Any:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return settings.model_copy(update={"start_from": start_from})


def _run(rt: Runtime, start_from: Any, *, dry_run: bool = False) -> Counter[str]:
    summary = run_handoff(
        HANDOFF, WonToProject(rt, _settings(rt, start_from)), rt.store, dry_run=dry_run
    )
    if dry_run:
        return Counter(d.verdict.value for d in summary.decisions)
    return Counter(summary.counts)


def _win_an_open_deal(rt: Runtime) -> None:
    entity = rt.mapping("crm").entities["Opportunity"]
    pages = rt.connector("crm").read_changes(
        entity.object, since=None, fields=entity.source_fields()
    )
    deals, _ = map_records(rt.mapping("crm"), "Opportunity", [r for p in pages for r in p.records])
    deal = next(d for d in deals if isinstance(d, Opportunity) and d.stage is Stage.OPEN)
    rt.sandboxes["crm"].state.mark_won(deal.refs["crm"])  # type: ignore[attr-defined]


def test_now_creates_nothing_for_the_past_then_what_is_won_after(rt: Runtime) -> None:
    assert _run(rt, "now", dry_run=True)["create"] == 0  # what hub plan shows
    assert _run(rt, "now").get("created", 0) == 0
    assert rt.store.links(HANDOFF) == []
    assert _run(rt, "now").get("created", 0) == 0  # the bound stays where it was
    _win_an_open_deal(rt)
    assert _run(rt, "now")["created"] == 1


def test_a_date_in_the_future_reads_nothing_one_long_ago_reads_all(rt: Runtime) -> None:
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    assert _run(rt, tomorrow, dry_run=True)["create"] == 0
    everything = _run(rt, None, dry_run=True)["create"]
    assert everything >= 2
    assert _run(rt, dt.date(2000, 1, 1), dry_run=True)["create"] == everything
    assert _run(rt, dt.date(2000, 1, 1))["created"] == everything


def test_start_from_bounds_only_the_first_read(rt: Runtime) -> None:
    created = _run(rt, None)["created"]
    assert created >= 2
    future = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    _win_an_open_deal(rt)
    assert _run(rt, future)["created"] == 1  # a checkpoint exists: start_from is not used
