"""The won-to-project Prefect flow against sandboxes served on localhost ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff_hub.hub.cli.demo import CRMS, PMS, example_for, write_sandbox_config
from handoff_hub.hub.handoffs.won_to_project import HANDOFF
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

pytestmark = pytest.mark.prefect
PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=5, records=25)),
        "jira": serve_in_thread(make_sandbox("jira", seed=5, records=5)),
    }
    yield running
    for item in running.values():
        item.stop()


def _config(tmp_path: Path, served: dict[str, RunningSandbox]) -> Path:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    crm, pm = served
    return write_sandbox_config(example_for(crm, pm), tmp_path, targets, env_prefix="HUB_FLOWTEST")


def _store(config: Path) -> StateStore:
    return StateStore(f"sqlite:///{config.parent / 'state.db'}")


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def served_pair(request: pytest.FixtureRequest) -> Iterator[dict[str, RunningSandbox]]:
    crm, pm = request.param
    running = {
        crm: serve_in_thread(make_sandbox(crm, seed=5, records=25)),
        pm: serve_in_thread(make_sandbox(pm, seed=5, records=5)),
    }
    yield running
    for item in running.values():
        item.stop()


def test_flow_creates_then_reruns_idempotently(
    prefect_harness: None, tmp_path: Path, served_pair: dict[str, RunningSandbox]
) -> None:
    """Every CRM + PM pairing, chosen only by the hub config."""
    from handoff_hub.flows.won_to_project import won_to_project

    served = served_pair
    config = _config(tmp_path, served)
    first = won_to_project(str(config), batch_retry_delay_seconds=0)
    assert first["status"] == "succeeded"
    assert first["counts"]["created"] >= 3
    second = won_to_project(str(config), batch_retry_delay_seconds=0)
    assert second["counts"].get("created", 0) == 0
    assert second["counts"].get("skipped", 0) == first["counts"]["created"]
    store = _store(config)
    assert len(store.links(HANDOFF)) == first["counts"]["created"]
    assert [r.status for r in store.runs(HANDOFF)] == ["succeeded", "succeeded"]


def test_flow_retries_a_failed_batch_without_a_second_project(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    """Epics whose bulk create got no answer fail the batch (sending it again blindly
    could make them twice).

    Prefect's retry of the batch looks for their stamps, then creates what is missing.
    """
    from handoff_hub.flows.won_to_project import won_to_project

    jira = served["jira"].sandbox
    epics_before = set(jira.state.epics())
    jira.faults.kinds = ("drop",)
    jira.faults.only_paths = ("/rest/api/3/issue/bulk",)
    jira.faults.limit = 1
    jira.faults.rate = 1.0
    config = _config(tmp_path, served)
    result = won_to_project(str(config), batch_retry_delay_seconds=0)
    assert jira.faults.injected == 1
    assert result["status"] == "succeeded"
    counts = result["counts"]
    assert counts["created"] >= 3
    new_epics = set(jira.state.epics()) - epics_before
    assert len(new_epics) == counts["created"] + counts.get("recovered", 0)
    store = _store(config)
    links = store.links(HANDOFF)
    assert {lk.target_key for lk in links} == new_epics
    for epic in new_epics:
        summaries = [jira.state.get(k)["fields"]["summary"] for k in jira.state.children(epic)]
        assert len(summaries) == len(set(summaries)), epic
