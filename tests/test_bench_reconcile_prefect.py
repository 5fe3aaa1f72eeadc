"""The reconcile-scale and Prefect-share benchmarks run end to end at a tiny size (no timing)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench import prefect_share, reconcile_paced, reconcile_scale


def test_reconcile_scale_finds_a_clean_seeded_set_clean() -> None:
    figures = reconcile_scale.measure(40, runs=2)
    assert [f.figure for f in figures] == ["reconcile seconds", "reconcile peak RSS MB"]
    details = figures[0].details
    assert len(details["runs_seconds"]) == len(details["runs_cpu_seconds"]) == 2
    assert figures[0].value == min(details["runs_seconds"])  # the fastest of the runs
    assert details["pairs"] == details["deals"] == details["projects"] == 40
    assert details["discrepancies"] == 0, details["discrepancies_by_kind"]
    assert details["calls"] > 0
    assert all(f.product == "hub" and f.bound == "max" and f.value > 0 for f in figures)


def test_reconcile_scale_without_progress_reads_no_task() -> None:
    """No pair compares percent complete: Jira's searches are the Epics, risks and feedback."""
    report = reconcile_scale.run(40, progress=False)
    assert report["discrepancies"] == {}
    assert report["calls_by_path"]["jira POST /rest/api/3/search/jql"] == 3


def test_paced_reconcile_reports_what_the_hub_adds_to_the_limits_floor() -> None:
    (figure,) = reconcile_paced.measure(30)
    details = figure.details
    assert figure.figure == "reconcile seconds over the limits' floor"
    assert (figure.bound, figure.target) == ("max", reconcile_scale.MAX_SECONDS)
    assert details["pairs"] == 30 and details["discrepancies"] == 0
    assert details["requests_per_second"] == "connectors' own pacing"
    calls = details["calls_by_product"]
    assert set(calls) == {"salesforce", "jira"} and all(n > 0 for n in calls.values())
    jira = details["pacing"]["jira"]
    assert details["floor_seconds_by_product"]["jira"] == round(
        (calls["jira"] - jira["burst"]) * jira["per_seconds"] / jira["requests"], 3
    )
    # the wall time holds the floor: the connectors paced every call
    assert details["floor_seconds"] == max(details["floor_seconds_by_product"].values()) > 0
    assert details["seconds"] >= details["floor_seconds"]
    # both are rounded to ms: their difference may be 1 ms off the rounded figure
    assert figure.value == pytest.approx(details["seconds"] - details["floor_seconds"], abs=0.002)


def test_a_crm_paced_tighter_than_published_gets_that_pacing_and_its_floor() -> None:
    slow = {"requests": 1.0, "per_seconds": 0.5, "burst": 1}
    (figure,) = reconcile_paced.measure(30, crm_pacing=slow)
    details = figure.details
    assert details["pacing"]["salesforce"] == slow
    assert details["pacing"]["jira"] == reconcile_paced.published_pacing("jira")
    sf_calls = details["calls_by_product"]["salesforce"]
    assert details["floor_seconds_by_product"]["salesforce"] == round((sf_calls - 1) * 0.5, 3)
    assert details["discrepancies"] == 0


def test_pacing_is_written_into_the_named_connectors_systems(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    systems = {"crm": {"connector": "salesforce"}, "pm": {"connector": "jira"}}
    config.write_text(yaml.safe_dump({"systems": systems}), encoding="utf-8")
    reconcile_scale._set_pacing(config, {"salesforce": {"requests": 2, "per_seconds": 3.0}})
    written = yaml.safe_load(config.read_text(encoding="utf-8"))["systems"]
    assert written["crm"]["rate_limit"] == {"requests": 2, "per_seconds": 3.0}
    assert "rate_limit" not in written["pm"]


@pytest.mark.parametrize(
    ("calls", "pacing", "seconds"),
    [
        (0, {"requests": 19, "per_seconds": 2.0, "burst": 1}, 0.0),
        (1, {"requests": 19, "per_seconds": 2.0, "burst": 1}, 0.0),
        (20, {"requests": 19, "per_seconds": 2.0, "burst": 1}, 2.0),
        (25, {"requests": 20, "per_seconds": 1.0, "burst": 25}, 0.0),
        (65, {"requests": 20, "per_seconds": 1.0, "burst": 25}, 2.0),
        (11, {"requests": 10, "per_seconds": 1.0}, 0.1),  # no burst: the bucket holds `requests`
    ],
)
def test_limits_floor_is_the_calls_beyond_the_burst_at_the_refill_rate(
    calls: int, pacing: dict[str, float], seconds: float
) -> None:
    assert reconcile_paced.floor_seconds(calls, pacing) == pytest.approx(seconds)


def test_paced_calls_are_summed_by_product() -> None:
    by_path = {"jira GET /rest/api/3/myself": 1, "jira POST /rest/api/3/search/jql": 4}
    by_path |= {"salesforce GET /services/data/v61.0/query": 2}
    by_path |= {"salesforce POST /services/oauth2/token": 1}  # an auth grant: not paced
    assert reconcile_paced.calls_by_product(by_path) == {"jira": 5, "salesforce": 2}


def test_published_pacing_is_the_connectors_own() -> None:
    from handoff_hub.connectors.jira.settings import DEFAULT_RATE_LIMIT

    assert reconcile_paced.published_pacing("jira") == DEFAULT_RATE_LIMIT
    with pytest.raises(ValueError, match="asana"):
        reconcile_paced.published_pacing("asana")


@pytest.mark.prefect
@pytest.mark.reliability  # a cold embedded Prefect server takes ~20 s: make reliability runs it
def test_prefect_share_runs_plain_and_flow_lifted_and_served() -> None:
    lifted, served = prefect_share.measure(30, repeats=1)
    assert lifted.figure == "prefect share of won-to-project run"
    assert served.figure == "prefect share of won-to-project run (served)"
    for figure in (lifted, served):
        details = figure.details
        assert details["deals"] == 30
        assert details["plain_counts"].get("created", 0) == details["flow_counts"].get("created")
        assert details["plain_calls"] == details["flow_calls"] > 0
        assert details["tasks"] >= 1
        assert details["startup_seconds"] > 0
    assert served.details["latency_seconds"] == prefect_share.LATENCY
    assert served.details["requests_per_second"] == "connectors' own pacing"
    assert lifted.details["requests_per_second"] == prefect_share.RATE
