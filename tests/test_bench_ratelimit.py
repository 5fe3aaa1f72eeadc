"""Figure 2 runs end to end on a small workload: every update lands, none is refused twice."""

from __future__ import annotations

from bench.ratelimit import Workload, measure_product


def test_a_small_jira_workload_under_its_limit() -> None:
    workload = Workload(
        ("salesforce", "jira"), 60, 30, 10.0, "10/s", options={"jira": {"rate_limit": (10, 1.0)}}
    )
    share, refused = measure_product("jira", workload)
    assert share.figure.startswith("rate-limit use") and refused.figure.startswith("429")
    details = share.details
    assert details["records_updated"] == 30 and details["failed"] == 0
    assert details["requests"] == 30 + details["refused_429"]
    assert details["concurrency"] > 1
    assert share.value > 0
