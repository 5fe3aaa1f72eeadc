"""Rate limits, 429s, 5xx, dropped connections; registry and entry-point wiring."""

from __future__ import annotations

import pytest
from hubspot_support import ManualClock, calls

from handoff_hub.connectors.hubspot import HubSpotConnector
from handoff_hub.connectors.hubspot.config import HubSpotConfig
from handoff_hub.hub.connector import Capability, Connector
from handoff_hub.hub.errors import RateLimitedError, TransientError
from handoff_hub.hub.http import RetryPolicy, TokenBucket
from handoff_hub.hub.registry import connector_class
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.server import make_sandbox


def test_registered_and_implements_the_protocol(connector):
    assert connector_class("hubspot") is HubSpotConnector
    assert isinstance(connector, Connector)
    assert {Capability.UPSERT, Capability.DESCRIBE, Capability.FIND_USERS} <= connector.capabilities
    assert Capability.COMMENT not in connector.capabilities
    assert Capability.PROJECT_FROM_TEMPLATE not in connector.capabilities


def test_sandbox_entry_point_builds_a_seeded_portal():
    sandbox = make_sandbox("hubspot", seed=2, records=12)
    assert isinstance(sandbox, HubSpotSandbox) and sandbox.name == "hubspot"
    assert sandbox.state.count("deals") == 12


def limited(clock: ManualClock, **limits: int) -> HubSpotSandbox:
    generous = RateLimits.generous()
    return HubSpotSandbox(
        seed=4,
        records=10,
        clock=clock,
        rate_limit=RateLimits(
            per_interval=limits.get("per_interval", generous.per_interval),
            secondly=limits.get("secondly", generous.secondly),
            daily=limits.get("daily", generous.daily),
            search_per_second=limits.get("search_per_second", generous.search_per_second),
        ),
    )


def test_a_secondly_429_is_waited_out_as_retry_after_says(connect):
    clock = ManualClock()
    sandbox = limited(clock, secondly=2)
    connector = connect(sandbox, retry=RetryPolicy(max_attempts=4, sleep=clock.sleep))
    deals = sandbox.state.ids("deals")[:3]
    for deal in deals:  # one batch read each: the third is over the secondly limit
        assert [r.id for r in connector.read_by_ids("deals", [deal], fields=["dealname"])] == [deal]
    statuses = [c.status for c in sandbox.journal.calls if c.path.endswith("/batch/read")]
    assert 429 in statuses and statuses[-1] == 200
    assert clock.slept and set(clock.slept) == {1.0}  # Retry-After: 1
    all_statuses = [c.status for c in sandbox.journal.calls]
    assert connector.client.api.retries == all_statuses.count(429)


def test_low_remaining_makes_the_client_slow_down(connect, limiter_sleeps):
    clock = ManualClock()
    sandbox = limited(clock, secondly=5)

    def sleep(seconds: float) -> None:
        limiter_sleeps.append(seconds)
        clock.advance(seconds)

    limiter = TokenBucket(requests=100_000, per_seconds=1, sleep=sleep)
    connector = connect(sandbox, limiter=limiter)
    for name in ("deals", "companies", "contacts", "leads", "tasks"):
        connector.describe(name)
    assert not limiter_sleeps  # the fifth used the second up: none left, none refused
    connector.describe("notes")
    assert limiter_sleeps and limiter_sleeps[-1] == pytest.approx(1.0, abs=0.01)
    statuses = [c.status for c in sandbox.journal.calls]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 200
    assert statuses.count(429) <= 1  # the wait starts at the answer, not at the window's start


def test_the_daily_limit_is_final_and_not_retried(connect):
    clock = ManualClock()
    sandbox = limited(clock, daily=2)
    connector = connect(sandbox)
    connector.describe("deals")
    connector.describe("companies")
    with pytest.raises(RateLimitedError, match="daily API allowance \\(2\\) is used up") as caught:
        connector.describe("contacts")
    assert "You have reached your daily limit." in str(caught.value)
    assert [c.status for c in sandbox.journal.calls] == [200, 200, 429]
    assert sandbox.state.api_usage == 2


def test_the_ten_second_limit(connect):
    clock = ManualClock()
    sandbox = limited(clock, per_interval=2)
    connector = connect(sandbox, retry=RetryPolicy(max_attempts=3, sleep=clock.sleep))
    connector.describe("deals")
    connector.describe("companies")
    connector.describe("contacts")  # waits for the window (Retry-After), then succeeds
    assert [c.status for c in sandbox.journal.calls] == [200, 200, 429, 200]
    assert clock.slept == [10.0]


def test_search_has_its_own_lower_limit(connect):
    clock = ManualClock()
    sandbox = limited(clock, search_per_second=2)
    connector = connect(sandbox, retry=RetryPolicy(max_attempts=3, sleep=clock.sleep))
    pages = list(connector.read_changes("companies", since=None, page_size=2))
    assert sum(len(p.records) for p in pages) == sandbox.state.count("companies")
    statuses = [c.status for c in sandbox.journal.calls if c.path.endswith("/search")]
    assert statuses.count(429) >= 1 and statuses[-1] == 200


def test_default_search_budget_is_evenly_spaced_just_under_five_per_second(sandbox, connect):
    connector = connect(sandbox, settings={"search_requests_per_second": 5})
    limiter = connector.client.search_limiter
    assert limiter is not None and limiter.rate == 5.0 and limiter.capacity == 1.0
    assert 4.5 < HubSpotConfig.model_fields["search_requests_per_second"].default < 5.0


@pytest.mark.parametrize("kinds", [("500", "502", "503"), ("timeout", "drop"), ("429",)])
def test_reads_survive_transient_faults(connect, kinds):
    faults = Faults(rate=0.5, kinds=kinds, seed=3, only_paths=("/crm/",))
    sandbox = HubSpotSandbox(seed=2, records=40, faults=faults, rate_limit=RateLimits.generous())
    connector = connect(sandbox)
    pages = list(connector.read_changes("deals", since=None, page_size=10))
    assert sum(len(p.records) for p in pages) == 40
    faulted = [c for c in sandbox.journal.calls if c.fault]
    assert faulted, "the fault schedule injected nothing; the test proves nothing"
    assert connector.client.api.retries == len(faulted)


def stamped(n: int) -> dict:
    return {"name": f"Stamped {n}", "handoff_hub_id": f"hub-drop-{n}"}


def test_a_dropped_connection_on_create_is_not_blindly_retried(sandbox, connect):
    sandbox.faults.kinds = ("drop_after",)
    sandbox.faults.only_paths = ("/crm/v3/objects/companies/batch/create",)
    sandbox.faults.rate = 1.0
    sandbox.faults.limit = 1
    connector = connect(sandbox)
    before = sandbox.state.count("companies")
    with pytest.raises(TransientError, match="connection dropped"):
        connector.create("companies", [stamped(n) for n in range(3)])
    assert calls(sandbox, "/batch/create", "POST") == 1
    # HubSpot acted before the connection dropped: a blind retry would have doubled them.
    assert sandbox.state.count("companies") == before + 3
    found = connector.find_by_external_id(
        "companies", "handoff_hub_id", [f"hub-drop-{n}" for n in range(3)]
    )
    assert len(found) == 3  # the engine looks for its stamps before creating again


def test_a_500_on_create_is_not_retried_but_a_429_is(sandbox, connect):
    sandbox.faults.kinds = ("500",)
    sandbox.faults.only_paths = ("/crm/v3/objects/companies/batch/create",)
    sandbox.faults.rate = 1.0
    sandbox.faults.limit = 1
    connector = connect(sandbox)
    with pytest.raises(TransientError, match="internal error"):
        connector.create("companies", [stamped(10)])
    assert calls(sandbox, "/batch/create") == 1
    sandbox.faults.kinds = ("429", "503")
    sandbox.faults.limit = 3
    results = connector.create("companies", [stamped(11)])
    assert results[0].ok
    assert [c.status for c in sandbox.journal.calls if c.path.endswith("/create")][-1] == 201


def test_updates_are_retried_after_a_dropped_connection(sandbox, connect):
    sandbox.faults.kinds = ("drop_after",)
    sandbox.faults.only_paths = ("/crm/v3/objects/companies/batch/update",)
    sandbox.faults.rate = 1.0
    sandbox.faults.limit = 1
    connector = connect(sandbox)
    record = sandbox.state.ids("companies")[0]
    [result] = connector.update("companies", [(record, {"description": "same again"})])
    assert result.ok and calls(sandbox, "/batch/update") == 2
