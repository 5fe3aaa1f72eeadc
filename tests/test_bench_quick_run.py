"""The no-change ``hub run`` figure runs its whole sequence (no timing asserted)."""

from __future__ import annotations

import pytest

from bench import quick_run


@pytest.mark.prefect
@pytest.mark.reliability  # cold Prefect starts in child processes (~1 min): make reliability
def test_quick_run_takes_the_flow_only_for_work() -> None:
    report = quick_run.run(20, warm_runs=1)

    idle = [report["cold"], *report["warm"]]
    assert all(r["counts"] == {} and not r["flow_run"] for r in idle)
    assert all(r["calls"] > 0 and r["cpu_seconds"] > 0 for r in idle)
    for change in (report["change_cold"], report["change_warm"]):
        assert change["flow_run"] and change["counts"]["created"] == 1
    assert report["through_flow"]["flow_run"] and report["through_flow"]["counts"] == {}
    assert report["through_flow"]["calls"] == report["warm"][0]["calls"]
