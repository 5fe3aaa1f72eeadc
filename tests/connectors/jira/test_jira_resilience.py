"""429s, 5xx and rate-limit headers: retried where safe, observed, and reported."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import httpx
import pytest
from jira_support import BASE_URL, basic

from handoff_hub.connectors.jira.client import describe_error, observe_limits
from handoff_hub.hub.errors import RateLimitedError, TransientError
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.kit import Faults, WindowLimiter

SEARCH = "/rest/api/3/search/jql"


def test_429_with_retry_after_then_success(connect):
    faults = Faults(rate=1.0, kinds=("429",), retry_after=0.0, only_paths=(SEARCH,), limit=2)
    sandbox = JiraSandbox(seed=5, records=20, faults=faults)
    records = [r for p in connect(sandbox).read_changes("issue", since=None) for r in p.records]
    assert len(records) == sandbox.state.count(project="DEL")
    statuses = [c.status for c in sandbox.journal.calls if c.path == SEARCH]
    assert statuses[:3] == [429, 429, 200] and faults.injected == 2


def test_5xx_then_success_on_reads(connect):
    faults = Faults(rate=1.0, kinds=("500", "502", "503"), only_paths=(SEARCH,), limit=3)
    sandbox = JiraSandbox(seed=5, records=20, faults=faults)
    records = [r for p in connect(sandbox).read_changes("issue", since=None) for r in p.records]
    assert len(records) == sandbox.state.count(project="DEL") and faults.injected == 3


def test_503_on_a_create_is_retried_but_500_is_not(connect):
    retried = Faults(rate=1.0, kinds=("503",), only_paths=("/rest/api/3/issue/bulk",), limit=1)
    sandbox = JiraSandbox(seed=5, records=10, faults=retried)
    [result] = connect(sandbox).create(
        "issue", [{"project": {"key": "DEL"}, "issuetype": {"name": "Task"}, "summary": "Once"}]
    )
    assert result.ok and sandbox.state.count(project="DEL") == 11
    refused = Faults(rate=1.0, kinds=("500",), only_paths=("/rest/api/3/issue/bulk",), limit=1)
    sandbox = JiraSandbox(seed=5, records=10, faults=refused)
    with pytest.raises(TransientError, match="HTTP 500"):
        connect(sandbox).create(
            "issue",
            [{"project": {"key": "DEL"}, "issuetype": {"name": "Task"}, "summary": "Maybe"}],
        )


def test_persistent_429_becomes_rate_limited_error(connect):
    faults = Faults(rate=1.0, kinds=("429",), only_paths=(SEARCH,))
    sandbox = JiraSandbox(seed=5, records=10, faults=faults)
    with pytest.raises(RateLimitedError):
        list(connect(sandbox, max_retries=2).read_changes("issue", since=None))
    assert faults.injected == 6  # NO_WAIT allows six attempts


def test_sandbox_rate_limit_headers(sandbox_transport):
    sandbox = JiraSandbox(seed=5, records=10, rate_limit=(3, 30.0))
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": basic(sandbox)},
    ) as client:
        answers = [client.get("/rest/api/3/myself") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"
    assert answers[2].headers["X-RateLimit-NearLimit"] == "true"
    limited = answers[3]
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    reset = dt.datetime.fromisoformat(limited.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert reset > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert describe_error(limited) == "Rate limit exceeded."


def test_retry_after_is_whole_seconds_when_the_window_resets_within_one(sandbox_transport):
    """Jira sends delta-seconds; the jira SDK reads ``int(Retry-After)`` and fails on "0.5"."""
    sandbox = JiraSandbox(seed=5, records=5, rate_limit=(1, 30.0))
    now = [0.0]
    sandbox.limiter = WindowLimiter(1, 0.5, clock=lambda: now[0])
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": basic(sandbox)},
    ) as client:
        client.get("/rest/api/3/myself")
        now[0] = 0.4
        limited = client.get("/rest/api/3/myself")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", limited.headers["X-RateLimit-Reset"])
    assert observe_limits(limited) == (0, 1.0)


def test_connector_paces_itself_under_the_sandbox_limit(connect):
    """A 429's Retry-After (whole seconds) is waited out: never two 429s in a row."""
    sandbox = JiraSandbox(seed=5, records=20, rate_limit=(4, 0.1))
    pages = list(connect(sandbox).read_changes("issue", since=None, page_size=4))
    assert sum(len(p.records) for p in pages) == sandbox.state.count(project="DEL")
    assert len(pages) >= 5
    statuses = [c.status for c in sandbox.journal.calls]
    assert 429 in statuses
    assert not any(a == b == 429 for a, b in itertools.pairwise(statuses))


def test_observe_limits_reads_jira_headers():
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    quiet = httpx.Response(200, headers={"X-RateLimit-Remaining": "42"})
    assert observe_limits(quiet) == (42, None)
    limited = httpx.Response(429, headers={"Retry-After": "7", "X-RateLimit-Reset": soon})
    assert observe_limits(limited) == (0, 7.0)
    remaining, reset = observe_limits(
        httpx.Response(200, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": soon})
    )
    assert remaining == 0 and reset is not None and 0 < reset <= 120
    assert observe_limits(httpx.Response(200)) == (None, None)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"errorMessages": ["Bad"], "errors": {"summary": "Too long"}}, "Bad; summary: Too long"),
        (
            {"message": "Client must be authenticated", "status-code": 401},
            "Client must be authenticated",
        ),
        (
            {
                "issues": [],
                "errors": [
                    {
                        "status": 400,
                        "failedElementNumber": 1,
                        "elementErrors": {
                            "errorMessages": [],
                            "errors": {"project": "Specify a project"},
                        },
                    }
                ],
            },
            "element 1: project: Specify a project",
        ),
    ],
)
def test_describe_error_reads_jira_bodies(body, text):
    assert describe_error(httpx.Response(400, json=body)) == text
