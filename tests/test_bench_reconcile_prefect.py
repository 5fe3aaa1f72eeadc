"""The reconcile-scale and Prefect-share benchmarks run end to end at a tiny size (no timing)."""

from __future__ import annotations

import pytest

from bench import prefect_share, reconcile_scale


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
