"""429s, 5xx and dropped connections: retried where safe, never doubled, and reported."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from asana_support import API, BASE_URL, PROJECT

from handoff_hub.connectors.asana.client import describe_error, observe_limits
from handoff_hub.hub.errors import RateLimitedError, TransientError
from handoff_hub.hub.http import RetryPolicy
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.kit import Faults

TASKS = f"{API}/tasks"
BATCH = f"{API}/batch"


def read_all(connector) -> list[str]:
    pages = connector.read_changes("tasks", since=None, where={"project": PROJECT})
    return [r.id for p in pages for r in p.records]


def test_429_with_retry_after_then_success(connect):
    faults = Faults(rate=1.0, kinds=("429",), retry_after=0.0, only_paths=(TASKS,), limit=2)
    sandbox = AsanaSandbox(seed=5, records=20, faults=faults)
    assert sorted(read_all(connect(sandbox))) == sorted(sandbox.state.tasks(PROJECT))
    statuses = [c.status for c in sandbox.journal.calls if c.path == TASKS]
    assert statuses[:3] == [429, 429, 200] and faults.injected == 2


def test_5xx_then_success_on_reads(connect):
    faults = Faults(rate=1.0, kinds=("500", "502", "503"), only_paths=(TASKS,), limit=3)
    sandbox = AsanaSandbox(seed=5, records=20, faults=faults)
    assert sorted(read_all(connect(sandbox))) == sorted(sandbox.state.tasks(PROJECT))
    assert faults.injected == 3


def test_503_on_a_batch_create_is_retried_but_500_is_not(connect):
    record = {"name": "Once", "projects": [PROJECT]}
    retried = Faults(rate=1.0, kinds=("503",), only_paths=(BATCH,), limit=1)
    sandbox = AsanaSandbox(seed=5, records=10, faults=retried)
    before = sandbox.state.count()
    [result] = connect(sandbox).create("tasks", [record])
    assert result.ok and sandbox.state.count() == before + 1
    refused = Faults(rate=1.0, kinds=("500",), only_paths=(BATCH,), limit=1)
    sandbox = AsanaSandbox(seed=5, records=10, faults=refused)
    before = sandbox.state.count()
    with pytest.raises(TransientError, match="HTTP 500"):
        connect(sandbox).create("tasks", [record])
    assert sandbox.state.count() == before


def test_dropped_connection_on_a_create_is_not_sent_again(connect):
    faults = Faults(rate=1.0, kinds=("drop_after",), only_paths=(BATCH,), limit=1)
    sandbox = AsanaSandbox(seed=5, records=10, faults=faults)
    before = sandbox.state.count()
    with pytest.raises(TransientError, match="connection dropped"):
        connect(sandbox).create("tasks", [{"name": "Maybe", "projects": [PROJECT]}])
    assert sandbox.state.count() == before + 1  # Asana acted once; nobody sent it twice
    assert sandbox.journal.count(method="POST", path_prefix=BATCH) == 1


def test_dropped_connection_on_a_batch_read_is_sent_again(connect):
    faults = Faults(rate=1.0, kinds=("drop",), only_paths=(BATCH,), limit=1)
    sandbox = AsanaSandbox(seed=5, records=10, faults=faults)
    gids = sandbox.state.tasks(PROJECT)
    assert [r.id for r in connect(sandbox).read_by_ids("tasks", gids)] == gids
    assert sandbox.journal.count(method="POST", path_prefix=BATCH) == 2


def test_persistent_429_becomes_rate_limited_error(connect):
    faults = Faults(rate=1.0, kinds=("429",), only_paths=(TASKS,))
    sandbox = AsanaSandbox(seed=5, records=10, faults=faults)
    with pytest.raises(RateLimitedError):
        read_all(connect(sandbox, max_retries=2))
    assert faults.injected == 6  # NO_WAIT allows six attempts


def test_sandbox_rate_limit_counts_each_batch_action(sandbox_transport):
    sandbox = AsanaSandbox(seed=5, records=10, rate_limit=(3, 30.0))
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    ) as client:
        first = client.get(f"{API}/users/me")
        actions = [{"method": "get", "relative_path": "/users/me"}] * 3
        batch = client.post(f"{API}/batch", json={"data": {"actions": actions}})
    assert first.status_code == 200
    assert batch.status_code == 429  # one request, three actions: over the limit of 3
    assert 1 <= int(batch.headers["Retry-After"]) <= 30
    assert batch.json()["errors"][0]["message"].startswith("You've made too many requests")


def test_connector_completes_under_a_limit_far_below_its_calls(connect):
    sandbox = AsanaSandbox(seed=5, records=40, rate_limit=(3, 0.1))
    gids = read_all(connect(sandbox, settings={"page_size": 1}))
    assert sorted(gids) == sorted(sandbox.state.tasks(PROJECT))
    assert len(gids) > 3  # more pages than the window allows: 429s were waited out


class SteppedClock:
    """The sandbox's time, moved on only by the connector's waits."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)
        self.waits: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


def test_a_sub_second_window_asks_for_whole_seconds(sandbox_transport):
    clock = SteppedClock()
    sandbox = AsanaSandbox(seed=5, records=10, rate_limit=(1, 0.334), clock=clock)
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    ) as client:
        assert client.get(f"{API}/users/me").status_code == 200
        limited = client.get(f"{API}/users/me")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"  # Asana's whole seconds, rounded up


def test_the_connector_waits_the_whole_seconds_a_paced_sandbox_asks(connect):
    clock = SteppedClock()
    sandbox = AsanaSandbox(seed=5, records=40, rate_limit=(3, 0.25), clock=clock)
    retry = RetryPolicy(max_attempts=3, sleep=clock.sleep)
    gids = read_all(connect(sandbox, settings={"page_size": 1}, retry=retry))
    assert sorted(gids) == sorted(sandbox.state.tasks(PROJECT))
    assert clock.waits and set(clock.waits) == {1.0}


def test_a_batch_action_answered_429_is_sent_again_alone(sandbox, connect, sandbox_transport):
    inner = sandbox_transport(sandbox)
    sent: list[int] = []

    class FirstActionLimited(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = inner.handle_request(request)
            response.read()
            if request.url.path != BATCH:
                return response
            sent.append(len(json.loads(request.content)["data"]["actions"]))
            if len(sent) > 1:
                return response
            body = response.json()
            body["data"][0] = {
                "status_code": 429,
                "headers": {"Retry-After": "0"},
                "body": {"errors": [{"message": "You've made too many requests"}]},
            }
            return httpx.Response(200, json=body, request=request)

    gids = sandbox.state.tasks(PROJECT)[:4]
    found = connect(sandbox, transport=FirstActionLimited()).read_by_ids("tasks", gids)
    assert [r.id for r in found] == gids
    assert sent == [4, 1]


def test_observe_limits_reads_a_429():
    assert observe_limits(httpx.Response(200)) == (None, None)
    assert observe_limits(httpx.Response(429, headers={"Retry-After": "30"})) == (0, 30.0)
    assert observe_limits(httpx.Response(429)) == (0, None)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (
            {"errors": [{"message": "workspace: Missing input", "help": "x"}]},
            "workspace: Missing input",
        ),
        (
            {"errors": [{"message": "Server Error", "phrase": "6 sad squid snuggle softly"}]},
            "Server Error (phrase: 6 sad squid snuggle softly)",
        ),
        (
            {"error": "invalid_grant", "error_description": "Refresh token revoked"},
            "Refresh token revoked",
        ),
        ({"errors": [{"message": "a"}, {"message": "b"}]}, "a; b"),
    ],
)
def test_describe_error_reads_asana_bodies(body, text):
    assert describe_error(httpx.Response(400, json=body)) == text
